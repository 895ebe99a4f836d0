//! Merging fixtures (JSON in the simulated cloud's format): what one holds that
//! the other does not is added; what both hold stays as the first has it; what the
//! plan deleted is never added back.

use serde_json::Value;
use std::collections::BTreeSet;

/// The fixture's collections, each with the fields that identify an item in it.
const COLLECTIONS: &[(&[&str], &[&str])] = &[
    (&["iam", "roles"], &["account_id", "name"]),
    (&["lambda", "functions"], &["region", "name"]),
    (&["ecr", "repositories"], &["registry_id", "region", "name"]),
    (&["secrets"], &["region", "name"]),
    (&["s3", "objects"], &["bucket", "key"]),
    (&["logs", "log_groups"], &["region", "name"]),
    (&["networking", "apis"], &["id"]),
    (&["networking", "domain_names"], &["name"]),
    (&["networking", "listeners"], &["arn"]),
    (&["networking", "target_groups"], &["name"]),
    (&["networking", "hosted_zones"], &["id"]),
];

/// An item's identity: its collection and identifying fields, `|`-separated (the
/// fields' defaults, the fixture's account and region, filled in).
fn identity(path: &[&str], fields: &[&str], item: &Value, defaults: &Value) -> String {
    let mut parts = vec![path.join(".")];
    for field in fields {
        let value = match (&item[*field], *field) {
            (Value::String(s), _) => s.clone(),
            (Value::Null, "region") => defaults["region"].as_str().unwrap_or("us-east-1").to_owned(),
            (Value::Null, "account_id" | "registry_id") => defaults["account_id"].as_str().unwrap_or("123456789012").to_owned(),
            (other, _) => other.to_string(),
        };
        parts.push(value);
    }
    parts.join("|")
}

/// The identity of a Lambda function (as `deleted` keeps it).
pub(super) fn function_identity(region: &str, name: &str) -> String {
    format!("lambda.functions|{region}|{name}")
}

/// The identity of a function's alias (as `deleted` keeps it).
pub(super) fn alias_identity(region: &str, name: &str, alias: &str) -> String {
    format!("{}|alias|{alias}", function_identity(region, name))
}

pub(super) fn role_identity(account: &str, name: &str) -> String {
    format!("iam.roles|{account}|{name}")
}

pub(super) fn log_group_identity(region: &str, name: &str) -> String {
    format!("logs.log_groups|{region}|{name}")
}

pub(super) fn secret_identity(region: &str, name: &str) -> String {
    format!("secrets|{region}|{name}")
}

pub(super) fn api_identity(id: &str) -> String {
    format!("networking.apis|{id}")
}

pub(super) fn domain_identity(name: &str) -> String {
    format!("networking.domain_names|{name}")
}

pub(super) fn target_group_identity(name: &str) -> String {
    format!("networking.target_groups|{name}")
}

fn at<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, k| v.get(*k))
}

fn at_mut<'a>(doc: &'a mut Value, path: &[&str]) -> &'a mut Value {
    let mut v = doc;
    for k in path {
        if !v.is_object() {
            *v = Value::Object(Default::default());
        }
        v = v
            .as_object_mut()
            .map(|o| o.entry(k.to_string()).or_insert(Value::Null))
            .unwrap_or_else(|| unreachable!());
    }
    v
}

/// Adds to `into` every item of `from` that `into` lacks and the plan did not
/// delete; for a function both hold, the aliases `into` lacks.
pub(super) fn absorb(into: &mut Value, from: &Value, deleted: &BTreeSet<String>) {
    if !into.is_object() {
        *into = Value::Object(Default::default());
    }
    let defaults = serde_json::json!({"region": into.get("region").or(from.get("region")), "account_id": into.get("account_id").or(from.get("account_id"))});
    for (path, fields) in COLLECTIONS {
        let Some(incoming) = at(from, path).and_then(Value::as_array) else {
            continue;
        };
        let list = at_mut(into, path);
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        let Some(items) = list.as_array_mut() else { continue };
        for item in incoming {
            let id = identity(path, fields, item, &defaults);
            if deleted.contains(&id) {
                continue;
            }
            match items.iter_mut().find(|have| identity(path, fields, have, &defaults) == id) {
                None => items.push(item.clone()),
                Some(have) if path == &["lambda", "functions"] => absorb_aliases(have, item, &id, deleted),
                Some(_) => {}
            }
        }
    }
}

/// The aliases `from` has that `into` lacks (a function's alias read after the
/// plan first changed the function), and the versions they point at.
fn absorb_aliases(into: &mut Value, from: &Value, function: &str, deleted: &BTreeSet<String>) {
    let Some(incoming) = from["aliases"].as_array() else { return };
    if !into["aliases"].is_array() {
        into["aliases"] = Value::Array(Vec::new());
    }
    // The versions they point at, too (published before the run, so never deleted by it).
    if let Some(versions) = from["versions"].as_array() {
        if !into["versions"].is_array() {
            into["versions"] = Value::Array(Vec::new());
        }
        if let Some(have) = into["versions"].as_array_mut() {
            for v in versions {
                if !have.iter().any(|h| h["version"] == v["version"]) {
                    have.push(v.clone());
                }
            }
        }
    }
    let Some(have) = into["aliases"].as_array_mut() else { return };
    for alias in incoming {
        let name = alias["name"].as_str().unwrap_or_default();
        if deleted.contains(&format!("{function}|alias|{name}")) {
            continue;
        }
        if !have.iter().any(|a| a["name"] == alias["name"]) {
            have.push(alias.clone());
        }
    }
}

/// The fixture's account, region and agent: `read`'s, where `into` has none.
pub(super) fn top_level(into: &mut Value, read: &Value) {
    for field in ["account_id", "region", "agent"] {
        if into.get(field).is_none_or(Value::is_null) {
            if let Some(v) = read.get(field).filter(|v| !v.is_null()) {
                into[field] = v.clone();
            }
        }
    }
}

/// Lifts the limits the recorder inferred on roles from what AWS refused them: in a
/// plan the refusals come from its read-only sessions, not from the roles. Whether a
/// role may make a change is for AWS to say when the plan is applied.
pub(super) fn unlimited_roles(doc: &mut Value) {
    if let Some(roles) = doc.pointer_mut("/iam/roles").and_then(Value::as_array_mut) {
        for role in roles {
            if let Some(role) = role.as_object_mut() {
                role.remove("allowed_actions");
            }
        }
    }
}
