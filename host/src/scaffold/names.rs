//! Which names a new project may have: a plugin name (the manifest's rule), and for
//! Rust also a name cargo accepts for a package whose library is the component.

use super::{cargo_lock, sdk, Language, ScaffoldError};
use crate::manifest::{is_plugin_name, PLUGIN_NAME_RULE};

/// Words cargo refuses as a package name: Rust's keywords (the library would be
/// named after it), its built-in libraries, and cargo's own build folders.
const NOT_FOR_CARGO: &[&str] = &[
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "build",
    "const",
    "continue",
    "core",
    "crate",
    "deps",
    "do",
    "dyn",
    "else",
    "enum",
    "examples",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "incremental",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "proc_macro",
    "proc-macro",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// Refuses a name the project cannot have, saying why and what would do.
pub fn check(name: &str, language: Language) -> Result<(), ScaffoldError> {
    if !is_plugin_name(name) {
        return Err(ScaffoldError::BadName {
            name: name.to_owned(),
            rule: PLUGIN_NAME_RULE,
            suggestion: suggest(name),
        });
    }
    if language != Language::Rust {
        return Ok(());
    }
    let refuse = |why: String| {
        Err(ScaffoldError::NotACrateName {
            name: name.to_owned(),
            why,
        })
    };
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return refuse("a Rust package's name starts with a letter".into());
    }
    if NOT_FOR_CARGO.contains(&name) {
        return refuse("cargo reserves it (a Rust keyword, a built-in library or a build folder)".into());
    }
    if cargo_lock::names(sdk::RUST_EXAMPLE_LOCK).contains(&name) {
        return refuse("the SDK depends on a crate of that name".into());
    }
    Ok(())
}

/// A valid name close to `name` (lowercased, other characters as `-`), if there is one.
fn suggest(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_names() {
        let cases: &[(&str, Language, Result<(), &str>)] = &[
            ("hello", Language::Rust, Ok(())),
            ("my-step_2", Language::Python, Ok(())),
            ("11-checks", Language::Js, Ok(())),
            (
                "Hello World",
                Language::Js,
                Err("`Hello World` cannot name a step: use lowercase letters, digits, `-` or `_`, e.g. `hello-world`"),
            ),
            (
                "",
                Language::Python,
                Err("`` cannot name a step: use lowercase letters, digits, `-` or `_`"),
            ),
            ("step.v2", Language::Python, Err("e.g. `step-v2`")),
            ("ünïcode", Language::Python, Err("e.g. `n-code`")),
            (
                "11-checks",
                Language::Rust,
                Err("`11-checks` cannot name a Rust step: a Rust package's name starts with a letter"),
            ),
            ("test", Language::Rust, Err("cargo reserves it")),
            ("wit-bindgen", Language::Rust, Err("the SDK depends on a crate of that name")),
            ("test", Language::Python, Ok(())),
        ];
        for (name, language, expected) in cases {
            let got = check(name, *language).map_err(|e| e.to_string());
            match (expected, &got) {
                (Ok(()), Ok(())) => {}
                (Err(part), Err(message)) if message.contains(part) => {}
                _ => panic!("{name:?} ({language:?}): expected {expected:?}, got {got:?}"),
            }
        }
    }
}
