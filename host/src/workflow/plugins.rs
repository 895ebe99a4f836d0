//! Finding a step's component: a path, or a name on the search path (`--plugins`
//! folders, the service's `plugins/` folder, the built-in plugins), optionally
//! pinned to a digest that is verified before the component is loaded.

use crate::engine::{Inspected, Plugin, Runtime};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The plugin search path, in order.
#[derive(Clone, Debug, Default)]
pub struct PluginPath {
    pub dirs: Vec<PathBuf>,
}

impl PluginPath {
    /// `explicit` folders first, then `<service>/plugins`, then the built-in plugins.
    pub fn new(explicit: &[PathBuf], service_path: Option<&Path>) -> Self {
        let mut dirs: Vec<PathBuf> = explicit.to_vec();
        if let Some(s) = service_path {
            dirs.push(s.join("plugins"));
        }
        dirs.extend(builtin_dirs());
        dirs.retain(|d| d.is_dir());
        dirs.dedup();
        PluginPath { dirs }
    }

    /// Resolves `spec` (a name, `name@sha256:<hex>`, or a path) to a file and the
    /// digest it must have, if pinned.
    pub fn resolve(&self, spec: &str, base_dir: &Path) -> Result<(PathBuf, Option<String>), String> {
        let (name, pin) = split_pin(spec)?;
        if name.is_empty() {
            return Err("a wasm step needs `plugin: <name or path>`".into());
        }
        if name.contains('/') || name.ends_with(".wasm") {
            let path = super::load::resolve_path(name, base_dir);
            return if path.is_file() {
                Ok((path, pin))
            } else {
                Err(format!("plugin `{name}`: no file at {}{}", path.display(), not_built_hint(&path)))
            };
        }
        for dir in &self.dirs {
            for file in [format!("{name}.wasm"), format!("{}.wasm", name.replace('-', "_"))] {
                let path = dir.join(file);
                if path.is_file() {
                    return Ok((path, pin));
                }
            }
        }
        let searched = if self.dirs.is_empty() {
            "(no plugin folders exist)".to_owned()
        } else {
            self.dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
        };
        Err(format!(
            "plugin `{name}` not found in {searched}; add a folder with --plugins DIR, or give a path to the .wasm file"
        ))
    }

    /// The component files a workflow will load, in the order its steps run, as far
    /// as they can be known before it runs (plugin names that use a variable a step
    /// only outputs later are left out, as are files that do not resolve: the step
    /// reports those). For [`Runtime::prefetch`].
    pub fn files_of(&self, wf: &super::LoadedWorkflow) -> Vec<PathBuf> {
        let var = |n: &str| wf.variables.get(n).cloned();
        let mut files = Vec::new();
        for top in &wf.workflow.steps {
            top.walk(&mut |step| {
                if let Some(spec) = &step.plugin {
                    let spec = super::expand::expand(spec, &var);
                    if let Ok((path, _)) = self.resolve(&spec, &wf.dir) {
                        files.push(path);
                    }
                }
                files.extend(self.check_files(&step.folders, &wf.dir, &var).unwrap_or_default());
            });
        }
        let mut seen = std::collections::HashSet::new();
        files.retain(|f| seen.insert(f.clone()));
        files
    }

