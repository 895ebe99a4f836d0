//! Runs a loaded workflow: steps in order, each in its own sandbox; declared outputs
//! become variables of later steps (undeclared ones are reported, never silently
//! dropped); `pre`/`post` wrap a step; `workflow` steps nest; `executor` steps run
//! every check in their folders between `before_each` and `after_each`. The first
//! failure stops the run unless `continue_on_error` is set.

use super::load::{apply_configuration, LoadedWorkflow};
use super::model::{OutputKind, Step, StepKind};
use super::plugins::PluginPath;
use crate::caps::{LogLevel, RunEnv};
use crate::engine::Runtime;
use crate::journal::{CallRecord, Event};
use crate::manifest::Kind;
use crate::platform::{CheckReport, ScopeRef};
use crate::sandbox::Limits;
use crate::step::{prepare, run_prepared, run_step, CheckVerdict, Prepared, Spent, StepRequest};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    Skipped,
}

/// A failure, with the stage that failed (`denied`, `cloud`, `timeout`, `panic`,
/// `plugin` for a component that could not be found or loaded, `refused` for a
/// bash step …).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    pub kind: String,
    pub message: String,
}

/// One diagnose check run by an executor step.
#[derive(Clone, Debug, Serialize)]
pub struct CheckEntry {
    pub check: String,
    pub file: String,
    /// pass, fail, warning, skipped — or error when the check could not run.
    pub status: String,
    pub summary: String,
    pub evidence: Vec<(String, String)>,
    pub suggested_actions: Vec<String>,
}

/// What one step did.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub name: String,
    /// `outer/inner` for nested steps.
    pub path: String,
    pub kind: StepKind,
    pub plugin: Option<String>,
    pub status: Status,
    pub duration_us: u64,
    pub failure: Option<Failure>,
    /// The identity the step's calls used.
    pub identity: Option<String>,
    /// Outputs that reached later steps.
    pub outputs: Vec<String>,
    /// Their values; a secret output's value is never kept here (`<secret>`).
    pub values: BTreeMap<String, String>,
    pub warnings: Vec<String>,
    pub checks: Vec<CheckEntry>,
}

/// What the whole run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub succeeded: bool,
    pub steps: Vec<StepRecord>,
    pub duration_us: u64,
    /// The variables at the end of the run (may hold secrets: never printed).
    #[serde(skip)]
    pub variables: BTreeMap<String, String>,
    /// Why the run did not start (what `scope-host check` would say); empty when
    /// it did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<String>,
    /// Stopped from outside (Ctrl-C, SIGTERM, a cancel): why.
    #[serde(skip)]
    pub stopped: Option<crate::cancel::Stop>,
    /// Ended at a step boundary because the agent is shutting down
    /// ([`crate::cancel::Cancel::drain`]): to be resumed.
    #[serde(skip)]
    pub drained: bool,
}

impl RunReport {
    pub fn count(&self, status: Status) -> usize {
        self.steps.iter().filter(|s| s.status == status).count()
    }
}

/// Live progress of a run (the CLI prints it).
pub trait Progress: Send + Sync {
    fn step_started(&self, path: &str, step: &Step);
    fn step_finished(&self, record: &StepRecord);
}

/// A progress sink that shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn step_started(&self, _: &str, _: &Step) {}
    fn step_finished(&self, _: &StepRecord) {}
}

/// Running a step again when it failed on a retryable cloud error (throttling, a
/// server error): waits grow from `first`, doubling, up to `max`, each drawn at
/// random below its bound (full jitter), all within the step's deadline.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            first: Duration::from_millis(200),
            max: Duration::from_secs(20),
        }
    }
}

