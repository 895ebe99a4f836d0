//! The SDKs and the contract a new project builds against, embedded in the binary
//! and written into the project's `scope-step/` folder.
//!
//! Why a copy rather than a path to a checkout: a third party has `scope-host`
//! installed, not necessarily the repository it was built from, and a path written
//! into a project breaks when either moves. A copy made by the binary is exactly the
//! SDK and WIT that binary serves, so the project builds anywhere and keeps building
//! the same way until its author copies in a newer one. The cost is a few hundred KB
//! in the binary (most of it the JS toolchain's lock file).
//!
//! The copy mirrors the repository's layout (`wit/`, `sdk/python/`, `sdk/js/`, and
//! the Rust SDK of `plugins/sdk` as `sdk/rust/`), so the SDKs' build commands and the
//! Rust SDK's `wit_bindgen::generate!(path: "../../wit")` find the contract in the
//! copy exactly as they do in the repository.

use super::Language;

/// One file of the copy.
pub struct SdkFile {
    /// Where it goes, relative to the project's `scope-step/`.
    pub path: &'static str,
    /// Its repository path, for the test that every SDK file is embedded.
    pub source: &'static str,
    pub bytes: &'static [u8],
    /// The SDKs' build commands are run directly.
    pub executable: bool,
}

/// Embeds the repository file `$source` as `$path` of the copy (the same path unless given).
macro_rules! sdk_file {
    ($source:literal) => {
        sdk_file!($source => $source)
    };
    ($source:literal => $path:literal) => {
        SdkFile {
            path: $path,
            source: $source,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $source)),
            executable: false,
        }
    };
    ($source:literal, executable) => {
        SdkFile {
            executable: true,
            ..sdk_file!($source)
        }
    };
}

/// The contract.
pub const WIT: &[SdkFile] = &[
    sdk_file!("wit/cloud.wit"),
    sdk_file!("wit/platform.wit"),
    sdk_file!("wit/types.wit"),
    sdk_file!("wit/worlds.wit"),
];

/// The Python SDK and its build command.
pub const PYTHON: &[SdkFile] = &[
    sdk_file!("sdk/python/scope-step-build", executable),
    sdk_file!("sdk/python/toolchain.txt"),
    sdk_file!("sdk/python/scope_step/__init__.py"),
    sdk_file!("sdk/python/scope_step/_calls.py"),
    sdk_file!("sdk/python/scope_step/_contract.py"),
    sdk_file!("sdk/python/scope_step/errors.py"),
    sdk_file!("sdk/python/scope_step/log.py"),
];

/// The JavaScript SDK, its build command and the toolchain's pins.
pub const JS: &[SdkFile] = &[
    sdk_file!("sdk/js/scope-step-build.mjs", executable),
    sdk_file!("sdk/js/package.json"),
    sdk_file!("sdk/js/index.js"),
    sdk_file!("sdk/js/contract.js"),
    sdk_file!("sdk/js/errors.js"),
    sdk_file!("sdk/js/toolchain/package.json"),
    sdk_file!("sdk/js/toolchain/package-lock.json"),
];

/// The Rust SDK's sources; its Cargo.toml is written by [`rust_sdk_manifest`], since
/// the repository's inherits from the plugins' workspace.
pub const RUST: &[SdkFile] = &[
    sdk_file!("plugins/sdk/src/lib.rs" => "sdk/rust/src/lib.rs"),
    sdk_file!("plugins/sdk/src/manifest.rs" => "sdk/rust/src/manifest.rs"),
];

/// The lock of the Rust example, a third party's crate depending on the SDK: the
/// versions the repository's tests build, which a new Rust project starts from.
pub const RUST_EXAMPLE_LOCK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../plugins/examples/rust/image-digest/Cargo.lock"
));

/// The root package of [`RUST_EXAMPLE_LOCK`].
pub const RUST_EXAMPLE_PACKAGE: &str = "image-digest";

/// The files of the language's SDK (the contract is [`WIT`], for every language).
pub fn files(language: Language) -> &'static [SdkFile] {
    match language {
        Language::Rust => RUST,
        Language::Python => PYTHON,
        Language::Js => JS,
    }
}

/// The vendored Rust SDK's Cargo.toml: the SDK's package with its one dependency
/// at the version the example's lock holds.
pub fn rust_sdk_manifest() -> String {
    let wit_bindgen = super::cargo_lock::version_of(RUST_EXAMPLE_LOCK, "wit-bindgen").unwrap_or("*");
    let sdk = super::cargo_lock::version_of(RUST_EXAMPLE_LOCK, "scope-step").unwrap_or("0.1.0");
    format!(
        "# The scope-step SDK (plugins/sdk of scope-host), copied by `scope-host new`; do not edit.\n\
         [package]\n\
         name = \"scope-step\"\n\
         version = \"{sdk}\"\n\
         edition = \"2021\"\n\
         license = \"Apache-2.0\"\n\
         publish = false\n\
         \n\
         [dependencies]\n\
         wit-bindgen = \"{wit_bindgen}\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn files_under(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if matches!(name.as_str(), "node_modules" | "__pycache__" | "target") {
                continue;
            }
            if path.is_dir() {
                files_under(&path, found);
            } else {
                found.push(path.strip_prefix(repo()).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_the_sdks_and_the_contract_is_embedded() {
        let embedded: Vec<&str> = [WIT, PYTHON, JS, RUST]
            .iter()
            .flat_map(|files| files.iter().map(|f| f.source))
            .collect();
        let mut on_disk = Vec::new();
        for dir in ["wit", "sdk/python", "sdk/js", "plugins/sdk/src"] {
            files_under(&repo().join(dir), &mut on_disk);
        }
        let missing: Vec<&String> = on_disk.iter().filter(|f| !embedded.contains(&f.as_str())).collect();
        assert!(
            missing.is_empty(),
            "{missing:?} would be missing from projects made by `scope-host new`: add them to scaffold/sdk.rs"
        );
    }

    #[test]
    fn the_vendored_rust_sdk_depends_on_what_the_repository_sdk_does() {
        let read = |p: &str| std::fs::read_to_string(repo().join(p)).unwrap().parse::<toml::Table>().unwrap();
        let sdk = read("plugins/sdk/Cargo.toml");
        let deps: Vec<&String> = sdk["dependencies"].as_table().unwrap().keys().collect();
        assert_eq!(deps, ["wit-bindgen"], "update rust_sdk_manifest() with the SDK's dependencies");
        let workspace = read("plugins/Cargo.toml");
        let pinned = workspace["workspace"]["dependencies"]["wit-bindgen"].as_str().unwrap();
        let vendored = rust_sdk_manifest().parse::<toml::Table>().unwrap();
        assert_eq!(
            vendored["dependencies"]["wit-bindgen"].as_str(),
            Some(pinned),
            "the example's Cargo.lock and plugins/Cargo.toml disagree on wit-bindgen"
        );
    }
}
