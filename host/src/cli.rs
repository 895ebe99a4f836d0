//! The command line: argument parsing and presentation only. Everything it runs
//! is in the library.

use crate::caps::{LogLevel, LogSink};
use crate::engine::{EngineOptions, LoadSource, Runtime};
use crate::redact::{Redactor, MASK};
use crate::step::{run_step, StepReport, StepRequest};

/// Set when stdout carries nothing but an answer (a telemetry request's JSON, which
/// the platform's agent reads as the response body): every progress and report
/// line goes to stderr instead.
pub(crate) static STDOUT_RESERVED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The stream report lines go to: stdout, unless it is reserved for an answer.
pub(crate) fn report_stream() -> Box<dyn std::io::Write> {
    if STDOUT_RESERVED.load(std::sync::atomic::Ordering::Relaxed) {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    }
}

/// Writes a report line to stdout (stderr while stdout is reserved for an answer),
/// ignoring a closed or broken stream: the run and its record matter more than a
/// line nobody can read (an agent whose log pipe is gone must not lose the run).
/// `println!` would panic there.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::cli::report_stream(), $($arg)*);
    }};
}

/// [`outln!`] without the newline.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!($crate::cli::report_stream(), $($arg)*);
    }};
}

/// Writes to stderr, ignoring a closed stderr (see [`outln!`]).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod agent_cmd;
mod diagnostics;
mod exit;
mod new_cmd;
mod notification;
mod plugin_cmd;
mod policy_cmd;
mod session;
mod test_cmd;
mod workflow_cmd;
use anyhow::{bail, Context as _, Result};
use clap::{Args, Parser, Subcommand};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub(crate) use session::{load_policy, policy_note};
use session::{Opening, Session};

