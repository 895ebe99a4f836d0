//! The scenario file, typed. Every struct refuses unknown keys, so a typo is an
//! error with its file, line and column (and the list of known keys) instead of an
//! expectation silently never checked. Rules that span several keys (one of
//! `plugin`/`workflow`, `context` or `context_file` …) are checked by [`parse`].

use super::calls::CallPattern;
use super::{ScenarioError, ScenarioProblem};
use crate::cloud::sim::CloudFixture;
use crate::grants::Policy;
use crate::providers::Provider;
use crate::redact::MIN_SECRET_LEN;
use crate::workflow::yaml_limits;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A scenario file: one or more scenarios. Paths inside are relative to the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenarios: Vec<Scenario>,
}

/// One scenario: what to run, with what, and what must come of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique within the file; printed on the result line.
    pub name: String,
    /// Run one step: a path to a component (.wasm) or a plugin name found on the
    /// plugin path (`plugins`, then the built-in plugins).
    pub plugin: Option<String>,
    /// Run a workflow instead (YAML), as `scope-host run` does.
    pub workflow: Option<PathBuf>,
    /// The workflow's `$SERVICE_PATH` [default: the nearest folder above the workflow
    /// holding values.yaml, else the workflow's folder].
    pub service_path: Option<PathBuf>,
    /// Values files merged into the workflow, in order.
    #[serde(default)]
    pub values: Vec<PathBuf>,
    /// Overrides files applied to the workflow, in order.
    #[serde(default)]
    pub overrides: Vec<PathBuf>,
    /// Plugin folders searched first (for `plugin: <name>` and workflow steps).
    #[serde(default)]
    pub plugins: Vec<PathBuf>,
    /// The built context, inline [default: {}].
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
    /// The built context, from a JSON file.
    pub context_file: Option<PathBuf>,
    /// Variables (scalars become strings).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Variables whose values are secrets: redacted from everything printed.
    #[serde(default)]
    pub secret_vars: BTreeMap<String, String>,
    /// Provider data, inline: a list of providers.
    pub providers: Option<Vec<Provider>>,
    /// Provider data from a JSON file or a folder of JSON files.
    pub providers_file: Option<PathBuf>,
    /// The simulated cloud's starting state, inline (the `--cloud-state` format)
    /// [default: an empty account].
    pub cloud: Option<CloudFixture>,
    /// The simulated cloud's starting state, from a fixture file.
    pub cloud_file: Option<PathBuf>,
    /// The operator policy, inline: `{allow: [{action, resource}]}`.
    pub policy: Option<Policy>,
    /// The operator policy, from a JSON file.
    pub policy_file: Option<PathBuf>,
    /// Grants `ACTION[=RESOURCE]`, added to the policy (as `--grant`). Without
    /// `policy`, `policy_file` or `grant`, plugins get what they declare.
    #[serde(default)]
    pub grant: Vec<String>,
    #[serde(default)]
    pub expect: Expect,
}

impl Scenario {
    /// Whether it runs a workflow (else one step).
    pub fn is_workflow(&self) -> bool {
        self.workflow.is_some()
    }
}

/// How the run must end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// What must come of the run. Every part is optional; an absent part is not checked,
/// except the outcome (success unless `error` is given).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// [default: `failure` when `error` is given, else `success`]
    pub outcome: Option<Outcome>,
    /// A substring of the failure message.
    pub error: Option<String>,
    /// Outputs (of the step; for a workflow, those its steps passed on, declared in
    /// `output:`, with their values at the end of the run):
    /// a scalar is compared as text, a map or list with the output parsed as JSON
    /// (subset match), `null` means "not returned".
    #[serde(default)]
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// The cloud calls made.
    pub calls: Option<CallsExpect>,
    /// A denial the run met.
    pub denied: Option<DeniedExpect>,
    /// A subset of the simulated cloud's state at the end (the `--dump-state` format).
    pub cloud: Option<serde_json::Map<String, serde_json::Value>>,
    /// Substrings that must each appear in some log line.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Workflow only: the status of steps by name (`outer/inner` when nested).
    #[serde(default)]
    pub steps: BTreeMap<String, StepStatus>,
    /// Check plugins only: the verdict.
    pub check: Option<CheckExpect>,
}

impl Expect {
    /// The outcome to check: the explicit one, else failure when an error message is expected.
    pub fn outcome(&self) -> Outcome {
        self.outcome
            .unwrap_or(if self.error.is_some() { Outcome::Failure } else { Outcome::Success })
    }
}

