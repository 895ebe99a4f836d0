//! A plugin's declaration: what it is, what it reads, what it returns and which
//! cloud actions it needs. It lives in the custom section [`SECTION`] of the
//! component (the guest SDK writes it; `scope-host plugin pack` adds it for any
//! language) as JSON.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The custom section holding the manifest.
pub const SECTION: &str = "scope-step-manifest";

/// What kind of component a plugin is: which world it implements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// World `step`: exports `run`.
    #[default]
    Step,
    /// World `check`: exports `check`.
    Check,
}

impl Kind {
    /// `step` or `check`: the world's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Step => "step",
            Kind::Check => "check",
        }
    }

    /// The export the host calls.
    pub fn export_name(self) -> &'static str {
        match self {
            Kind::Step => "run",
            Kind::Check => "check",
        }
    }
}

/// A variable the plugin reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDecl {
    pub name: String,
    /// A required input must be provided before the step runs (`check` proves it).
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// An output the plugin may return.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputDecl {
    pub name: String,
    #[serde(default)]
    pub secret: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A cloud action on a resource pattern, e.g. `lambda:UpdateFunctionCode` on
/// `arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    pub action: String,
    pub resource: String,
}

/// The manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    /// The contract (WIT package `scope:step`) version the plugin was built for.
    pub contract: String,
    #[serde(default)]
    pub kind: Kind,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub inputs: Vec<InputDecl>,
    #[serde(default)]
    pub outputs: Vec<OutputDecl>,
    #[serde(default)]
    pub capabilities: Vec<Capability>,
}

/// Why a manifest could not be read.
#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("the component has no `{SECTION}` custom section: build it with the scope-step SDK, or add one with `scope-host plugin pack <wasm> --manifest <step.toml>`")]
    Missing,
    #[error("the component carries {0} different `{SECTION}` sections; keep one")]
    Ambiguous(usize),
    /// The bytes stop being WebAssembly before their end (a truncated or corrupted
    /// file): said before anything about the manifest, which may well be intact.
    #[error("the component is damaged: {0}; rebuild it or copy it again")]
    Damaged(String),
    #[error("the manifest is not valid JSON at line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    #[error("the manifest is invalid: {0}")]
    Invalid(String),
    #[error("the plugin was built for contract scope:step@{found}, but this host serves {served}: {hint}")]
    // `served` lists every version the host serves, newest first.
    Contract { found: String, served: String, hint: String },
}

impl Manifest {
    /// Parses and validates manifest JSON.
    pub fn from_json(text: &[u8]) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = serde_json::from_slice(text).map_err(|e| ManifestError::Syntax {
            line: e.line(),
            column: e.column(),
            message: crate::json_error::message(&e),
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks names, versions and capability syntax; the contract version must be
    /// one this host serves.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |m: String| Err(ManifestError::Invalid(m));
        if !is_plugin_name(&self.name) {
            return invalid(format!("name `{}` must be non-empty {PLUGIN_NAME_RULE}", self.name));
        }
        if semver::Version::parse(&self.version).is_err() {
            return invalid(format!("version `{}` is not `MAJOR.MINOR.PATCH`", self.version));
        }
        check_contract(&self.contract)?;
        for input in &self.inputs {
            check_var_name(&input.name).map_err(|m| ManifestError::Invalid(format!("input: {m}")))?;
        }
        for output in &self.outputs {
            check_var_name(&output.name).map_err(|m| ManifestError::Invalid(format!("output: {m}")))?;
        }
        for cap in &self.capabilities {
            check_capability(cap).map_err(ManifestError::Invalid)?;
        }
        Ok(())
    }

    /// The declared output named `name`.
    pub fn output(&self, name: &str) -> Option<&OutputDecl> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

/// What a plugin name may hold, as error messages say it.
pub const PLUGIN_NAME_RULE: &str = "lowercase letters, digits, `-` or `_`";

/// Whether `name` may name a plugin: non-empty, [`PLUGIN_NAME_RULE`]. Plugins are
/// found by this name on the plugin path, so it must be the same on every file system.
pub fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A plugin built for 0.1.x runs on a host serving 0.1.y (semver: for 0.x the
/// minor is the breaking part); the host serves several versions side by side
/// (`bindings::SERVED_CONTRACTS`). Anything else is refused with what to do.
fn check_contract(found: &str) -> Result<(), ManifestError> {
    let Ok(f) = semver::Version::parse(found) else {
        return Err(ManifestError::Invalid(format!("contract `{found}` is not `MAJOR.MINOR.PATCH`")));
    };
    let served: Vec<semver::Version> = crate::bindings::SERVED_CONTRACTS
        .iter()
        .filter_map(|v| semver::Version::parse(v).ok())
        .collect();
    let compatible = |s: &semver::Version| {
        if s.major == 0 {
            f.major == 0 && f.minor == s.minor
        } else {
            f.major == s.major
        }
    };
    if served.iter().any(compatible) {
        return Ok(());
    }
    let newest = served.iter().max().map_or((0, 0), |s| (s.major, s.minor));
    let newer = (f.major, f.minor) > newest;
    let hint = if newer {
        "the plugin is newer than this host; upgrade scope-host".to_owned()
    } else {
        "the plugin is older than any contract this host still serves; rebuild it against the current SDK".to_owned()
    };
    Err(ManifestError::Contract {
        found: found.to_owned(),
        served: crate::bindings::SERVED_CONTRACTS.join(", "),
        hint,
    })
}

fn check_var_name(name: &str) -> Result<(), String> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a variable name (letters, digits and `_`, not starting with a digit)"
        ))
    }
}