#[derive(Parser)]
#[cfg_attr(not(scope_host_no_pie), command(version))]
#[cfg_attr(scope_host_no_pie, command(version = concat!(env!("CARGO_PKG_VERSION"), " (benchmark build: linked without PIE)")))]
#[command(
    name = "scope-host",
    about = "Run infrastructure workflow steps as sandboxed WebAssembly components",
    long_about = "scope-host runs workflow steps that are WebAssembly components. The host alone holds cloud \
credentials; a step reaches the cloud only through the typed scope:step contract, and only for the actions its \
manifest declares and the operator grants. By default the cloud is simulated in memory (no account needed).",
    after_help = "Examples (after `cargo build --workspace`):\n  \
scope-host handle plugins/lambda/examples/notifications/start-initial.json \\\n    \
--service-path plugins/lambda \\\n    \
--providers plugins/lambda/examples/providers.json \\\n    \
--cloud-state plugins/lambda/examples/cloud-state.json\n  \
scope-host check plugins/lambda/deployment/workflows/initial.yaml\n  \
scope-host step run target/wasm/wasm32-wasip2/release/hello.wasm --var WHO=you\n  \
scope-host plugin inspect target/wasm/wasm32-wasip2/release/update_code.wasm\n  \
scope-host test plugins/lambda/tests/deployment.yaml\n  \
scope-host new my-step --lang python   # then: my-step/build.sh\n\n\
Exit status: 0 everything succeeded; 1 a step (or scenario) failed; 2 bad arguments or input (a workflow that \
fails `check`), nothing ran; 3 the environment failed (the cloud unreachable, the journal or cloud state \
unwritable, the engine did not start); 130/143 stopped by Ctrl-C/SIGTERM (the running step ends at its next host \
call, the record and summary are written; a second signal quits at once).\n\n\
Under the platform's agent: `scope-host --service-path=DIR [--overrides-path=a,b]` (the channel's command line with \
only the program replaced) is `scope-host handle`, the notification read from NP_ACTION_CONTEXT; what the channel \
cannot pass comes from the environment: SCOPE_HOST_CLOUD, SCOPE_HOST_CLOUD_STATE, SCOPE_HOST_PROVIDERS, SCOPE_HOST_POLICY, \
SCOPE_HOST_GRANT_DECLARED, SCOPE_HOST_PLATFORM, SCOPE_HOST_NP, SCOPE_HOST_REGION (see `scope-host handle --help`)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    diagnostics: crate::cli::diagnostics::DiagnosticArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run a workflow (YAML) whose steps are components, with live progress.
    #[command(
        after_help = "Exit status: 0 when every step succeeded, 1 when the run failed, 2 on bad arguments or input (nothing ran), \
3 when the environment failed (the cloud unreachable, the journal unwritable).\n\n\
Variables, lowest precedence first: SERVICE_PATH, included values files, the workflow's configuration, --values files, --var/--secret-var."
    )]
    Run(Box<WorkflowRunArgs>),
    /// Print the workflow as a run sees it: includes, values and overrides applied,
    /// the merged configuration first (runs nothing).
    Render(RenderArgs),
    /// Validate a workflow without running it: unknown keys, missing plugins or
    /// digests, inputs nothing provides, capabilities the policy does not grant.
    Check(Box<WorkflowCheckArgs>),
    /// Route a platform notification to its workflow and run it.
    #[command(
        after_help = "Routing: a notification with parameters.deployment_id runs <service>/deployment/workflows/<workflow>.yaml \
(start-initial→initial, start-blue-green→blue_green, switch-traffic→switch_traffic, rollback-deployment→rollback, \
finalize-blue-green→finalize, delete-deployment→delete, diagnose-deployment→diagnose); any other notification runs \
<service>/scope/workflows/<type>.yaml (type custom: delete-scope→delete, diagnose-scope→diagnose, other slugs as named).\n\n\
The built context comes from --context, else from a `context` member of the notification file. Building it from the \
platform's API is not supported yet.\n\n\
Exit status: 0 when every step succeeded, 1 when the run failed, 2 on bad arguments or input (an unroutable or \
malformed notification: nothing ran), 3 when the environment failed (the cloud unreachable, the journal unwritable)."
    )]
    Handle(Box<HandleArgs>),
    /// Make exactly the changes a plan (`--plan-out FILE` of `run` or `handle`) lists.
    #[command(
        long_about = "Make exactly the changes a plan lists. The plan's command is run again, from the folder it was \
made in, with the same inputs: first as a plan (nothing is changed), which must find the same changes as the saved \
plan and read the same cloud — else the plan is stale and nothing is done; then for real, each change checked \
against the plan's next one (same operation, same arguments) before it is sent. A change the plan does not list is \
refused as a denial naming the plan's change it differs from, and nothing more is changed after it.",
        after_help = "Arguments after the plan's file are added to its command: --secret-var NAME=VALUE (never saved \
in a plan), --journal FILE, --json, --dump-state FILE.\n\n\
Example:\n  scope-host handle start-initial.json --service-path plugins/lambda --cloud aws --policy policy.json --plan-out plan.json\n  \
scope-host apply plan.json\n\n\
Exit status: 0 when every change was made, 1 when the plan is stale or a change was refused or failed, \
2 when the plan's file is unreadable or not a plan, 3 when the environment failed."
    )]
    Apply(ApplyArgs),
    /// Run scenario files: a step or workflow on the simulated cloud, with expected
    /// outputs, cloud calls, denials, errors and final cloud state.
    #[command(
        long_about = "Run scenario files. A scenario names a plugin or a workflow, gives its context, variables, provider \
data, starting cloud state and grants, and says what must come of the run: the outcome, outputs, cloud calls (in \
order, included or excluded), a denial, an error message, log lines and a subset of the final cloud state. Paths in a \
scenario file are relative to the file. The format is described in docs/scenarios.md.",
        after_help = "A scenario file (plugins/lambda/tests/*.yaml are real ones):\n  \
scenarios:\n    \
- name: publishes a version described by the deployment\n      \
plugin: publish-version          # a plugin name, or a path to a .wasm file\n      \
vars: {LAMBDA_FUNCTION_NAME: fn, DEPLOYMENT_ID: deploy-2}\n      \
cloud_file: cloud.json           # or cloud: {...}, the --cloud-state format\n      \
grant: [lambda:PublishVersion]   # or policy: {...}; default: what it declares\n      \
expect:\n        \
outputs: {LAMBDA_GREEN_VERSION: \"2\"}\n        \
calls: {ordered: [lambda:PublishVersion -> ok]}\n        \
cloud:\n          \
lambda: {functions: [{name: fn, versions: [{version: \"2\"}]}]}\n\n\
Example:\n  \
scope-host test plugins/lambda/tests/*.yaml\n\n\
Output: one line per scenario (ok or FAILED, name, time), then what differed in each failed one (the path of every \
difference, with the actual values, secrets masked), then `N passed, N failed`.\n\n\
Exit status: 0 when every scenario passed, 1 when any failed, 2 when a scenario file cannot be run (unreadable, \
malformed, unknown keys, a file or plugin it names is missing); then nothing runs."
    )]
    Test(Box<test_cmd::TestArgs>),
    /// Create a step or check project in Rust, Python or JavaScript, ready to build
    /// and test (docs/first-step.md).
    New(Box<new_cmd::NewArgs>),
    /// Run and test single steps.
    #[command(subcommand)]
    Step(StepCommand),
    /// Look into plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// The least-privilege IAM policy a service's workflows need, computed from what
    /// their plugins declare.
    #[command(
        after_help = "Example:\n  scope-host policy --service-path plugins/lambda --account 123456789012 --region us-east-1\n  \
scope-host policy --service-path plugins/lambda --workflow scope/create --format terraform\n  \
scope-host policy diff --service-path plugins/lambda --against operator-policy.json\n\n\
Variables in the manifests' resource patterns become what the naming rules allow (a function \
`<scope id>-<app>-<scope>` → `function:*-*-*`, roles under LAMBDA_EXECUTION_ROLE_PREFIX, default np-lambda-); \
a variable the service's configuration sets is its value. Warnings (stderr) name each wide grant and each \
variable no rule knows. Exit status: 0 with the policy on stdout; 2 when a workflow or plugin cannot be read."
    )]
    Policy(Box<policy_cmd::PolicyCommand>),
    /// Run as a long-running agent: take notifications over HTTP, run them durably
    /// (SQLite), many at once and one per scope at a time, observable through the API.
    #[command(
        after_help = "Endpoints: POST /v1/notifications (the notification JSON handle takes: 202 {run_id}; the same \
notification again: 200 with its run), GET /v1/runs?scope=&state=&limit=&cursor=, GET /v1/runs/{id}, \
GET /v1/runs/{id}/events (Accept: text/event-stream follows a live run), POST /v1/runs/{id}/cancel, GET /healthz, GET /readyz, \
GET /metrics (OpenMetrics).\n\n\
Auth: Authorization: Bearer <token>, checked against SHA-256 hashes (--tokens FILE, SCOPE_HOST_AGENT_TOKENS); required \
unless --listen is loopback. TLS: put a reverse proxy in front.\n\n\
Crash safety: a run the agent acknowledged (202) is in the store; killed mid-run, the agent resumes it at restart, \
steps completed before not run again, up to --max-attempts. SIGTERM/SIGINT: no new work, the API stops, running steps \
finish within --grace, their runs resume at the next start. SIGHUP (or a changed --policy, --providers or --tokens file) \
reloads those. Traces: OTLP to OTEL_EXPORTER_OTLP_ENDPOINT when it is set."
    )]
    Agent(Box<agent_cmd::AgentArgs>),
    /// The agent's runs, from its store: list, show, events, cancel.
    #[command(subcommand)]
    Runs(agent_cmd::RunsCommand),
}

