//! Runs a prepared scenario with the ordinary machinery — `run_step` for a plugin,
//! the workflow `Runner` for a workflow — on its own simulated cloud, and records
//! what a verdict needs: outcome, outputs, calls and denials (from the journal), log
//! lines, step statuses and the final cloud state.

use super::calls::Call;
use super::prepare::{Prepared, Target};
use super::ScenarioError;
use crate::caps::{LogLevel, LogSink};
use crate::engine::Runtime;
use crate::redact::Redactor;
use crate::run::RunBuilder;
use crate::sandbox::Limits;
use crate::step::{run_step, CheckVerdict, StepRequest};
use crate::workflow::runner::{Quiet, Runner, Status};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a scenario's run did. Values are as the run produced them (secrets
/// included, so expectations can name them); print them only through `redactor`.
pub struct Observed {
    pub succeeded: bool,
    /// The failure message (what `expect.error` is matched against): the step's, or
    /// one `step `<path>` failed (<kind>): <message>` per failed workflow step.
    pub failure: Option<String>,
    /// The kind of a failed step (`denied`, `cloud`, `timeout` …).
    pub failure_kind: Option<&'static str>,
    /// The step's outputs; for a workflow, the outputs its steps passed on to later
    /// steps, with their values at the end of the run.
    pub outputs: BTreeMap<String, String>,
    /// Names of outputs that are secret.
    pub secret_outputs: BTreeSet<String>,
    pub calls: Vec<Call>,
    /// Denials met: (action, resource).
    pub denials: Vec<(String, String)>,
    /// Workflow steps by path, with their status (`ok`, `failed`, `skipped`).
    pub steps: Vec<(String, &'static str)>,
    /// A check plugin's verdict.
    pub check: Option<CheckVerdict>,
    /// Log lines, `step: level message`.
    pub logs: Vec<String>,
    /// The simulated cloud at the end, in the `--dump-state` format.
    pub state: serde_json::Value,
    /// Knows every secret of the run: secret vars, secret parameters of the
    /// context, secret outputs, values written to Secrets Manager.
    pub redactor: Redactor,
    pub duration: Duration,
}

/// Keeps every log line of the run.
#[derive(Default)]
struct Capture(Mutex<Vec<String>>);

impl LogSink for Capture {
    fn line(&self, step: &str, level: LogLevel, message: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{step}: {} {message}", level.as_str()));
    }
}

/// Runs the scenario, each step under `limits`. The error says why the run could not
/// start at all.
pub async fn run(p: Prepared, runtime: &Arc<Runtime>, limits: &Limits) -> Result<Observed, ScenarioError> {
    let started = Instant::now();
    let sim = Arc::new(p.cloud);
    let redactor = crate::redact::Redactor::new();
    crate::context::register_secrets(&p.context, &redactor);
    let mut vars = p.vars;
    for (name, value) in p.secret_vars {
        // model::parse refuses values too short to be masked.
        redactor.add(&value);
        vars.insert(name, value);
    }
    let capture = Arc::new(Capture::default());
    let env = RunBuilder::new(sim.clone())
        .redactor(redactor.clone())
        .policy(p.policy)
        .providers(p.providers)
        .sink(capture.clone())
        .build()
        .await
        .map_err(ScenarioError::AgentIdentity)?;
    let context: Arc<str> = p.context.to_string().into();

    let mut observed = Observed {
        succeeded: false,
        failure: None,
        failure_kind: None,
        outputs: BTreeMap::new(),
        secret_outputs: BTreeSet::new(),
        calls: vec![],
        denials: vec![],
        steps: vec![],
        check: None,
        logs: vec![],
        state: serde_json::Value::Null,
        redactor: redactor.clone(),
        duration: Duration::ZERO,
    };
    match p.target {
        Target::Step(plugin) => {
            let request = StepRequest {
                name: plugin.manifest.name.clone(),
                plugin,
                vars,
                context,
                limits: limits.clone(),
            };
            let report = run_step(env.clone(), request).await;
            observed.succeeded = report.succeeded();
            observed.failure_kind = report.failure.as_ref().map(|f| f.kind.as_str());
            observed.failure = report.failure.map(|f| f.message);
            for o in report.outputs {
                if o.secret {
                    observed.secret_outputs.insert(o.name.clone());
                }
                observed.outputs.insert(o.name, o.value);
            }
            observed.check = report.check;
        }
        Target::Workflow { loaded, plugins } => {
            let runner = Runner {
                runtime: runtime.clone(),
                env: env.clone(),
                plugins,
                limits: limits.clone(),
                progress: Arc::new(Quiet),
                context,
                retry: None,
            };
            let mut start = loaded.variables.clone();
            start.extend(vars);
            let report = runner.run(&loaded, start).await;
            observed.succeeded = report.succeeded;
            let refused = report.refused.iter().map(|why| format!("the run did not start: {why}"));
            let failures: Vec<String> = refused
                .chain(report.steps.iter().filter_map(|s| {
                    s.failure
                        .as_ref()
                        .map(|f| format!("step `{}` failed ({}): {}", s.path, f.kind, f.message))
                }))
                .collect();
            observed.failure = (!failures.is_empty()).then(|| failures.join("; "));
            observed.steps = report
                .steps
                .iter()
                .map(|s| {
                    let status = match s.status {
                        Status::Ok => "ok",
                        Status::Failed => "failed",
                        Status::Skipped => "skipped",
                    };
                    (s.path.clone(), status)
                })
                .collect();
            // A workflow's outputs are what its steps passed on (declared in `output:`),
            // with the value they had at the end; not its configuration.
            let passed_on: BTreeSet<&String> = report.steps.iter().flat_map(|s| &s.outputs).collect();
            for name in passed_on {
                let Some(value) = report.variables.get(name) else { continue };
                if redactor.is_secret(value) {
                    observed.secret_outputs.insert(name.clone());
                }
                observed.outputs.insert(name.clone(), value.clone());
            }
        }
    }
    let events = env.journal.events();
    observed.calls = Call::from_journal(&events);
    observed.denials = events
        .iter()
        .filter_map(|s| match &s.event {
            crate::journal::Event::Denied { action, resource, .. } => Some((action.clone(), resource.clone())),
            _ => None,
        })
        .collect();
    observed.logs = std::mem::take(&mut *capture.0.lock().unwrap_or_else(|e| e.into_inner()));
    observed.state = sim.dump_json();
    observed.duration = started.elapsed();
    Ok(observed)
}