/// Expectations on the run's cloud calls, written `service:Operation[ on
/// <resource>][ -> <outcome>[ <code>]]` (`*` and `?` glob in each part).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsExpect {
    /// Exactly these calls, in this order, and no others.
    pub ordered: Option<Vec<CallPattern>>,
    /// These calls, each matched by a different call, in any order; others may happen too.
    #[serde(default)]
    pub include: Vec<CallPattern>,
    /// No call matches any of these.
    #[serde(default)]
    pub exclude: Vec<CallPattern>,
}

/// A denial that must have been met (the host refused a call).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeniedExpect {
    /// `service:Action`, `*`/`?` glob, case-insensitive (as grants match).
    pub action: String,
    /// The resource refused, glob [default: any].
    pub resource: Option<String>,
}

/// A workflow step's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Ok,
    Failed,
    Skipped,
    /// The step did not run at all (not in the run's records).
    Absent,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Ok => "ok",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::Absent => "absent",
        }
    }
}

/// A check plugin's verdict.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckExpect {
    /// pass, fail, warning or skipped.
    pub status: Option<String>,
    /// A substring of the summary.
    pub summary: Option<String>,
}

/// Parses a scenario file's text; `path` names it in errors. Syntax errors, unknown
/// keys and wrong types carry `path:line:column`; rules across keys name the scenario.
/// Text past the size and nesting limits of [`yaml_limits`] is refused before
/// it is parsed.
pub fn parse(text: &str, path: &str) -> Result<ScenarioFile, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError::Invalid {
            path: path.to_owned(),
            message: "the file is empty; it needs `scenarios:` with at least one scenario".into(),
        });
    }
    yaml_limits::check(text).map_err(|refused| match refused.at {
        Some((line, column)) => ScenarioError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: refused.message,
        },
        None => ScenarioError::Invalid {
            path: path.to_owned(),
            message: refused.message,
        },
    })?;
    let file: ScenarioFile = serde_yaml_ng::from_str(text).map_err(|e| match e.location() {
        Some(loc) => ScenarioError::Syntax {
            path: path.to_owned(),
            line: loc.line(),
            column: loc.column(),
            message: without_location(&e.to_string()),
        },
        None => ScenarioError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        },
    })?;
    if file.scenarios.is_empty() {
        return Err(ScenarioError::Invalid {
            path: path.to_owned(),
            message: "`scenarios:` is empty; add at least one scenario".into(),
        });
    }
    let mut names = BTreeSet::new();
    for s in &file.scenarios {
        if !names.insert(s.name.as_str()) {
            return Err(invalid(path, s, ScenarioProblem::DuplicateName));
        }
        check_rules(s).map_err(|problem| invalid(path, s, problem))?;
    }
    Ok(file)
}

fn invalid(path: &str, s: &Scenario, problem: ScenarioProblem) -> ScenarioError {
    ScenarioError::Scenario {
        path: path.to_owned(),
        scenario: s.name.clone(),
        problem,
    }
}

/// The rules serde cannot express: exclusive pairs and keys that only make sense
/// for one kind of run.
fn check_rules(s: &Scenario) -> Result<(), ScenarioProblem> {
    if s.name.trim().is_empty() {
        return Err(ScenarioProblem::EmptyName);
    }
    match (&s.plugin, &s.workflow) {
        (None, None) => return Err(ScenarioProblem::NothingToRun),
        (Some(_), Some(_)) => return Err(ScenarioProblem::PluginAndWorkflow),
        _ => {}
    }
    for (inline, file, set) in [
        ("context", "context_file", s.context.is_some() && s.context_file.is_some()),
        ("providers", "providers_file", s.providers.is_some() && s.providers_file.is_some()),
        ("cloud", "cloud_file", s.cloud.is_some() && s.cloud_file.is_some()),
        ("policy", "policy_file", s.policy.is_some() && s.policy_file.is_some()),
    ] {
        if set {
            return Err(ScenarioProblem::InlineAndFile { inline, file });
        }
    }
    if !s.is_workflow() {
        for (key, set) in [
            ("service_path", s.service_path.is_some()),
            ("values", !s.values.is_empty()),
            ("overrides", !s.overrides.is_empty()),
            ("expect.steps", !s.expect.steps.is_empty()),
        ] {
            if set {
                return Err(ScenarioProblem::WorkflowKeyOnPlugin { key });
            }
        }
    } else if s.expect.check.is_some() {
        return Err(ScenarioProblem::CheckOnWorkflow);
    }
    if s.expect.outcome == Some(Outcome::Success) && s.expect.error.is_some() {
        return Err(ScenarioProblem::SuccessWithError);
    }
    if let Some(calls) = &s.expect.calls {
        if calls.ordered.is_none() && calls.include.is_empty() && calls.exclude.is_empty() {
            return Err(ScenarioProblem::EmptyCalls);
        }
    }
    for name in s.vars.keys().chain(s.secret_vars.keys()) {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ScenarioProblem::VariableName(name.clone()));
        }
    }
    if let Some((name, _)) = s.secret_vars.iter().find(|(_, v)| v.chars().count() < MIN_SECRET_LEN) {
        return Err(ScenarioProblem::ShortSecret(name.clone()));
    }
    if let Some(dup) = s.vars.keys().find(|k| s.secret_vars.contains_key(*k)) {
        return Err(ScenarioProblem::VarAndSecretVar(dup.clone()));
    }
    Ok(())
}