/// Everything a run needs besides the workflow.
pub struct Runner {
    pub runtime: Arc<Runtime>,
    pub env: Arc<RunEnv>,
    pub plugins: PluginPath,
    pub limits: Limits,
    pub progress: Arc<dyn Progress>,
    /// The built context, JSON text.
    pub context: Arc<str>,
    /// Steps that fail on a retryable cloud error run again (the agent); None:
    /// they fail (the CLI, where the SDK's own retries of each call are enough).
    pub retry: Option<Retry>,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A top-level step an earlier attempt of the run completed: its path and the
/// values of its outputs (see [`Runner::run_resuming`]).
#[derive(Clone, Debug)]
pub struct Completed {
    pub path: String,
    pub values: BTreeMap<String, String>,
}

impl Completed {
    /// Whether a step with these values can be taken as done: a secret output's
    /// value is never kept (`<secret>`), so such a step runs again.
    pub fn restorable(&self) -> bool {
        !self.values.values().any(|v| v == SECRET_VALUE)
    }
}

/// What a secret output's value is replaced with in a [`StepRecord`].
pub const SECRET_VALUE: &str = "<secret>";

struct Ctx<'w> {
    dir: &'w Path,
    /// Steps an earlier attempt completed, taken as done while they match the
    /// workflow's first top-level steps in order.
    completed: std::collections::VecDeque<Completed>,
    records: Vec<StepRecord>,
    /// The sandbox of the step to run next, made while the one before ran.
    prepared: Option<Prepared>,
    /// The last finished step's sandbox, freed while the next one waits for the cloud.
    spent: Option<Spent>,
}

impl Runner {
    /// Runs `wf` with `vars` (its starting variables, plus `--var`s).
    pub async fn run(&self, wf: &LoadedWorkflow, vars: BTreeMap<String, String>) -> RunReport {
        self.run_from(wf, vars, None).await
    }

    /// [`Runner::run`], its first step in `first` when that was made for it (see
    /// [`first_preparable`]).
    ///
    /// Nothing runs unless the whole workflow passes [`preflight`] first: every
    /// plugin found (check folders included), pins verified, inputs provided and
    /// capabilities granted. Otherwise the report lists why in `refused`, no step
    /// has run and no step's call has reached the cloud.
    pub async fn run_from(&self, wf: &LoadedWorkflow, vars: BTreeMap<String, String>, first: Option<Prepared>) -> RunReport {
        self.run_with(wf, vars, first, Vec::new()).await
    }

    /// [`Runner::run`] for a run an earlier attempt began (an agent resuming after a
    /// crash): the first top-level steps that attempt completed, in order, are not
    /// run again — their outputs become variables as they did then, and their
    /// records say so. From the first step that does not match (or was not
    /// completed, or had a secret output, or is wrapped by `pre`/`post`) on,
    /// everything runs: every built-in step is idempotent, and so must a third
    /// party's be (docs/scope-lifecycle.md, "The contract for third-party steps").
    pub async fn run_resuming(&self, wf: &LoadedWorkflow, vars: BTreeMap<String, String>, completed: Vec<Completed>) -> RunReport {
        self.run_with(wf, vars, None, completed).await
    }

    async fn run_with(
        &self,
        wf: &LoadedWorkflow,
        mut vars: BTreeMap<String, String>,
        first: Option<Prepared>,
        completed: Vec<Completed>,
    ) -> RunReport {
        let started = Instant::now();
        let refused = self.preflight(wf, &vars).await;
        if !refused.is_empty() {
            for why in &refused {
                self.env.journal().record(crate::journal::Event::Log {
                    step: "(host)".into(),
                    level: "error".into(),
                    message: format!("the run did not start: {why}"),
                });
            }
            return RunReport {
                succeeded: false,
                steps: Vec::new(),
                duration_us: started.elapsed().as_micros() as u64,
                variables: vars,
                refused,
                stopped: None,
                drained: false,
            };
        }
        let mut ctx = Ctx {
            dir: &wf.dir,
            completed: completed.into(),
            records: Vec::new(),
            prepared: first,
            spent: None,
        };
        let span = tracing::info_span!("run", workflow = %wf.path.display());
        let ok = tracing::Instrument::instrument(
            self.run_steps(&wf.workflow.steps, &mut vars, "", wf.workflow.continue_on_error, &mut ctx),
            span,
        )
        .await;
        RunReport {
            succeeded: ok,
            steps: ctx.records,
            duration_us: started.elapsed().as_micros() as u64,
            variables: vars,
            refused: Vec::new(),
            stopped: self.env.cancel().stopped(),
            drained: !ok && self.env.cancel().draining(),
        }
    }

