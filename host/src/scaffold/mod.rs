//! `scope-host new`: a ready project for a step or check in Rust, Python or
//! JavaScript — its source doing something small but real through the contract, its
//! manifest, one build command (`build.sh`), scenarios that pass, and a copy of the
//! SDK and the contract (see [`sdk`] for why a copy) — so a third party goes from
//! nothing to a tested step with three commands (docs/first-step.md).

mod cargo_lock;
mod names;
pub mod sdk;
mod templates;
mod write;

pub use write::create;

use crate::manifest::Kind;
use std::path::PathBuf;
use thiserror::Error;

/// The languages with an SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Rust,
    Python,
    Js,
}

impl Language {
    /// As people write it.
    pub fn display_name(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
            Language::Js => "JavaScript",
        }
    }

    /// The SDK's folder under `scope-step/sdk/`.
    fn sdk_folder(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
        }
    }

    /// What the build command needs, and where it looks for it (Markdown; read as
    /// plain text too). The order is the SDK build commands' order.
    pub fn toolchain_note(self) -> &'static str {
        match self {
            Language::Rust => {
                "cargo with the wasm32-wasip2 target (`rustup target add wasm32-wasip2`), and `scope-host` on PATH \
(or `SCOPE_HOST`), which checks the component loads. `CARGO_TARGET_DIR`, when set, is where cargo builds."
            }
            Language::Python => {
                "python3 (3.11+), `scope-host` on PATH (or `SCOPE_HOST`), and componentize-py, looked for in this order: \
`$COMPONENTIZE_PY`; `guest-tools/py` beside the folder scope-host is in (where `scripts/guest-tools` of a scope-host \
checkout installs it: target/guest-tools beside target/debug); PATH, where \
`pip install -r scope-step/sdk/python/toolchain.txt` puts the pinned version."
            }
            Language::Js => {
                "node (20.19+), `scope-host` on PATH (or `SCOPE_HOST`), and componentize-js with rolldown, looked for in \
this order: `$COMPONENTIZE_JS_DIR` (a folder whose node_modules holds them); `scope-step/sdk/js/toolchain`, after \
`npm ci --prefix scope-step/sdk/js/toolchain` installs the pinned versions there; `guest-tools/js` beside the folder \
scope-host is in (where `scripts/guest-tools` of a scope-host checkout installs them: target/guest-tools beside \
target/debug)."
            }
        }
    }
}

