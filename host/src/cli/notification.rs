//! Where `handle` reads its notification: a file, standard input (`-`), or — with
//! neither, as under the platform's agent — the environment variable
//! `NP_ACTION_CONTEXT`, which the agent sets to the notification wrapped in single
//! quotes. The scope id is found where the incumbent's entrypoint finds it.

use anyhow::{bail, Result};
use serde_json::Value;
use std::io::Read as _;
use std::path::Path;

/// The variable the platform's agent passes the notification in.
pub(crate) const ENV_VAR: &str = "NP_ACTION_CONTEXT";

/// A notification and where it came from (for messages).
pub(crate) struct Notification {
    pub origin: String,
    pub doc: Value,
}

/// Reads the notification `arg` names (`-`: stdin), else NP_ACTION_CONTEXT.
pub(crate) fn read(arg: Option<&Path>) -> Result<Notification> {
    let (origin, text) = match arg {
        Some(p) if p == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| anyhow::anyhow!("reading the notification from stdin: {e}"))?;
            ("the notification on stdin".to_owned(), text)
        }
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("reading the notification {}: {e}", p.display()))?;
            (format!("the notification {}", p.display()), text)
        }
        None => {
            let raw = std::env::var(ENV_VAR).unwrap_or_default();
            let text = unquote(&raw);
            if text.trim().is_empty() {
                bail!("{ENV_VAR} is not set (give a notification file, `-` for stdin, or set {ENV_VAR} as the platform's agent does)");
            }
            (ENV_VAR.to_owned(), text.to_owned())
        }
    };
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{origin} is not valid JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            crate::json_error::message(&e)
        )
    })?;
    normalize_scope_id(&mut doc);
    Ok(Notification { origin, doc })
}

/// One surrounding pair of single quotes removed, as the incumbent's entrypoint
/// strips them (the agent quotes the JSON for a shell).
fn unquote(raw: &str) -> &str {
    let trimmed = raw.trim();
    match trimmed.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(inner) => inner,
        None => trimmed,
    }
}

/// The scope id, from `parameters.scope_id`, else `tags.scope_id`, else
/// `arguments.scope_id`, written back as a string at `parameters.scope_id` of the
/// notification (the incumbent wrote the string `null` when it found none; nothing
/// is written then).
fn normalize_scope_id(doc: &mut Value) {
    let inner = if doc.get("notification").is_some() {
        &mut doc["notification"]
    } else {
        doc
    };
    let found = ["/parameters/scope_id", "/tags/scope_id", "/arguments/scope_id"]
        .iter()
        .filter_map(|p| inner.pointer(p))
        .find_map(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    if let (Some(id), Some(obj)) = (found, inner.as_object_mut()) {
        let params = obj.entry("parameters").or_insert_with(|| Value::Object(Default::default()));
        if let Some(p) = params.as_object_mut() {
            p.insert("scope_id".into(), Value::String(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_pair_of_quotes_is_stripped() {
        assert_eq!(unquote("'{\"a\":1}'"), "{\"a\":1}");
        assert_eq!(unquote("  '{\"a\":1}'\n"), "{\"a\":1}");
        assert_eq!(unquote("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(unquote("''{}''"), "'{}'", "only one pair");
    }

    #[test]
    fn the_scope_id_is_found_where_the_incumbent_looks() {
        for (doc, expected) in [
            (json!({"notification": {"parameters": {"scope_id": 11}}}), Some("11")),
            (json!({"notification": {"tags": {"scope_id": "12"}}}), Some("12")),
            (json!({"notification": {"arguments": {"scope_id": "13"}}}), Some("13")),
            (
                json!({"notification": {"parameters": {"scope_id": null}, "arguments": {"scope_id": 14}}}),
                Some("14"),
            ),
            (json!({"notification": {"action": "x"}}), None),
        ] {
            let mut doc = doc;
            normalize_scope_id(&mut doc);
            assert_eq!(
                doc.pointer("/notification/parameters/scope_id").and_then(Value::as_str),
                expected,
                "{doc}"
            );
        }
    }
}