    /// [`check::preflight`] of `wf` for a run starting with `vars`: its errors. Off
    /// the async path (it reads and hashes the components not loaded yet).
    async fn preflight(&self, wf: &LoadedWorkflow, vars: &BTreeMap<String, String>) -> Vec<String> {
        let provided: std::collections::BTreeSet<String> = vars.keys().cloned().collect();
        // Every component loaded already (a warm process): a lookup each, here.
        if let Some(report) = super::check::preflight_loaded(wf, &self.runtime, &self.plugins, self.env.policy_arc(), &provided) {
            return report.errors;
        }
        let (wf, runtime, plugins, policy) = (wf.clone(), self.runtime.clone(), self.plugins.clone(), self.env.policy_arc());
        let checked = tokio::task::spawn_blocking(move || super::check::preflight(&wf, Some(&runtime), &plugins, policy, &provided)).await;
        match checked {
            Ok(report) => report.errors,
            Err(e) => vec![format!("checking the workflow stopped: {e}")],
        }
    }

    fn run_steps<'s>(
        &'s self,
        steps: &'s [Step],
        vars: &'s mut BTreeMap<String, String>,
        prefix: &'s str,
        continue_on_error: bool,
        ctx: &'s mut Ctx<'_>,
    ) -> BoxFuture<'s, bool> {
        Box::pin(async move {
            let mut ok = true;
            for (i, step) in steps.iter().enumerate() {
                if let Some(why) = self.env.cancel().stopped() {
                    for skipped in &steps[i..] {
                        let mut record = skipped_record(skipped, prefix);
                        record.warnings.push(format!("not run: the run was {}", why.describe()));
                        self.progress.step_finished(&record);
                        ctx.records.push(record);
                    }
                    return false;
                }
                if self.env.cancel().draining() {
                    for skipped in &steps[i..] {
                        let mut record = skipped_record(skipped, prefix);
                        record
                            .warnings
                            .push("not run yet: the agent is shutting down; the run resumes here".into());
                        // Not reported: the step is still to run.
                        ctx.records.push(record);
                    }
                    return false;
                }
                if !ok && !continue_on_error {
                    for skipped in &steps[i..] {
                        let record = skipped_record(skipped, prefix);
                        self.progress.step_finished(&record);
                        ctx.records.push(record);
                    }
                    break;
                }
                if prefix.is_empty() && self.take_completed(step, vars, ctx) {
                    continue;
                }
                // The next step's sandbox is made while this one waits for the
                // cloud (the run polls this step first, the preparation when it waits).
                let next = steps.get(i + 1).filter(|_| step.post.is_none());
                let dir = ctx.dir;
                let spent = ctx.spent.take();
                let (step_ok, prepared) = tokio::join!(
                    biased;
                    self.run_one(step, vars, prefix, continue_on_error, ctx),
                    self.prepare(next, dir, spent)
                );
                ctx.prepared = prepared;
                ok &= step_ok;
            }
            ok
        })
    }

    /// How long to wait before running a step again that failed on a retryable
    /// cloud error after `attempts` tries begun at `started`: exponential backoff
    /// with full jitter, only while the wait leaves time within the step's deadline;
    /// None when it is not run again (no retry policy, another kind of failure, the
    /// run stopped or draining, no time left).
    fn retry_after(&self, report: &crate::step::StepReport, attempts: u32, started: Instant) -> Option<Duration> {
        let retry = self.retry?;
        if !report.failure.as_ref().is_some_and(|f| f.retryable) || self.env.cancel().stopped().is_some() || self.env.cancel().draining() {
            return None;
        }
        let ceiling = retry
            .first
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
            .min(retry.max);
        let mut random = [0u8; 4];
        let _ = getrandom::getrandom(&mut random);
        let wait = ceiling.mul_f64(f64::from(u32::from_le_bytes(random)) / f64::from(u32::MAX));
        // What the next try needs at least: the wait, and a tick to run in.
        let needed = started.elapsed() + wait + crate::engine::EPOCH_TICK;
        (needed < self.limits.deadline).then_some(wait)
    }

    /// Whether `step` (top level) is the next one an earlier attempt completed: then
    /// its outputs are restored and its record added, and it does not run. The
    /// first step that is not ends resuming.
    fn take_completed(&self, step: &Step, vars: &mut BTreeMap<String, String>, ctx: &mut Ctx<'_>) -> bool {
        let Some(next) = ctx.completed.front() else {
            return false;
        };
        let plain = matches!(step.kind, StepKind::Wasm | StepKind::Executor) && step.pre.is_none() && step.post.is_none();
        if !plain || next.path != step.name || !next.restorable() {
            ctx.completed.clear();
            return false;
        }
        let Some(done) = ctx.completed.pop_front() else {
            return false;
        };
        let mut record = new_record(step, "", Status::Ok);
        record.outputs = done.values.keys().cloned().collect();
        record
            .warnings
            .push("completed by an earlier attempt of this run: not run again".into());
        vars.extend(done.values.clone());
        record.values = done.values;
        self.env.journal().record(Event::Log {
            step: step.name.clone(),
            level: "info".into(),
            message: "completed by an earlier attempt of this run: not run again, its outputs restored".into(),
        });
        ctx.records.push(record);
        true
    }

    fn run_one<'s>(
        &'s self,
        step: &'s Step,
        vars: &'s mut BTreeMap<String, String>,
        prefix: &'s str,
        continue_on_error: bool,
        ctx: &'s mut Ctx<'_>,
    ) -> BoxFuture<'s, bool> {
        Box::pin(async move {
            let path = step_path(prefix, &step.name);
            if let Some(pre) = &step.pre {
                if !self.run_one(pre, vars, prefix, continue_on_error, ctx).await {
                    let mut record = skipped_record(step, prefix);
                    record.warnings.push(format!("not run: its pre step `{}` failed", pre.name));
                    self.progress.step_finished(&record);
                    ctx.records.push(record);
                    return false;
                }
            }
            self.progress.step_started(&path, step);
            let started = Instant::now();
            let mut step_vars = vars.clone();
            apply_configuration(&step.configuration, &mut step_vars);
            let mut record = new_record(step, prefix, Status::Ok);
            match step.kind {
                StepKind::Script | StepKind::Command => {
                    record.failure = Some(Failure {
                        kind: "refused".into(),
                        message: super::check::refusal(step),
                    });
                }
                StepKind::Wasm => self.run_wasm(step, step_vars, vars, &mut record, ctx).await,
                StepKind::Workflow => {
                    // Nested steps share the variables: their declared outputs reach
                    // the steps after the workflow step too.
                    let mut inner = step_vars;
                    let before = inner.clone();
                    let ok = self.run_steps(&step.steps, &mut inner, &path, continue_on_error, ctx).await;
                    for (k, v) in inner {
                        if before.get(&k) != Some(&v) {
                            vars.insert(k, v);
                        }
                    }
                    if !ok {
                        record.failure = Some(Failure {
                            kind: "nested".into(),
                            message: format!("a step inside `{}` failed", step.name),
                        });
                    }
                }
                StepKind::Executor => self.run_executor(step, &step_vars, &path, &mut record, ctx).await,
            }
            if record.failure.is_some() {
                record.status = Status::Failed;
            }
            record.duration_us = started.elapsed().as_micros() as u64;
            let ok = record.status == Status::Ok;
            self.progress.step_finished(&record);
            ctx.records.push(record);
            if ok {
                if let Some(post) = &step.post {
                    return self.run_one(post, vars, prefix, continue_on_error, ctx).await;
                }
            }
            ok
        })
    }

    /// The sandbox of `step`, made ahead of its turn (see [`prepare`]), when it is a
    /// plain wasm step whose plugin names no variable (a variable may be set by the
    /// step running now) and whose component this process has loaded already. First
    /// it frees `spent`, the sandbox of the step before: this runs once the step now
    /// running waits for the cloud.
    async fn prepare(&self, step: Option<&Step>, dir: &Path, spent: Option<Spent>) -> Option<Prepared> {
        drop(spent);
        let step = step?;
        let spec = preparable(step)?;
        // Only a plugin already loaded (by the prefetch thread, or an earlier run):
        // reading, checking or compiling one here would hold up the step running now.
        let plugin = self.plugins.loaded(&self.runtime, spec, dir)?.ok()?;
        prepare(&self.env, &step.name, plugin, self.context.clone(), &self.limits).await
    }

    /// Loads a component (reading, checking and, when it is not cached, compiling it)
    /// on the blocking pool rather than on the async path, so the run's other tasks
    /// (the journal, the cloud, other runs of an agent) go on meanwhile; a load that
    /// outlasts a step's deadline fails the step (the compile finishes on its own).
    async fn off_thread<T: Send + 'static>(&self, load: impl FnOnce(&Runtime) -> Result<T, String> + Send + 'static) -> Result<T, String> {
        let runtime = self.runtime.clone();
        let loading = tokio::task::spawn_blocking(move || load(&runtime));
        match tokio::time::timeout(self.limits.deadline, loading).await {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(stopped)) => Err(format!("loading the plugin stopped: {stopped}")),
            Err(_) => Err(format!(
                "the plugin was still loading (compiling) when the step's deadline of {} passed",
                crate::step::human(self.limits.deadline)
            )),
        }
    }

    async fn run_wasm(
        &self,
        step: &Step,
        step_vars: BTreeMap<String, String>,
        vars: &mut BTreeMap<String, String>,
        record: &mut StepRecord,
        ctx: &mut Ctx<'_>,
    ) {
        let prepared = ctx.prepared.take().filter(|p| p.step() == step.name);
        let spec = super::expand::expand(step.plugin.as_deref().unwrap_or(""), &|n| step_vars.get(n).cloned());
        // A sandbox prepared for this step holds its plugin, found and loaded when the
        // sandbox was made (its spec names no variable); its pin is checked now.
        let found = match &prepared {
            Some(p) => self.plugins.verify(&spec, p.plugin().clone()),
            // Loaded already: no need to hand the load to another thread (and wait
            // for two thread switches) for a lookup.
            None => match self.plugins.loaded(&self.runtime, &spec, ctx.dir) {
                Some(found) => found,
                None => {
                    let (plugins, spec, dir) = (self.plugins.clone(), spec.clone(), ctx.dir.to_path_buf());
                    self.off_thread(move |runtime| plugins.load(runtime, &spec, &dir)).await
                }
            },
        };
        let plugin = match found {
            Ok(p) => p,
            Err(message) => {
                record.failure = Some(Failure {
                    kind: "plugin".into(),
                    message,
                });
                return;
            }
        };
        if plugin.manifest.kind != Kind::Step {
            record.failure = Some(Failure {
                kind: "plugin".into(),
                message: format!("`{}` is a check; run checks from an executor step's folders", plugin.manifest.name),
            });
            return;
        }
        let request = StepRequest {
            name: step.name.clone(),
            plugin: plugin.clone(),
            vars: step_vars,
            context: self.context.clone(),
            limits: self.limits.clone(),
        };
        let started = Instant::now();
        let (mut report, mut spent) = run_prepared(self.env.clone(), request.clone(), prepared).await;
        let mut attempt = 1;
        while let Some(wait) = self.retry_after(&report, attempt, started) {
            let why = report.failure.as_ref().map(|f| f.message.clone()).unwrap_or_default();
            self.env.journal().record(Event::Log {
                step: step.name.clone(),
                level: "warn".into(),
                message: format!(
                    "failed on a retryable cloud error ({why}): running it again in {} (attempt {}), within its deadline",
                    crate::step::human(wait),
                    attempt + 1
                ),
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.env.cancel().wait() => break,
            }
            drop(spent);
            let mut again = request.clone();
            again.limits.deadline = self.limits.deadline.saturating_sub(started.elapsed());
            (report, spent) = run_prepared(self.env.clone(), again, None).await;
            attempt += 1;
        }
        ctx.spent = Some(spent);
        record.identity = Some(report.identity.clone());
        if let Some(f) = report.failure {
            record.failure = Some(Failure {
                kind: f.kind.as_str().into(),
                message: f.message,
            });
            return;
        }
        for spec in &step.output {
            if spec.kind == OutputKind::File {
                record.warnings.push(format!(
                    "output {} has type file, which components cannot write; return it as a value (type: environment)",
                    spec.name
                ));
                continue;
            }
            match report.outputs.iter().find(|o| o.name == spec.name) {
                Some(o) => {
                    vars.insert(o.name.clone(), o.value.clone());
                    record.outputs.push(o.name.clone());
                    let shown = if o.secret { SECRET_VALUE.to_owned() } else { o.value.clone() };
                    record.values.insert(o.name.clone(), shown);
                }
                None => record.warnings.push(format!(
                    "the workflow declares output {} but step `{}` did not return it",
                    spec.name, step.name
                )),
            }
        }
        for o in &report.outputs {
            if !step.output.iter().any(|s| s.name == o.name) {
                record.warnings.push(format!(
                    "step `{}` returned {} but the workflow does not declare it in `output:`; it does not reach later steps",
                    step.name, o.name
                ));
            }
        }
    }

    async fn run_executor(
        &self,
        step: &Step,
        step_vars: &BTreeMap<String, String>,
        path: &str,
        record: &mut StepRecord,
        ctx: &mut Ctx<'_>,
    ) {
        let files = match self.plugins.check_files(&step.folders, ctx.dir, &|n| step_vars.get(n).cloned()) {
            Ok(files) => files,
            Err(message) => {
                record.failure = Some(Failure {
                    kind: "plugin".into(),
                    message,
                });
                return;
            }
        };
        // The scope every check is reported for, read from the context once.
        let scope = ScopeRef::of_context(&self.context);
        let mut failed = 0;
        for file in files {
            let mut entry = CheckEntry {
                check: String::new(),
                file: file.display().to_string(),
                status: "error".into(),
                summary: String::new(),
                evidence: vec![],
                suggested_actions: vec![],
            };
            let loading = file.clone();
            let loaded = self
                .off_thread(move |runtime| runtime.load_file(&loading).map_err(|e| e.to_string()))
                .await;
            let plugin = match loaded {
                Ok(p) if p.manifest.kind == Kind::Check => p,
                Ok(p) => {
                    entry.check = p.manifest.name.clone();
                    entry.summary = format!("{} is a step, not a check", file.display());
                    failed += 1;
                    record.checks.push(entry);
                    continue;
                }
                Err(e) => {
                    entry.summary = e.to_string();
                    failed += 1;
                    record.checks.push(entry);
                    continue;
                }
            };
            entry.check = plugin.manifest.name.clone();
            let mut check_vars = step_vars.clone();
            check_vars.insert("CHECK_NAME".into(), entry.check.clone());
            check_vars.insert("CHECK_DESCRIPTION".into(), plugin.manifest.description.clone());
            self.report_check(&scope, path, &entry.check, CheckReport::Running).await;
            if let Some(hook) = &step.before_each {
                let mut hook_vars = check_vars.clone();
                self.run_one(hook, &mut hook_vars, path, true, ctx).await;
            }
            let request = StepRequest {
                name: entry.check.clone(),
                plugin,
                vars: check_vars.clone(),
                context: self.context.clone(),
                limits: self.limits.clone(),
            };
            let report = run_step(self.env.clone(), request).await;
            match (report.check, report.failure) {
                (
                    Some(CheckVerdict {
                        status,
                        summary,
                        evidence,
                        suggested_actions,
                    }),
                    None,
                ) => {
                    entry.status = status;
                    entry.summary = summary;
                    entry.evidence = evidence;
                    entry.suggested_actions = suggested_actions;
                }
                (_, Some(f)) => entry.summary = format!("the check could not run ({}): {}", f.kind.as_str(), f.message),
                (None, None) => entry.summary = "the check returned no verdict".into(),
            }
            if entry.status == "fail" || entry.status == "error" {
                failed += 1;
            }
            let finished = CheckReport::Finished {
                status: entry.status.clone(),
                summary: entry.summary.clone(),
            };
            self.report_check(&scope, path, &entry.check, finished).await;
            if let Some(hook) = &step.after_each {
                check_vars.insert("CHECK_STATUS".into(), entry.status.clone());
                check_vars.insert("CHECK_SUMMARY".into(), entry.summary.clone());
                self.run_one(hook, &mut check_vars, path, true, ctx).await;
            }
            record.checks.push(entry);
        }
        if failed > 0 {
            record.failure = Some(Failure {
                kind: "checks".into(),
                message: format!("{failed} of {} checks failed", record.checks.len()),
            });
        }
    }
}

