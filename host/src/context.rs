//! The built context a step reads: loading it, and finding the secrets in it
//! (secret parameter values) so they are redacted from the first moment.

use crate::redact::Redactor;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ContextError {
    #[error("reading context {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("context {path} is not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("context {path} must be a JSON object (the built context: {{\"scope\": …, \"deployment\": …}}), not {found}")]
    NotObject { path: String, found: &'static str },
}

/// Reads a built context file; it must be a JSON object.
pub fn load(path: &Path) -> Result<serde_json::Value, ContextError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ContextError::Read { path: p.clone(), source })?;
    parse(&text, &p)
}

/// Parses a built context; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<serde_json::Value, ContextError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ContextError::Syntax {
        path: origin.to_owned(),
        line: e.line(),
        column: e.column(),
        message: crate::json_error::message(&e),
    })?;
    if value.is_object() {
        return Ok(value);
    }
    Err(ContextError::NotObject {
        path: origin.to_owned(),
        found: crate::json_error::kind(&value),
    })
}

/// Registers the values of secret parameters (`.parameters.results[]` with
/// `"secret": true`) with the redactor. Returns how many were registered.
pub fn register_secrets(context: &serde_json::Value, redactor: &Redactor) -> usize {
    let mut n = 0;
    let results = context.pointer("/parameters/results").and_then(|r| r.as_array());
    for param in results.into_iter().flatten() {
        if param.get("secret").and_then(|s| s.as_bool()) != Some(true) {
            continue;
        }
        for value in param.get("values").and_then(|v| v.as_array()).into_iter().flatten() {
            // A number is as secret as a string (a PIN, a numeric token).
            let text = match value.get("value") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            redactor.add(&text);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_parameters_are_registered() {
        let ctx = serde_json::json!({"parameters": {"results": [
            {"variable": "DB_HOST", "values": [{"value": "db.example.com"}]},
            {"variable": "DB_PASSWORD", "secret": true, "values": [{"value": "s3cr3t"}]}]}});
        let r = Redactor::new();
        assert_eq!(register_secrets(&ctx, &r), 1);
        let shown = r.redact("db.example.com s3cr3t");
        assert!(shown.starts_with("db.example.com [REDACTED:"), "{shown}");
    }

    #[test]
    fn numeric_secret_parameters_are_registered_too() {
        let ctx = serde_json::json!({"parameters": {"results": [
            {"variable": "PIN", "secret": true, "values": [{"value": 48151623}]}]}});
        let r = Redactor::new();
        assert_eq!(register_secrets(&ctx, &r), 1);
        assert!(!r.redact("pin 48151623").contains("48151623"));
    }

    #[test]
    fn errors_have_location_and_shape() {
        assert!(parse("{\n  \"a\": }", "c.json").unwrap_err().to_string().contains("line 2"));
        assert!(parse("[]", "c.json").unwrap_err().to_string().contains("not an array"));
    }
}
