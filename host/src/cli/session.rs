//! One run's machinery, shared by `step run`, `run` and `handle`: the inputs read
//! and checked first, the engine (prefetching the run's components), the cloud (the
//! simulated one, or AWS reached concurrently with the rest), the journal, and the
//! run environment.

use super::{parse_vars, RunOptions, TermSink};
use crate::caps::RunEnv;
use crate::cloud::sim::SimCloud;
use crate::cloud::{record, Cloud};
use crate::engine::{EngineOptions, Runtime};
use crate::grants::Policy;
use crate::journal::{new_run_id, CallRecord, Event, Journal, Keep};
use crate::providers::ProviderStore;
use crate::redact::Redactor;
use crate::run::RunBuilder;
use crate::sandbox::Limits;
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// `~/.local/state/scope-host/runs/<id>.jsonl` (or under $SCOPE_HOST_STATE / $XDG_STATE_HOME).
fn default_journal(run_id: &str) -> PathBuf {
    let base = std::env::var_os("SCOPE_HOST_STATE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_STATE_HOME").map(|d| PathBuf::from(d).join("scope-host")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/scope-host")))
        .unwrap_or_else(|| PathBuf::from(".scope-host"));
    base.join("runs").join(format!("{run_id}.jsonl"))
}

pub(crate) fn load_policy(file: Option<&Path>, grants: &[String]) -> Result<Policy> {
    if file.is_none() && grants.is_empty() {
        return Ok(Policy::allow_all());
    }
    let mut policy = match file {
        Some(f) => Policy::from_file(f)?,
        None => Policy { allow: vec![] },
    };
    policy.extend(Policy::from_flags(grants)?);
    Ok(policy)
}

/// What the journal says when no operator policy was given (every plugin is granted
/// what it declares), or None when one was; against AWS that needs
/// `--grant-declared`, else it is refused.
pub(crate) fn policy_note(file: Option<&Path>, grants: &[String], grant_declared: bool, cloud: &str) -> Result<Option<String>> {
    if file.is_some() || !grants.is_empty() {
        return Ok(None);
    }
    if cloud == "aws" && !grant_declared {
        bail!(
            "against AWS an operator policy is required: pass --policy FILE or --grant ACTION[=RESOURCE] \
(`scope-host plugin inspect PLUGIN` lists what a plugin declares), or --grant-declared to grant every plugin whatever \
its manifest declares"
        );
    }
    Ok(Some(format!(
        "operator policy: none given; every plugin is granted what its manifest declares{}",
        if grant_declared {
            " (--grant-declared)"
        } else {
            " (simulated cloud)"
        }
    )))
}

/// One run's machinery, built from the shared options: the engine, the simulated
/// cloud, the run environment with its journal, and the starting variables.
pub(super) struct Session {
    pub runtime: Arc<Runtime>,
    /// The simulated cloud, when the run uses it.
    pub sim: Option<Arc<SimCloud>>,
    pub env: Arc<RunEnv>,
    pub journal: Arc<Journal>,
    pub journal_path: PathBuf,
    pub redactor: Redactor,
    /// `--var` and `--secret-var`.
    pub vars: BTreeMap<String, String>,
    pub context: Arc<str>,
    pub limits: Limits,
    /// The first step's sandbox, made while the cloud was being reached.
    pub first: Option<crate::step::Prepared>,
    started: Instant,
    /// `--record`: where to, and what the run learnt.
    recorder: Option<(PathBuf, record::Recorder)>,
    /// `--plan`: the changes the run found, and what it was given.
    pub plan: Option<crate::cloud::plan::Plan>,
    /// Applying a plan: how far it got.
    pub applying: Option<crate::cloud::plan::Plan>,
    pub inputs: record::Inputs,
    target: String,
}

/// What a session's run does with the cloud.
#[derive(Clone, Debug)]
pub(super) enum RunMode {
    /// Reads and changes it.
    Normal,
    /// Reads it and plans the changes on a simulated copy (`--plan`).
    Plan,
    /// Makes only the changes of a plan, in its order (`scope-host apply`).
    Apply(Arc<Vec<crate::cloud::plan::PlannedChange>>),
}

/// A session being opened: the inputs read and checked, and the cloud on its way
/// (the simulated one built, AWS being reached on a task of its own). The caller
/// does its own reading (the workflow's YAML) meanwhile, then calls [`Opening::open`].
pub(super) struct Opening<'o> {
    opts: &'o RunOptions,
    target: String,
    started: Instant,
    vars: BTreeMap<String, String>,
    secret_vars: BTreeMap<String, String>,
    context: serde_json::Value,
    providers: ProviderStore,
    policy: Policy,
    /// What the journal says about the policy when none was given.
    policy_note: Option<String>,
    sim: Option<Arc<SimCloud>>,
    reaching: Option<tokio::task::JoinHandle<Result<Reached, crate::cloud::CloudError>>>,
    /// The engine being built on a thread of its own.
    building: Option<std::thread::JoinHandle<Result<Runtime>>>,
    /// What the run was given, for a plan's file.
    inputs: record::Inputs,
    /// What the run does with the cloud.
    pub mode: RunMode,
    /// No live output, and a journal of its own (a plan made to check a saved one).
    quiet: bool,
}