/// Why a project cannot be created.
#[derive(Debug, Error)]
pub enum ScaffoldError {
    #[error("`{name}` cannot name a step: use {rule}{}", .suggestion.as_ref().map(|s| format!(", e.g. `{s}`")).unwrap_or_default())]
    BadName {
        name: String,
        rule: &'static str,
        suggestion: Option<String>,
    },
    #[error("`{name}` cannot name a Rust step: {why}; choose another name")]
    NotACrateName { name: String, why: String },
    #[error("{} already exists and is not empty: choose another name or --dir, or remove it", .dir.display())]
    NotEmpty { dir: PathBuf },
    #[error("{} exists and is not a folder: choose another name or --dir", .path.display())]
    NotAFolder { path: PathBuf },
    #[error("{doing} {}: {source}", .path.display())]
    Io {
        doing: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What to create: a valid name, a language, a kind.
#[derive(Clone, Debug)]
pub struct Project {
    name: String,
    language: Language,
    kind: Kind,
}

/// One file of a project.
pub struct ProjectFile {
    /// Relative to the project's folder.
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
}

impl ProjectFile {
    fn text(path: impl Into<String>, contents: String) -> Self {
        ProjectFile {
            path: path.into(),
            contents: contents.into_bytes(),
            executable: false,
        }
    }
}

impl Project {
    /// A project named `name` (its manifest and plugin name); refuses a name the
    /// manifest (or, for Rust, cargo) would refuse.
    pub fn new(name: &str, language: Language, kind: Kind) -> Result<Project, ScaffoldError> {
        names::check(name, language)?;
        Ok(Project {
            name: name.to_owned(),
            language,
            kind,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Where the build command writes the plugin, relative to the project.
    pub fn plugin_path(&self) -> String {
        format!("target/{}.wasm", self.name)
    }

    /// The scenario file, relative to the project.
    pub fn scenario_path(&self) -> String {
        format!("tests/{}.yaml", self.name)
    }

    /// The files an author works on (not the vendored copy), with what each is for.
    pub fn overview(&self) -> Vec<(String, String)> {
        let what = match self.kind {
            Kind::Step => "the step: reads LAMBDA_FUNCTION_NAME, looks the function up, returns its ARN and state",
            Kind::Check => "the check: reads LAMBDA_FUNCTION_NAME, looks the function up, passes when it is Active",
        };
        let mut files = match self.language {
            Language::Rust => vec![
                (
                    "src/lib.rs".to_owned(),
                    format!("{what}; its manifest (what it reads, returns and may call) at the bottom"),
                ),
                (
                    "Cargo.toml".to_owned(),
                    "the crate; Cargo.lock pins the SDK's dependencies".to_owned(),
                ),
            ],
            Language::Python | Language::Js => vec![
                (self.source_path().to_owned(), what.to_owned()),
                (
                    "step.toml".to_owned(),
                    "its manifest: what it reads, returns and may call".to_owned(),
                ),
            ],
        };
        files.push(("build.sh".to_owned(), format!("the build command: writes {}", self.plugin_path())));
        files.push((self.scenario_path(), "its scenarios on the simulated cloud".to_owned()));
        files.push((
            "scope-step/".to_owned(),
            format!(
                "the {} SDK and the contract scope:step@{}, copied from this scope-host",
                self.language.display_name(),
                crate::bindings::CONTRACT_VERSION
            ),
        ));
        files
    }

    fn source_path(&self) -> &'static str {
        match self.language {
            Language::Rust => "src/lib.rs",
            Language::Python => "app.py",
            Language::Js => "app.js",
        }
    }

    /// Every file of the project, rendered.
    pub fn files(&self) -> Vec<ProjectFile> {
        let crate_name = self.name.replace('-', "_");
        let readme_rows: String = self
            .overview()
            .iter()
            .filter(|(path, _)| matches!(path.as_str(), "src/lib.rs" | "Cargo.toml" | "app.py" | "app.js" | "step.toml"))
            .map(|(path, what)| format!("| `{path}` | {what} |\n"))
            .collect();
        let values = [
            ("name", self.name.as_str()),
            ("crate", crate_name.as_str()),
            ("kind", self.kind.as_str()),
            ("language", self.language.display_name()),
            ("sdk", self.language.sdk_folder()),
            ("contract", crate::bindings::CONTRACT_VERSION),
            ("version", env!("CARGO_PKG_VERSION")),
            ("files", readme_rows.as_str()),
            ("toolchain", self.language.toolchain_note()),
        ];
        let render = |text: &str| templates::render(text, &values);

        let mut files = vec![
            ProjectFile::text(self.source_path(), render(templates::source(self.language, self.kind))),
            ProjectFile {
                executable: true,
                ..ProjectFile::text("build.sh", render(templates::build_script(self.language)))
            },
            ProjectFile::text(self.scenario_path(), render(templates::scenarios(self.kind))),
            ProjectFile::text("README.md", render(templates::README)),
            ProjectFile::text(".gitignore", templates::GITIGNORE.to_owned()),
            ProjectFile::text("scope-step/README.md", render(templates::SDK_README)),
        ];
        match self.language {
            Language::Rust => {
                files.push(ProjectFile::text("Cargo.toml", render(templates::CARGO_TOML)));
                files.push(ProjectFile::text(
                    "Cargo.lock",
                    cargo_lock::rename_root(sdk::RUST_EXAMPLE_LOCK, sdk::RUST_EXAMPLE_PACKAGE, &self.name),
                ));
                files.push(ProjectFile::text("scope-step/sdk/rust/Cargo.toml", sdk::rust_sdk_manifest()));
            }
            Language::Python | Language::Js => files.push(ProjectFile::text("step.toml", render(templates::step_toml(self.kind)))),
        }
        for file in sdk::WIT.iter().chain(sdk::files(self.language)) {
            files.push(ProjectFile {
                path: format!("scope-step/{}", file.path),
                contents: file.bytes.to_vec(),
                executable: file.executable,
            });
        }
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(Language, Kind); 6] = [
        (Language::Rust, Kind::Step),
        (Language::Rust, Kind::Check),
        (Language::Python, Kind::Step),
        (Language::Python, Kind::Check),
        (Language::Js, Kind::Step),
        (Language::Js, Kind::Check),
    ];

    #[test]
    fn every_placeholder_is_filled() {
        for (language, kind) in ALL {
            let project = Project::new("my-step", language, kind).unwrap();
            for file in project.files() {
                let text = String::from_utf8_lossy(&file.contents);
                if !file.path.starts_with("scope-step/sdk") && !file.path.starts_with("scope-step/wit") {
                    assert!(!text.contains("{{"), "{language:?} {kind:?} {}: {text}", file.path);
                }
            }
        }
    }

    #[test]
    fn python_and_js_manifests_parse_as_step_toml_and_name_the_project() {
        for (language, kind) in ALL.into_iter().filter(|(l, _)| *l != Language::Rust) {
            let project = Project::new("my-step", language, kind).unwrap();
            let files = project.files();
            let toml = files.iter().find(|f| f.path == "step.toml").unwrap();
            let manifest = crate::pack::step_toml::parse(std::str::from_utf8(&toml.contents).unwrap(), "step.toml").unwrap();
            assert_eq!((manifest.name.as_str(), manifest.kind), ("my-step", kind));
            assert_eq!(manifest.contract, crate::bindings::CONTRACT_VERSION);
        }
    }

    #[test]
    fn scenarios_point_at_what_the_build_writes() {
        for (language, kind) in ALL {
            let project = Project::new("my-step", language, kind).unwrap();
            let files = project.files();
            let scenarios = files.iter().find(|f| f.path == "tests/my-step.yaml").unwrap();
            let text = std::str::from_utf8(&scenarios.contents).unwrap();
            assert!(text.contains("plugin: ../target/my-step.wasm"), "{text}");
            let build = files.iter().find(|f| f.path == "build.sh").unwrap();
            assert!(build.executable);
            assert!(String::from_utf8_lossy(&build.contents).contains("$here/target/my-step.wasm"));
        }
    }
}
