//! Runs one claimed run: the same dispatch, loading, run builder and runner as
//! `handle`, with the journal written to the store, each finished step recorded
//! there (so a later attempt does not run it again), and the workflow identity a
//! step switched to remembered (so a resumed run keeps acting as that role).
//!
//! Every write the executor makes is fenced by its lease: a run taken over by
//! another agent gets no late step, identity or end from this one — the refusal is
//! journaled and the executor gives the run up.
//!
//! A store that does not answer (the database restarting, a network partition) is
//! asked again with backoff ([`persist`]): the run's steps go on meanwhile, and
//! nothing they did is lost once the store is back.

use super::store::{Claimed, DoneStep, RunMode, RunState, Store, StoreError};
use super::Shared;
use crate::cancel::{Cancel, Stop};
use crate::caps::sessions::AssumedRole;
use crate::cloud::Identity;
use crate::journal::{Event, Journal, JournalSink, Keep, Stamped};
use crate::redact::Redactor;
use crate::run::{RunBuilder, RunEnv};
use crate::workflow::model::Step;
use crate::workflow::runner::{Completed, Progress, Runner, StepRecord, SECRET_VALUE};
use crate::workflow::{dispatch, load, WorkflowSource};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a run's writes are retried while the store does not answer, before the
/// run is given up here (its lease expires, and it resumes where the store says).
const STORE_PATIENCE: Duration = Duration::from_secs(300);

