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
use crate::journal::{new_run_id, CallRecord, Event, Journal};
use crate::providers::ProviderStore;
use crate::redact::Redactor;
use crate::sandbox::Limits;
use anyhow::{bail, Context as _, Result};
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
    started: Instant,
    /// `--record`: where to, and what the run learnt.
    recorder: Option<(PathBuf, record::Recorder)>,
}

impl Session {
    /// Reads every input first, so bad input fails before anything runs. A
    /// `context` given here (from a notification) is used when --context is absent.
    /// `prefetch`: component files the run will load, loaded on a thread of their
    /// own from here on, while the cloud is being reached.
    pub(super) async fn open(
        opts: &RunOptions,
        target: &str,
        fallback_context: Option<serde_json::Value>,
        prefetch: Vec<PathBuf>,
    ) -> Result<Session> {
        let started = Instant::now();
        let mut vars = parse_vars(&opts.vars)?;
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
        if opts.record.is_some() && opts.cloud != "aws" {
            bail!("--record records a run against AWS: add --cloud aws (the simulated cloud's state is saved with --dump-state)");
        }
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
        // Reaching AWS (the SDK's configuration, its TLS roots, the agent's
        // GetCallerIdentity) takes milliseconds of its own: start it now and build
        // the engine and read the rest of the inputs meanwhile.
        let reaching = sim.is_none().then(|| {
            let options = crate::cloud::aws::AwsOptions {
                endpoint_url: opts.endpoint_url.clone(),
                region: opts.region.clone(),
                ..Default::default()
            };
            let record_to = opts.record.clone();
            let (inputs, target) = (inputs, target.to_owned());
            tokio::spawn(async move {
                let aws: Arc<dyn Cloud> = Arc::new(crate::cloud::aws::AwsCloud::new(options).await?);
                // With --record every call, the agent's identity included, goes
                // through the recorder.
                let (cloud, recorder): (Arc<dyn Cloud>, _) = match record_to {
                    Some(path) => {
                        let (cloud, r) = record::record(aws, inputs, &target);
                        (cloud, Some((path, r)))
                    }
                    None => (aws, None),
                };
                let agent = TimedAgent::ask(cloud.as_ref()).await;
                Ok::<_, crate::cloud::CloudError>((cloud, agent, recorder))
            })
        });
        let policy = load_policy(opts.policy.as_deref(), &opts.grants)?;
        // The pooling allocator's memory slots must be able to hold the step's cap.
        let runtime = Arc::new(opts.engine.runtime_with(EngineOptions {
            max_memory_bytes: opts.memory.max(EngineOptions::default().max_memory_bytes),
            ..EngineOptions::default()
        })?);
        runtime.prefetch(prefetch);
        let run_id = new_run_id();
        let journal_path = opts.journal.clone().unwrap_or_else(|| default_journal(&run_id));
        let redactor = Redactor::new();
        crate::context::register_secrets(&context, &redactor);
        for (name, value) in secret_vars {
            if !redactor.add(&value) {
                eprintln!("warning: --secret-var {name} is shorter than 4 characters and cannot be redacted reliably");
            }
            vars.insert(name, value);
        }
        let journal = Arc::new(
            Journal::to_file(&journal_path, redactor.clone())
                .with_context(|| format!("creating the journal {}", journal_path.display()))?,
        );
        let (cloud, agent, recorder) = match (&sim, reaching) {
            (Some(sim), _) => {
                let cloud: Arc<dyn Cloud> = sim.clone();
                let agent = TimedAgent::ask(cloud.as_ref()).await;
                (cloud, agent, None)
            }
            (None, Some(reaching)) => reaching
                .await
                .context("reaching AWS")?
                .map_err(|e| anyhow::anyhow!("connecting to AWS: {e}"))?,
            (None, None) => unreachable!("AWS is reached whenever the simulated cloud is not used"),
        };
        journal.record(Event::RunStarted {
            run_id,
            backend: cloud.backend().into(),
            target: target.to_owned(),
        });
        let agent = agent.record(&journal).inspect_err(|_| {
            journal.record(Event::RunFinished {
                outcome: "failed".into(),
                duration_us: started.elapsed().as_micros() as u64,
            });
        })?;
        let mut env = RunEnv::with_agent(cloud.clone(), agent);
        env.redactor = redactor.clone();
        env.journal = journal.clone();
        env.policy = Arc::new(policy);
        env.providers = Arc::new(providers);
        env.sink = Arc::new(TermSink { to_stderr: opts.json });
        // --region, else the scope's own region (context or provider data), else the cloud's.
        if let Some(region) = opts.region.clone().or_else(|| env.providers.scope_region(&context)) {
            env.region = region;
        }
        let limits = Limits {
            deadline: opts.timeout,
            memory_bytes: opts.memory,
            ..Limits::default()
        };
        Ok(Session {
            runtime,
            sim,
            env: Arc::new(env),
            journal,
            journal_path,
            redactor,
            vars,
            context: context.to_string().into(),
            limits,
            started,
            recorder,
        })
    }

    /// Closes the record and writes the cloud state when asked; returns the calls made.
    pub(super) fn finish(&self, ok: bool, dump_state: Option<&Path>) -> Result<Vec<serde_json::Value>> {
        self.journal.record(Event::RunFinished {
            outcome: if ok { "ok".into() } else { "failed".into() },
            duration_us: self.started.elapsed().as_micros() as u64,
        });
        if let (Some(path), Some(sim)) = (dump_state, &self.sim) {
            // Secret values the run knows (e.g. secret parameters in a function's
            // environment) are masked in the file too.
            let state = serde_json::to_string_pretty(&self.redactor.redact_json(&sim.dump_json()))?;
            std::fs::write(path, state + "\n").with_context(|| format!("writing the cloud state to {}", path.display()))?;
        }
        let calls: Vec<serde_json::Value> = self.journal.entries().into_iter().filter(|e| e["event"] == "call").collect();
        if let Some((path, recorder)) = &self.recorder {
            for note in recorder.write(path, ok, &calls, &self.redactor)? {
                eprintln!("note: --record: {note}");
            }
        }
        Ok(calls)
    }
}

/// sts GetCallerIdentity with the agent's own credentials, timed; journaled like
/// every cloud call (as the host's, before any step) once the journal exists, so a
/// run that cannot start on bad credentials still leaves a record of why.
struct TimedAgent {
    answer: crate::cloud::CloudResult<crate::cloud::Identity>,
    duration_us: u64,
}

impl TimedAgent {
    async fn ask(cloud: &dyn Cloud) -> TimedAgent {
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
            .map_err(|e| anyhow::anyhow!("asking the cloud who the agent is: {e}"))
    }
}