/// Builds the engine for a run of `opts`: the pooling allocator's memory slots must
/// be able to hold the step's cap.
fn build_runtime(engine: &super::EngineArgs, memory: usize) -> Result<Runtime> {
    engine.runtime_with(EngineOptions {
        max_memory_bytes: memory.max(EngineOptions::default().max_memory_bytes),
        ..EngineOptions::default()
    })
}

/// The AWS SDK's configuration (environment, profile files, the credential chain's
/// set-up: local work, no call), loading on a task of its own from the moment the
/// command starts, so that it is ready once the inputs are read and checked.
pub(super) struct CloudLoading(Option<tokio::task::JoinHandle<Result<crate::cloud::aws::AwsCloud, crate::cloud::CloudError>>>);

/// AWS as reached: the cloud (wrapped by the recorder with --record), the agent's
/// answer, and the recorder.
type Reached = (
    Cloud,
    TimedAgent,
    Option<(PathBuf, record::Recorder)>,
    Option<crate::cloud::plan::Plan>,
);

impl Session {
    /// Starts loading the SDK's configuration when the run goes to AWS; call it
    /// first thing, before reading the command's inputs. Must run inside the runtime.
    pub(super) fn prepare(opts: &RunOptions) -> CloudLoading {
        if opts.cloud != "aws" {
            return CloudLoading(None);
        }
        let options = crate::cloud::aws::AwsOptions {
            endpoint_url: opts.endpoint_url.clone(),
            region: opts.region.clone(),
            ..Default::default()
        };
        CloudLoading(Some(tokio::spawn(crate::cloud::aws::AwsCloud::new(options))))
    }

