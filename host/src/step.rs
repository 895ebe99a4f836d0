//! Runs one step: a fresh sandboxed store, the guest's `run` (or `check`) under the
//! deadline, and a report of what happened — outputs, check verdict, or a failure
//! whose kind says which stage failed (the host stays up whatever the guest does).

use crate::bindings::types::{CheckResult, CheckStatus, Output, StepError};
use crate::bindings::Contract;
use crate::caps::{RunEnv, StepHost};
use crate::engine::Plugin;
use crate::journal::Event;
use crate::manifest::Kind;
use crate::sandbox::{self, CappedPipe, Limits, MemoryCap, StepState};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Instance, ResourceTable};
use wasmtime::{Store, Trap, UpdateDeadline};

/// What to run.
#[derive(Clone)]
pub struct StepRequest {
    /// The step's name in the workflow (the plugin name for `step run`).
    pub name: String,
    pub plugin: Arc<Plugin>,
    pub vars: BTreeMap<String, String>,
    /// The built context, JSON text.
    pub context: Arc<str>,
    pub limits: Limits,
}

/// Which stage failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The step said its inputs were missing or malformed.
    InvalidInput,
    /// The step failed on a call the host refused.
    Denied,
    /// The step failed on a cloud error.
    Cloud,
    /// The step returned a failure of its own.
    Failed,
    /// The deadline passed (the guest looped, or a host call hung).
    Timeout,
    /// The guest tried to use more memory than its cap.
    MemoryLimit,
    /// The guest panicked.
    Panic,
    /// Any other trap (a host limit, a bad export signature, a wasm fault).
    Trap,
    /// The outputs broke the host's caps or naming rules.
    OutputLimit,
    /// The step used up a quota (cloud calls, refused calls, secrets, run record).
    Limit,
    /// The run was stopped from outside (Ctrl-C, SIGTERM, a cancel) while the step ran.
    Interrupted,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::InvalidInput => "invalid-input",
            FailureKind::Denied => "denied",
            FailureKind::Cloud => "cloud",
            FailureKind::Failed => "failed",
            FailureKind::Timeout => "timeout",
            FailureKind::MemoryLimit => "memory-limit",
            FailureKind::Panic => "panic",
            FailureKind::Trap => "trap",
            FailureKind::OutputLimit => "output-limit",
            FailureKind::Limit => "limit",
            FailureKind::Interrupted => "interrupted",
        }
    }
}

/// A failed step: the kind and a message for the operator (already redacted).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepFailure {
    pub kind: FailureKind,
    pub message: String,
    /// The step failed on a cloud error AWS's SDKs retry (throttling, a server
    /// error): running it again later may succeed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
}

/// One output, as the step returned it. Print it through the redactor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepOutput {
    pub name: String,
    pub value: String,
    pub secret: bool,
    /// Whether the plugin's manifest declares it.
    pub declared: bool,
}

/// A check's verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckVerdict {
    pub status: String,
    pub summary: String,
    pub evidence: Vec<(String, String)>,
    pub suggested_actions: Vec<String>,
}

/// What a step did.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    pub step: String,
    pub plugin: String,
    pub digest: String,
    pub failure: Option<StepFailure>,
    pub outputs: Vec<StepOutput>,
    pub check: Option<CheckVerdict>,
    pub duration: Duration,
    pub stdout: String,
    pub stderr: String,
    /// Bytes of stdout/stderr and log lines dropped past the caps.
    pub dropped_stdio_bytes: u64,
    pub dropped_log_lines: u64,
    /// The identity the step's calls used last.
    pub identity: String,
}

impl StepReport {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

enum Returned {
    Step(Result<Vec<Output>, StepError>),
    Check(Result<CheckResult, StepError>),
}

/// A step's sandbox made ahead of its turn by [`prepare`]: its store, and the
/// component instantiated in it.
pub struct Prepared {
    step: String,
    plugin: Arc<Plugin>,
    store: Store<StepState>,
    instance: Instance,
    stdout: CappedPipe,
    stderr: CappedPipe,
}

impl Prepared {
    /// The step it was made for.
    pub fn step(&self) -> &str {
        &self.step
    }