    /// The check components of an executor step's folders (`${VAR}` expanded), in
    /// the order they run; an unreadable folder is the error.
    pub fn check_files(&self, folders: &[String], base_dir: &Path, var: &dyn Fn(&str) -> Option<String>) -> Result<Vec<PathBuf>, String> {
        let mut files = Vec::new();
        for folder in folders {
            let dir = self.folder(&super::expand::expand(folder, var), base_dir);
            let entries = std::fs::read_dir(&dir).map_err(|e| format!("reading check folder {}: {e}", dir.display()))?;
            files.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "wasm")),
            );
        }
        files.sort();
        Ok(files)
    }

    /// A folder of check components: a path relative to `base_dir` when it exists
    /// there, else the first plugin folder holding it (built-in checks live in
    /// `<plugins>/checks/<scope>`).
    pub fn folder(&self, spec: &str, base_dir: &Path) -> PathBuf {
        let direct = super::load::resolve_path(spec, base_dir);
        if direct.is_dir() || Path::new(spec).is_absolute() {
            return direct;
        }
        self.dirs.iter().map(|d| d.join(spec)).find(|p| p.is_dir()).unwrap_or(direct)
    }

    /// Resolves and loads, verifying a pinned digest.
    pub fn load(&self, runtime: &Runtime, spec: &str, base_dir: &Path) -> Result<Arc<Plugin>, String> {
        let (path, pin) = self.resolve(spec, base_dir)?;
        let plugin = runtime.load_file(&path).map_err(|e| e.to_string())?;
        check_pin(spec, &path, &plugin.digest, pin)?;
        Ok(plugin)
    }

    /// The digest and manifest of the plugin `spec` names, its pin verified, without
    /// compiling it (one `runtime` has loaded already is not read again).
    pub fn inspect(&self, runtime: Option<&Runtime>, spec: &str, base_dir: &Path) -> Result<Inspected, String> {
        let (path, pin) = self.resolve(spec, base_dir)?;
        let found = inspect_path(runtime, &path)?;
        check_pin(spec, &path, &found.digest, pin)?;
        Ok(found)
    }

    /// `plugin`, loaded for `spec` earlier (a prepared sandbox's), when its digest is
    /// the one `spec` pins: a pin is checked at the step's turn whoever loaded it.
    pub fn verify(&self, spec: &str, plugin: Arc<Plugin>) -> Result<Arc<Plugin>, String> {
        let (_, pin) = split_pin(spec)?;
        let origin = PathBuf::from(&plugin.origin);
        check_pin(spec, &origin, &plugin.digest, pin)?;
        Ok(plugin)
    }

    /// The plugin `spec` names when this process has loaded it already (see
    /// [`Runtime::loaded_file`]): cheap enough for the async path. `None` when it
    /// still has to be read, checked or compiled — [`PluginPath::load`] does that.
    pub fn loaded(&self, runtime: &Runtime, spec: &str, base_dir: &Path) -> Option<Result<Arc<Plugin>, String>> {
        let (path, pin) = match self.resolve(spec, base_dir) {
            Ok(found) => found,
            Err(e) => return Some(Err(e)),
        };
        let plugin = runtime.loaded_file(&path)?;
        Some(check_pin(spec, &path, &plugin.digest, pin).map(|()| plugin))
    }
}

/// For a component file that is not there: when a folder above it holds the
/// `build.sh` that `scope-host new` writes, the file is most likely not built yet.
fn not_built_hint(missing: &Path) -> String {
    let Ok(absolute) = std::path::absolute(missing) else {
        return String::new();
    };
    // Lexically: `tests/../target/x.wasm` is the project's target folder.
    let mut normal = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::ParentDir => {
                normal.pop();
            }
            std::path::Component::CurDir => {}
            other => normal.push(other),
        }
    }
    match normal.ancestors().skip(1).take(3).find(|d| d.join("build.sh").is_file()) {
        Some(project) => format!(
            "; it is not built yet: run {} first (it writes the component there)",
            project.join("build.sh").display()
        ),
        None => String::new(),
    }
}

/// The name (or path) of a plugin spec, and the digest it pins, if any.
fn split_pin(spec: &str) -> Result<(&str, Option<String>), String> {
    match spec.split_once("@sha256:") {
        Some((name, hex)) => {
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("plugin `{spec}`: a pin is `name@sha256:<64 hex digits>`"));
            }
            Ok((name, Some(format!("sha256:{}", hex.to_ascii_lowercase()))))
        }
        None => Ok((spec, None)),
    }
}

/// Whether a component of `digest` may run where `pin` is asked for (`None`: anything).
fn check_pin(spec: &str, path: &Path, digest: &str, pin: Option<String>) -> Result<(), String> {
    match pin {
        Some(want) if digest != want => Err(format!(
            "plugin `{spec}`: {} has digest {digest}, not the pinned {want}; refusing to run it",
            path.display(),
        )),
        _ => Ok(()),
    }
}

/// The digest and manifest of the component file at `path`: from `runtime` when it
/// has loaded the file already, else read from the file.
pub fn inspect_path(runtime: Option<&Runtime>, path: &Path) -> Result<Inspected, String> {
    if let Some(plugin) = runtime.and_then(|r| r.loaded_file(path)) {
        return Ok(Inspected::from(plugin.as_ref()));
    }
    crate::engine::inspect_file(path).map_err(|e| e.to_string())
}

/// `$SCOPE_HOST_PLUGINS` (colon-separated), else the plugins built beside this
/// binary (`<target>/wasm/wasm32-wasip2/release` for a cargo build, `<bin>/plugins`
/// for an installation).
pub fn builtin_dirs() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("SCOPE_HOST_PLUGINS") {
        return std::env::split_paths(&list).collect();
    }
    let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) else {
        return vec![];
    };
    let mut dirs = vec![exe_dir.join("plugins")];
    // target/debug/scope-host (or target/debug/deps/… in tests) → target/wasm/…
    for up in [exe_dir.parent(), exe_dir.parent().and_then(Path::parent)].into_iter().flatten() {
        dirs.push(up.join("wasm/wasm32-wasip2/release"));
    }
    dirs
}