#[derive(Subcommand)]
enum StepCommand {
    /// Run one step (or check) component against the simulated cloud.
    #[command(
        after_help = "Exit status: 0 when the step succeeded (or the check ran), 1 when it failed, 2 on bad arguments or input, \
3 when the environment failed (the cloud unreachable, the journal unwritable).\n\n\
Secrets: values of secret parameters in the context, secret outputs, values written to Secrets Manager and \
assumed-role keys are redacted from every line printed and from the journal."
    )]
    Run(Box<StepRunArgs>),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Print a plugin's manifest and the interfaces it imports and exports.
    Inspect {
        /// The component (.wasm).
        plugin: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Give a component built by any toolchain (componentize-py, componentize-js …)
    /// its manifest, from a step.toml, and check it loads.
    Pack(plugin_cmd::PackArgs),
}

#[derive(Args, Clone)]
struct EngineArgs {
    /// Where compiled components are cached [default: $SCOPE_HOST_CACHE, else ~/.cache/scope-host].
    #[arg(long, value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the compile cache.
    #[arg(long, global = true)]
    no_cache: bool,
}

/// Instances alive at once in one command's engine (see [`EngineArgs::runtime_with`]).
const CLI_MAX_INSTANCES: u32 = 16;

impl EngineArgs {
    fn runtime(&self) -> Result<Runtime> {
        self.runtime_with(EngineOptions::default())
    }

    /// The engine of a long-lived agent: the default pool (many runs at once).
    fn runtime_for_agent(&self, options: EngineOptions) -> Result<Runtime> {
        Runtime::new(self.with_cache(options)).context("starting the WebAssembly engine")
    }

    /// `options` with the compile cache these flags ask for.
    fn with_cache(&self, mut options: EngineOptions) -> EngineOptions {
        if self.no_cache {
            options.cache_dir = None;
        } else if let Some(dir) = &self.cache_dir {
            options.cache_dir = Some(dir.clone());
        }
        options
    }

    fn runtime_with(&self, mut options: EngineOptions) -> Result<Runtime> {
        // A command runs one thing at a time (a workflow's steps, an executor's
        // checks and a test file's scenarios run in turn). The default pool is sized
        // for a long-lived agent; its 1000 slots cost a process milliseconds of
        // mprotect at start and munmap at exit, more than a whole step.
        options.max_instances = CLI_MAX_INSTANCES;
        // A slot a step leaves is reset only when the pool needs it again (most
        // commands never do), instead of an madvise of its memory as each step ends.
        options.decommit_batch = CLI_MAX_INSTANCES as usize;
        Runtime::new(self.with_cache(options)).context("starting the WebAssembly engine")
    }
}

