//! From a platform notification to what runs: the JSON read (with the same
//! messages wherever it comes from), the scope id put where the incumbent puts it,
//! the workflow the notification routes to with its override files and built
//! context, and the keys an agent needs (the scope a run belongs to, the identity of
//! the notification). `handle` and the agent share all of it.

use super::routing::{self, Family};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The output a telemetry workflow answers with (the JSON the platform reads).
pub const TELEMETRY_ANSWER: &str = "TELEMETRY_RESPONSE";

/// Parses a notification's text; `origin` names where it came from in the message
/// (`the notification x.json`, `the request body`). The scope id is normalized (see
/// [`normalize_scope_id`]).
pub fn parse(text: &str, origin: &str) -> Result<Value, String> {
    let mut doc: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{origin} is not valid JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            crate::json_error::message(&e)
        )
    })?;
    normalize_scope_id(&mut doc);
    Ok(doc)
}

/// The inner notification object (`{"notification": {...}}` or the object itself).
fn inner(doc: &Value) -> &Value {
    doc.get("notification").unwrap_or(doc)
}

/// The scope id, from `parameters.scope_id`, else `tags.scope_id`, else
/// `arguments.scope_id`, written back as a string at `parameters.scope_id` of the
/// notification (the incumbent wrote the string `null` when it found none; nothing
/// is written then).
pub fn normalize_scope_id(doc: &mut Value) {
    let inner = if doc.get("notification").is_some() {
        &mut doc["notification"]
    } else {
        doc
    };
    let found = ["/parameters/scope_id", "/tags/scope_id", "/arguments/scope_id"]
        .iter()
        .filter_map(|p| inner.pointer(p))
        .find_map(text_of);
    if let (Some(id), Some(obj)) = (found, inner.as_object_mut()) {
        let params = obj.entry("parameters").or_insert_with(|| Value::Object(Default::default()));
        if let Some(p) = params.as_object_mut() {
            p.insert("scope_id".into(), Value::String(id));
        }
    }
}

/// A non-empty string, or a number as text.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The scope a notification acts on, for running one run per scope at a time: the
/// normalized `parameters.scope_id`, else the notification's `scope.id`, else the
/// built context's `scope.id`. None when it names no scope.
pub fn scope_key(doc: &Value) -> Option<String> {
    let n = inner(doc);
    ["/parameters/scope_id", "/scope/id"]
        .iter()
        .filter_map(|p| n.pointer(p))
        .chain(doc.pointer("/context/scope/id"))
        .find_map(text_of)
}

/// What identifies a notification for deduplication: the document's top-level `id`,
/// else `notification.id`, else the SHA-256 of the whole document as parsed (so
/// whitespace and key order do not make a second notification).
pub fn dedupe_key(doc: &Value) -> String {
    if let Some(id) = doc.get("id").and_then(text_of) {
        return format!("id:{id}");
    }
    if let Some(id) = doc.pointer("/notification/id").and_then(text_of) {
        return format!("notification.id:{id}");
    }
    // serde_json's map keeps keys sorted: the text is canonical.
    let text = serde_json::to_string(doc).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// The service's workflow files, as `family/name`, family by family
/// ([`crate::policy::collect::FAMILIES`]), by name within each.
pub fn service_workflows(service: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for family in crate::policy::collect::FAMILIES {
        let Ok(entries) = std::fs::read_dir(service.join(family).join("workflows")) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            found.push((format!("{family}/{stem}"), f));
        }
    }
    found
}

/// What a notification runs.
#[derive(Clone, Debug)]
pub struct Dispatch {
    pub family: Family,
    /// The workflow's name within its family (`create`, `initial` …).
    pub name: String,
    /// `<service>/<family>/workflows/<name>.yaml`.
    pub workflow: PathBuf,
    /// The same file under each overrides folder that has it.
    pub overrides: Vec<PathBuf>,
    /// The built context the steps read: the notification's `context`; for
    /// telemetry the request itself; a scope action's `parameters` under
    /// `.parameters`. None when the notification brings none.
    pub context: Option<Value>,
    /// The output whose value is the answer (telemetry), if any.
    pub answer: Option<&'static str>,
}