    /// The plugin instantiated in it.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }
}

/// Builds the sandbox of step `name` and instantiates `plugin` in it before the
/// step's turn — while the step before it waits for the cloud — so that its turn
/// starts with the guest's own code. Only for components that run no code when
/// instantiated: the instance cannot have seen its host side (`env`, which may be
/// a stand-in, the variables, identity and deadline), which [`run_prepared`] makes
/// afresh when the step starts. `None` when the plugin
/// has a start function or does not instantiate (its turn reports why).
pub async fn prepare(env: &Arc<RunEnv>, name: &str, plugin: Arc<Plugin>, context: Arc<str>, limits: &Limits) -> Option<Prepared> {
    if plugin.starts_when_instantiated || plugin.manifest.kind != Kind::Step {
        return None;
    }
    let host = StepHost::new(env, name, &plugin.manifest, BTreeMap::new(), context, limits, Instant::now());
    let (mut store, stdout, stderr) = new_store(&plugin, host, limits);
    let instance = plugin.pre.instantiate_async(&mut store).await.ok()?;
    Some(Prepared {
        step: name.to_owned(),
        plugin,
        store,
        instance,
        stdout,
        stderr,
    })
}

/// A step's store: its host state, WASI with captured stdio, and the memory cap.
fn new_store(plugin: &Plugin, host: StepHost, limits: &Limits) -> (Store<StepState>, CappedPipe, CappedPipe) {
    let stdout = CappedPipe::new(limits.stdio_bytes);
    let stderr = CappedPipe::new(limits.stdio_bytes);
    let state = StepState {
        wasi: sandbox::wasi_ctx(&stdout, &stderr),
        table: ResourceTable::new(),
        memory: MemoryCap::new(limits.memory_bytes),
        host,
    };
    let mut store = Store::new(plugin.component.engine(), state);
    store.limiter(|s| &mut s.memory);
    // Yield to the executor at every epoch tick so the deadline below can fire
    // even while the guest spins without calling the host.
    store.set_epoch_deadline(1);
    // A stopped run (Ctrl-C, a cancel) ends the guest at its next tick instead.
    store.epoch_deadline_callback(|ctx| match ctx.data().host.env.cancel.stopped() {
        Some(why) => Err(crate::cancel::Stopped(why).into()),
        None => Ok(UpdateDeadline::Yield(1)),
    });
    (store, stdout, stderr)
}

/// Runs one step to its end. Never panics on guest behaviour; every failure is in
/// the report and in the journal.
pub async fn run_step(env: Arc<RunEnv>, req: StepRequest) -> StepReport {
    run_prepared(env, req, None).await.0
}

/// A finished step's sandbox (its instance, memory and host side), left to be
/// dropped by whoever holds it: freeing it is tens of microseconds that a workflow
/// spends while the next step waits for the cloud rather than between two steps.
pub struct Spent {
    _sandbox: Store<StepState>,
}

/// [`run_step`], in `prepared` when that was made for this step and plugin; hands
/// back the finished step's sandbox instead of dropping it.
pub async fn run_prepared(env: Arc<RunEnv>, req: StepRequest, prepared: Option<Prepared>) -> (StepReport, Spent) {
    let span = tracing::info_span!("step", step = %req.name, plugin = %req.plugin.manifest.name);
    tracing::Instrument::instrument(run_in_span(env, req, prepared), span).await
}

async fn run_in_span(env: Arc<RunEnv>, req: StepRequest, prepared: Option<Prepared>) -> (StepReport, Spent) {
    let started = Instant::now();
    let plugin = req.plugin.clone();
    env.journal.record(Event::StepStarted {
        step: req.name.clone(),
        plugin: plugin.manifest.name.clone(),
        digest: plugin.digest.clone(),
    });

    let prepared = prepared.filter(|p| p.step == req.name && Arc::ptr_eq(&p.plugin, &plugin));
    let (mut store, stdout, stderr, instance) = match prepared {
        Some(p) => {
            let mut store = p.store;
            // What the step is given (the run's environment, its variables, identity
            // and deadline) is known only now: its host side is made afresh.
            store.data_mut().host = StepHost::new(&env, &req.name, &plugin.manifest, req.vars, req.context, &req.limits, started);
            store.set_epoch_deadline(1);
            (store, p.stdout, p.stderr, Some(p.instance))
        }
        None => {
            let host = StepHost::new(&env, &req.name, &plugin.manifest, req.vars, req.context, &req.limits, started);
            let (store, stdout, stderr) = new_store(&plugin, host, &req.limits);
            (store, stdout, stderr, None)
        }
    };

    let call = async {
        let instance = match instance {
            Some(instance) => instance,
            None => plugin.pre.instantiate_async(&mut store).await?,
        };
        // The export's types are those of the contract the plugin was built for.
        use crate::bindings::v0_1::types as v0_1;
        use crate::caps::v0_1::exports as from_v0_1;
        match (plugin.manifest.kind, plugin.contract) {
            (Kind::Step, Contract::V0_2) => {
                let f = instance.get_typed_func::<(), (Result<Vec<Output>, StepError>,)>(&mut store, &plugin.export)?;
                let (r,) = f.call_async(&mut store, ()).await?;
                wasmtime::Result::Ok(Returned::Step(r))
            }
            (Kind::Check, Contract::V0_2) => {
                let f = instance.get_typed_func::<(), (Result<CheckResult, StepError>,)>(&mut store, &plugin.export)?;
                let (r,) = f.call_async(&mut store, ()).await?;
                Ok(Returned::Check(r))
            }
            (Kind::Step, Contract::V0_1) => {
                let f = instance.get_typed_func::<(), (Result<Vec<v0_1::Output>, v0_1::StepError>,)>(&mut store, &plugin.export)?;
                let (r,) = f.call_async(&mut store, ()).await?;
                let r = r
                    .map(|o| o.into_iter().map(from_v0_1::output).collect())
                    .map_err(from_v0_1::step_error);
                Ok(Returned::Step(r))
            }
            (Kind::Check, Contract::V0_1) => {
                let f = instance.get_typed_func::<(), (Result<v0_1::CheckResult, v0_1::StepError>,)>(&mut store, &plugin.export)?;
                let (r,) = f.call_async(&mut store, ()).await?;
                Ok(Returned::Check(r.map(from_v0_1::check_result).map_err(from_v0_1::step_error)))
            }
        }
    };
    let returned: Result<wasmtime::Result<Returned>, _> = tokio::time::timeout(req.limits.deadline, call).await;

    let (out, out_dropped) = stdout.contents();
    let (err, err_dropped) = stderr.contents();
    let state = store.data();
    let redactor = &env.redactor;
    let mut report = StepReport {
        step: req.name.clone(),
        plugin: plugin.manifest.name.clone(),
        digest: plugin.digest.clone(),
        failure: None,
        outputs: Vec::new(),
        check: None,
        duration: Duration::ZERO,
        stdout: String::new(),
        stderr: String::new(),
        dropped_stdio_bytes: out_dropped + err_dropped,
        dropped_log_lines: state.host.log_dropped,
        identity: state.host.signing_identity().arn.clone(),
    };
    let fail = |kind, message: String| {
        Some(StepFailure {
            kind,
            message: redactor.redact(&message),
            retryable: false,
        })
    };
    match returned {
        Err(_elapsed) => {
            report.failure = fail(FailureKind::Timeout, format!("the step did not finish within its deadline of {}; it was stopped (raise it with --timeout if the work is legitimately long)", human(req.limits.deadline)));
        }
        Ok(Err(trap)) if trap.downcast_ref::<crate::cancel::Stopped>().is_some() => {
            let why = trap
                .downcast_ref::<crate::cancel::Stopped>()
                .map(|s| s.0.describe())
                .unwrap_or_default();
            report.failure = fail(
                FailureKind::Interrupted,
                format!("the run was {why}; the step was stopped at its next host call or tick"),
            );
        }
        Ok(Err(trap)) => {
            report.failure = Some(classify_trap(&trap, state.memory.hit, &err, &req.limits, redactor));
        }
        Ok(Ok(Returned::Step(Err(e)))) | Ok(Ok(Returned::Check(Err(e)))) => {
            let retryable = matches!(&e, StepError::Cloud(c) if c.retryable);
            let (kind, message) = describe_step_error(e);
            report.failure = fail(kind, message);
            if let Some(f) = report.failure.as_mut() {
                f.retryable = retryable;
            }
        }
        Ok(Ok(Returned::Step(Ok(outputs)))) => match check_outputs(&outputs, &plugin, &req.limits) {
            Ok(()) => {
                for o in outputs {
                    let declared = plugin.manifest.output(&o.name);
                    let secret = o.secret || declared.is_some_and(|d| d.secret);
                    if secret {
                        if let Err(why) = register_secret_output(&state.host, &o.value) {
                            env.sink
                                .line(&req.name, crate::caps::LogLevel::Warn, &format!("secret output {} {why}", o.name));
                        }
                    }
                    report.outputs.push(StepOutput {
                        name: o.name,
                        value: o.value,
                        secret,
                        declared: declared.is_some(),
                    });
                }
            }
            Err(message) => report.failure = fail(FailureKind::OutputLimit, message),
        },
        Ok(Ok(Returned::Check(Ok(c)))) => {
            report.check = Some(CheckVerdict {
                status: match c.status {
                    CheckStatus::Pass => "pass",
                    CheckStatus::Fail => "fail",
                    CheckStatus::Warning => "warning",
                    CheckStatus::Skipped => "skipped",
                }
                .to_owned(),
                summary: redactor.redact(&c.summary),
                evidence: c
                    .evidence
                    .into_iter()
                    .map(|(k, v)| (redactor.redact(&k), redactor.redact(&v)))
                    .collect(),
                suggested_actions: c.suggested_actions.iter().map(|a| redactor.redact(a)).collect(),
            });
        }
    }
    // A quota that ran out is why the step ended, whatever it returned after.
    if let Some(why) = &state.host.usage.exhausted {
        report.failure = fail(FailureKind::Limit, why.to_string());
        report.outputs.clear();
    }
    report.stdout = redactor.redact(&out);
    report.stderr = redactor.redact(&err);
    report.duration = started.elapsed();
    match &report.failure {
        None => tracing::info!(duration_us = report.duration.as_micros() as u64, "step ok"),
        Some(f) => tracing::info!(kind = f.kind.as_str(), "step failed"),
    }
    env.journal.record(Event::StepFinished {
        step: req.name,
        outcome: if report.succeeded() { "ok".into() } else { "failed".into() },
        failure_kind: report.failure.as_ref().map(|f| f.kind.as_str().to_owned()),
        error: report.failure.as_ref().map(|f| f.message.clone()),
        outputs: report.outputs.iter().map(|o| o.name.clone()).collect(),
        duration_us: report.duration.as_micros() as u64,
    });
    (report, Spent { _sandbox: store })
}

/// Registers a secret output's value, unless it is too short, shaped like the
/// record's structure, or the value of a variable the step was given in clear (its
/// step or plugin name, say): masking those would censor the record, not protect a
/// secret.
fn register_secret_output(host: &StepHost, value: &str) -> Result<(), String> {
    if host.is_clear_name(value) {
        return Err("has the value of a name or variable given in clear; it is not registered as a secret".into());
    }
    match host.env.redactor.try_add(value) {
        Ok(()) => Ok(()),
        Err(crate::redact::Refused::TooShort) => Err("is shorter than 4 characters and cannot be redacted reliably".into()),
        Err(crate::redact::Refused::Structural) => {
            Err("is an ARN, account id or action name, which are never redacted; it is not registered as a secret".into())
        }
    }
}

fn describe_step_error(e: StepError) -> (FailureKind, String) {
    match e {
        StepError::InvalidInput(m) => (FailureKind::InvalidInput, format!("invalid input: {m}")),
        StepError::Denied(d) => (FailureKind::Denied, format!("denied: {} on {}: {}", d.action, d.resource, d.reason)),
        StepError::Cloud(c) => {
            let mut m = format!("{} {} failed: {}: {}", c.service, c.operation, c.code, c.message);
            if let Some(id) = c.request_id {
                m.push_str(&format!(" (request id {id})"));
            }
            (FailureKind::Cloud, m)
        }
        StepError::Failed(m) => (FailureKind::Failed, m),
    }
}

fn check_outputs(outputs: &[Output], plugin: &Plugin, limits: &Limits) -> Result<(), String> {
    if outputs.len() > limits.outputs {
        return Err(format!(
            "the step returned {} outputs; a step may return at most {}",
            outputs.len(),
            limits.outputs
        ));
    }
    let total: usize = outputs.iter().map(|o| o.name.len() + o.value.len()).sum();
    if total > limits.output_bytes {
        return Err(format!(
            "the step returned {} of outputs; a step may return at most {} (pass large data through the cloud, not through variables)",
            bytes(total),
            bytes(limits.output_bytes)
        ));
    }
    for o in outputs {
        let ok = !o.name.is_empty()
            && o.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !o.name.starts_with(|c: char| c.is_ascii_digit());
        if !ok {
            return Err(format!(
                "plugin `{}` returned an output named `{}`, which is not a variable name",
                plugin.manifest.name, o.name
            ));
        }
    }
    Ok(())
}

fn classify_trap(
    error: &wasmtime::Error,
    memory_hit: bool,
    stderr: &str,
    limits: &Limits,
    redactor: &crate::redact::Redactor,
) -> StepFailure {
    let trap = error.downcast_ref::<Trap>().copied();
    let (kind, message) = if let Some(refusal) = error.downcast_ref::<crate::caps::credentials::Refusal>() {
        (FailureKind::Denied, refusal.to_string())
    } else if memory_hit {
        (
            FailureKind::MemoryLimit,
            format!(
                "the step tried to use more than {} of memory and was stopped",
                bytes(limits.memory_bytes)
            ),
        )
    } else if trap == Some(Trap::UnreachableCodeReached) {
        match panic_message(stderr) {
            Some(m) => (FailureKind::Panic, format!("the step panicked: {m}")),
            None => (
                FailureKind::Panic,
                "the step aborted (wasm `unreachable`) without a panic message".to_owned(),
            ),
        }
    } else if let Some(t) = trap {
        (FailureKind::Trap, format!("the step trapped: {t}"))
    } else {
        (FailureKind::Trap, format!("the step was stopped: {error:#}"))
    };
    StepFailure {
        kind,
        message: redactor.redact(&message),
        retryable: false,
    }
}

/// The message of a Rust panic as the guest printed it on stderr:
/// `thread '…' panicked at src/lib.rs:1:2:\n<message>\nnote: …`.
fn panic_message(stderr: &str) -> Option<String> {
    let at = stderr.find("panicked at")?;
    let rest = &stderr[at..];
    let mut lines = rest.lines();
    let location = lines.next()?.trim_start_matches("panicked at ").trim_end_matches(':');
    let message: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).collect();
    Some(format!("{} (at {location})", message.join("\n").trim()))
}

fn bytes(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else if s >= 1.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn panic_message_is_extracted() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: bad input\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(super::panic_message(stderr).unwrap(), "boom: bad input (at src/lib.rs:10:5)");
    }
}