fn check_capability(cap: &Capability) -> Result<(), String> {
    let (service, action) = cap.action.split_once(':').ok_or_else(|| {
        format!(
            "capability action `{}` is not `service:Action` (e.g. `lambda:GetFunction`)",
            cap.action
        )
    })?;
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '-' || c == '?');
    if !ok(service) || !ok(action) {
        return Err(format!(
            "capability action `{}` is not `service:Action` (e.g. `lambda:GetFunction`)",
            cap.action
        ));
    }
    if cap.resource.is_empty() {
        return Err(format!("capability `{}` has an empty resource; use `*` for any", cap.action));
    }
    crate::grants::pattern_variables(&cap.resource).map_err(|e| format!("capability `{}` resource `{}`: {e}", cap.action, cap.resource))?;
    Ok(())
}

/// Reads the manifest from a component's (or module's) bytes, wherever the custom
/// section sits (top level or an embedded core module). The whole file is walked:
/// bytes that stop parsing anywhere are [`ManifestError::Damaged`], so a manifest
/// met before the damage is never taken for the component's only one.
pub fn read_from_wasm(bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let mut found: Vec<Vec<u8>> = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| ManifestError::Damaged(e.to_string()))?;
        if let wasmparser::Payload::CustomSection(reader) = payload {
            if reader.name() == SECTION && !found.iter().any(|f| f == reader.data()) {
                found.push(reader.data().to_vec());
            }
        }
    }
    match found.len() {
        0 => Err(ManifestError::Missing),
        1 => Manifest::from_json(&found[0]),
        n => Err(ManifestError::Ambiguous(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> serde_json::Value {
        serde_json::json!({"name": "publish-version", "version": "0.1.0", "contract": "0.1.0",
            "capabilities": [{"action": "lambda:PublishVersion", "resource": "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"}]})
    }

    #[test]
    fn table_of_invalid_manifests() {
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            ("bad name", serde_json::json!({"name": "Bad Name"}), "name"),
            ("bad version", serde_json::json!({"version": "1"}), "MAJOR.MINOR.PATCH"),
            ("newer contract", serde_json::json!({"contract": "0.3.0"}), "upgrade scope-host"),
            (
                "older contract",
                serde_json::json!({"contract": "0.0.9"}),
                "rebuild it against the current SDK",
            ),
            ("newer major", serde_json::json!({"contract": "1.0.0"}), "upgrade scope-host"),
            (
                "bad action",
                serde_json::json!({"capabilities": [{"action": "PublishVersion", "resource": "*"}]}),
                "service:Action",
            ),
            (
                "empty resource",
                serde_json::json!({"capabilities": [{"action": "lambda:X", "resource": ""}]}),
                "empty resource",
            ),
            (
                "open variable",
                serde_json::json!({"capabilities": [{"action": "lambda:X", "resource": "a${B"}]}),
                "unclosed",
            ),
            ("unknown key", serde_json::json!({"inputz": []}), "unknown field"),
        ];
        for (what, patch, expected) in cases {
            let mut m = base();
            for (k, v) in patch.as_object().unwrap() {
                m[k] = v.clone();
            }
            let err = Manifest::from_json(m.to_string().as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{what}: `{err}` lacks `{expected}`");
        }
    }

    #[test]
    fn accepts_older_patch_and_reads_nested_section() {
        let mut m = base();
        m["contract"] = "0.1.7".into();
        let json = m.to_string();
        // A core module carrying the section, as the Rust toolchain embeds it.
        let wat = format!(
            "(module (@custom \"{SECTION}\" \"{}\"))",
            json.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let wasm = wat::parse_str(&wat).unwrap();
        let read = read_from_wasm(&wasm).unwrap();
        assert_eq!(read.name, "publish-version");
        assert!(matches!(
            read_from_wasm(&wat::parse_str("(module)").unwrap()),
            Err(ManifestError::Missing)
        ));
    }
}
