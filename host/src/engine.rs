//! The wasmtime engine, shared by every step: configuration (epoch interruption,
//! pooling allocator), compiling components through the on-disk compile cache
//! (keyed by content digest and engine compatibility; its entries are native code,
//! so the directory must be private and every entry is authenticated with a
//! per-user key before it is loaded: see [`crate::compile_cache`]), and loaded
//! plugins with their `InstancePre`. Loads of the same file or component wait for
//! one another; different components load in parallel.

use crate::compile_cache::{DiskCache, EntryKey};
use crate::manifest::{self, Manifest, ManifestError};
use crate::sandbox::StepState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use thiserror::Error;
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines and of yielding a
/// busy guest back to the executor.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Where compiled components are kept; `None` disables the disk cache. It must
    /// be private (this user's, writable by nobody else): otherwise it is not used.
    pub cache_dir: Option<PathBuf>,
    /// How many bytes the disk cache's entries may add up to; past it, the least
    /// recently used are deleted.
    pub cache_max_bytes: u64,
    /// Use the pooling allocator (falls back to on-demand when the machine
    /// refuses its reservations).
    pub pooling: bool,
    /// Largest linear memory one instance may have (the pooling allocator's slot).
    pub max_memory_bytes: usize,
    /// Instances that may be alive at once with pooling.
    pub max_instances: u32,
    /// Pool slots whose memory is reset (decommitted) together, when enough have
    /// been freed or when a new instance needs a slot (1: each as it is freed).
    /// A short-lived command that uses fewer slots than it has never pays for a
    /// reset; a long-lived agent keeps the default, so freed memory is returned.
    pub decommit_batch: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            cache_dir: default_cache_dir(),
            cache_max_bytes: 512 << 20,
            pooling: true,
            max_memory_bytes: 256 << 20,
            max_instances: 1000,
            decommit_batch: 1,
        }
    }
}

/// `$SCOPE_HOST_CACHE`, else `$XDG_CACHE_HOME/scope-host`, else `~/.cache/scope-host`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SCOPE_HOST_CACHE") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("scope-host"))
}

/// Why a plugin could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("reading plugin {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{origin} is not a WebAssembly file (it does not start with the `\\0asm` header)")]
    NotWasm { origin: String },
    #[error("{origin} is a core WebAssembly module, not a component: build it for the wasm32-wasip2 target (or wrap it with `wasm-tools component new`)")]
    CoreModule { origin: String },
    #[error("{origin}: {source}")]
    Manifest { origin: String, source: ManifestError },
    #[error("{origin} is not a valid component: {message}")]
    Invalid { origin: String, message: String },
    #[error("{origin} is too large to compile: {over}")]
    TooLarge {
        origin: String,
        over: crate::compile_budget::OverBudget,
    },
    #[error("{origin} cannot be linked: {message}. scope-host offers the scope:step@{} interfaces and WASI 0.2; rebuild the plugin against the scope-step SDK", crate::bindings::CONTRACT_VERSION)]
    Link { origin: String, message: String },
    #[error("{origin} declares kind `{kind}` but does not export `{export}`: is it built for the `{kind}` world of scope:step?")]
    MissingExport {
        origin: String,
        kind: &'static str,
        export: &'static str,
    },
}

/// How a plugin was made ready, for reports and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadSource {
    /// Already loaded (or compiled by another thread) in this process.
    Memory,
    /// Read from the disk compile cache.
    DiskCache,
    /// Compiled now.
    Compiled,
}

/// A loaded plugin: manifest, compiled component, pre-linked instance.
pub struct Plugin {
    pub origin: String,
    /// `sha256:<hex>` of the component bytes.
    pub digest: String,
    pub manifest: Manifest,
    /// The served contract its imports and exports are typed by.
    pub contract: crate::bindings::Contract,
    pub component: Component,
    pub pre: InstancePre<StepState>,
    pub export: ComponentExportIndex,
    pub source: LoadSource,
    pub load_time: Duration,
    /// The component or one of its core modules has a start function, so
    /// instantiating it runs guest code (see [`crate::step::prepare`]).
    pub starts_when_instantiated: bool,
}