    /// Reads and checks the inputs given on the command line (so bad input fails
    /// before anything runs), then starts on the cloud. A `context` given here (from
    /// a notification) is used when --context is absent.
    ///
    /// Reaching AWS (the agent's GetCallerIdentity, on the configuration `loading`
    /// since [`Session::prepare`]) takes milliseconds of waiting: it starts here, on a
    /// task of its own, so that the workflow's YAML, the engine and the journal are
    /// ready by the time it answers.
    pub(super) fn begin<'o>(
        opts: &'o RunOptions,
        loading: CloudLoading,
        target: &str,
        fallback_context: Option<serde_json::Value>,
    ) -> Result<Opening<'o>> {
        let mode = if opts.planning() { RunMode::Plan } else { RunMode::Normal };
        Session::begin_as(opts, loading, target, fallback_context, mode)
    }

    /// [`Session::begin`] in `mode`.
    pub(super) fn begin_as<'o>(
        opts: &'o RunOptions,
        loading: CloudLoading,
        target: &str,
        fallback_context: Option<serde_json::Value>,
        mode: RunMode,
    ) -> Result<Opening<'o>> {
        let started = Instant::now();
        let vars = parse_vars(&opts.vars)?;
        let secret_vars = parse_vars(&opts.secret_vars)?;
        let context = match (&opts.context, fallback_context) {
            (Some(p), _) => crate::context::load(p)?,
            (None, Some(c)) => c,
            (None, None) => serde_json::json!({}),
        };
        let providers = match &opts.providers {
            Some(p) => ProviderStore::load(p)?,
            None => ProviderStore::default(),
        };
        if opts.endpoint_url.is_some() && opts.cloud != "aws" {
            bail!("--endpoint-url is for --cloud aws (the simulated cloud needs no endpoint)");
        }
        if opts.record.is_some() && opts.planning() {
            bail!("--record and --plan do not go together: a plan changes nothing, so record the run that applies it");
        }
        if opts.record.is_some() && opts.cloud != "aws" {
            bail!("--record records a run against AWS: add --cloud aws (the simulated cloud's state is saved with --dump-state)");
        }
        let policy = load_policy(opts.policy.as_deref(), &opts.grants)?;
        let inputs = record::Inputs::new(&context, &providers, &vars);
        let sim = match opts.cloud.as_str() {
            "aws" => {
                if opts.cloud_state.is_some() || opts.dump_state.is_some() {
                    bail!("--cloud-state and --dump-state belong to the simulated cloud; with --cloud aws the state is the account's");
                }
                None
            }
            _ => Some(Arc::new(match &opts.cloud_state {
                // A recording gets its accounts back from this run's inputs.
                Some(p) => record::load_sim(p, &inputs)?,
                None => SimCloud::new_empty(),
            })),
        };
        let policy_note = policy_note(opts.policy.as_deref(), &opts.grants, opts.grant_declared, &opts.cloud)?;
        // `loading` is there exactly when the run goes to AWS, that is without `sim`.
        let planning = matches!(mode, RunMode::Plan);
        let plan_inputs = inputs.clone();
        let reaching = loading.0.map(|loading| {
            let record_to = opts.record.clone();
            let target = target.to_owned();
            tokio::spawn(async move {
                let aws = loading.await.map_err(|e| crate::cloud::CloudError {
                    service: "sts".into(),
                    operation: "Configure".into(),
                    code: "Internal".into(),
                    message: format!("loading the SDK configuration stopped: {e}"),
                    request_id: None,
                    retryable: false,
                })??;
                let aws = Cloud::of(Arc::new(aws));
                // With --record every call, the agent's identity included, goes
                // through the recorder.
                let (cloud, recorder, plan): (Cloud, _, _) = match record_to {
                    Some(path) => {
                        let (cloud, r) = record::record(aws, inputs, &target);
                        (cloud, Some((path, r)), None)
                    }
                    None if planning => {
                        let (cloud, plan) = crate::cloud::plan::plan(aws, inputs, &target);
                        (cloud, None, Some(plan))
                    }
                    None => (aws, None, None),
                };
                let agent = TimedAgent::ask(&cloud).await;
                Ok((cloud, agent, recorder, plan))
            })
        });
        // The engine (its instance pool and the linker of every host interface, a
        // millisecond of work) is built meanwhile; only the run's components need it.
        // It starts after the cloud is on its way, which it would slow down on a
        // machine with few cores.
        let (engine, memory) = (opts.engine.clone(), opts.memory);
        let building = std::thread::Builder::new()
            .name("scope-host-engine".into())
            .spawn(move || build_runtime(&engine, memory))
            .ok();
        Ok(Opening {
            opts,
            target: target.to_owned(),
            started,
            vars,
            secret_vars,
            context,
            providers,
            policy,
            policy_note,
            sim,
            reaching,
            building,
            inputs: plan_inputs,
            mode,
            quiet: false,
        })
    }

    /// [`Session::begin`] and [`Opening::open`] in one go.
    pub(super) async fn open(
        opts: &RunOptions,
        target: &str,
        fallback_context: Option<serde_json::Value>,
        prefetch: Vec<PathBuf>,
    ) -> Result<Session> {
        Session::begin(opts, Session::prepare(opts), target, fallback_context)?
            .open(prefetch, None)
            .await
    }

    /// Closes the record and writes the cloud state when asked; returns the calls made.
    pub(super) fn finish(&self, ok: bool, dump_state: Option<&Path>, plan_out: Option<&Path>) -> Result<Vec<CallRecord>> {
        let outcome = match self.env.cancel().stopped() {
            Some(why) => why.outcome(),
            None if ok => "ok",
            None => "failed",
        };
        self.journal.record(Event::RunFinished {
            outcome: outcome.into(),
            duration_us: self.started.elapsed().as_micros() as u64,
        });
        if let (Some(path), Some(sim)) = (dump_state, &self.sim) {
            // Secret values the run knows (e.g. secret parameters in a function's
            // environment) are masked in the file too.
            let state = serde_json::to_string_pretty(&self.redactor.redact_json(&sim.dump_json()))?;
            std::fs::write(path, state + "\n")
                .map_err(|e| super::exit::environment(format!("writing the cloud state to {}: {e}", path.display())))?;
        }
        if let (Some(plan), Some(path)) = (&self.plan, plan_out) {
            let command = super::replayable_command();
            let doc = crate::cloud::plan::document(plan, &self.inputs, &self.target, self.env.cloud().backend(), ok, &command);
            let text = serde_json::to_string_pretty(&self.redactor.redact_json(&doc))? + "\n";
            std::fs::write(path, text).map_err(|e| super::exit::environment(format!("writing the plan to {}: {e}", path.display())))?;
        }
        let calls = self.journal.calls();
        if let Some((path, recorder)) = &self.recorder {
            for note in recorder.write(path, ok, &calls, &self.redactor)? {
                errln!("note: --record: {note}");
            }
        }
        Ok(calls)
    }

    /// Ends the session as the command is about to exit, without tearing it down:
    /// unmapping the engine's instance pool and compiled components and closing the
    /// SDK's connections one by one took a millisecond of every run, and the kernel
    /// reclaims all of it when the process exits anyway. The recording and cloud
    /// state were written by [`Session::finish`]; the journal is flushed here once
    /// more, for anything recorded since.
    pub(super) fn leave_to_exit(self) {
        self.journal.flush();
        std::mem::forget(self);
    }
}

