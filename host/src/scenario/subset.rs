//! Subset matching of JSON, for expected outputs and cloud state: the expectation
//! names only what matters, and every difference is reported at its path.
//!
//! The rules (docs/scenarios.md repeats them for scenario authors):
//! - a map matches when each expected key matches (other keys may exist);
//! - `null` means absent (or null);
//! - `{}` and `[]` mean empty: the actual value is empty or absent (a state dump
//!   leaves empty lists and maps out);
//! - a list of scalars is a value: the same elements, in the same order;
//! - a list of maps is a collection: each expected map must match some actual
//!   element, in any order; other elements are allowed. A map holding
//!   an identity key (`name`, `version`, `qualifier`, `digest`, `key`, `id`, `Sid`,
//!   the first one present) is compared with the element of the same identity, so a
//!   difference is reported inside it (`functions[name=fn].memory_size`) and a
//!   missing element by its identity. `$absent: true` beside the identity key
//!   asserts that no such element exists;
//! - scalars are equal (numbers by value); a number never equals a string.

use super::verdict::Finding;
use serde_json::Value;

/// Keys that identify an element of a list of maps, in order of preference.
const IDENTITY_KEYS: [&str; 7] = ["name", "version", "qualifier", "digest", "key", "id", "Sid"];

/// The member of an expected element that asserts the element does not exist.
pub const ABSENT: &str = "$absent";

/// Compares `expected` with `actual` (`None`: absent), adding a finding per
/// difference under `path`.
pub fn check(expected: &Value, actual: Option<&Value>, path: &str, out: &mut Vec<Finding>) {
    let actual = actual.filter(|a| !a.is_null());
    match expected {
        Value::Null => {
            if let Some(a) = actual {
                out.push(Finding::new(path.to_owned(), format!("expected nothing (null), got {}", show(a))));
            }
        }
        Value::Object(map) if map.is_empty() => empty(expected, actual, path, out),
        Value::Array(list) if list.is_empty() => empty(expected, actual, path, out),
        Value::Object(map) => match actual {
            Some(Value::Object(have)) => {
                for (key, want) in map {
                    check(want, have.get(key), &join(path, key), out);
                }
            }
            other => out.push(mismatch(expected, other, path)),
        },
        Value::Array(list) if list.iter().any(Value::is_object) => match actual {
            None => collection(list, &[], path, out),
            Some(Value::Array(have)) => collection(list, have, path, out),
            other => out.push(mismatch(expected, other, path)),
        },
        // A list of values is short: shown whole, it reads better than per index.
        Value::Array(list) => {
            let equal = match actual {
                Some(Value::Array(have)) => have.len() == list.len() && list.iter().zip(have).all(|(w, h)| matches(w, Some(h))),
                _ => false,
            };
            if !equal {
                out.push(mismatch(expected, actual, path));
            }
        }
        scalar => {
            if !actual.is_some_and(|a| scalar_eq(scalar, a)) {
                out.push(mismatch(expected, actual, path));
            }
        }
    }
}

/// Whether `expected` matches `actual` with no difference.
pub fn matches(expected: &Value, actual: Option<&Value>) -> bool {
    let mut found = Vec::new();
    check(expected, actual, "", &mut found);
    found.is_empty()
}

fn empty(expected: &Value, actual: Option<&Value>, path: &str, out: &mut Vec<Finding>) {
    let is_empty = match actual {
        None => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(l)) => l.is_empty(),
        Some(_) => false,
    };
    if !is_empty {
        out.push(Finding::new(
            path.to_owned(),
            format!("expected {} (empty), got {}", show(expected), show_opt(actual)),
        ));
    }
}

fn collection(list: &[Value], have: &[Value], path: &str, out: &mut Vec<Finding>) {
    for want in list {
        match want.as_object().and_then(identity) {
            Some((key, id)) => keyed(want, key, &id, have, path, out),
            None => {
                if !have.iter().any(|h| matches(want, Some(h))) {
                    out.push(Finding::new(
                        path.to_owned(),
                        format!(
                            "no element matches {}; the list is {}",
                            show(want),
                            show(&Value::Array(have.to_vec()))
                        ),
                    ));
                }
            }
        }
    }
}

