//! `scope-host agent` (the long-running service) and `scope-host runs` (its runs,
//! read from the same store).

use super::{parse_vars, EngineArgs};
use crate::agent::api::{router, Api};
use crate::agent::auth::Tokens;
use crate::agent::scheduler::Scheduler;
use crate::agent::store::{self, CancelAnswer, RunFilter, RunState, Store};
use crate::agent::{Settings, Shared};
use crate::cloud::sim::SimCloud;
use crate::cloud::Cloud;
use crate::engine::EngineOptions;
use crate::providers::ProviderStore;
use crate::sandbox::Limits;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub(crate) struct AgentArgs {
    /// Where the API listens. Any address but loopback needs API tokens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8480", env = "SCOPE_HOST_LISTEN")]
    listen: SocketAddr,
    /// The store: sqlite:PATH (created if missing; one agent per file), or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, shared by a fleet of agents
    /// (each opens --concurrency + 3 connections). Prefer the environment variable
    /// for a URL with a password: arguments are visible to every local user.
    #[arg(long, value_name = "URL", env = "SCOPE_HOST_DATABASE")]
    database: String,
    /// The service folder holding deployment/, scope/, log/, metric/ and instance/ workflows.
    #[arg(long, value_name = "DIR", env = "SCOPE_HOST_SERVICE_PATH")]
    service_path: PathBuf,
    /// A folder with the same layout whose workflow files are applied as overrides
    /// (repeatable, or a comma-separated list).
    #[arg(long = "overrides-path", value_name = "DIR", value_delimiter = ',', value_parser = super::trimmed_path)]
    overrides_path: Vec<PathBuf>,
    /// A values file (repeatable).
    #[arg(long = "values", value_name = "YAML")]
    values: Vec<PathBuf>,
    /// A folder of plugins, searched first (repeatable).
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
    /// Provider data: a JSON file, or a folder of JSON files.
    #[arg(long, value_name = "FILE|DIR", env = "SCOPE_HOST_PROVIDERS")]
    providers: Option<PathBuf>,
    /// The cloud: `sim` (one simulated account shared by every run of the process,
    /// as AWS would be) or `aws`.
    #[arg(long, value_name = "sim|aws", default_value = "sim", value_parser = ["sim", "aws"], env = "SCOPE_HOST_CLOUD")]
    cloud: String,
    /// With --cloud aws: send every call to this endpoint (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Seed the simulated cloud from this fixture [default: an empty account].
    #[arg(long, value_name = "JSON", env = "SCOPE_HOST_CLOUD_STATE")]
    cloud_state: Option<PathBuf>,
    /// The platform steps report to: `np` (the platform's CLI, its key in
    /// NP_API_KEY) or `sim` [default: sim].
    #[arg(long, value_name = "np|sim", value_parser = ["np", "sim"], env = "SCOPE_HOST_PLATFORM")]
    platform: Option<String>,
    /// The platform's CLI, for --platform np.
    #[arg(long = "np", value_name = "PATH", default_value = "np", env = "SCOPE_HOST_NP")]
    np: PathBuf,
    /// Operator policy file (as for `handle`).
    #[arg(long, value_name = "JSON", env = "SCOPE_HOST_POLICY")]
    policy: Option<PathBuf>,
    /// Grant ACTION[=RESOURCE-PATTERN] (repeatable; adds to --policy).
    #[arg(long = "grant", value_name = "ACTION[=RESOURCE]")]
    grants: Vec<String>,
    /// With --cloud aws and no --policy or --grant: grant every plugin what its
    /// manifest declares (journaled in every run).
    #[arg(long, conflicts_with_all = ["policy", "grants"], env = "SCOPE_HOST_GRANT_DECLARED", value_parser = clap::builder::FalseyValueParser::new())]
    grant_declared: bool,
    /// Region of the calls [default: each scope's, else the credential chain's].
    #[arg(long, env = "SCOPE_HOST_REGION")]
    region: Option<String>,
    /// A variable every run starts with, NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Each step's deadline (10ms to 24h).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = super::exit::parse_timeout)]
    timeout: Duration,
    /// Each step's memory cap (1MiB to 4GiB).
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = super::exit::parse_memory)]
    memory: usize,
    /// Runs at once (different scopes; a scope's runs go one at a time).
    #[arg(long, value_name = "N", default_value = "4", value_parser = clap::value_parser!(u32).range(1..=256))]
    concurrency: u32,
    /// Notifications waiting to run before new ones are refused (429).
    #[arg(long, value_name = "N", default_value = "1000")]
    max_queued: u64,
    /// Times a run is started (the first time, and after each crash of the agent
    /// running it) before it ends `interrupted`.
    #[arg(long, value_name = "N", default_value = "3", value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
    /// How long a claimed run is held without a heartbeat before another agent
    /// (or this one, restarted) may take it over.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    lease: Duration,
    /// How often the store is asked for work when nothing wakes the agent (a
    /// notification it took, a run ending, or — on PostgreSQL — another replica's
    /// NOTIFY): how soon a lease that expired is seen.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = humantime::parse_duration)]
    poll: Duration,
    /// On SIGTERM or SIGINT: how long running steps may take to finish before they
    /// are stopped (their runs resume at the next start either way).
    #[arg(long, value_name = "DURATION", default_value = "25s", value_parser = humantime::parse_duration)]
    grace: Duration,
    /// The largest notification accepted (413 beyond it).
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = super::exit::parse_memory)]
    max_body: usize,
    /// A file of API token hashes: SHA-256, 64 hex digits per line (`printf %s
    /// TOKEN | sha256sum`). Also SCOPE_HOST_AGENT_TOKENS (comma-separated hashes).
    /// Required when --listen is not a loopback address.
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