impl<'o> Opening<'o> {
    /// Another opening of the same run as a quiet plan: to check that a saved plan
    /// still holds before applying it.
    pub(super) fn verification(&self) -> Result<Opening<'o>> {
        let mut opening = Session::begin_as(
            self.opts,
            Session::prepare(self.opts),
            &self.target,
            Some(self.context.clone()),
            RunMode::Plan,
        )?;
        opening.quiet = true;
        Ok(opening)
    }
}

impl Opening<'_> {
    /// Builds the engine (prefetching `prefetch`, the component files the run will
    /// load, on a thread of its own), opens the journal, makes the sandbox of the
    /// `first` step (its name and component file), and waits for the cloud.
    pub(super) async fn open(self, prefetch: Vec<PathBuf>, first: Option<(String, PathBuf)>) -> Result<Session> {
        let opts = self.opts;
        let (context, sim, mut vars) = (self.context, self.sim, self.vars);
        let runtime = Arc::new(match self.building.map(std::thread::JoinHandle::join) {
            Some(Ok(built)) => built.map_err(|e| super::exit::environment(format!("{e:#}")))?,
            Some(Err(_)) => return Err(super::exit::environment("starting the WebAssembly engine: its thread panicked")),
            None => build_runtime(&opts.engine, opts.memory).map_err(|e| super::exit::environment(format!("{e:#}")))?,
        });
        runtime.prefetch(prefetch);
        let run_id = new_run_id();
        let journal_path = match (&opts.journal, self.quiet) {
            (Some(path), false) => path.clone(),
            _ => default_journal(&run_id),
        };
        let redactor = Redactor::new();
        crate::context::register_secrets(&context, &redactor);
        for (name, value) in self.secret_vars {
            if !redactor.add(&value) {
                errln!("warning: --secret-var {name} is shorter than 4 characters and cannot be redacted reliably");
            }
            vars.insert(name, value);
        }
        let journal = Arc::new(Journal::to_file_keeping(&journal_path, redactor.clone(), Keep::Calls).map_err(|e| {
            super::exit::environment(format!(
                "creating the journal {}: {e} (choose another place with --journal FILE or $SCOPE_HOST_STATE)",
                journal_path.display()
            ))
        })?);
        let context_text: Arc<str> = context.to_string().into();
        let limits = Limits {
            deadline: opts.timeout,
            memory_bytes: opts.memory,
            ..Limits::default()
        };
        // The sandbox's host side is made afresh when the step starts (see
        // step::prepare), so a stand-in environment serves until the cloud answers.
        let first = match first {
            Some((name, path)) => {
                // Off the async path: the cloud is being reached meanwhile.
                let loader = runtime.clone();
                let loaded = tokio::task::spawn_blocking(move || loader.load_file(&path)).await;
                match loaded {
                    Ok(Ok(plugin)) => {
                        let cloud = Cloud::of(match &sim {
                            Some(sim) => sim.clone(),
                            None => Arc::new(SimCloud::new_empty()),
                        });
                        let stand_in = RunBuilder::new(cloud).build_now();
                        crate::step::prepare(&stand_in, &name, plugin, context_text.clone(), &limits).await
                    }
                    // The step reports why when its turn comes.
                    Ok(Err(_)) | Err(_) => None,
                }
            }
            None => None,
        };
        let (cloud, agent, recorder, plan) = match (&sim, self.reaching) {
            (Some(sim), _) => {
                let (cloud, plan) = match matches!(self.mode, RunMode::Plan) {
                    true => {
                        let (cloud, plan) = crate::cloud::plan::plan(Cloud::of(sim.clone()), self.inputs.clone(), &self.target);
                        (cloud, Some(plan))
                    }
                    false => (Cloud::of(sim.clone()), None),
                };
                let agent = TimedAgent::ask(&cloud).await;
                (cloud, agent, None, plan)
            }
            (None, Some(reaching)) => reaching
                .await
                .map_err(|e| super::exit::environment(format!("reaching AWS: {e}")))?
                .map_err(|e| super::exit::environment(format!("connecting to AWS: {e}")))?,
            (None, None) => unreachable!("AWS is reached whenever the simulated cloud is not used"),
        };
        let (cloud, applying) = match &self.mode {
            RunMode::Apply(changes) => {
                let (cloud, applying) = crate::cloud::plan::apply(cloud, changes.to_vec(), redactor.clone());
                (cloud, Some(applying))
            }
            _ => (cloud, None),
        };
        journal.record(Event::RunStarted {
            run_id,
            backend: cloud.backend().into(),
            target: self.target.clone(),
        });
        if plan.is_some() {
            journal.record(Event::Log {
                step: "(host)".into(),
                level: "info".into(),
                message: "plan: reads go to the cloud, changes to a simulated copy (calls marked `planned` never reached it); \
                          role sessions are read-only; platform reports go to the simulated platform"
                    .into(),
            });
        }
        if let Some(note) = self.policy_note {
            journal.record(Event::Log {
                step: "(host)".into(),
                level: "warn".into(),
                message: note,
            });
        }
        let agent = agent.record(&journal).inspect_err(|_| {
            journal.record(Event::RunFinished {
                outcome: "failed".into(),
                duration_us: self.started.elapsed().as_micros() as u64,
            });
        })?;
        // --region, else the scope's own region (context or provider data), else the cloud's.
        let region = opts.region.clone().or_else(|| self.providers.scope_region(&context));
        let mut builder = RunBuilder::new(cloud.clone())
            .agent(agent)
            .redactor(redactor.clone())
            .journal(journal.clone())
            .policy(self.policy)
            .providers(self.providers)
            .sink(match self.quiet {
                true => Arc::new(crate::caps::NullSink) as Arc<dyn crate::caps::LogSink>,
                false => Arc::new(TermSink { to_stderr: opts.json }),
            });
        if let Some(region) = region {
            builder = builder.region(region);
        }
        builder = builder.platform(match plan {
            // A plan changes nothing, the platform's records included.
            Some(_) => crate::platform::choose(None, &redactor),
            None => platform(opts, &redactor),
        });
        if let Some(plan) = &plan {
            builder = builder.plan(plan.clone());
        }
        let cancel = crate::cancel::Cancel::new();
        stop_on_signals(cancel.clone(), journal.clone());
        let env = builder.cancel(cancel).build_now();
        Ok(Session {
            runtime,
            sim,
            env,
            journal,
            journal_path,
            redactor,
            vars,
            context: context_text,
            limits,
            first,
            started: self.started,
            recorder,
            plan,
            applying,
            inputs: self.inputs,
            target: self.target,
        })
    }
}

