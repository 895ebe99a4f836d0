//! A plan as a file (`--plan-out`) and as text.

use super::{diff, Plan, PlannedChange};
use crate::cloud::record::Inputs;
use serde_json::{json, Value};

/// The version of the plan file's format.
pub const FORMAT: u32 = 1;

/// The plan file: what was planned, from what inputs, and every change in order.
/// The caller redacts it (the run's secrets) before writing it.
pub fn document(plan: &Plan, inputs: &Inputs, target: &str, backend: &str, ok: bool) -> Value {
    json!({
        "format": FORMAT,
        "kind": "scope-host plan",
        "target": target,
        "backend": backend,
        "outcome": if ok { "ok" } else { "failed" },
        "inputs": inputs.to_value(),
        "changes": plan.changes(),
    })
}

/// One line per change and one per field it sets, for the terminal.
pub fn render(changes: &[PlannedChange]) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let failing = if c.outcome == "ok" {
            String::new()
        } else {
            format!("  ✘ would fail: {}", c.outcome)
        };
        lines.push(format!(
            "{:>3}. [{}] {} {} {}{failing}",
            i + 1,
            c.step,
            c.service,
            c.operation,
            c.resource
        ));
        for f in &c.changes {
            lines.push(format!("       {}: {} → {}", f.path, diff::short(&f.before), diff::short(&f.after)));
        }
    }
    lines
}