/// Routes `doc` to its workflow under `service`, with the overrides found under
/// `overrides` folders; the error says what is wrong with the notification.
pub fn dispatch(doc: &Value, service: &Path, overrides: &[PathBuf]) -> Result<Dispatch, String> {
    let route = routing::route(doc).map_err(|e| e.to_string())?;
    let relative = PathBuf::from(route.family.folder())
        .join("workflows")
        .join(format!("{}.yaml", route.workflow));
    let workflow = service.join(&relative);
    if !workflow.is_file() {
        return Err(format!(
            "the notification routes to the {} workflow `{}`, but {} does not exist",
            route.family.folder(),
            route.workflow,
            workflow.display()
        ));
    }
    let overrides: Vec<PathBuf> = overrides.iter().map(|d| d.join(&relative)).filter(|p| p.is_file()).collect();
    let mut context = doc.get("context").cloned();
    // Telemetry runs without a built context: its steps read the request itself
    // (`scope`, `application`, `arguments`).
    if route.family.is_telemetry() && context.is_none() {
        context = Some(doc.get("notification").cloned().unwrap_or_else(|| doc.clone()));
    }
    // A scope action's own parameters (`value` of a concurrency adjustment, the
    // `payload` of an invoke) come with the notification; steps read them at
    // `.parameters` of the context, where a scope context has nothing else.
    if route.family == Family::Scope {
        let params = doc.pointer("/notification/parameters").or_else(|| doc.get("parameters"));
        if let (Some(Value::Object(ctx)), Some(params)) = (context.as_mut(), params) {
            ctx.entry("parameters").or_insert_with(|| params.clone());
        }
    }
    if let Some(ctx) = &context {
        if !ctx.is_object() {
            return Err("the notification's `context` must be a JSON object (the built context)".into());
        }
    }
    Ok(Dispatch {
        family: route.family,
        name: route.workflow,
        workflow,
        overrides,
        context,
        answer: route.family.is_telemetry().then_some(TELEMETRY_ANSWER),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn a_run_belongs_to_the_scope_the_notification_or_its_context_names() {
        let deployment = json!({"notification": {"deployment": {"id": 5}}, "context": {"scope": {"id": 11}}});
        assert_eq!(scope_key(&deployment).as_deref(), Some("11"));
        let mut telemetry = json!({"notification": {"arguments": {"scope_id": "12"}}});
        normalize_scope_id(&mut telemetry);
        assert_eq!(scope_key(&telemetry).as_deref(), Some("12"));
        assert_eq!(scope_key(&json!({"notification": {"action": "x"}})), None);
    }

    #[test]
    fn a_notification_is_known_by_its_id_else_by_its_content() {
        assert_eq!(dedupe_key(&json!({"id": "n-1", "notification": {"id": 2}})), "id:n-1");
        assert_eq!(dedupe_key(&json!({"notification": {"id": 2}})), "notification.id:2");
        let a = parse(r#"{"notification": {"a": 1, "b": 2}}"#, "a").unwrap();
        let b = parse("{\"notification\":{\"b\":2,\n\"a\":1}}", "b").unwrap();
        assert_eq!(dedupe_key(&a), dedupe_key(&b), "whitespace and key order are not content");
        let c = parse(r#"{"notification": {"a": 1, "b": 3}}"#, "c").unwrap();
        assert_ne!(dedupe_key(&a), dedupe_key(&c));
    }

    #[test]
    fn bad_json_is_located() {
        let e = parse("{\"notification\": [1,\n}", "the request body").unwrap_err();
        assert!(e.starts_with("the request body is not valid JSON at line 2, column 1"), "{e}");
    }
}