/// Does `write` until the store answers: an unavailable store is asked again with
/// backoff for up to [`STORE_PATIENCE`], the agent reporting not-ready meanwhile;
/// any other answer (done, fenced) is final.
async fn persist<T, F, Fut>(shared: &Shared, run: &str, what: &str, mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + STORE_PATIENCE;
    let mut backoff = Duration::from_millis(100);
    loop {
        match write().await {
            Err(StoreError::Unavailable(e)) if Instant::now() < deadline => {
                shared.store_answered(false);
                tracing::warn!(run, error = %e, "storing {what}: the store did not answer; trying again in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
            Ok(done) => {
                shared.store_answered(true);
                return Ok(done);
            }
        }
    }
}

/// Hands a run's journal batches to the run's journal writer ([`JournalWriter`]):
/// never waits, so a journal flushed on one of the runtime's threads does not
/// hold that thread while the store is busy.
struct StoreSink {
    tx: mpsc::UnboundedSender<JournalBatch>,
}

enum JournalBatch {
    Entries(Vec<serde_json::Value>),
    /// Answered once everything sent before it is stored.
    Barrier(tokio::sync::oneshot::Sender<()>),
}

impl JournalSink for StoreSink {
    fn write(&mut self, batch: &[Stamped]) -> std::io::Result<()> {
        let entries: Vec<serde_json::Value> = batch.iter().map(|s| serde_json::to_value(s).unwrap_or_default()).collect();
        self.tx
            .send(JournalBatch::Entries(entries))
            .map_err(|_| std::io::Error::other("the run's journal writer has stopped"))
    }
}

/// Stores a run's journal batches in order, on a task of its own.
struct JournalWriter {
    tx: mpsc::UnboundedSender<JournalBatch>,
    /// The first error storing a batch.
    errors: Arc<Mutex<Option<String>>>,
}

impl JournalWriter {
    fn start(shared: Arc<Shared>, run: String) -> JournalWriter {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let errors = Arc::new(Mutex::new(None));
        let first_error = errors.clone();
        tokio::spawn(async move {
            let mut plugins = std::collections::HashMap::new();
            while let Some(batch) = rx.recv().await {
                match batch {
                    JournalBatch::Entries(entries) => {
                        for entry in &entries {
                            shared.metrics.observe(entry, &mut plugins);
                        }
                        let stored = persist(&shared, &run, "the journal", || shared.store.append_journal(&run, &entries)).await;
                        if let Err(e) = stored {
                            first_error
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert_with(|| e.to_string());
                        }
                    }
                    JournalBatch::Barrier(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        JournalWriter { tx, errors }
    }

    fn sink(&self) -> Box<dyn JournalSink> {
        Box::new(StoreSink { tx: self.tx.clone() })
    }

    /// Waits until everything the journal handed over is stored; the first error
    /// storing any of it, if any.
    async fn stored(&self) -> Option<String> {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.tx.send(JournalBatch::Barrier(done)).is_err() || wait.await.is_err() {
            return Some("the run's journal writer stopped".into());
        }
        self.errors.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What the progress sink hands the store writer.
enum Record {
    Step(DoneStep),
    Identity(serde_json::Value),
}

/// Reports each finished step (and a switch of the workflow identity) to the
/// store writer, in order.
struct StoreProgress {
    tx: mpsc::UnboundedSender<Record>,
    env: Arc<RunEnv>,
    redactor: Redactor,
    last_identity: Mutex<String>,
}

impl Progress for StoreProgress {
    fn step_started(&self, path: &str, _: &Step) {
        tracing::debug!(step = path, "step started");
    }

    fn step_finished(&self, record: &StepRecord) {
        let mut record = record.clone();
        // A value the redactor would mask is a secret: kept as one, so a resumed
        // run runs its step again rather than restore a mask.
        for value in record.values.values_mut() {
            if self.redactor.redact(value) != *value {
                *value = SECRET_VALUE.into();
            }
        }
        let json = self.redactor.redact_json(&serde_json::to_value(&record).unwrap_or_default());
        let _ = self.tx.send(Record::Step(DoneStep {
            path: record.path.clone(),
            record: json,
        }));
        let identity = self.env.workflow_identity();
        let mut last = self.last_identity.lock().unwrap_or_else(|e| e.into_inner());
        if identity.arn != *last {
            last.clone_from(&identity.arn);
            let _ = self.tx.send(Record::Identity(restorable_identity(&self.env, &identity)));
        }
    }
}

/// What a resumed run needs to act as `identity` again: a role the host assumed
/// from the agent's own identity (its source) is assumed again, from that source,
/// with the same session name. Anything else (a role chain) cannot be restored.
fn restorable_identity(env: &RunEnv, identity: &Identity) -> serde_json::Value {
    match env.sessions.how_assumed(&identity.arn) {
        Some(how) if how.source.arn == env.agent().arn => serde_json::json!({
            "arn": identity.arn,
            "account": identity.account,
            "role_arn": how.role_arn,
            "session_name": how.session_name,
        }),
        _ => serde_json::json!({"arn": identity.arn, "restorable": false}),
    }
}

/// Makes `saved` the run's workflow identity again; false when it cannot be.
fn restore_identity(env: &RunEnv, saved: &serde_json::Value) -> bool {
    let text = |k: &str| saved.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let (Some(arn), Some(account), Some(role_arn), Some(session_name)) =
        (text("arn"), text("account"), text("role_arn"), text("session_name"))
    else {
        return false;
    };
    let identity = Identity {
        arn,
        account,
        expires_at: None,
        credentials: None,
    };
    env.sessions.remember(
        &identity,
        AssumedRole {
            source: env.agent().clone(),
            role_arn,
            session_name,
        },
    );
    *env.workflow_identity.lock().unwrap_or_else(|e| e.into_inner()) = identity;
    true
}

/// The completed steps of earlier attempts, as the runner takes them.
fn completed(done: &[DoneStep]) -> Vec<Completed> {
    done.iter()
        .filter(|d| d.record["status"] == "ok")
        .map(|d| Completed {
            path: d.path.clone(),
            values: d.record["values"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or(SECRET_VALUE).to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// How a run ended, and why (for the store).
struct Ending {
    state: RunState,
    reason: Option<String>,
    /// A plan made (the run ends `planned`, holding it).
    plan: Option<serde_json::Value>,
}

/// `family/workflow` of a stored notification, for the metrics.
fn workflow_label(notification: &str) -> String {
    dispatch::parse(notification, "")
        .ok()
        .and_then(|doc| crate::workflow::routing::route(&doc).ok())
        .map(|r| format!("{}/{}", r.family.folder(), r.workflow))
        .unwrap_or_else(|| "-".into())
}

/// Runs `claimed` to its end and records the end; returns the state it ended in
/// (None when the run was lost to another owner).
pub async fn execute(shared: Arc<Shared>, claimed: Claimed, cancel: Cancel) -> Option<RunState> {
    let workflow = workflow_label(&claimed.notification);
    let span = tracing::info_span!("agent_run", run_id = %claimed.id, attempt = claimed.attempt, workflow = %workflow);
    tracing::Instrument::instrument(execute_in_span(shared, claimed, cancel, workflow), span).await
}

async fn execute_in_span(shared: Arc<Shared>, claimed: Claimed, cancel: Cancel, workflow: String) -> Option<RunState> {
    let store = shared.store.clone();
    let id = claimed.id.clone();
    if claimed.attempt > shared.max_attempts {
        let reason = format!(
            "interrupted: the agent running it stopped {} times (--max-attempts {}); its journal says where",
            claimed.attempt.saturating_sub(1),
            shared.max_attempts
        );
        if let Err(e) = persist(&shared, &id, "the run's end", || store.interrupt(&id, &reason)).await {
            tracing::error!(run = %id, error = %e, "could not record the run as interrupted");
        }
        return Some(RunState::Interrupted);
    }
    let started = Instant::now();
    let redactor = Redactor::new();
    let writer = JournalWriter::start(shared.clone(), id.clone());
    let journal = Arc::new(Journal::to_sink(writer.sink(), redactor.clone(), Keep::Nothing));
    let settings = shared.settings();
    let ending = run(&shared, &settings, &claimed, cancel, &redactor, &journal).await;
    if ending.state == RunState::Queued {
        return release(&shared, &id, ending.reason.as_deref().unwrap_or_default(), &journal, &writer).await;
    }
    journal.record(Event::RunFinished {
        outcome: ending.state.as_str().into(),
        duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    });
    // The end is stored after the whole journal: a reader that sees the run over
    // sees all of its record.
    journal.flush();
    // The writer's task ends by itself once the journal is gone.
    if let Some(e) = writer.stored().await {
        tracing::error!(run = %id, error = %e, "the journal could not be stored completely");
    }
    shared
        .metrics
        .run_ended(&workflow, ending.state.as_str(), started.elapsed().as_secs_f64());
    let reason = ending.reason.map(|r| redactor.redact(&r));
    let plan = ending.plan.map(|p| redactor.redact_json(&p));
    let finished = persist(&shared, &id, "the run's end", || async {
        match &plan {
            Some(plan) => store.hold_planned(&shared.owner, &id, plan).await,
            None => store.finish(&shared.owner, &id, ending.state, reason.as_deref()).await,
        }
    })
    .await;
    match finished {
        Ok(()) => Some(ending.state),
        // The end was stored by an earlier try whose answer was lost.
        Err(StoreError::Fenced { .. }) if ended_as(&store, &id, ending.state).await => Some(ending.state),
        Err(e @ StoreError::Fenced { .. }) => {
            fenced(&shared, &id, &e).await;
            None
        }
        Err(e) => {
            tracing::error!(run = %id, error = %e, "could not record the end of the run; it resumes when the store is back");
            None
        }
    }
}

/// Gives a run the agent's shutdown stopped back to the queue: the steps it
/// completed are stored, the next start resumes it after them.
async fn release(shared: &Shared, id: &str, why: &str, journal: &Journal, writer: &JournalWriter) -> Option<RunState> {
    journal.record(Event::Log {
        step: "(agent)".into(),
        level: "warn".into(),
        message: format!("{why}: the run goes back to the queue and resumes after its completed steps at the next start"),
    });
    journal.flush();
    let _ = writer.stored().await;
    let ids = [id.to_owned()];
    match persist(shared, id, "the give-back", || shared.store.release(&shared.owner, &ids)).await {
        Ok(_) => Some(RunState::Queued),
        Err(e) => {
            // Its lease expires instead, and the next start takes it over.
            tracing::error!(run = %id, error = %e, "could not give the run back; it resumes when its lease expires");
            None
        }
    }
}

/// Whether the store has `run` ended in `state` already.
async fn ended_as(store: &Arc<dyn Store>, run: &str, state: RunState) -> bool {
    matches!(store.run(run).await, Ok(Some(view)) if view.state == state)
}

/// Journals that a write of this agent was refused because another owns the run.
async fn fenced(shared: &Shared, run: &str, e: &StoreError) {
    tracing::warn!(run, error = %e, "the run was taken over: giving it up");
    let entry = serde_json::json!({
        "event": "log", "step": "(agent)", "level": "warn",
        "message": format!("a late write of a former owner was refused: {e}"),
        "ts_ms": super::store::now_ms(),
    });
    let entries = [entry];
    let _ = persist(shared, run, "the refusal", || shared.store.append_journal(run, &entries)).await;
}

async fn run(
    shared: &Arc<Shared>,
    settings: &super::Settings,
    claimed: &Claimed,
    cancel: Cancel,
    redactor: &Redactor,
    journal: &Arc<Journal>,
) -> Ending {
    let failed = |reason: String| Ending {
        state: RunState::Failed,
        reason: Some(reason),
        plan: None,
    };
    let doc = match dispatch::parse(&claimed.notification, "the stored notification") {
        Ok(doc) => doc,
        Err(e) => return failed(e),
    };
    let routed = match dispatch::dispatch(&doc, &settings.service, &settings.overrides) {
        Ok(d) => d,
        Err(e) => return failed(format!("the notification: {e}")),
    };
    let target = routed.workflow.display().to_string();
    journal.record(Event::RunStarted {
        run_id: claimed.id.clone(),
        backend: shared.cloud.backend().into(),
        target: target.clone(),
    });
    if claimed.attempt > 1 {
        let done: Vec<&str> = claimed
            .done
            .iter()
            .filter(|d| d.record["status"] == "ok")
            .map(|d| d.path.as_str())
            .collect();
        journal.record(Event::Log {
            step: "(agent)".into(),
            level: "warn".into(),
            message: format!(
                "attempt {}: taken over by {} after the agent running attempt {} stopped; completed steps not run again: {}",
                claimed.attempt,
                shared.owner,
                claimed.attempt - 1,
                if done.is_empty() { "none".to_owned() } else { done.join(", ") }
            ),
        });
    }
    if let Some(note) = &settings.policy_note {
        journal.record(Event::Log {
            step: "(host)".into(),
            level: "warn".into(),
            message: note.clone(),
        });
    }
    let context = routed.context.clone().unwrap_or_else(|| serde_json::json!({}));
    crate::context::register_secrets(&context, redactor);
    let base = BTreeMap::from([("SERVICE_PATH".to_owned(), settings.service.display().to_string())]);
    let source = WorkflowSource {
        path: routed.workflow.clone(),
        overrides: routed.overrides.clone(),
        values: settings.values.clone(),
    };
    let loaded = match load(&source, &base) {
        Ok(wf) => wf,
        Err(e) => {
            let message = format!("loading {target}: {e}");
            journal.record(Event::Log {
                step: "(host)".into(),
                level: "error".into(),
                message: message.clone(),
            });
            return failed(message);
        }
    };
    let inputs = crate::cloud::record::Inputs::new(&context, &settings.providers, &settings.vars);
    let mut vars = loaded.variables.clone();
    vars.extend(settings.vars.clone());
    let (cloud, plan) = match &claimed.mode {
        RunMode::Run => (shared.cloud.clone(), None),
        RunMode::Plan => {
            journal.record(Event::Log {
                step: "(agent)".into(),
                level: "info".into(),
                message: "plan only: reads go to the cloud, changes to a simulated copy; the run ends `planned` and waits for \
                          POST /v1/runs/{id}/approve"
                    .into(),
            });
            let (cloud, plan) = crate::cloud::plan::plan(shared.cloud.clone(), inputs.clone(), &target);
            (cloud, Some(plan))
        }
        RunMode::Apply(doc) => {
            let saved: crate::cloud::plan::SavedPlan = match serde_json::from_value(doc.clone()) {
                Ok(saved) => saved,
                Err(e) => return failed(format!("the approved plan cannot be read back ({e}); plan again")),
            };
            let reasons = verify(
                shared,
                settings,
                &loaded,
                &context,
                &inputs,
                &target,
                vars.clone(),
                &saved,
                redactor,
            )
            .await;
            if !reasons.is_empty() {
                let why = format!(
                    "the approved plan is stale, nothing was changed; plan again: {}",
                    reasons.join("; ")
                );
                journal.record(Event::Log {
                    step: "(agent)".into(),
                    level: "error".into(),
                    message: why.clone(),
                });
                return failed(why);
            }
            journal.record(Event::Log {
                step: "(agent)".into(),
                level: "info".into(),
                message: format!(
                    "the approved plan holds (the same inputs, cloud and {} changes): applying it, each change checked against it",
                    saved.changes.len()
                ),
            });
            let (cloud, _) = crate::cloud::plan::apply(shared.cloud.clone(), saved.changes, redactor.clone());
            (cloud, None)
        }
    };
    let mut builder = run_builder(shared, settings, &context, cloud, redactor)
        .journal(journal.clone())
        .platform(match plan {
            // A plan changes nothing, the platform's records included.
            Some(_) => crate::platform::choose(None, redactor),
            None => settings.platform(redactor),
        })
        .sink(Arc::new(super::TracingSink { run: claimed.id.clone() }))
        .cancel(cancel);
    if let Some(plan) = &plan {
        builder = builder.plan(plan.clone());
    }
    let env = builder.build_now();
    let mut resume = completed(&claimed.done);
    if let Some(saved) = &claimed.identity {
        if !restore_identity(&env, saved) {
            // Acting as the agent where the run had switched to a role would be
            // wrong: everything runs again, from the step that switches.
            resume.clear();
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let progress = Arc::new(StoreProgress {
        tx,
        env: env.clone(),
        redactor: redactor.clone(),
        last_identity: Mutex::new(env.workflow_identity().arn),
    });
    let writer = {
        let (shared, run) = (shared.clone(), claimed.id.clone());
        tokio::spawn(async move {
            let (store, owner) = (&shared.store, &shared.owner);
            while let Some(record) = rx.recv().await {
                match record {
                    Record::Step(step) => persist(&shared, &run, "a step", || store.step_finished(owner, &run, step.clone())).await?,
                    Record::Identity(identity) => {
                        persist(&shared, &run, "the identity", || store.set_identity(owner, &run, &identity)).await?
                    }
                }
            }
            Ok::<(), StoreError>(())
        })
    };
    let runner = runner(shared, settings, env.clone(), progress.clone(), &context);
    let report = runner.run_resuming(&loaded, vars, resume).await;
    drop(runner);
    drop(progress);
    match writer.await {
        Ok(Ok(())) => {}
        Ok(Err(e @ StoreError::Fenced { .. })) => {
            fenced(shared, &claimed.id, &e).await;
            env.cancel().stop(Stop::Cancel);
        }
        Ok(Err(e)) => tracing::error!(run = %claimed.id, error = %e, "a step's record could not be stored"),
        Err(e) => tracing::error!(run = %claimed.id, error = %e, "the step recorder stopped"),
    }
    match report.stopped {
        // Only the agent's own shutdown stops a run this way (its grace ran out).
        Some(why @ (Stop::Terminate | Stop::Interrupt)) => Ending {
            plan: None,
            state: RunState::Queued,
            reason: Some(format!(
                "the agent's shutdown grace ran out: the running step was {} at its next host call",
                why.describe()
            )),
        },
        Some(Stop::Cancel) => Ending {
            plan: None,
            state: RunState::Cancelled,
            reason: Some("cancelled on request: the running step stopped at its next host call".into()),
        },
        None if report.drained => Ending {
            plan: None,
            state: RunState::Queued,
            reason: Some("the agent is shutting down: it stopped the run between two steps".into()),
        },
        None if report.succeeded => match plan {
            // A plan made: held until approved.
            Some(plan) => Ending {
                state: RunState::Planned,
                reason: None,
                plan: Some(crate::cloud::plan::document(
                    &plan,
                    &inputs,
                    &target,
                    shared.cloud.backend(),
                    true,
                    &crate::cloud::plan::SavedCommand {
                        kind: "agent".into(),
                        args: Vec::new(),
                        cwd: Default::default(),
                        secret_vars: Vec::new(),
                    },
                )),
            },
            None => Ending {
                state: RunState::Succeeded,
                reason: None,
                plan: None,
            },
        },
        None if !report.refused.is_empty() => failed(format!("the run did not start: {}", report.refused.join("; "))),
        None => {
            let first = report.steps.iter().find(|s| s.failure.is_some());
            failed(match first {
                Some(s) => format!(
                    "step `{}` failed ({}): {}",
                    s.path,
                    s.failure.as_ref().map(|f| f.kind.as_str()).unwrap_or_default(),
                    s.failure.as_ref().map(|f| f.message.as_str()).unwrap_or_default()
                ),
                None => "the run failed".into(),
            })
        }
    }
}

/// What every run environment of this agent starts from: `cloud` (as the run's mode
/// wraps it), the agent, the run's redactor, the operator's policy and provider
/// data, the role sessions the agent shares between runs, and the scope's region.
fn run_builder(
    shared: &Shared,
    settings: &super::Settings,
    context: &serde_json::Value,
    cloud: crate::cloud::Cloud,
    redactor: &Redactor,
) -> RunBuilder {
    let builder = RunBuilder::new(cloud)
        .agent(shared.agent.clone())
        .redactor(redactor.clone())
        .policy(settings.policy.clone())
        .providers(settings.providers.clone())
        .sessions(shared.sessions.clone());
    match settings.region.clone().or_else(|| settings.providers.scope_region(context)) {
        Some(region) => builder.region(region),
        None => builder,
    }
}

/// A runner of the agent's service for `env`, retrying steps that fail on
/// retryable cloud errors.
fn runner(
    shared: &Shared,
    settings: &super::Settings,
    env: Arc<RunEnv>,
    progress: Arc<dyn Progress>,
    context: &serde_json::Value,
) -> Runner {
    Runner {
        runtime: shared.runtime.clone(),
        env,
        plugins: crate::workflow::plugins::PluginPath::new(&settings.plugins, Some(&settings.service)),
        limits: settings.limits.clone(),
        progress,
        context: context.to_string().into(),
        retry: Some(crate::workflow::runner::Retry::default()),
    }
}

/// Before an approved plan is applied: the run planned again, quietly (its own
/// in-memory journal, no step recorded); why the plan no longer holds, if it does not.
#[allow(clippy::too_many_arguments)]
async fn verify(
    shared: &Arc<Shared>,
    settings: &super::Settings,
    loaded: &crate::workflow::LoadedWorkflow,
    context: &serde_json::Value,
    inputs: &crate::cloud::record::Inputs,
    target: &str,
    vars: BTreeMap<String, String>,
    saved: &crate::cloud::plan::SavedPlan,
    redactor: &Redactor,
) -> Vec<String> {
    let (cloud, plan) = crate::cloud::plan::plan(shared.cloud.clone(), inputs.clone(), target);
    let env = run_builder(shared, settings, context, cloud, redactor)
        .platform(crate::platform::choose(None, redactor))
        .plan(plan.clone())
        .build_now();
    let runner = runner(shared, settings, env, Arc::new(crate::workflow::runner::Quiet), context);
    let report = runner.run_resuming(loaded, vars, Vec::new()).await;
    let now = redactor.redact_json(&inputs.to_value());
    let mut reasons = crate::cloud::plan::staleness(saved, &now, &plan.changes(), &plan.fingerprints());
    if !report.succeeded {
        reasons.push("planning again failed".into());
    }
    reasons
}