/// The token hashes from --tokens and SCOPE_HOST_AGENT_TOKENS.
fn load_tokens(file: Option<&Path>) -> Result<Tokens> {
    let mut text = String::new();
    if let Some(f) = file {
        text = std::fs::read_to_string(f).with_context(|| format!("reading the token hashes {}", f.display()))?;
        Tokens::parse(&text, &f.display().to_string()).map_err(|e| anyhow::anyhow!(e))?;
    }
    if let Ok(env) = std::env::var("SCOPE_HOST_AGENT_TOKENS") {
        Tokens::parse(&env, "SCOPE_HOST_AGENT_TOKENS").map_err(|e| anyhow::anyhow!(e))?;
        text.push('\n');
        text.push_str(&env);
    }
    Tokens::parse(&text, "the token hashes").map_err(|e| anyhow::anyhow!(e))
}

pub(crate) async fn agent(args: AgentArgs) -> Result<ExitCode> {
    let tokens = load_tokens(args.tokens.as_deref())?;
    if tokens.is_empty() && !args.listen.ip().is_loopback() {
        bail!(
            "--listen {} is not a loopback address: API tokens are required (--tokens FILE or SCOPE_HOST_AGENT_TOKENS, \
             SHA-256 hashes of the tokens)",
            args.listen
        );
    }
    let service = std::path::absolute(&args.service_path).unwrap_or_else(|_| args.service_path.clone());
    if crate::workflow::dispatch::service_workflows(&service).is_empty() {
        bail!(
            "{} holds no workflows (expected <family>/workflows/*.yaml): --service-path names the service folder",
            service.display()
        );
    }
    if args.endpoint_url.is_some() && args.cloud != "aws" {
        bail!("--endpoint-url is for --cloud aws (the simulated cloud needs no endpoint)");
    }
    let settings = settings_from(&args, &service)?;
    let (providers, vars) = (settings.providers.clone(), settings.vars.clone());
    let store = store::open(&args.database, store::postgres::pool_size(args.concurrency))
        .await
        .map_err(|e| match e {
            store::StoreError::Schema(_) => anyhow::anyhow!(e),
            other => super::exit::environment(other.to_string()),
        })?;
    let cloud = match args.cloud.as_str() {
        "aws" => {
            let aws = crate::cloud::aws::AwsCloud::new(crate::cloud::aws::AwsOptions {
                endpoint_url: args.endpoint_url.clone(),
                region: args.region.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| super::exit::environment(format!("connecting to AWS: {e}")))?;
            Cloud::of(Arc::new(aws))
        }
        _ => Cloud::of(Arc::new(match &args.cloud_state {
            Some(p) => crate::cloud::record::load_sim(p, &crate::cloud::record::Inputs::new(&serde_json::json!({}), &providers, &vars))?,
            None => SimCloud::new_empty(),
        })),
    };
    let agent = cloud
        .agent_identity()
        .await
        .map_err(|e| super::exit::environment(format!("asking the cloud who the agent is: {e}")))?
        .value;
    let runtime = Arc::new(
        args.engine
            .runtime_for_agent(EngineOptions {
                max_memory_bytes: args.memory.max(EngineOptions::default().max_memory_bytes),
                ..EngineOptions::default()
            })
            .map_err(|e| super::exit::environment(format!("{e:#}")))?,
    );
    let shared = Arc::new(Shared::new(
        runtime.clone(),
        cloud,
        agent.clone(),
        store,
        settings,
        args.lease,
        args.max_attempts,
    ));
    let scheduler = Scheduler::new(shared.clone(), args.concurrency, args.poll);
    let api = Arc::new(Api {
        scheduler: scheduler.clone(),
        tokens: std::sync::RwLock::new(tokens),
        max_queued: args.max_queued,
        max_body: args.max_body,
        warmed: std::sync::atomic::AtomicBool::new(false),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| super::exit::environment(format!("listening on {}: {e}", args.listen)))?;
    let bound = listener.local_addr()?;
    tracing::info!(
        listen = %bound,
        database = %redact_url(&args.database),
        agent = %agent.arn,
        owner = %shared.owner,
        concurrency = args.concurrency,
        "agent started"
    );
    // The address as bound (with --listen …:0, the port chosen), for whoever started it.
    errln!("scope-host agent listening on http://{bound} as {}", shared.owner);
    warm_up(&runtime, &service, &args.plugins, &args.values, api.clone());
    scheduler.start();
    let grace = args.grace;
    reload_on_change(Arc::new(args), service.clone(), shared.clone(), api.clone());
    let app = router(api).into_make_service_with_connect_info::<SocketAddr>();
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    wait_for_stop().await;
    // The API stops taking requests (followers of a run's events are let go) while
    // the runs in hand finish their steps.
    let _ = stopping.send(());
    scheduler.shutdown(grace, wait_for_stop()).await;
    match tokio::time::timeout(Duration::from_secs(5), serving).await {
        Ok(Ok(Err(e))) => return Err(super::exit::environment(format!("serving the API: {e}"))),
        Ok(_) => {}
        Err(_) => tracing::warn!("connections still open at exit were closed"),
    }
    tracing::info!("stopped");
    super::diagnostics::flush_traces();
    Ok(ExitCode::SUCCESS)
}

/// What a run is made of, from the command line and the files it names: read at
/// start and again on reload (SIGHUP, or a named file changed).
fn settings_from(args: &AgentArgs, service: &Path) -> Result<Settings> {
    let providers = match &args.providers {
        Some(p) => ProviderStore::load(p)?,
        None => ProviderStore::default(),
    };
    let vars = parse_vars(&args.vars)?;
    let policy = super::load_policy(args.policy.as_deref(), &args.grants)?;
    let policy_note = super::policy_note(args.policy.as_deref(), &args.grants, args.grant_declared, &args.cloud)?;
    Ok(Settings {
        service: service.to_path_buf(),
        overrides: args.overrides_path.clone(),
        values: args.values.clone(),
        plugins: args.plugins.clone(),
        policy,
        policy_note,
        providers,
        region: args.region.clone(),
        limits: Limits {
            deadline: args.timeout,
            memory_bytes: args.memory,
            ..Limits::default()
        },
        vars,
        np: (args.platform.as_deref() == Some("np")).then(|| args.np.clone()),
    })
}

/// The files whose change reloads the configuration, and their stamps.
fn watched(args: &AgentArgs) -> Vec<(PathBuf, Option<std::time::SystemTime>)> {
    [args.policy.as_ref(), args.tokens.as_ref(), args.providers.as_ref()]
        .into_iter()
        .flatten()
        .map(|p| (p.clone(), std::fs::metadata(p).and_then(|m| m.modified()).ok()))
        .collect()
}

/// Reloads the policy, the provider data and the token hashes on SIGHUP or when
/// one of their files changes (workflows, overrides, values and plugins are read
/// by every run already). A configuration that does not load is refused, logged
/// with why, and the one in force stays.
fn reload_on_change(args: Arc<AgentArgs>, service: PathBuf, shared: Arc<Shared>, api: Arc<Api>) {
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut stamps = watched(&args);
        loop {
            let why = tokio::select! {
                _ = async {
                    match hup.as_mut() {
                        Some(h) => { h.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => "SIGHUP",
                _ = tokio::time::sleep(Duration::from_secs(2)) => {
                    let now = watched(&args);
                    if now == stamps {
                        continue;
                    }
                    stamps = now;
                    "a configuration file changed"
                }
            };
            let loaded = settings_from(&args, &service).and_then(|s| Ok((s, load_tokens(args.tokens.as_deref())?)));
            match loaded {
                Ok((_, tokens)) if tokens.is_empty() && !args.listen.ip().is_loopback() => {
                    tracing::error!(
                        reason = why,
                        "reload refused: no API tokens left, and --listen is not loopback; the configuration in force stays"
                    );
                }
                Ok((settings, tokens)) => {
                    shared.replace_settings(settings);
                    *api.tokens.write().unwrap_or_else(|e| e.into_inner()) = tokens;
                    tracing::info!(reason = why, "configuration reloaded: runs starting from now use it");
                }
                Err(e) => {
                    tracing::error!(reason = why, error = %format!("{e:#}"), "reload refused: the configuration in force stays");
                }
            }
        }
    });
}

/// The database URL without a password.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// Compiles every plugin the service's workflows name (off the async path), then
/// marks the agent ready.
fn warm_up(runtime: &Arc<crate::engine::Runtime>, service: &Path, plugins: &[PathBuf], values: &[PathBuf], api: Arc<Api>) {
    let runtime = runtime.clone();
    let (service, plugins, values) = (service.to_path_buf(), plugins.to_vec(), values.to_vec());
    tokio::task::spawn_blocking(move || {
        let path = crate::workflow::plugins::PluginPath::new(&plugins, Some(&service));
        let base = std::collections::BTreeMap::from([("SERVICE_PATH".to_owned(), service.display().to_string())]);
        let mut files = std::collections::BTreeSet::new();
        for (_, file) in crate::workflow::dispatch::service_workflows(&service) {
            let source = crate::workflow::WorkflowSource {
                path: file,
                overrides: vec![],
                values: values.clone(),
            };
            if let Ok(wf) = crate::workflow::load(&source, &base) {
                files.extend(path.files_of(&wf));
            }
        }
        for file in &files {
            if let Err(e) = runtime.load_file(file) {
                tracing::warn!(plugin = %file.display(), error = %e, "a plugin of the service does not load");
            }
        }
        tracing::info!(plugins = files.len(), "plugins compiled: ready");
        api.warmed.store(true, std::sync::atomic::Ordering::SeqCst);
    });
}

/// SIGTERM or SIGINT.
async fn wait_for_stop() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

#[derive(Subcommand)]
pub(crate) enum RunsCommand {
    /// The newest runs, newest first.
    List {
        #[command(flatten)]
        db: DbArg,
        /// Only this scope's runs.
        #[arg(long)]
        scope: Option<String>,
        /// Only runs in this state (queued, running, succeeded, failed, cancelled, interrupted).
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value = "20")]
        limit: u32,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One run: state, attempts, steps with timings and outcomes.
    Show {
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// A run's journal; --jsonl writes it as the JSON-lines record `handle` writes.
    Events {
        id: String,
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        jsonl: bool,
    },
    /// Asks for a run to be cancelled (a queued run at once; a running one at its
    /// next host call, by the agent holding it).
    Cancel {
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Approves a planned run (posted with `?plan=true`; `runs show ID` lists its
    /// changes): it is queued again, checks that its plan still holds, and makes
    /// exactly the plan's changes.
    Approve {
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Args)]
pub(crate) struct DbArg {
    /// The agent's store: sqlite:PATH or postgres://… (read beside the running agents).
    #[arg(
        long,
        value_name = "URL",
        env = "SCOPE_HOST_DATABASE",
        required_unless_present = "agent",
        conflicts_with = "agent"
    )]
    database: Option<String>,
    /// A running agent's API instead: http://HOST:PORT (its token in
    /// SCOPE_HOST_AGENT_TOKEN when it requires one).
    #[arg(long, value_name = "URL")]
    agent: Option<String>,
}

async fn open_client(db: &DbArg) -> Result<Box<dyn Store>> {
    if let Some(url) = &db.agent {
        let token = std::env::var("SCOPE_HOST_AGENT_TOKEN").ok().filter(|t| !t.is_empty());
        return Ok(Box::new(crate::agent::client::ApiClient::new(url, token)?));
    }
    let url = db.database.as_deref().unwrap_or_default();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(store::postgres::PgStore::open_client(url).await?));
    }
    let Some(path) = store::sqlite_path(url) else {
        bail!("--database: expected sqlite:PATH (the file the agent was started with) or the fleet's postgres://… URL");
    };
    Ok(Box::new(store::sqlite::SqliteStore::open_client(path).await?))
}

pub(crate) async fn runs(command: RunsCommand) -> Result<ExitCode> {
    match command {
        RunsCommand::List {
            db,
            scope,
            state,
            limit,
            json,
        } => {
            let store = open_client(&db).await?;
            let state = match state.as_deref() {
                Some(s) => Some(RunState::parse(s).ok_or_else(|| anyhow::anyhow!("unknown state `{s}`"))?),
                None => None,
            };
            let runs = store
                .runs(&RunFilter {
                    scope,
                    state,
                    limit,
                    before: None,
                })
                .await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                outln!("{:<40} {:<12} {:<8} {:<28} {:>8}", "RUN", "STATE", "SCOPE", "WORKFLOW", "ATTEMPTS");
                for r in &runs {
                    outln!(
                        "{:<40} {:<12} {:<8} {:<28} {:>8}",
                        r.id,
                        r.state.as_str(),
                        r.scope.as_deref().unwrap_or("-"),
                        format!("{}/{}", r.family, r.workflow),
                        r.attempts
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Show { id, db } => {
            let store = open_client(&db).await?;
            match store.run(&id).await? {
                Some(run) => {
                    outln!("{}", serde_json::to_string_pretty(&run)?);
                    Ok(ExitCode::SUCCESS)
                }
                None => Err(anyhow::anyhow!("no run `{id}`")),
            }
        }
        RunsCommand::Events { id, db, jsonl } => {
            let store = open_client(&db).await?;
            if store.run(&id).await?.is_none() {
                return Err(anyhow::anyhow!("no run `{id}`"));
            }
            let entries = store.journal(&id, 0, u32::MAX).await?;
            if jsonl {
                for (_, e) in entries {
                    outln!("{e}");
                }
            } else {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&entries.into_iter().map(|(_, e)| e).collect::<Vec<_>>())?
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Cancel { id, db } => {
            let store = open_client(&db).await?;
            match store.request_cancel(&id).await? {
                CancelAnswer::Cancelled => outln!("{id}: cancelled (it had not started)"),
                CancelAnswer::Requested => outln!("{id}: cancel requested; the agent holding it stops it at its next heartbeat"),
                CancelAnswer::AlreadyOver(s) => outln!("{id}: over already ({})", s.as_str()),
                CancelAnswer::NotFound => return Err(anyhow::anyhow!("no run `{id}`")),
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Approve { id, db } => {
            let store = open_client(&db).await?;
            match store.approve(&id).await? {
                store::ApproveAnswer::Approved => {
                    outln!("{id}: approved; queued to apply its plan (the plan is checked again first)");
                    Ok(ExitCode::SUCCESS)
                }
                store::ApproveAnswer::NotPlanned(s) => {
                    errln!("{id}: {}; only a planned run is approved", s.as_str());
                    Ok(ExitCode::from(1))
                }
                store::ApproveAnswer::NotFound => Err(anyhow::anyhow!("no run `{id}`")),
            }
        }
    }
}
