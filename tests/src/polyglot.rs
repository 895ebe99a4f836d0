//! Python and JavaScript components, built from source with the SDKs' own build
//! commands (`sdk/python/scope-step-build`, `sdk/js/scope-step-build.mjs`), the
//! commands a third party runs. Their toolchains are installed by
//! `scripts/guest-tools` (scripts/test runs it), not by cargo, so these builds
//! live here rather than in build.rs.
//!
//! A build takes 20–40 s on two cores, so each component is built once per test
//! process and kept in `target/polyglot/` under a hash of everything it is made
//! from (its folder, the SDK, the contract, the toolchain's pins, the packing
//! code): later processes of the same run, and later runs, reuse it until one of
//! those changes.

use crate::{binary, target_dir};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

/// A guest language with an SDK under `sdk/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    Python,
    Js,
}

impl Language {
    fn sdk(self) -> PathBuf {
        repo().join(match self {
            Language::Python => "sdk/python",
            Language::Js => "sdk/js",
        })
    }

    /// The build command and how it is started.
    fn build_command(self) -> Command {
        match self {
            Language::Python => Command::new(self.sdk().join("scope-step-build")),
            Language::Js => {
                let mut c = Command::new("node");
                c.arg(self.sdk().join("scope-step-build.mjs"));
                c
            }
        }
    }

    /// The variable that points the build command at a toolchain elsewhere.
    fn toolchain_variable(self) -> &'static str {
        match self {
            Language::Python => "COMPONENTIZE_PY",
            Language::Js => "COMPONENTIZE_JS_DIR",
        }
    }

    /// The file scripts/guest-tools writes once the toolchain is installed.
    fn toolchain_stamp(self) -> PathBuf {
        target_dir().join(match self {
            Language::Python => "guest-tools/py.stamp",
            Language::Js => "guest-tools/js.stamp",
        })
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The packed component of the step in `folder` (relative to the repository),
/// built now or earlier from the same sources. Panics with the build's output
/// when it fails, or with the command to run when the toolchain is missing.
pub fn component(language: Language, folder: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    // Held while building: two tests wanting the same component wait for one build,
    // and two builds never compete for the machine's two cores.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(folder) {
        return path.clone();
    }
    let stamp = language.toolchain_stamp();
    assert!(
        stamp.exists() || std::env::var_os(language.toolchain_variable()).is_some(),
        "the {language:?} toolchain is not installed ({} is missing): run scripts/guest-tools (scripts/test does), or set {}",
        stamp.display(),
        language.toolchain_variable()
    );
    let source = repo().join(folder);
    let name = source.file_name().unwrap().to_string_lossy().replace('-', "_");
    let key = inputs_hash(language, &source);
    let out = target_dir().join("polyglot").join(format!("{name}-{key:016x}.wasm"));
    if !out.exists() {
        build(language, &source, &out);
    }
    built.insert(folder.to_owned(), out.clone());
    out
}

fn build(language: Language, source: &Path, out: &Path) {
    let started = Instant::now();
    // Written aside and renamed, so an interrupted build never leaves a file that
    // a later run would take for finished.
    let partial = out.with_extension("partial.wasm");
    let result = run_build(language, source, &partial);
    assert!(
        result.status.success(),
        "building {} failed:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    std::fs::rename(&partial, out).unwrap();
    eprintln!("built {} in {:.1} s", source.display(), started.elapsed().as_secs_f64());
}

/// Runs the SDK's build command on `source` as an author would, writing `out`.
pub fn run_build(language: Language, source: &Path, out: &Path) -> std::process::Output {
    language
        .build_command()
        .arg(source)
        .arg("-o")
        .arg(out)
        .env("SCOPE_HOST", binary())
        // The packing check compiles the component into the cache the tests read.
        .env("SCOPE_HOST_CACHE", target_dir().join("test-compile-cache"))
        .output()
        .expect("starting the SDK build command")
}

/// A hash of every input of a build.
fn inputs_hash(language: Language, source: &Path) -> u64 {
    let mut files = Vec::new();
    for dir in [
        source.to_path_buf(),
        language.sdk(),
        repo().join("wit"),
        repo().join("host/src/pack"),
    ] {
        collect_files(&dir, &mut files);
    }
    files.push(repo().join("host/src/manifest.rs"));
    files.push(language.toolchain_stamp());
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::env::var_os(language.toolchain_variable()).hash(&mut hasher);
    for file in files {
        file.strip_prefix(repo()).unwrap_or(&file).hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

fn collect_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name == "node_modules" || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, found);
        } else {
            found.push(path);
        }
    }
}