/// Compares an expected element with the actual elements of the same identity.
fn keyed(want: &Value, key: &str, id: &str, have: &[Value], path: &str, out: &mut Vec<Finding>) {
    let at = format!("{path}[{key}={id}]");
    let same: Vec<&Value> = have
        .iter()
        .filter(|h| h.get(key).and_then(scalar_text).as_deref() == Some(id))
        .collect();
    if want.get(ABSENT) == Some(&Value::Bool(true)) {
        if !same.is_empty() {
            out.push(Finding::new(at, format!("expected no such element, got {}", show(same[0]))));
        }
        return;
    }
    let mut want = want.clone();
    if let Some(m) = want.as_object_mut() {
        m.remove(ABSENT);
    }
    if same.is_empty() {
        let ids: Vec<String> = have.iter().filter_map(|h| h.get(key).and_then(scalar_text)).collect();
        let listed = if ids.is_empty() {
            format!("the list has no element with a `{key}`")
        } else {
            format!("the list has {key} {}", short(&ids.join(", ")))
        };
        out.push(Finding::new(at, format!("missing ({listed})")));
        return;
    }
    if same.iter().any(|h| matches(&want, Some(h))) {
        return;
    }
    check(&want, Some(same[0]), &at, out);
}

/// The first identity key of an expected element, with its value as text.
fn identity(map: &serde_json::Map<String, Value>) -> Option<(&'static str, String)> {
    IDENTITY_KEYS
        .iter()
        .find_map(|k| map.get(*k).and_then(scalar_text).map(|id| (*k, id)))
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn scalar_eq(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64().is_some_and(|x| Some(x) == b.as_f64()),
        (a, b) => a == b,
    }
}

fn mismatch(expected: &Value, actual: Option<&Value>, path: &str) -> Finding {
    let mut message = format!("expected {}, got {}", show(expected), show_opt(actual));
    // `version: 2` in YAML is a number; the state holds the string "2".
    if let Some(a) = actual {
        if matches!(
            (expected, a),
            (Value::Number(_), Value::String(_)) | (Value::Bool(_), Value::String(_))
        ) && scalar_text(expected) == scalar_text(a)
        {
            message.push_str(" (a string: quote the expected value)");
        }
    }
    Finding::new(path.to_owned(), message)
}

/// `path.key`, or `path["key"]` when the key would be ambiguous after a dot.
pub fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-:/$@".contains(c));
    match (path.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_owned())),
    }
}

/// A value as compact JSON, cut short when long.
pub fn show(v: &Value) -> String {
    short(&v.to_string())
}

fn show_opt(v: Option<&Value>) -> String {
    v.map(show).unwrap_or_else(|| "nothing".to_owned())
}