/// serde_yaml_ng ends its messages with " at line X column Y"; the location is printed
/// in front instead, as `file:line:column`.
fn without_location(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "s.yaml").unwrap_err().to_string()
    }

    #[test]
    fn unknown_keys_and_wrong_types_have_a_location_and_the_known_keys() {
        let e = err("scenarios:\n  - name: a\n    plugin: x.wasm\n    expect:\n      outptus: {}\n");
        assert!(e.starts_with("s.yaml:5:7: "), "{e}");
        assert!(
            e.contains("unknown field `outptus`, expected one of") && e.contains("`outputs`"),
            "{e}"
        );
        let e = err("scenarios:\n  - name: a\n    plugin: x.wasm\n    grant: lambda:X\n");
        assert!(e.starts_with("s.yaml:4:12: ") && e.contains("expected a sequence"), "{e}");
        let e = err("scenarios:\n  - name: a\n    plugin: x.wasm\n    expect: {outcome: sucess}\n");
        assert!(e.contains("unknown variant `sucess`, expected `success` or `failure`"), "{e}");
        let e = err("scenarios:\n  - name: a\n    plugin: x.wasm\n    cloud: {lambda: {fuctions: []}}\n");
        assert!(e.starts_with("s.yaml:4:") && e.contains("unknown field `fuctions`"), "{e}");
    }

    #[test]
    fn deeply_nested_or_huge_files_are_refused_before_parsing() {
        // 100 000 nested `{a: `: over 30 s in the parser before the limit.
        let e = err(&format!("scenarios:\n  - name: a\n    vars: {}", "{a: ".repeat(100_000)));
        assert!(e.starts_with("s.yaml:3:") && e.contains("nested more than 64 deep"), "{e}");
        let e = err(&format!(
            "scenarios:\n{}",
            (1..2000).map(|i| format!("{}a:\n", " ".repeat(i))).collect::<String>()
        ));
        assert!(e.starts_with("s.yaml:514:514: ") && e.contains("limit of 512"), "{e}");
        let e = err(&format!("scenarios: []\n# {}\n", "x".repeat(yaml_limits::MAX_BYTES)));
        assert!(e.starts_with("s.yaml: larger than 4 MiB"), "{e}");
    }

    #[test]
    fn rules_across_keys_name_the_scenario() {
        for (text, want) in [
            ("scenarios:\n  - name: a\n", "`plugin: <path or name>` or `workflow: <file.yaml>`"),
            (
                "scenarios:\n  - {name: a, plugin: p, workflow: w.yaml}\n",
                "`plugin` and `workflow` are both set",
            ),
            (
                "scenarios:\n  - {name: a, plugin: p, context: {}, context_file: c.json}\n",
                "`context` and `context_file`",
            ),
            (
                "scenarios:\n  - {name: a, plugin: p, values: [v.yaml]}\n",
                "`values` is for workflow scenarios",
            ),
            ("scenarios:\n  - {name: a, plugin: p}\n  - {name: a, plugin: q}\n", "same name"),
            (
                "scenarios:\n  - {name: a, plugin: p, expect: {outcome: success, error: x}}\n",
                "contradicts",
            ),
            (
                "scenarios:\n  - {name: a, plugin: p, vars: {A-B: x}}\n",
                "`A-B` is not a variable name",
            ),
            (
                "scenarios:\n  - {name: a, plugin: p, expect: {calls: {}}}\n",
                "`expect.calls` is empty",
            ),
            ("scenarios: []\n", "`scenarios:` is empty"),
            ("\n", "the file is empty"),
        ] {
            let e = err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
        assert!(err("scenarios:\n  - name: a\n").starts_with("s.yaml: scenario `a`: "));
    }

    #[test]
    fn error_implies_a_failure_and_scalars_become_text() {
        let f = parse(
            "scenarios:\n  - name: a\n    plugin: p\n    vars: {N: 5, B: true}\n    expect: {error: boom}\n",
            "s.yaml",
        )
        .unwrap();
        let s = &f.scenarios[0];
        assert_eq!(s.expect.outcome(), Outcome::Failure);
        assert_eq!(s.vars["N"], "5");
        assert_eq!(s.vars["B"], "true");
    }
}
