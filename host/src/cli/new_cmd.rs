//! `scope-host new`: creates a step or check project (see `scaffold`) and says
//! what to run next.

use crate::manifest::Kind;
use crate::scaffold::{self, Language, Project};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `new`'s arguments.
#[derive(Args)]
#[command(after_help = "Examples:\n  \
scope-host new hello --lang python            a Python step in hello/\n  \
scope-host new fn-active --lang rust --kind check\n  \
scope-host new tagger --lang js --dir steps/tagger\n\n\
Then, from the same folder, build it and run its scenarios on the simulated cloud:\n  \
hello/build.sh                                writes hello/target/hello.wasm\n  \
scope-host test hello/tests/hello.yaml        ends with `3 passed, 0 failed`\n\n\
The project holds the step (src/lib.rs for Rust, app.py or app.js with step.toml), build.sh, tests/<name>.yaml, \
and scope-step/: a copy of the SDK and the contract (WIT) from this scope-host, so it builds anywhere, with no \
scope-host checkout. The build needs: Rust: cargo and `rustup target add wasm32-wasip2`. Python: python3 3.11+ and \
componentize-py (`pip install -r <project>/scope-step/sdk/python/toolchain.txt`). JavaScript: node 20.19+, and \
componentize-js with rolldown (`npm ci --prefix <project>/scope-step/sdk/js/toolchain`). In a scope-host checkout, \
scripts/guest-tools installs the Python and JS tools where the build finds them. README.md of the project says more; \
the guide is docs/first-step.md.\n\n\
Exit status: 0 when the project was created, 2 when it was refused (a bad name, an existing folder that is not \
empty); then nothing is written.")]
pub struct NewArgs {
    /// The step's name: lowercase letters, digits, `-` or `_`. It names the plugin
    /// (in its manifest, on the plugin path) and, by default, the folder.
    name: String,
    /// The language to write it in.
    #[arg(long, value_enum)]
    lang: LangArg,
    /// `step` exports `run` and returns outputs for later steps; `check` exports
    /// `check` and returns a diagnose verdict.
    #[arg(long, value_enum, default_value = "step")]
    kind: KindArg,
    /// The folder to create [default: ./<name>]; it must not exist, or be empty.
    #[arg(long, value_name = "PATH")]
    dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Rust,
    #[value(alias = "py")]
    Python,
    #[value(alias = "javascript")]
    Js,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Step,
    Check,
}

pub fn run(args: &NewArgs) -> Result<ExitCode> {
    let language = match args.lang {
        LangArg::Rust => Language::Rust,
        LangArg::Python => Language::Python,
        LangArg::Js => Language::Js,
    };
    let kind = match args.kind {
        KindArg::Step => Kind::Step,
        KindArg::Check => Kind::Check,
    };
    let project = Project::new(&args.name, language, kind)?;
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    scaffold::create(&project, &dir)?;

    outln!(
        "created {}: a {} {} in {}",
        project.name(),
        language.display_name(),
        kind.as_str(),
        dir.display()
    );
    let overview = project.overview();
    let width = overview.iter().map(|(path, _)| path.len()).max().unwrap_or(0);
    for (path, what) in &overview {
        outln!("  {path:width$}  {what}");
    }
    outln!("\nnext, from this folder:");
    outln!("  {}", shell_word(&dir.join("build.sh")));
    outln!("  scope-host test {}", shell_word(&dir.join(project.scenario_path())));
    outln!(
        "\nthe build needs (paths relative to {}): {}",
        dir.display(),
        language.toolchain_note()
    );
    Ok(ExitCode::SUCCESS)
}

/// `path` as a shell reads it: quoted when it holds anything but plain characters.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c)) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_a_shell_would_split() {
        assert_eq!(shell_word(Path::new("hello/build.sh")), "hello/build.sh");
        assert_eq!(shell_word(Path::new("my steps/it's/build.sh")), r"'my steps/it'\''s/build.sh'");
    }
}