#[derive(Args)]
struct StepRunArgs {
    /// The step component (.wasm), built for the scope:step `step` or `check` world.
    plugin: PathBuf,
    #[command(flatten)]
    run: RunOptions,
}

/// What every command that runs steps shares.
#[derive(Args)]
struct RunOptions {
    /// The built context (JSON object) the steps read [default: {}].
    #[arg(long, value_name = "JSON")]
    context: Option<PathBuf>,
    /// A variable, NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// A variable whose value is a secret, NAME=VALUE (repeatable): redacted everywhere.
    #[arg(long = "secret-var", value_name = "NAME=VALUE")]
    secret_vars: Vec<String>,
    /// Provider data: a JSON file, or a folder of JSON files.
    #[arg(long, value_name = "FILE|DIR", env = "SCOPE_HOST_PROVIDERS")]
    providers: Option<PathBuf>,
    /// The cloud: `sim`, the built-in simulated AWS, or `aws`, the real one (the
    /// standard credential chain; AWS_ENDPOINT_URL or --endpoint-url for an emulator).
    #[arg(long, value_name = "sim|aws", default_value = "sim", value_parser = ["sim", "aws"], env = "SCOPE_HOST_CLOUD")]
    cloud: String,
    /// With --cloud aws: send every call to this endpoint (e.g. a local emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The platform steps report to (scope metadata, domain, checks): `np`, the
    /// platform's CLI, which finds its key in this process's environment
    /// (NP_API_KEY; a step never sees it), or `sim`, kept in the run's record
    /// [default: np with --cloud aws when the notification comes from
    /// NP_ACTION_CONTEXT, as under the platform's agent; else sim].
    #[arg(long, value_name = "np|sim", value_parser = ["np", "sim"], env = "SCOPE_HOST_PLATFORM")]
    platform: Option<String>,
    /// The platform's CLI, for --platform np.
    #[arg(long = "np", value_name = "PATH", default_value = "np", env = "SCOPE_HOST_NP")]
    np: PathBuf,
    /// Seed the simulated cloud from this fixture, or a --record recording [default: an empty account].
    #[arg(long, value_name = "JSON", env = "SCOPE_HOST_CLOUD_STATE")]
    cloud_state: Option<PathBuf>,
    /// Write the simulated cloud's state here after the run (loadable with --cloud-state).
    #[arg(long, value_name = "JSON")]
    dump_state: Option<PathBuf>,
    /// With --cloud aws: save what the run read of the cloud and the calls it made
    /// here, as a fixture with account ids, request ids and secrets scrubbed, even when
    /// the run fails. Replay it with --cloud-state FILE and the same inputs.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Plan only: run the workflow with every read served by the cloud and every
    /// change made on a simulated copy seeded from what the run read, and print the
    /// changes it would make (before → after, secrets masked). Nothing is changed;
    /// with --cloud aws every role session also carries a read-only session policy,
    /// so AWS itself refuses a change. Platform reports go to the simulated platform.
    #[arg(long)]
    plan: bool,
    /// Save the plan (its inputs and changes) to FILE as JSON; implies --plan.
    /// `scope-host apply FILE` then makes exactly those changes.
    #[arg(long, value_name = "FILE")]
    plan_out: Option<PathBuf>,
    /// Set by `scope-host apply`: the plan whose changes this run may make.
    #[arg(long, value_name = "FILE", hide = true, conflicts_with_all = ["plan", "plan_out", "record"])]
    apply_plan: Option<PathBuf>,
    /// Operator policy file: {"allow": [{"action": "lambda:*", "resource": "arn:…"}]}.
    /// Without --policy or --grant, plugins get what they declare on the simulated
    /// cloud; against AWS that needs --grant-declared.
    #[arg(long, value_name = "JSON", env = "SCOPE_HOST_POLICY")]
    policy: Option<PathBuf>,
    /// Grant ACTION[=RESOURCE-PATTERN] (repeatable; adds to --policy).
    #[arg(long = "grant", value_name = "ACTION[=RESOURCE]")]
    grants: Vec<String>,
    /// With --cloud aws and no --policy or --grant: grant every plugin whatever its
    /// manifest declares (recorded in the journal). Without it such a run is refused.
    #[arg(long, conflicts_with_all = ["policy", "grants"], env = "SCOPE_HOST_GRANT_DECLARED", value_parser = clap::builder::FalseyValueParser::new())]
    grant_declared: bool,
    /// Region of the calls [default: the scope's (`scope.region` in the context, else
    /// `account.region` of its cloud provider), else the credential chain's].
    #[arg(long, env = "SCOPE_HOST_REGION")]
    region: Option<String>,
    /// Each step's deadline, e.g. 30s, 5m, 1h (10ms to 24h).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = exit::parse_timeout)]
    timeout: Duration,
    /// Each step's memory cap, e.g. 256MiB, 1GiB (1MiB to 4GiB).
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = exit::parse_memory)]
    memory: usize,
    /// Where to write the run record (JSON lines) [default: ~/.local/state/scope-host/runs/<run id>.jsonl].
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Print one JSON document with the result (live lines go to stderr).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