impl Runner {
    /// Reports a check of an executor step to the platform, running and then its
    /// result, and prints the incumbent's line for it in the live output. The host
    /// does this for every check, so no check can leave it out; a report that
    /// fails is a warning, never the check's verdict.
    async fn report_check(&self, scope: &ScopeRef, path: &str, check: &str, report: CheckReport) {
        let line = crate::caps::platform::check_line(check, &report);
        let line = self.env.redactor.redact(&line);
        self.env.sink.live(path, &line);
        self.env.journal.record(Event::Log {
            step: path.to_owned(),
            level: "live".into(),
            message: line,
        });
        let (Some(id), Some(resource)) = (&scope.id, scope.resource()) else {
            return;
        };
        let platform = self.env.platform.clone();
        let started = Instant::now();
        let result = platform.report_check(id, check, &report).await;
        let record = CallRecord::answered(
            path,
            ("platform", "ReportCheck"),
            &resource,
            &format!("platform:{}", platform.name()),
            &result,
            started.elapsed().as_micros() as u64,
        );
        self.env.journal.record(Event::Call(record));
        if let Err(e) = result {
            let why = self.env.redactor.redact(&format!("reporting check {check} to the platform: {e}"));
            self.env.sink.line(path, LogLevel::Warn, &why);
        }
    }
}

