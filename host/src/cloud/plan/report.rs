//! A plan as a file (`--plan-out`) and as text.

use super::{diff, Plan, PlannedChange};
use crate::cloud::record::Inputs;
use serde_json::{json, Value};

/// The version of the plan file's format.
pub const FORMAT: u32 = 1;

/// The plan file: what was planned, by what command, from what inputs, every change
/// in order, and what its reads of the real cloud answered. The caller redacts it
/// (the run's secrets) before writing it.
pub fn document(plan: &Plan, inputs: &Inputs, target: &str, backend: &str, ok: bool, command: &SavedCommand) -> Value {
    json!({
        "format": FORMAT,
        "kind": "scope-host plan",
        "target": target,
        "backend": backend,
        "outcome": if ok { "ok" } else { "failed" },
        "inputs": inputs.to_value(),
        "command": command,
        "changes": plan.changes(),
        "fingerprints": plan.fingerprints(),
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

/// The command a plan was made by, as `scope-host apply` runs it again.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedCommand {
    /// `run` or `handle`.
    pub kind: String,
    /// Its arguments, without the plan's own flags, the journal, JSON output and
    /// secret variables.
    pub args: Vec<String>,
    /// The folder it ran in (its paths are relative to it).
    pub cwd: std::path::PathBuf,
    /// The secret variables it was given (names only): `apply` needs them again.
    #[serde(default)]
    pub secret_vars: Vec<String>,
}

/// A plan's file, read back.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SavedPlan {
    pub format: u32,
    pub kind: String,
    pub target: String,
    pub backend: String,
    pub outcome: String,
    pub inputs: Value,
    pub command: SavedCommand,
    pub changes: Vec<PlannedChange>,
    pub fingerprints: Vec<super::Fingerprint>,
}

impl SavedPlan {
    /// Reads and checks a plan's file; the error says what is wrong with it.
    pub fn load(path: &std::path::Path) -> Result<SavedPlan, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading the plan {}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
        if doc["kind"] != "scope-host plan" {
            return Err(format!(
                "{}: not a plan (a plan is the file `--plan-out FILE` writes; its `kind` is \"scope-host plan\")",
                path.display()
            ));
        }
        if doc["format"] != FORMAT {
            return Err(format!(
                "{}: a plan of format {}, this scope-host reads format {FORMAT}: plan again",
                path.display(),
                doc["format"]
            ));
        }
        let plan: SavedPlan = serde_json::from_value(doc).map_err(|e| format!("{}: {e}", path.display()))?;
        if plan.outcome != "ok" {
            return Err(format!(
                "{}: the planned run failed; a failed plan is not applied (fix what failed and plan again)",
                path.display()
            ));
        }
        Ok(plan)
    }
}

/// Why `saved` is stale, given what planning again found (`changes`, `reads`) and
/// the inputs of this run (`inputs`, redacted like the plan's file): each reason
/// names what changed. Empty: the plan still holds.
pub fn staleness(saved: &SavedPlan, inputs: &Value, changes: &[PlannedChange], reads: &[super::Fingerprint]) -> Vec<String> {
    let mut reasons = Vec::new();
    let (then, now) = (diff::unify_masks(&saved.inputs), diff::unify_masks(inputs));
    for part in ["context", "providers", "vars"] {
        if then[part] != now[part] {
            let fields: Vec<String> = diff::changes(&then[part], &now[part]).into_iter().map(|f| f.path).take(5).collect();
            reasons.push(format!("the run's {part} is not the plan's (differs in {})", fields.join(", ")));
        }
    }
    // What a change would change, as found then and now: a field that differs
    // names the drift exactly.
    for (then, now) in saved.changes.iter().zip(changes) {
        if then.operation != now.operation || then.resource != now.resource {
            continue;
        }
        for before in &then.changes {
            let found = now.changes.iter().find(|f| f.path == before.path);
            let now_before = found.map_or(&Value::Null, |f| &f.before);
            if *now_before != before.before && before.before != Value::String(crate::redact::MASK.into()) {
                reasons.push(format!(
                    "{}: {} was {} when planned, is {} now",
                    then.resource,
                    before.path,
                    diff::short(&before.before),
                    diff::short(now_before)
                ));
            }
        }
    }
    for read in &saved.fingerprints {
        if let Some(now) = reads
            .iter()
            .find(|r| r.service == read.service && r.operation == read.operation && r.target == read.target)
        {
            if now.digest != read.digest {
                let changed: Vec<&String> = read
                    .fields
                    .iter()
                    .filter(|(path, digest)| now.fields.get(*path) != Some(*digest))
                    .map(|(path, _)| path)
                    .chain(now.fields.keys().filter(|path| !read.fields.contains_key(*path)))
                    .collect();
                reasons.push(match changed.is_empty() {
                    true => format!("{} answers otherwise than when planned", read.describe()),
                    false => format!(
                        "{}: {} changed since the plan",
                        read.describe(),
                        changed.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }
    let listed = |c: &PlannedChange| {
        (
            c.service.clone(),
            c.operation.clone(),
            c.resource.clone(),
            diff::unify_masks(&c.arguments),
        )
    };
    if saved.changes.iter().map(listed).ne(changes.iter().map(listed)) {
        let at = saved
            .changes
            .iter()
            .zip(changes)
            .position(|(a, b)| listed(a) != listed(b))
            .unwrap_or(saved.changes.len().min(changes.len()));
        let show =
            |c: Option<&PlannedChange>| c.map_or("no change".to_owned(), |c| format!("{} {} {}", c.service, c.operation, c.resource));
        reasons.push(format!(
            "planning again finds other changes: #{} was {}, is {} now ({} changes then, {} now)",
            at + 1,
            show(saved.changes.get(at)),
            show(changes.get(at)),
            saved.changes.len(),
            changes.len()
        ));
    }
    reasons
}