impl RunOptions {
    /// Whether the run is a plan (`--plan` or `--plan-out`).
    fn planning(&self) -> bool {
        self.plan || self.plan_out.is_some()
    }
}

#[derive(Args)]
struct ApplyArgs {
    /// The plan's file (`--plan-out FILE` of `run` or `handle`).
    #[arg(value_name = "PLAN.json")]
    plan: PathBuf,
    /// Added to the plan's command (--secret-var, --journal, --json, --dump-state).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    extra: Vec<String>,
}

#[derive(Args)]
struct RenderArgs {
    #[command(flatten)]
    workflow: WorkflowArgs,
    /// After each configuration value, the file that set it (an include, the
    /// workflow, a --values file).
    #[arg(long)]
    explain: bool,
}

/// Which workflow, and what is merged into it.
#[derive(Args)]
struct WorkflowArgs {
    /// The workflow file (YAML).
    workflow: PathBuf,
    /// A values file whose `configuration:` map adds variables (repeatable).
    #[arg(long = "values", value_name = "YAML")]
    values: Vec<PathBuf>,
    /// An overrides file, applied in order (repeatable): steps matched by name;
    /// no action merges, `action: replace` replaces, `action: skip` removes, a new
    /// name goes `before:`/`after:` a step.
    #[arg(long = "overrides", value_name = "YAML")]
    overrides: Vec<PathBuf>,
    /// The service folder ($SERVICE_PATH) [default: $SERVICE_PATH, else the nearest
    /// folder above the workflow holding values.yaml, else the workflow's folder].
    #[arg(long, value_name = "DIR")]
    service_path: Option<PathBuf>,
    /// A folder of plugins, searched first (repeatable); then <service>/plugins,
    /// then the built-in plugins ($SCOPE_HOST_PLUGINS overrides those).
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
}

#[derive(Args)]
struct WorkflowRunArgs {
    #[command(flatten)]
    workflow: WorkflowArgs,
    #[command(flatten)]
    run: RunOptions,
}

#[derive(Args)]
struct WorkflowCheckArgs {
    #[command(flatten)]
    workflow: WorkflowArgs,
    /// A variable that will be given at run time, NAME or NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME[=VALUE]")]
    vars: Vec<String>,
    /// Operator policy file to check the plugins' capabilities against.
    #[arg(long, value_name = "JSON")]
    policy: Option<PathBuf>,
    /// Grant ACTION[=RESOURCE-PATTERN] (repeatable).
    #[arg(long = "grant", value_name = "ACTION[=RESOURCE]")]
    grants: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct HandleArgs {
    /// The notification (JSON: {"notification": {...}, "context": {...}?}); `-` reads
    /// stdin; none reads NP_ACTION_CONTEXT, as under the platform's agent.
    notification: Option<PathBuf>,
    /// The service folder holding deployment/, scope/, log/, metric/ and instance/ workflows.
    #[arg(long, value_name = "DIR")]
    service_path: PathBuf,
    /// A folder with the same layout whose workflow files are applied as overrides
    /// (repeatable, or a comma-separated list as the platform's channels give it).
    #[arg(long = "overrides-path", value_name = "DIR", value_delimiter = ',', value_parser = trimmed_path)]
    overrides_path: Vec<PathBuf>,
    /// A values file (repeatable).
    #[arg(long = "values", value_name = "YAML")]
    values: Vec<PathBuf>,
    /// A folder of plugins, searched first (repeatable).
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
    #[command(flatten)]
    run: RunOptions,
}

/// A path given in a comma-separated list, spaces around it trimmed.
fn trimmed_path(text: &str) -> Result<PathBuf, String> {
    let t = text.trim();
    if t.is_empty() {
        Err("an empty entry in the list of folders".into())
    } else {
        Ok(PathBuf::from(t))
    }
}

/// The platform channel's command line with only the program replaced
/// (`scope-host --service-path=DIR …`) is `scope-host handle --service-path=DIR …`.
fn channel_form(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let channel = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|a| a.starts_with("--service-path") || a.starts_with("--overrides-path"));
    if channel {
        args.insert(1, "handle".into());
    }
    args
}