/// What a component file declares, read without compiling it: enough to check a
/// workflow before it runs (see [`crate::workflow::check::preflight`]).
#[derive(Clone, Debug)]
pub struct Inspected {
    pub origin: String,
    /// `sha256:<hex>` of the component bytes.
    pub digest: String,
    pub manifest: Manifest,
}

impl From<&Plugin> for Inspected {
    fn from(p: &Plugin) -> Self {
        Inspected {
            origin: p.origin.clone(),
            digest: p.digest.clone(),
            manifest: p.manifest.clone(),
        }
    }
}

/// Reads a component file's digest and manifest, with the loader's own checks
/// before them (a WebAssembly component, within the size budget, undamaged), but
/// without compiling it: a link error only shows when the component is loaded.
pub fn inspect_file(path: &Path) -> Result<Inspected, LoadError> {
    let origin = path.display().to_string();
    let read_err = |source| LoadError::Read {
        path: origin.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    crate::compile_budget::check_file_size(meta.len()).map_err(|over| LoadError::TooLarge {
        origin: origin.clone(),
        over,
    })?;
    let bytes = std::fs::read(path).map_err(read_err)?;
    check_is_component(&bytes, &origin)?;
    let manifest = manifest::read_from_wasm(&bytes).map_err(|source| LoadError::Manifest {
        origin: origin.clone(),
        source,
    })?;
    Ok(Inspected {
        origin,
        digest: digest(&bytes),
        manifest,
    })
}

/// `bytes` are a WebAssembly component; else what they are instead, in the loader's
/// words (a core module gets told how to make a component of it).
pub fn check_is_component(bytes: &[u8], origin: &str) -> Result<(), LoadError> {
    if wasmparser::Parser::is_component(bytes) {
        return Ok(());
    }
    let origin = origin.to_owned();
    Err(if wasmparser::Parser::is_core_wasm(bytes) {
        LoadError::CoreModule { origin }
    } else {
        LoadError::NotWasm { origin }
    })
}

/// A loaded file: its length, its modification time, and the plugin.
type FileEntry = (u64, std::time::SystemTime, Arc<Plugin>);

/// The disk cache as it was found when first needed.
struct DiskState {
    /// `None`: disabled, or not usable.
    cache: Option<DiskCache>,
    /// Why it is not used, when that is something to tell the user.
    warning: Option<String>,
}

/// The engine, the linker with every host interface, and the plugin caches.
pub struct Runtime {
    engine: Engine,
    linker: Linker<StepState>,
    options: EngineOptions,
    pub pooling: bool,
    /// The engine's compatibility hash, part of every disk cache entry's name.
    compat: u64,
    /// The disk cache, opened at the first compile.
    disk: OnceLock<DiskState>,
    loaded: Mutex<HashMap<String, Arc<Plugin>>>,
    /// Files already loaded, with the length and modification time they had, so a
    /// workflow's steps do not read and hash the same file again.
    by_path: Mutex<HashMap<PathBuf, FileEntry>>,
    /// Files being read, checked and compiled or deserialized now, so a
    /// [`Runtime::prefetch`] thread and a step that need the same file do not do
    /// the work twice: the second waits, then finds it in `by_path`.
    file_loads: InFlight<PathBuf, ()>,
    /// Components (by digest) being compiled or deserialized and linked now, with
    /// the component once it is compiled: whoever waited for it uses it (it is in
    /// `loaded` too, unless linking it failed).
    compiles: InFlight<String, Option<Component>>,
    /// Components compiled by this runtime (not loaded from a cache).
    compiled: AtomicU64,
}

impl Runtime {
    /// The engine and its linker. Fails when the engine cannot be made, or the
    /// thread that makes deadlines take effect cannot be started.
    pub fn new(options: EngineOptions) -> anyhow::Result<Self> {
        let (engine, pooling) = build_engine(&options)?;
        start_epoch_ticker(&engine)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
        crate::caps::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
        let compat = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            h.finish()
        };
        Ok(Runtime {
            engine,
            linker,
            options,
            pooling,
            compat,
            disk: OnceLock::new(),
            loaded: Mutex::new(HashMap::new()),
            by_path: Mutex::new(HashMap::new()),
            file_loads: InFlight::default(),
            compiles: InFlight::default(),
            compiled: AtomicU64::new(0),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Loads a plugin file (see [`Runtime::load_bytes`]).
    /// A file whose length and modification time are unchanged since it was loaded
    /// is not read again.
    pub fn load_file(&self, path: &Path) -> Result<Arc<Plugin>, LoadError> {
        self.load_file_or_not(path, true)
            .map(|loaded| loaded.expect("a load that waits always loads"))
    }

    /// [`Runtime::load_file`], unless another thread (the prefetch thread, say) is
    /// loading this file, or the same component from another file, right now: then
    /// `None` rather than waiting for it.
    pub fn try_load_file(&self, path: &Path) -> Option<Result<Arc<Plugin>, LoadError>> {
        self.load_file_or_not(path, false).transpose()
    }

    /// The plugin loaded from `path` earlier in this process, when the file has not
    /// changed since (same length and modification time): a `stat` and a lookup, no
    /// reading, hashing or compiling, so it may run on the async path.
    pub fn loaded_file(&self, path: &Path) -> Option<Arc<Plugin>> {
        let meta = std::fs::metadata(path).ok()?;
        self.known_file(path, (meta.len(), meta.modified().ok()?))
    }

    /// The plugin loaded from `path` when the file still has `stamp` (length,
    /// modification time).
    fn known_file(&self, path: &Path, stamp: (u64, std::time::SystemTime)) -> Option<Arc<Plugin>> {
        let by_path = self.by_path.lock().unwrap_or_else(|e| e.into_inner());
        by_path
            .get(path)
            .filter(|(len, modified, _)| (*len, *modified) == stamp)
            .map(|(_, _, plugin)| plugin.clone())
    }

    /// Why the disk compile cache is not used, when that is something to fix (its
    /// directory or key could be written or read by other users); printed once per
    /// process as well.
    pub fn cache_warning(&self) -> Option<&str> {
        self.disk().warning.as_deref()
    }

    fn load_file_or_not(&self, path: &Path, wait: bool) -> Result<Option<Arc<Plugin>>, LoadError> {
        let read_err = |source| LoadError::Read {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read_err)?;
        let stamp = (meta.len(), meta.modified().map_err(read_err)?);
        let known = || self.known_file(path, stamp);
        if let Some(plugin) = known() {
            return Ok(Some(plugin));
        }
        let ticket = self.file_loads.enter(path.to_path_buf());
        let Some(_loading) = ticket.lock(wait) else {
            return Ok(None);
        };
        if let Some(plugin) = known() {
            return Ok(Some(plugin));
        }
        crate::compile_budget::check_file_size(meta.len()).map_err(|over| LoadError::TooLarge {
            origin: path.display().to_string(),
            over,
        })?;
        let bytes = std::fs::read(path).map_err(read_err)?;
        let Some(plugin) = self.load_bytes_or_not(&bytes, &path.display().to_string(), wait)? else {
            return Ok(None);
        };
        self.by_path
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), (stamp.0, stamp.1, plugin.clone()));
        Ok(Some(plugin))
    }

    /// Loads `paths` in order on a thread of its own, so a workflow's components are
    /// ready (read, checked, deserialized from the compile cache or compiled, and
    /// pre-linked) while its first steps wait for the cloud. Errors are left for the
    /// step that needs the file to report.
    pub fn prefetch(self: &Arc<Self>, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let runtime = self.clone();
        let spawned = std::thread::Builder::new().name("scope-host-prefetch".into()).spawn(move || {
            for (i, path) in paths.iter().enumerate() {
                if i == 1 {
                    // The first step waits for its component; the others have the
                    // steps before them to load in, and yield the CPU to the run.
                    lower_this_threads_priority();
                }
                let _ = runtime.load_file(path);
            }
        });
        // Without a thread the steps simply load their components themselves.
        drop(spawned);
    }

    /// Checks, compiles (or reads from the caches) and pre-links a component.
    pub fn load_bytes(&self, bytes: &[u8], origin: &str) -> Result<Arc<Plugin>, LoadError> {
        self.load_bytes_or_not(bytes, origin, true)
            .map(|loaded| loaded.expect("a load that waits always loads"))
    }

    /// [`Runtime::load_bytes`]; when `wait` is false, `None` if another thread is
    /// loading the same component right now.
    fn load_bytes_or_not(&self, bytes: &[u8], origin: &str, wait: bool) -> Result<Option<Arc<Plugin>>, LoadError> {
        let started = Instant::now();
        let origin_s = origin.to_owned();
        check_is_component(bytes, origin)?;
        let digest = digest(bytes);
        let known = || self.loaded.lock().unwrap_or_else(|e| e.into_inner()).get(&digest).cloned();
        if let Some(p) = known() {
            return Ok(Some(p));
        }
        let manifest = manifest::read_from_wasm(bytes).map_err(|source| LoadError::Manifest {
            origin: origin_s.clone(),
            source,
        })?;
        // One load per component at a time: whoever asks for it meanwhile waits,
        // then has the plugin (or the component, when linking it failed).
        let ticket = self.compiles.enter(digest.clone());
        let Some(mut compiled) = ticket.lock(wait) else {
            return Ok(None);
        };
        if let Some(p) = known() {
            return Ok(Some(p));
        }
        let (component, source) = match compiled.as_ref() {
            Some(component) => (component.clone(), LoadSource::Memory),
            None => self.compile_cached(bytes, &digest, origin)?,
        };
        *compiled = Some(component.clone());
        let pre = self.linker.instantiate_pre(&component).map_err(|e| LoadError::Link {
            origin: origin_s.clone(),
            message: format!("{e:#}"),
        })?;
        let export_name = manifest.kind.export_name();
        let export = component.get_export_index(None, export_name).ok_or(LoadError::MissingExport {
            origin: origin_s.clone(),
            kind: manifest.kind.as_str(),
            export: export_name,
        })?;
        let plugin = Arc::new(Plugin {
            origin: origin_s,
            digest: digest.clone(),
            contract: crate::bindings::Contract::of(&manifest.contract),
            manifest,
            component,
            pre,
            export,
            source,
            load_time: started.elapsed(),
            starts_when_instantiated: has_start_function(bytes),
        });
        self.loaded.lock().unwrap_or_else(|e| e.into_inner()).insert(digest, plugin.clone());
        Ok(Some(plugin))
    }

    /// Compiles a component, or loads it from the disk cache, without checking its
    /// manifest or linking it (for benchmarks and tools; steps go through
    /// [`Runtime::load_bytes`]).
    pub fn compile(&self, bytes: &[u8], origin: &str) -> Result<(Component, LoadSource), LoadError> {
        self.compile_cached(bytes, &digest(bytes), origin)
    }

    /// The disk cache, opened (and its problem, if any, printed) the first time.
    fn disk(&self) -> &DiskState {
        self.disk.get_or_init(|| {
            let Some(dir) = &self.options.cache_dir else {
                return DiskState {
                    cache: None,
                    warning: None,
                };
            };
            match DiskCache::open(dir, self.options.cache_max_bytes) {
                Ok(cache) => DiskState {
                    cache: Some(cache),
                    warning: None,
                },
                Err(bypass) => {
                    if let Some(warning) = &bypass.warning {
                        // There is no log yet for the host's own warnings: once per
                        // process, however many runtimes it makes.
                        static PRINTED: AtomicBool = AtomicBool::new(false);
                        if !PRINTED.swap(true, Ordering::Relaxed) {
                            eprintln!("warning: {warning}");
                        }
                    }
                    DiskState {
                        cache: None,
                        warning: bypass.warning,
                    }
                }
            }
        })
    }

    fn compile_cached(&self, bytes: &[u8], digest: &str, origin: &str) -> Result<(Component, LoadSource), LoadError> {
        let cached = self
            .disk()
            .cache
            .as_ref()
            .and_then(|cache| Some((cache, EntryKey::new(digest, self.compat)?)));
        if let Some((cache, key)) = &cached {
            if let Some(serialized) = cache.read(key) {
                // SAFETY: `read` hands back an entry's bytes only after checking
                // their MAC, under the key that only this user can read, over these
                // bytes, this component's digest and this engine's compatibility
                // hash: they are what this host serialized (`serialize` below) for
                // this component with an engine like this one, not something another
                // program wrote into the directory. They are in memory, where no
                // other program can change them while wasmtime reads them, and
                // wasmtime checks their compatibility with the engine again.
                match unsafe { Component::deserialize(&self.engine, &serialized) } {
                    Ok(c) => return Ok((c, LoadSource::DiskCache)),
                    // Stale for this wasmtime after all: compile again, replace it.
                    Err(_) => cache.remove(key),
                }
            }
        }
        crate::compile_budget::check(bytes).map_err(|over| LoadError::TooLarge {
            origin: origin.to_owned(),
            over,
        })?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid {
            origin: origin.to_owned(),
            message: format!("{e:#}"),
        })?;
        if let Some((cache, key)) = &cached {
            // Best effort: a read-only cache only costs speed.
            if let Ok(serialized) = component.serialize() {
                let _ = cache.write(key, &serialized);
            }
        }
        Ok((component, LoadSource::Compiled))
    }
}