/// The platform of `--platform` (`handle` chooses np under the platform's agent
/// against AWS); the simulated one when none is named.
fn platform(opts: &super::RunOptions, redactor: &Redactor) -> Arc<dyn crate::platform::PlatformApi> {
    let np = (opts.platform.as_deref() == Some("np")).then_some(opts.np.as_path());
    crate::platform::choose(np, redactor)
}

/// sts GetCallerIdentity with the agent's own credentials, timed; journaled like
/// every cloud call (as the host's, before any step) once the journal exists, so a
/// run that cannot start on bad credentials still leaves a record of why.
struct TimedAgent {
    answer: crate::cloud::CloudResult<crate::cloud::Identity>,
    duration_us: u64,
}

impl TimedAgent {
    async fn ask(cloud: &Cloud) -> TimedAgent {
        let started = Instant::now();
        let answer = cloud.agent_identity().await;
        TimedAgent {
            answer,
            duration_us: started.elapsed().as_micros() as u64,
        }
    }

    fn record(self, journal: &Journal) -> Result<crate::cloud::Identity> {
        let identity = match &self.answer {
            Ok(reply) => reply.value.arn.as_str(),
            Err(_) => "(credential chain)",
        };
        let record = CallRecord::answered(
            "(host)",
            ("sts", "GetCallerIdentity"),
            "*",
            identity,
            &self.answer,
            self.duration_us,
        );
        journal.record(Event::Call(record));
        self.answer
            .map(|reply| reply.value)
            .map_err(|e| super::exit::environment(format!("asking the cloud who the agent is: {e}")))
    }
}