/// Runs the command line; the exit code says how it ended.
pub fn main() -> ExitCode {
    // The async runtime (its worker threads and drivers) starts on a thread of its
    // own while the arguments are parsed: each takes a few hundred microseconds of
    // every command, and the cloud can only be reached once both are done.
    let starting = std::thread::spawn(|| tokio::runtime::Builder::new_multi_thread().enable_all().build());
    let cli = Cli::parse_from(channel_form(std::env::args_os().collect()));
    // An agent's log is its operators' view: info by default.
    cli.diagnostics.install(matches!(cli.command, Command::Agent(_)));
    let rt = match starting.join() {
        Ok(Ok(rt)) => rt,
        Ok(Err(e)) => {
            errln!("error: starting the async runtime: {e}");
            return ExitCode::from(3);
        }
        Err(_) => {
            errln!("error: starting the async runtime: its thread panicked");
            return ExitCode::from(3);
        }
    };
    let result = rt.block_on(dispatch(cli));
    // The command is over: its worker threads and connections go with the process
    // (shutting the runtime down first only joins threads the kernel ends anyway).
    std::mem::forget(rt);
    match result {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {}", crate::terminal::printable(&error_chain(&e)));
            exit::code_of(&e)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Step(StepCommand::Run(args)) => step_run(*args).await,
        Command::Test(args) => test_cmd::run(*args).await,
        Command::New(args) => new_cmd::run(&args),
        Command::Run(args) => workflow_cmd::run(*args).await,
        Command::Render(args) => workflow_cmd::render(&args.workflow, args.explain),
        Command::Check(args) => workflow_cmd::check(*args),
        Command::Handle(args) => workflow_cmd::handle(*args).await,
        Command::Apply(args) => Box::pin(apply(args)).await,
        Command::Plugin(PluginCommand::Inspect { plugin, json, engine }) => plugin_cmd::inspect(&plugin, json, &engine),
        Command::Plugin(PluginCommand::Pack(args)) => plugin_cmd::pack(&args),
        Command::Policy(args) => policy_cmd::run(&args),
        Command::Agent(args) => agent_cmd::agent(*args).await,
        Command::Runs(command) => agent_cmd::runs(command).await,
    }
}

/// `scope-host apply PLAN [ARGS…]`: the plan's command again, from the folder it
/// was made in, with `--apply-plan PLAN` (see `workflow_cmd::execute`).
async fn apply(args: ApplyArgs) -> Result<ExitCode> {
    let path = std::fs::canonicalize(&args.plan).map_err(|e| anyhow::anyhow!("reading the plan {}: {e}", args.plan.display()))?;
    let saved = crate::cloud::plan::SavedPlan::load(&path).map_err(anyhow::Error::msg)?;
    let command = &saved.command;
    if !["run", "handle"].contains(&command.kind.as_str()) {
        bail!(
            "{}: a plan of `{}` cannot be applied (apply takes plans of `run` and `handle`)",
            path.display(),
            command.kind
        );
    }
    std::env::set_current_dir(&command.cwd).map_err(|e| {
        exit::environment(format!(
            "the plan was made in {}, where its command's paths are relative to: {e}",
            command.cwd.display()
        ))
    })?;
    let mut argv: Vec<std::ffi::OsString> = vec!["scope-host".into(), command.kind.clone().into()];
    argv.extend(command.args.iter().map(Into::into));
    argv.extend(args.extra.iter().map(Into::into));
    argv.push("--apply-plan".into());
    argv.push(path.into_os_string());
    let cli = Cli::try_parse_from(argv).map_err(|e| anyhow::anyhow!("the plan's command with the added arguments: {e}"))?;
    dispatch(cli).await
}

/// The command line of this run as `apply` replays it: the subcommand's arguments
/// without the plan's own flags, the journal and JSON output (each run has its
/// own), and secret variables (never saved: give them to `apply` again).
pub(crate) fn replayable_command() -> crate::cloud::plan::SavedCommand {
    let args: Vec<String> = std::env::args().skip(1).collect();
    replayable(&args, std::env::current_dir().unwrap_or_default())
}

