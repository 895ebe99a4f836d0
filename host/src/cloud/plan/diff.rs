//! A resource before → after, field by field, secret values masked.

use crate::redact::MASK;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field a change sets: its path in the resource (`memory_size`,
/// `aliases.live.function_version`, `environment.DB_URL`) and its value before and
/// after (`null`: absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

/// Fields that change with every write and say nothing about what changed.
const NOISE: [&str; 7] = [
    "revision_id",
    "current_update",
    "next_updates",
    "last_update_status",
    "last_update_status_reason",
    "state",
    "state_reason",
];

/// Maps whose values may be secrets: shown as masked, set or changed.
const SECRET_MAPS: [&str; 1] = ["environment"];

/// Fields holding a secret (or a digest of one).
const SECRET_FIELDS: [&str; 2] = ["value", "value_sha256"];

/// The fields that differ between `before` and `after`.
pub(super) fn changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", before, after, &mut out, false);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn masked(v: &Value) -> Value {
    if v.is_null() {
        Value::Null
    } else {
        Value::String(MASK.to_owned())
    }
}

/// An array of objects each naming itself (`name`, `version`, a policy statement's
/// `Sid` …): compared
/// item by item under that name rather than as a whole.
fn keyed(list: &Value) -> Option<Vec<(String, &Value)>> {
    let items = list.as_array()?;
    let mut out = Vec::new();
    for item in items {
        let key = ["name", "version", "qualifier", "priority", "id", "Sid"]
            .iter()
            .find_map(|k| match &item[*k] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })?;
        out.push((key, item));
    }
    Some(out)
}

fn walk(path: &str, before: &Value, after: &Value, out: &mut Vec<FieldChange>, secret: bool) {
    if before == after {
        return;
    }
    let none = Value::Object(Default::default());
    let (before, after) = match (before, after) {
        // Created or deleted: shown field by field, so that secrets stay masked.
        (Value::Null, Value::Object(_)) => (&none, after),
        (Value::Object(_), Value::Null) => (before, &none),
        _ => (before, after),
    };
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                if NOISE.contains(&key.as_str()) {
                    continue;
                }
                let (bv, av) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
                let secret = secret || SECRET_MAPS.contains(&key.as_str()) || SECRET_FIELDS.contains(&key.as_str());
                walk(&join(path, key), bv, av, out, secret);
            }
        }
        (b, a) if (b.is_array() || b.is_null()) && (a.is_array() || a.is_null()) && !(b.is_null() && a.is_null()) => {
            let empty = Value::Array(Vec::new());
            let (b, a) = (if b.is_null() { &empty } else { b }, if a.is_null() { &empty } else { a });
            match (keyed(b), keyed(a)) {
                (Some(bk), Some(ak)) if !bk.is_empty() || !ak.is_empty() => {
                    let mut names: Vec<&String> = bk.iter().map(|(k, _)| k).chain(ak.iter().map(|(k, _)| k)).collect();
                    names.sort();
                    names.dedup();
                    for name in names {
                        let bv = bk.iter().find(|(k, _)| k == name).map_or(&Value::Null, |(_, v)| *v);
                        let av = ak.iter().find(|(k, _)| k == name).map_or(&Value::Null, |(_, v)| *v);
                        walk(&join(path, name), bv, av, out, secret);
                    }
                }
                _ => leaf(path, before, after, out, secret),
            }
        }
        _ => leaf(path, before, after, out, secret),
    }
}

fn leaf(path: &str, before: &Value, after: &Value, out: &mut Vec<FieldChange>, secret: bool) {
    let (before, after) = if secret {
        (masked(before), masked(after))
    } else {
        (before.clone(), after.clone())
    };
    out.push(FieldChange {
        path: if path.is_empty() {
            "(resource)".to_owned()
        } else {
            path.to_owned()
        },
        before,
        after,
    });
}

/// A value as one line of the plan's text.
pub(super) fn short(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `value` with every masked secret written the same way: the redactor tags each
/// mask with a digest keyed per run, so two runs mask one secret differently.
pub fn unify_masks(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(unify_mask_text(s)),
        Value::Array(items) => Value::Array(items.iter().map(unify_masks).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), unify_masks(v))).collect()),
        other => other.clone(),
    }
}

fn unify_mask_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(crate::redact::MASK_PREFIX) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match tail.find(']') {
            Some(end) => {
                out.push_str(MASK);
                rest = &tail[end + 1..];
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `value` with the values of every environment map masked (names kept).
pub(super) fn without_secret_values(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if SECRET_MAPS.contains(&k.as_str()) {
                        match v {
                            Value::Object(env) => Value::Object(env.keys().map(|n| (n.clone(), Value::String(MASK.to_owned()))).collect()),
                            Value::Array(pairs) => Value::Array(
                                pairs
                                    .iter()
                                    .map(|p| serde_json::json!([p.get(0).cloned().unwrap_or(Value::Null), MASK]))
                                    .collect(),
                            ),
                            other => masked(other),
                        }
                    } else {
                        without_secret_values(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_secret_values).collect()),
        other => other.clone(),
    }
}

/// The fields of an answer, two levels deep (`configuration.memory_size`); an
/// answer that is not an object is one field, `(answer)`.
pub(super) fn fields(value: &Value) -> Vec<(String, Value)> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| match v {
                Value::Object(inner) => inner.iter().map(|(ik, iv)| (format!("{k}.{ik}"), iv.clone())).collect::<Vec<_>>(),
                other => vec![(k.clone(), other.clone())],
            })
            .collect(),
        other => vec![("(answer)".to_owned(), other.clone())],
    }
}
