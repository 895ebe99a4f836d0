//! The wasmtime engine, shared by every step: configuration (epoch interruption,
//! pooling allocator), the on-disk compile cache keyed by content digest and
//! engine compatibility, and loaded plugins with their `InstancePre`.

use crate::manifest::{self, Manifest, ManifestError};
use crate::sandbox::StepState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use wasmtime::component::{Component, ComponentExportIndex, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines and of yielding a
/// busy guest back to the executor.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Where compiled components are kept; `None` disables the disk cache.
    pub cache_dir: Option<PathBuf>,
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
    /// Already loaded in this process.
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
    pub component: Component,
    pub pre: InstancePre<StepState>,
    pub export: ComponentExportIndex,
    pub source: LoadSource,
    pub load_time: Duration,
    /// The component or one of its core modules has a start function, so
    /// instantiating it runs guest code (see [`crate::step::prepare`]).
    pub starts_when_instantiated: bool,
}

/// A loaded file: its length, its modification time, and the plugin.
type FileEntry = (u64, std::time::SystemTime, Arc<Plugin>);

/// The engine, the linker with every host interface, and the plugin caches.
pub struct Runtime {
    engine: Engine,
    linker: Linker<StepState>,
    options: EngineOptions,
    pub pooling: bool,
    loaded: Mutex<HashMap<String, Arc<Plugin>>>,
    /// Files already loaded, with the length and modification time they had, so a
    /// workflow's steps do not read and hash the same file again.
    by_path: Mutex<HashMap<PathBuf, FileEntry>>,
    /// Held while a file is read, checked and compiled or deserialized, so a
    /// [`Runtime::prefetch`] thread and a step that needs the same file do not do
    /// the work twice: the second waits, then finds it in `by_path`.
    file_load: Mutex<()>,
}

impl Runtime {
    pub fn new(options: EngineOptions) -> anyhow::Result<Self> {
        let (engine, pooling) = build_engine(&options)?;
        start_epoch_ticker(&engine);
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
        crate::bindings::Host_::add_to_linker::<_, HasSelf<StepState>>(&mut linker, |s| s).map_err(anyhow::Error::from)?;
        Ok(Runtime {
            engine,
            linker,
            options,
            pooling,
            loaded: Mutex::new(HashMap::new()),
            by_path: Mutex::new(HashMap::new()),
            file_load: Mutex::new(()),
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

    /// [`Runtime::load_file`], unless another thread is loading a file right now
    /// (the prefetch thread, say): then `None` rather than waiting for it.
    pub fn try_load_file(&self, path: &Path) -> Option<Result<Arc<Plugin>, LoadError>> {
        self.load_file_or_not(path, false).transpose()
    }

    fn load_file_or_not(&self, path: &Path, wait: bool) -> Result<Option<Arc<Plugin>>, LoadError> {
        let read_err = |source| LoadError::Read {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read_err)?;
        let stamp = (meta.len(), meta.modified().map_err(read_err)?);
        let known = || {
            let by_path = self.by_path.lock().unwrap_or_else(|e| e.into_inner());
            by_path
                .get(path)
                .filter(|(len, modified, _)| (*len, *modified) == stamp)
                .map(|(_, _, plugin)| plugin.clone())
        };
        if let Some(plugin) = known() {
            return Ok(Some(plugin));
        }
        let _loading = if wait {
            self.file_load.lock().unwrap_or_else(|e| e.into_inner())
        } else {
            match self.file_load.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
            }
        };
        if let Some(plugin) = known() {
            return Ok(Some(plugin));
        }
        let bytes = std::fs::read(path).map_err(read_err)?;
        let plugin = self.load_bytes(&bytes, &path.display().to_string())?;
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
        let started = Instant::now();
        let origin_s = origin.to_owned();
        if !wasmparser::Parser::is_component(bytes) {
            return Err(if wasmparser::Parser::is_core_wasm(bytes) {
                LoadError::CoreModule { origin: origin_s }
            } else {
                LoadError::NotWasm { origin: origin_s }
            });
        }
        let digest = digest(bytes);
        if let Some(p) = self.loaded.lock().unwrap_or_else(|e| e.into_inner()).get(&digest) {
            return Ok(p.clone());
        }
        let manifest = manifest::read_from_wasm(bytes).map_err(|source| LoadError::Manifest {
            origin: origin_s.clone(),
            source,
        })?;
        let (component, source) = self.compile_cached(bytes, &digest, origin)?;
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
            manifest,
            component,
            pre,
            export,
            source,
            load_time: started.elapsed(),
            starts_when_instantiated: has_start_function(bytes),
        });
        self.loaded.lock().unwrap_or_else(|e| e.into_inner()).insert(digest, plugin.clone());
        Ok(plugin)
    }

    fn compile_cached(&self, bytes: &[u8], digest: &str, origin: &str) -> Result<(Component, LoadSource), LoadError> {
        let cached = self
            .options
            .cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{}-{:016x}.cwasm", &digest["sha256:".len()..], self.compat_hash())));
        if let Some(path) = cached.as_ref().filter(|p| p.exists()) {
            // SAFETY: the file was written by this host (`serialize` below) under a
            // name keyed by the component's digest and this engine's compatibility
            // hash; wasmtime re-checks compatibility when loading it.
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(c) => return Ok((c, LoadSource::DiskCache)),
                Err(_) => {
                    // A damaged or stale entry: compile again and replace it.
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid {
            origin: origin.to_owned(),
            message: format!("{e:#}"),
        })?;
        if let Some(path) = cached {
            // Best effort: a read-only cache only costs speed.
            let _ = write_atomically(&path, component.serialize());
        }
        Ok((component, LoadSource::Compiled))
    }

    fn compat_hash(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        h.finish()
    }
}

/// `sha256:<hex>` of a component's bytes: its identity in caches and pins.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn write_atomically(path: &Path, bytes: wasmtime::Result<Vec<u8>>) -> anyhow::Result<()> {
    let bytes = bytes.map_err(anyhow::Error::from)?;
    let dir = path.parent().ok_or_else(|| anyhow::anyhow!("no parent"))?;
    std::fs::create_dir_all(dir)?;
    // Unique per write, so two writers (threads or processes) never share a file:
    // a shared one could be truncated after its rename, under a reader's mmap.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{}.{}.{n}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
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
fn start_epoch_ticker(engine: &Engine) {
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
        .ok();
}

#[cfg(test)]
mod tests {
    use super::{has_start_function, EngineOptions, Runtime};

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

    #[test]
    fn a_load_that_would_wait_for_another_thread_is_not_tried() {
        let runtime = Runtime::new(EngineOptions {
            pooling: false,
            cache_dir: None,
            ..EngineOptions::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("step.wasm");
        std::fs::write(&path, b"not wasm").unwrap();
        let loading = runtime.file_load.lock().unwrap();
        assert!(runtime.try_load_file(&path).is_none(), "another thread is loading a file");
        drop(loading);
        match runtime.try_load_file(&path).expect("nobody else is loading") {
            Err(e) => assert!(e.to_string().contains("not a WebAssembly file"), "{e}"),
            Ok(_) => panic!("`not wasm` loaded"),
        }
    }
}