/// [`replayable_command`] of the arguments `args` (without the program's name).
fn replayable(args: &[String], cwd: std::path::PathBuf) -> crate::cloud::plan::SavedCommand {
    // Global flags (`-v`, `--log-format json`) come before the subcommand: not replayed.
    let at = args.iter().position(|a| a == "run" || a == "handle" || a == "step").unwrap_or(0);
    let kind = args.get(at).cloned().unwrap_or_default();
    let mut kept = Vec::new();
    let mut secret_vars = Vec::new();
    let mut rest = args.iter().skip(at + 1);
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let takes_value = ["--plan-out", "--journal", "--secret-var", "--dump-state", "--apply-plan"].contains(&flag);
        let dropped = takes_value || ["--plan", "--json"].contains(&flag);
        let value = if takes_value && inline.is_none() {
            rest.next().cloned()
        } else {
            inline
        };
        if flag == "--secret-var" {
            if let Some(name) = value.as_deref().and_then(|v| v.split_once('=')).map(|(n, _)| n.to_owned()) {
                secret_vars.push(name);
            }
        }
        if !dropped {
            kept.push(arg.clone());
        }
    }
    crate::cloud::plan::SavedCommand {
        kind,
        args: kept,
        cwd,
        secret_vars,
    }
}

/// The error and its causes, each cause once: error types that already print
/// their source are not followed by it again.
fn error_chain(e: &anyhow::Error) -> String {
    let mut message = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

/// Prints live log lines: to stdout normally, to stderr with --json.
pub(crate) struct TermSink {
    to_stderr: bool,
}

impl LogSink for TermSink {
    fn line(&self, _step: &str, level: LogLevel, message: &str) {
        // What a guest logs may hold terminal controls: shown escaped, never obeyed.
        let message = crate::terminal::printable(message);
        let line = format!("  {:<5} {}\n", level.as_str(), message.replace('\n', "\n        "));
        if self.to_stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else {
            let _ = report_stream().write_all(line.as_bytes());
        }
    }

    /// The action's live output: the line alone, as the platform's agent shows it
    /// (stdout for a deployment or scope action; stderr with --json or when stdout
    /// is a telemetry answer's).
    fn live(&self, _step: &str, line: &str) {
        let line = format!("{}\n", crate::terminal::printable(line));
        if self.to_stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else {
            let _ = report_stream().write_all(line.as_bytes());
        }
    }
}

pub(crate) fn parse_vars(vars: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for v in vars {
        let Some((name, value)) = v.split_once('=') else {
            bail!("--var `{v}` is not NAME=VALUE");
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("--var `{v}`: `{name}` is not a variable name (letters, digits, `_`)");
        }
        out.insert(name.to_owned(), value.to_owned());
    }
    Ok(out)
}

async fn step_run(args: StepRunArgs) -> Result<ExitCode> {
    let opts = &args.run;
    if opts.apply_plan.is_some() {
        bail!("a plan of `step run` cannot be applied: apply takes plans of `run` and `handle` (put the step in a workflow)");
    }
    let session = Session::open(opts, &args.plugin.display().to_string(), None, vec![args.plugin.clone()]).await?;
    let plugin = session.runtime.load_file(&args.plugin)?;
    let m = &plugin.manifest;
    let load_note = match plugin.source {
        LoadSource::Compiled => format!("compiled in {}", crate::step::human(plugin.load_time)),
        LoadSource::DiskCache => "from cache".to_owned(),
        LoadSource::Memory => "loaded".to_owned(),
    };
    if !opts.json {
        outln!(
            "▶ {} ({} {} {}, {}…, {load_note})",
            m.name,
            m.kind.as_str(),
            m.name,
            m.version,
            &plugin.digest[..19]
        );
    }
    let request = StepRequest {
        name: m.name.clone(),
        plugin: plugin.clone(),
        vars: session.vars.clone(),
        context: session.context.clone(),
        limits: session.limits.clone(),
    };
    let report = run_step(session.env.clone(), request).await;
    let calls = session.finish(report.succeeded(), opts.dump_state.as_deref(), opts.plan_out.as_deref())?;
    if opts.json {
        print_json(
            &report,
            &calls,
            &session.redactor,
            &session.journal_path,
            opts.dump_state.as_deref(),
        )?;
    } else {
        print_human(
            &report,
            &calls,
            &session.redactor,
            &session.journal_path,
            opts.dump_state.as_deref(),
            session.journal.write_error(),
        );
        if let Some(plan) = &session.plan {
            workflow_cmd::print_plan(&plan.changes(), opts.plan_out.as_deref(), &session.redactor);
        }
    }
    let stopped = session.env.cancel().stopped();
    session.leave_to_exit();
    Ok(match stopped {
        Some(why) => ExitCode::from(session::exit_code_of(why)),
        None if report.succeeded() => ExitCode::SUCCESS,
        None => ExitCode::from(1),
    })
}

fn shown_value(value: &str, secret: bool, redactor: &Redactor) -> String {
    if secret {
        MASK.to_owned()
    } else {
        redactor.redact(value)
    }
}

/// Guest text as the terminal shows it: redacted already, controls escaped.
fn shown(text: &str) -> String {
    crate::terminal::printable(text)
}

fn print_human(
    report: &StepReport,
    calls: &[crate::journal::CallRecord],
    redactor: &Redactor,
    journal: &Path,
    dump: Option<&Path>,
    journal_error: Option<String>,
) {
    for (name, text) in [("stdout", &report.stdout), ("stderr", &report.stderr)] {
        if !text.trim().is_empty() && (report.succeeded() || name == "stdout") {
            outln!("  {name}:");
            for line in text.lines() {
                outln!("    {}", shown(line));
            }
        }
    }
    let took = crate::step::human(report.duration);
    match &report.failure {
        None => outln!("✔ {} ok in {took}", report.step),
        Some(f) => outln!("✘ {} failed ({}) in {took}: {}", report.step, f.kind.as_str(), shown(&f.message)),
    }
    if let Some(c) = &report.check {
        outln!("check: {} — {}", c.status, shown(&c.summary));
        for (k, v) in &c.evidence {
            outln!("  {}: {}", shown(k), shown(v));
        }
        for a in &c.suggested_actions {
            outln!("  → {}", shown(a));
        }
    }
    if !report.outputs.is_empty() {
        outln!("outputs:");
        for o in &report.outputs {
            let note = if o.declared {
                ""
            } else {
                "   (warning: not declared in the plugin's manifest)"
            };
            outln!("  {} = {}{note}", shown(&o.name), shown(&shown_value(&o.value, o.secret, redactor)));
        }
    }
    if report.dropped_stdio_bytes > 0 || report.dropped_log_lines > 0 {
        outln!(
            "note: output past the caps was dropped: {} bytes of stdout/stderr, {} log lines",
            report.dropped_stdio_bytes,
            report.dropped_log_lines
        );
    }
    outln!("cloud calls ({}):", calls.len());
    for c in calls {
        let code = c.code.as_ref().map(|s| format!(" {s}")).unwrap_or_default();
        let rid = c.request_id.as_ref().map(|s| format!(" [{s}]")).unwrap_or_default();
        outln!(
            "  {} {} {} → {}{code} ({} µs){rid}",
            c.service,
            c.operation,
            shown(&c.resource),
            c.outcome.as_str(),
            c.duration_us
        );
    }
    outln!("journal: {}", journal.display());
    if let Some(e) = journal_error {
        outln!("warning: the journal could not be written completely: {e}");
    }
    if let Some(d) = dump {
        outln!("cloud state: {}", d.display());
    }
}

fn print_json(
    report: &StepReport,
    calls: &[crate::journal::CallRecord],
    redactor: &Redactor,
    journal: &Path,
    dump: Option<&Path>,
) -> Result<()> {
    let outputs: Vec<serde_json::Value> = report
        .outputs
        .iter()
        .map(|o| serde_json::json!({"name": o.name, "value": shown_value(&o.value, o.secret, redactor), "secret": o.secret, "declared": o.declared}))
        .collect();
    let doc = serde_json::json!({
        "step": report.step,
        "plugin": report.plugin,
        "digest": report.digest,
        "ok": report.succeeded(),
        "failure": report.failure,
        "outputs": outputs,
        "check": report.check,
        "duration_us": report.duration.as_micros() as u64,
        "identity": report.identity,
        "stdout": report.stdout,
        "stderr": report.stderr,
        "dropped_stdio_bytes": report.dropped_stdio_bytes,
        "dropped_log_lines": report.dropped_log_lines,
        "calls": calls,
        "journal": journal,
        "cloud_state": dump,
    });
    outln!("{}", serde_json::to_string_pretty(&redactor.redact_json(&doc))?);
    Ok(())
}

#[cfg(test)]
mod replay_tests {
    #[test]
    fn a_plans_command_keeps_what_makes_the_run_and_drops_its_own_flags_and_secrets() {
        let args: Vec<String> = [
            "-v",
            "handle",
            "n.json",
            "--service-path",
            "svc",
            "--plan",
            "--plan-out",
            "p.json",
            "--secret-var",
            "DB=s3cr3t",
            "--journal=j.jsonl",
            "--json",
            "--var",
            "A=1",
            "--secret-var=TOKEN=t0k3n",
            "--dump-state",
            "d.json",
        ]
        .map(String::from)
        .to_vec();
        let saved = super::replayable(&args, "/work".into());
        assert_eq!(saved.kind, "handle");
        assert_eq!(saved.args, ["n.json", "--service-path", "svc", "--var", "A=1"]);
        assert_eq!(saved.secret_vars, ["DB", "TOKEN"]);
        assert!(!format!("{saved:?}").contains("s3cr3t") && !format!("{saved:?}").contains("t0k3n"));
        assert_eq!(saved.cwd, std::path::PathBuf::from("/work"));
    }
}
