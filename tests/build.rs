//! Builds every Rust guest component from source for wasm32-wasip2 and tells the
//! tests where they are: the SDK's plugins and the Rust example into `<target>/wasm`
//! (whose release folder is one of the binary's built-in plugin folders), the test
//! guests into `<target>/wasm-test-guests`, off that path, so that a workflow naming
//! `memory-bomb` or `leaky` never finds a hostile test guest as if it were built in.
//! Nothing binary is committed; a change to a guest, the SDK or the WIT rebuilds them.
//! (Python and JS components need tools cargo does not have: the tests build those,
//! see `tests/src/polyglot.rs`.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let wasm_target = target.join("wasm");
    let guests_target = target.join("wasm-test-guests");
    let release = wasm_target.join("wasm32-wasip2/release");
    let guests_release = guests_target.join("wasm32-wasip2/release");
    // Test guests built beside the plugins by an earlier version of this script
    // would stay on the built-in path: they go.
    let mut guests = Vec::new();
    find_crates(&root.join("tests/guests"), &mut guests);
    for dir in &guests {
        let _ = std::fs::remove_file(release.join(wasm_name(dir)));
    }
    // The Rust example is a workspace of its own, as a third party's crate would be.
    for workspace in ["plugins", RUST_EXAMPLE] {
        build(&root.join(workspace).join("Cargo.toml"), &wasm_target);
    }
    // What is in the built-in folder now is built in: no test guest may take its name.
    for dir in &guests {
        let name = wasm_name(dir);
        assert!(
            !release.join(&name).exists(),
            "the test guest {} builds {name}, the name of a built-in plugin: rename it",
            dir.display()
        );
    }
    build(&root.join("tests/guests/Cargo.toml"), &guests_target);
    for watched in ["wit", "plugins/Cargo.toml", "tests/guests/Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let mut crates = Vec::new();
    for parent in ["plugins", "tests/guests"] {
        find_crates(&root.join(parent), &mut crates);
    }
    for dir in &crates {
        println!("cargo:rerun-if-changed={}", dir.join("src").display());
        println!("cargo:rerun-if-changed={}", dir.join("Cargo.toml").display());
    }
    // Diagnose checks live in folders of their own, which executor steps name:
    // plugins/checks/<scope>/<check> → <release>/checks/<scope>/check_<check>.wasm.
    let checks = root.join("plugins/checks");
    for dir in crates.iter().filter(|d| d.starts_with(&checks)) {
        let scope = dir.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy().to_string();
        let name = format!("check_{}.wasm", dir.file_name().unwrap().to_string_lossy().replace('-', "_"));
        let into = release.join("checks").join(&scope);
        std::fs::create_dir_all(&into).unwrap();
        std::fs::copy(release.join(&name), into.join(&name)).unwrap_or_else(|e| panic!("copying check {name}: {e}"));
    }
    // The test guests (tests/src/lib.rs `guest_dir`) and the built-in plugins (`builtin_dir`).
    println!("cargo:rustc-env=GUEST_DIR={}", guests_release.display());
    println!("cargo:rustc-env=BUILTIN_PLUGIN_DIR={}", release.display());
}

/// The component a crate folder builds: its name with `_` for `-`, as cargo names it.
fn wasm_name(dir: &Path) -> String {
    format!("{}.wasm", dir.file_name().unwrap().to_string_lossy().replace('-', "_"))
}

/// The Rust example step, built with the plugins.
const RUST_EXAMPLE: &str = "plugins/examples/rust/image-digest";

/// Every crate folder (holding a Cargo.toml with a `src/`) below `dir`, skipping
/// build output. Example folders are searched too: plugins/examples holds a crate.
fn find_crates(dir: &Path, found: &mut Vec<PathBuf>) {
    if dir.join("Cargo.toml").is_file() && dir.join("src").is_dir() {
        found.push(dir.to_path_buf());
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
            find_crates(&path, found);
        }
    }
}

fn build(manifest: &Path, target_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(manifest)
        .env("CARGO_TARGET_DIR", target_dir)
        // The host build's flags are not the guests' flags.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("running cargo to build the guest components");
    if !status.success() {
        panic!(
            "building the guest components of {} failed (see above). Is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2` (scripts/test does it)",
            manifest.display()
        );
    }
}