fn short(text: &str) -> String {
    const MAX: usize = 200;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(expected: Value, actual: Value) -> Vec<String> {
        let mut out = Vec::new();
        check(&expected, Some(&actual), "cloud", &mut out);
        out.iter().map(|f| f.to_string()).collect()
    }

    fn state() -> Value {
        json!({"lambda": {"functions": [
            {"name": "other", "memory_size": 128},
            {"name": "fn", "memory_size": 256, "architectures": ["x86_64"], "tags": {"a": "1", "b": "2"},
             "versions": [{"version": "1", "description": "old"}, {"version": "2", "description": "new"}],
             "aliases": [{"name": "main", "function_version": "1", "routing": {"2": 0.25}}]}]}})
    }

    #[test]
    fn a_subset_matches() {
        let expected = json!({"lambda": {"functions": [{"name": "fn", "memory_size": 256.0, "tags": {"a": "1"},
            "versions": [{"version": "2"}], "aliases": [{"name": "main", "routing": {"2": 0.25}}]}]}});
        assert_eq!(diff(expected, state()), Vec::<String>::new());
    }

    #[test]
    fn differences_are_reported_at_their_path_by_identity() {
        let expected = json!({"lambda": {"functions": [{"name": "fn", "memory_size": 512, "aliases": [{"name": "main", "function_version": "2"}],
            "versions": [{"version": "3"}]}, {"name": "gone"}]}});
        assert_eq!(
            diff(expected, state()),
            [
                "cloud.lambda.functions[name=fn].aliases[name=main].function_version: expected \"2\", got \"1\"",
                "cloud.lambda.functions[name=fn].memory_size: expected 512, got 256",
                "cloud.lambda.functions[name=fn].versions[version=3]: missing (the list has version 1, 2)",
                "cloud.lambda.functions[name=gone]: missing (the list has name other, fn)",
            ]
        );
    }

    #[test]
    fn scalar_lists_are_values_and_empty_means_empty() {
        let f = json!({"lambda": {"functions": [{"name": "fn", "architectures": ["arm64"]}]}});
        assert_eq!(
            diff(f, state()),
            ["cloud.lambda.functions[name=fn].architectures: expected [\"arm64\"], got [\"x86_64\"]"]
        );
        let f = json!({"lambda": {"functions": [{"name": "fn", "aliases": [{"name": "main", "routing": {}}], "layers": []}]}});
        assert_eq!(
            diff(f, state()),
            ["cloud.lambda.functions[name=fn].aliases[name=main].routing: expected {} (empty), got {\"2\":0.25}"]
        );
        // A list the dump left out is empty.
        let f = json!({"lambda": {"functions": [{"name": "other", "versions": [{"version": "1"}]}]}});
        assert_eq!(
            diff(f, state()),
            ["cloud.lambda.functions[name=other].versions[version=1]: missing (the list has no element with a `version`)"]
        );
    }

    #[test]
    fn absent_null_and_types() {
        let f = json!({"lambda": {"functions": [{"name": "fn", "versions": [{"version": "1", "$absent": true}, {"version": "9", "$absent": true}]}]}});
        assert_eq!(
            diff(f, state()),
            ["cloud.lambda.functions[name=fn].versions[version=1]: expected no such element, got {\"description\":\"old\",\"version\":\"1\"}"]
        );
        let f = json!({"lambda": {"functions": [{"name": "fn", "versions": [{"version": 2, "description": "new"}]}]}});
        assert_eq!(
            diff(f, state()),
            ["cloud.lambda.functions[name=fn].versions[version=2].version: expected 2, got \"2\" (a string: quote the expected value)"]
        );
        assert!(diff(json!({"lambda": {"layers": null}}), state()).is_empty());
        assert_eq!(
            diff(json!({"lambda": null}), json!({"lambda": {"x": 1}})),
            ["cloud.lambda: expected nothing (null), got {\"x\":1}"]
        );
        assert_eq!(
            diff(json!({"s3": {"objects": 1}}), state()),
            ["cloud.s3: expected {\"objects\":1}, got nothing"]
        );
    }

    #[test]
    fn unkeyed_elements_match_any_element() {
        let actual = json!({"images": [{"tags": ["v1"]}, {"tags": ["v2"]}]});
        assert!(diff(json!({"images": [{"tags": ["v2"]}]}), actual.clone()).is_empty());
        let d = diff(json!({"images": [{"tags": ["v3"]}]}), actual);
        assert_eq!(
            d,
            ["cloud.images: no element matches {\"tags\":[\"v3\"]}; the list is [{\"tags\":[\"v1\"]},{\"tags\":[\"v2\"]}]"]
        );
    }

    #[test]
    fn keys_that_would_read_as_paths_are_quoted() {
        assert_eq!(join("outputs", "nullplatform:scope-id"), "outputs.nullplatform:scope-id");
        assert_eq!(join("x", "a.b"), "x[\"a.b\"]");
        assert_eq!(join("", "a"), "a");
    }
}