/// The plugin of `step` when its sandbox can be made ahead of its turn: a plain
/// wasm step (no `pre`) whose plugin names no variable (a variable may be set by
/// the step running before it).
fn preparable(step: &Step) -> Option<&str> {
    if step.kind != StepKind::Wasm || step.pre.is_some() {
        return None;
    }
    step.plugin.as_deref().filter(|p| !p.contains('$'))
}

/// The name and component file of `wf`'s first step when its sandbox can be made
/// before the run starts (for [`Runner::run_from`]).
pub fn first_preparable(wf: &LoadedWorkflow, plugins: &PluginPath) -> Option<(String, std::path::PathBuf)> {
    let step = wf.workflow.steps.first()?;
    let (path, _pin) = plugins.resolve(preparable(step)?, &wf.dir).ok()?;
    Some((step.name.clone(), path))
}

/// `outer/inner` for a step inside `outer`.
pub fn step_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

fn skipped_record(step: &Step, prefix: &str) -> StepRecord {
    new_record(step, prefix, Status::Skipped)
}

fn new_record(step: &Step, prefix: &str, status: Status) -> StepRecord {
    StepRecord {
        name: step.name.clone(),
        path: step_path(prefix, &step.name),
        kind: step.kind,
        plugin: step.plugin.clone(),
        status,
        duration_us: 0,
        failure: None,
        identity: None,
        outputs: vec![],
        values: BTreeMap::new(),
        warnings: vec![],
        checks: vec![],
    }
}

/// Formats a duration in microseconds for people.
pub fn human_us(us: u64) -> String {
    crate::step::human(Duration::from_micros(us))
}