/// Work in progress, one lock per key: whoever wants the same key waits for (or,
/// not waiting, skips) whoever has it; different keys go on in parallel. A key's
/// slot lives while somebody holds a [`Ticket`] for it.
struct InFlight<K: Hash + Eq + Clone, V> {
    slots: Mutex<HashMap<K, Arc<Mutex<V>>>>,
}

impl<K: Hash + Eq + Clone, V> Default for InFlight<K, V> {
    fn default() -> Self {
        InFlight {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Default> InFlight<K, V> {
    /// A claim on `key`'s slot (made if it is not there); see [`Ticket::lock`].
    fn enter(&self, key: K) -> Ticket<'_, K, V> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        Ticket { owner: self, key, slot }
    }
}

struct Ticket<'a, K: Hash + Eq + Clone, V> {
    owner: &'a InFlight<K, V>,
    key: K,
    slot: Arc<Mutex<V>>,
}

impl<K: Hash + Eq + Clone, V> Ticket<'_, K, V> {
    /// The slot's value, waiting for whoever holds it; or, when `wait` is false,
    /// `None` if somebody does.
    fn lock(&self, wait: bool) -> Option<MutexGuard<'_, V>> {
        if wait {
            return Some(self.slot.lock().unwrap_or_else(|e| e.into_inner()));
        }
        match self.slot.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

impl<K: Hash + Eq + Clone, V> Drop for Ticket<'_, K, V> {
    fn drop(&mut self) {
        let mut slots = self.owner.slots.lock().unwrap_or_else(|e| e.into_inner());
        // Tickets are made under this lock, so nobody can take the slot meanwhile:
        // when the map's reference and this ticket's are the only ones, it is the
        // last one out.
        if Arc::strong_count(&self.slot) == 2 {
            slots.remove(&self.key);
        }
    }
}

