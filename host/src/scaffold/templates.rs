//! The texts a new project is made of (the files under `templates/`, readable as
//! the files they become), and filling in their `{{placeholder}}`s.

use super::Language;
use crate::manifest::Kind;

/// The template `$path` under `templates/`.
macro_rules! template {
    ($path:literal) => {
        include_str!(concat!("templates/", $path))
    };
}

/// The step or check itself.
pub fn source(language: Language, kind: Kind) -> &'static str {
    match (language, kind) {
        (Language::Rust, Kind::Step) => template!("rust/step.rs"),
        (Language::Rust, Kind::Check) => template!("rust/check.rs"),
        (Language::Python, Kind::Step) => template!("python/step.py"),
        (Language::Python, Kind::Check) => template!("python/check.py"),
        (Language::Js, Kind::Step) => template!("js/step.js"),
        (Language::Js, Kind::Check) => template!("js/check.js"),
    }
}

/// The one build command, `build.sh`.
pub fn build_script(language: Language) -> &'static str {
    match language {
        Language::Rust => template!("rust/build.sh"),
        Language::Python => template!("python/build.sh"),
        Language::Js => template!("js/build.sh"),
    }
}

/// A Python or JS project's `step.toml` (a Rust project declares its manifest in code).
pub fn step_toml(kind: Kind) -> &'static str {
    match kind {
        Kind::Step => template!("common/step.toml"),
        Kind::Check => template!("common/check.toml"),
    }
}

/// The scenarios, the same for every language: the templates behave alike.
pub fn scenarios(kind: Kind) -> &'static str {
    match kind {
        Kind::Step => template!("tests/step.yaml"),
        Kind::Check => template!("tests/check.yaml"),
    }
}

pub const CARGO_TOML: &str = template!("rust/Cargo.toml.in");
pub const README: &str = template!("common/README.md");
pub const SDK_README: &str = template!("common/scope-step-README.md");
pub const GITIGNORE: &str = template!("common/gitignore");

/// `text` with every `{{key}}` replaced by its value.
pub fn render(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_every_occurrence() {
        assert_eq!(render("{{a}} and {{a}}, {{b}}", &[("a", "x"), ("b", "y")]), "x and x, y");
    }
}