/// Ctrl-C (SIGINT) or SIGTERM stops the run: the running step ends at its next host
/// call or tick, no later step starts, and the command still writes the end of the
/// record and its summary. A second signal quits at once, the record flushed first.
fn stop_on_signals(cancel: crate::cancel::Cancel, journal: Arc<Journal>) {
    use crate::cancel::Stop;
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        // Without handlers the signals keep their default: the process ends.
        return;
    };
    tokio::spawn(async move {
        loop {
            let why = tokio::select! {
                _ = int.recv() => Stop::Interrupt,
                _ = term.recv() => Stop::Terminate,
            };
            if cancel.stop(why) {
                journal.record(Event::Log {
                    step: "(host)".into(),
                    level: "warn".into(),
                    message: format!("the run was {}: stopping the running step at its next host call", why.describe()),
                });
                errln!(
                    "\n⏹ {}: the running step stops at its next host call; press Ctrl-C again to quit at once",
                    why.describe()
                );
            } else {
                journal.record(Event::RunFinished {
                    outcome: why.outcome().into(),
                    duration_us: 0,
                });
                journal.flush();
                errln!("⏹ quitting at once; the record ends here");
                std::process::exit(exit_code_of(why).into());
            }
        }
    });
}

/// 128 + the signal's number, as shells report a process a signal ended.
pub(super) fn exit_code_of(why: crate::cancel::Stop) -> u8 {
    match why {
        crate::cancel::Stop::Interrupt => 130,
        crate::cancel::Stop::Terminate => 143,
        crate::cancel::Stop::Cancel => 1,
    }
}
