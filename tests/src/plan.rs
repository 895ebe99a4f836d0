//! Comparing a plan with the run it stands for: both as the same entries.

use serde_json::Value;

/// A change's place in a comparison: step, service, operation, resource, outcome
/// (`ok` or the error code).
pub type Entry = (String, String, String, String, String);

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The calls of a run's journal that change something, as a plan counts them:
/// every operation that is not a read, sessions and the platform aside.
pub fn changes_made(journal: &[Value]) -> Vec<Entry> {
    journal
        .iter()
        .filter(|e| e["event"] == "call" && e["service"] != "platform" && e["service"] != "sts")
        .filter(|e| e["outcome"] == "ok" || e["outcome"] == "cloud_error")
        .filter(|e| !scope_host::grants::is_read_action(&format!("{}:{}", text(&e["service"]), text(&e["operation"]))))
        .map(|e| {
            let outcome = if e["outcome"] == "ok" { "ok".to_owned() } else { text(&e["code"]) };
            (
                text(&e["step"]),
                text(&e["service"]),
                text(&e["operation"]),
                text(&e["resource"]),
                outcome,
            )
        })
        .collect()
}

/// The changes of a plan's file (or of `--json`'s `plan`), in order.
pub fn changes_planned(plan: &Value) -> Vec<Entry> {
    plan["changes"]
        .as_array()
        .expect("a plan's changes")
        .iter()
        .map(|c| {
            (
                text(&c["step"]),
                text(&c["service"]),
                text(&c["operation"]),
                text(&c["resource"]),
                text(&c["outcome"]),
            )
        })
        .collect()
}
