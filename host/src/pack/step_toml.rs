//! `step.toml`: the manifest of a plugin built without the Rust SDK (Python, JS …),
//! with the same keys as the manifest JSON. Unknown keys are refused, and every
//! error names the file, line and column.

use super::PackError;
use crate::manifest::Manifest;
use std::path::Path;

/// What a step.toml may hold, shown with every syntax error.
const KEYS_HINT: &str = "step.toml holds name, version, contract, kind (\"step\" or \"check\"), description, \
[[inputs]] (name, required, description), [[outputs]] (name, secret, description) and \
[[capabilities]] (action, resource)";

/// Reads and validates a step.toml.
pub fn read(path: &Path) -> Result<Manifest, PackError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PackError::ReadManifest {
        file: file.clone(),
        source,
    })?;
    parse(&text, &file)
}

/// Parses and validates step.toml text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Manifest, PackError> {
    let manifest: Manifest = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_column(text, s.start)).unwrap_or((1, 1));
        let message = e.message().trim_end().to_owned();
        let hint = hint_for(&message);
        PackError::Toml {
            file: file.to_owned(),
            line,
            column,
            message,
            hint,
        }
    })?;
    manifest.validate().map_err(|source| PackError::Invalid {
        file: file.to_owned(),
        source,
    })?;
    Ok(manifest)
}

fn hint_for(message: &str) -> String {
    if message.contains("missing field `contract`") {
        return format!(
            "add `contract = \"{}\"`, the scope:step version the component was built against",
            crate::bindings::CONTRACT_VERSION
        );
    }
    // A top-level key written below a `[[…]]` header lands in that entry: the
    // commonest TOML surprise, so say it plainly.
    let misplaced = TOP_LEVEL_KEYS.iter().find(|k| message.starts_with(&format!("unknown field `{k}`")));
    match misplaced {
        Some(key) => format!(
            "`{key}` is a top-level key, but in TOML every key below a [[inputs]], [[outputs]] or [[capabilities]] header belongs to that entry; move it above the first [[…]] header"
        ),
        None => KEYS_HINT.to_owned(),
    }
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "version",
    "contract",
    "kind",
    "description",
    "inputs",
    "outputs",
    "capabilities",
];

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "tag-compliance"
version = "0.2.0"
contract = "0.1.0"
description = "Reports functions missing required tags"

[[inputs]]
name = "REQUIRED_TAGS"
required = true

[[outputs]]
name = "NONCOMPLIANT"

[[capabilities]]
action = "tag:GetResources"
resource = "*"
"#;

    #[test]
    fn reads_every_key() {
        let m = parse(GOOD, "step.toml").unwrap();
        assert_eq!(
            (m.name.as_str(), m.version.as_str(), m.contract.as_str()),
            ("tag-compliance", "0.2.0", "0.1.0")
        );
        assert_eq!(m.kind, crate::manifest::Kind::Step);
        assert!(m.inputs[0].required);
        assert_eq!(m.capabilities[0].action, "tag:GetResources");
    }

    #[test]
    fn table_of_bad_files() {
        let cases: &[(&str, String, &str)] = &[
            (
                "unknown top key",
                GOOD.replace("description =", "descripton ="),
                "step.toml:5:1: unknown field `descripton`",
            ),
            (
                "unknown nested key",
                GOOD.replace("required = true", "requird = true"),
                "step.toml:9:1: unknown field `requird`",
            ),
            (
                "a capability that is a string",
                "name = \"x\"\nversion = \"0.1.0\"\ncontract = \"0.1.0\"\ncapabilities = [\"tag:GetResources\"]\n".into(),
                "step.toml:4:17: invalid type: string",
            ),
            (
                "a top-level key below a table header",
                GOOD.replace(
                    "[[capabilities]]\naction = \"tag:GetResources\"\nresource = \"*\"",
                    "capabilities = []",
                ),
                "move it above the first [[…]] header",
            ),
            (
                "no contract",
                GOOD.replace("contract = \"0.1.0\"\n", ""),
                "add `contract = \"0.2.0\"`",
            ),
            (
                "bad kind",
                GOOD.replace("version = \"0.2.0\"", "version = \"0.2.0\"\nkind = \"job\""),
                "step.toml:4:8: unknown variant `job`",
            ),
            ("not toml", "name = ".into(), "step.toml:1:8"),
        ];
        for (what, text, expected) in cases {
            let err = parse(text, "step.toml").unwrap_err().to_string();
            assert!(err.contains(expected), "{what}: `{err}` lacks `{expected}`");
        }
    }

    #[test]
    fn a_bad_value_is_named_with_the_file() {
        let err = parse(&GOOD.replace("tag:GetResources", "GetResources"), "x/step.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x/step.toml: ") && err.contains("`GetResources` is not `service:Action`"),
            "{err}"
        );
    }
}