/// `sha256:<hex>` of a component's bytes: its identity in caches and pins.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Lets the calling thread run only when the run's own threads (and, on the same
/// machine, the cloud it waits for) leave a core idle.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's id changes only its nice value;
    // a failure (no permission to change it) leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

/// Whether a component, or a module nested in it, has a start function (a bytes
/// that do not parse count as having one).
fn has_start_function(bytes: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(bytes).any(|payload| {
        matches!(
            payload,
            Err(_) | Ok(wasmparser::Payload::StartSection { .. } | wasmparser::Payload::ComponentStartSection { .. })
        )
    })
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config
}

fn build_engine(options: &EngineOptions) -> anyhow::Result<(Engine, bool)> {
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(options.max_instances)
            .total_core_instances(options.max_instances * 4)
            .total_memories(options.max_instances * 2)
            .total_tables(options.max_instances * 4)
            .total_stacks(options.max_instances)
            .max_memory_size(options.max_memory_bytes)
            .decommit_batch_size(options.decommit_batch.max(1));
        let mut config = base_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if let Ok(engine) = Engine::new(&config) {
            return Ok((engine, true));
        }
    }
    Ok((Engine::new(&base_config()).map_err(anyhow::Error::from)?, false))
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
/// Without it no deadline would ever take effect, so failing to start it is an
/// error.
fn start_epoch_ticker(engine: &Engine) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("scope-host-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        })
        .map_err(|e| anyhow::anyhow!("starting the thread that enforces step deadlines: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{has_start_function, EngineOptions, LoadSource, Runtime};
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    #[test]
    fn a_start_function_is_found_at_any_depth() {
        let plain = wat::parse_str("(module (func))").unwrap();
        let started = wat::parse_str("(module (func) (start 0))").unwrap();
        let nested = wat::parse_str("(component (core module (func) (start 0)))").unwrap();
        let nested_plain = wat::parse_str("(component (core module (func)))").unwrap();
        assert!(!has_start_function(&plain));
        assert!(has_start_function(&started));
        assert!(
            has_start_function(&nested),
            "a start function inside a component's module runs at instantiation too"
        );
        assert!(!has_start_function(&nested_plain));
        assert!(
            has_start_function(b"\0asm\x0d\0\x01\0garbage"),
            "what does not parse counts as having one"
        );
    }

    fn runtime(cache_dir: Option<&Path>) -> Runtime {
        Runtime::new(EngineOptions {
            pooling: false,
            cache_dir: cache_dir.map(Path::to_owned),
            ..EngineOptions::default()
        })
        .unwrap()
    }

    /// A small component with some code in it.
    fn component() -> Vec<u8> {
        wat::parse_str(r#"(component (core module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add)))"#).unwrap()
    }

    /// The cache entries (not the key) in `dir`.
    fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
            .collect()
    }

    #[test]
    fn a_load_that_would_wait_for_another_thread_is_not_tried() {
        let runtime = runtime(None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("step.wasm");
        let other = dir.path().join("other.wasm");
        std::fs::write(&path, b"not wasm").unwrap();
        std::fs::write(&other, b"not wasm").unwrap();
        let ticket = runtime.file_loads.enter(path.clone());
        let loading = ticket.lock(true).unwrap();
        assert!(runtime.try_load_file(&path).is_none(), "another thread is loading this file");
        assert!(runtime.try_load_file(&other).is_some(), "another file is loaded meanwhile");
        drop(loading);
        drop(ticket);
        match runtime.try_load_file(&path).expect("nobody else is loading") {
            Err(e) => assert!(e.to_string().contains("not a WebAssembly file"), "{e}"),
            Ok(_) => panic!("`not wasm` loaded"),
        }
        assert!(runtime.file_loads.slots.lock().unwrap().is_empty(), "no slot outlives its loads");
    }

    #[test]
    fn a_modified_or_truncated_entry_is_compiled_again_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = component();
        let (_, source) = runtime(Some(dir.path())).compile(&bytes, "c.wasm").unwrap();
        assert_eq!(source, LoadSource::Compiled);
        let (_, source) = runtime(Some(dir.path())).compile(&bytes, "c.wasm").unwrap();
        assert_eq!(source, LoadSource::DiskCache, "an entry this host wrote is used");
        let [entry] = &entries(dir.path())[..] else { panic!("one entry") };
        let whole = std::fs::read(entry).unwrap();

        // A byte of the native code changed (the last one: within the payload).
        let mut modified = whole.clone();
        *modified.last_mut().unwrap() ^= 0x01;
        std::fs::write(entry, &modified).unwrap();
        let fresh = runtime(Some(dir.path()));
        let (_, source) = fresh.compile(&bytes, "c.wasm").unwrap();
        assert_eq!(source, LoadSource::Compiled, "a modified entry is not deserialized");
        assert_eq!(fresh.compiled.load(Ordering::Relaxed), 1);
        assert_eq!(std::fs::read(entry).unwrap(), whole, "and is replaced");

        // A serialization made under another key (another user's cache).
        let elsewhere = tempfile::tempdir().unwrap();
        runtime(Some(elsewhere.path())).compile(&bytes, "c.wasm").unwrap();
        std::fs::copy(&entries(elsewhere.path())[0], entry).unwrap();
        let (_, source) = runtime(Some(dir.path())).compile(&bytes, "c.wasm").unwrap();
        assert_eq!(source, LoadSource::Compiled, "an entry made under another key is not deserialized");

        // Cut to half its length.
        std::fs::write(entry, &whole[..whole.len() / 2]).unwrap();
        let (_, source) = runtime(Some(dir.path())).compile(&bytes, "c.wasm").unwrap();
        assert_eq!(source, LoadSource::Compiled, "a truncated entry is a miss");
        let (_, source) = runtime(Some(dir.path())).compile(&bytes, "c.wasm").unwrap();
        assert_eq!(source, LoadSource::DiskCache);
    }

    #[test]
    fn a_cache_dir_others_can_write_is_not_used() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("shared");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let runtime = runtime(Some(&dir));
        let (_, source) = runtime.compile(&component(), "c.wasm").unwrap();
        assert_eq!(source, LoadSource::Compiled);
        let (_, source) = runtime.compile(&component(), "c.wasm").unwrap();
        assert_eq!(source, LoadSource::Compiled, "nothing comes from it");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing is written into it");
        let warning = runtime.cache_warning().expect("a warning");
        assert!(
            warning.contains(&dir.display().to_string()) && warning.contains("chmod 700"),
            "{warning}"
        );
    }

    #[test]
    fn a_new_cache_dir_is_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache");
        let runtime = runtime(Some(&dir));
        runtime.compile(&component(), "c.wasm").unwrap();
        let mode = |p: &Path| std::os::unix::fs::MetadataExt::mode(&std::fs::metadata(p).unwrap()) & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("key")), 0o600);
        assert_eq!(mode(&entries(&dir)[0]), 0o600);
        assert_eq!(runtime.cache_warning(), None);
    }

    /// `component` with a manifest, so that a load gets as far as linking (it then
    /// fails: it exports no `run`).
    fn with_manifest(component: Vec<u8>, name: &str) -> Vec<u8> {
        let manifest = format!(
            r#"{{"name": "{name}", "version": "0.1.0", "contract": "{}"}}"#,
            crate::bindings::CONTRACT_VERSION
        );
        let mut section = vec![crate::manifest::SECTION.len() as u8];
        section.extend_from_slice(crate::manifest::SECTION.as_bytes());
        section.extend_from_slice(manifest.as_bytes());
        assert!(section.len() < 128, "a one-byte LEB128 length");
        let mut bytes = component;
        bytes.extend_from_slice(&[0, section.len() as u8]);
        bytes.extend_from_slice(&section);
        bytes
    }

    #[test]
    fn two_threads_loading_the_same_component_compile_it_once() {
        let bytes = with_manifest(component(), "twice");
        let runtime = Arc::new(runtime(None));
        let load = |bytes: &Vec<u8>| {
            let (runtime, bytes) = (runtime.clone(), bytes.clone());
            std::thread::spawn(move || runtime.load_bytes(&bytes, "c.wasm"))
        };
        // Both threads find the load under way, whoever of them starts it.
        let ticket = runtime.compiles.enter(super::digest(&bytes));
        let held = ticket.lock(true).unwrap();
        let threads = [load(&bytes), load(&bytes)];
        // Meanwhile another component loads: it does not wait for this one.
        let other = with_manifest(wat::parse_str("(component (core module))").unwrap(), "other");
        let e = load(&other).join().unwrap().err().expect("no `run` export");
        assert!(e.to_string().contains("does not export `run`"), "{e}");
        assert_eq!(runtime.compiled.load(Ordering::Relaxed), 1);
        drop(held);
        for thread in threads {
            let e = thread.join().unwrap().err().expect("no `run` export");
            assert!(e.to_string().contains("does not export `run`"), "{e}");
        }
        drop(ticket);
        assert_eq!(runtime.compiled.load(Ordering::Relaxed), 2, "the first component compiled once");
        assert!(runtime.compiles.slots.lock().unwrap().is_empty(), "no slot outlives its loads");
    }
}
