//! Shared helpers of the integration tests: where the guest components are, one
//! runtime per test binary (with a compile cache in the target directory), and a
//! one-call way to run a guest against the simulated cloud.

pub mod agent;
pub mod aws_state;
pub mod plan;
pub mod postgres;

use scope_host::caps::{LogLevel, LogSink, RunEnv};
use scope_host::cloud::sim::SimCloud;
use scope_host::engine::{EngineOptions, Plugin, Runtime};
use scope_host::providers::ProviderStore;
use scope_host::run::RunBuilder;
use scope_host::sandbox::Limits;
use scope_host::step::{run_step, StepReport, StepRequest};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

pub mod polyglot;

/// The folder the build script put the test guests (tests/guests) in, off the
/// binary's built-in plugin path.
pub fn guest_dir() -> PathBuf {
    PathBuf::from(env!("GUEST_DIR"))
}

/// The folder of the built-in plugins (plugins/, the Rust example): one of the
/// binary's built-in plugin folders.
pub fn builtin_dir() -> PathBuf {
    PathBuf::from(env!("BUILTIN_PLUGIN_DIR"))
}

/// A guest component by crate name (`exercise`, `loop-forever`, `hello` …): a test
/// guest, else a built-in plugin.
pub fn guest(name: &str) -> PathBuf {
    let file = format!("{}.wasm", name.replace('-', "_"));
    let path = [guest_dir(), builtin_dir()].into_iter().map(|d| d.join(&file)).find(|p| p.exists());
    path.unwrap_or_else(|| {
        panic!(
            "guest {name} was not built: no {file} in {} or {}",
            guest_dir().display(),
            builtin_dir().display()
        )
    })
}

/// A file under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The `scope-host` binary (built by `cargo build`, which scripts/test runs first).
pub fn binary() -> PathBuf {
    let path = target_dir().join("debug/scope-host");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p scope-host` (scripts/test does)",
        path.display()
    );
    path
}

/// The `scope-host` binary set up for a test: the shared compile cache, run records
/// in a temporary folder, and no SERVICE_PATH or AWS_PROFILE from the caller.
pub fn scope_host_command() -> std::process::Command {
    scope_host_command_of(&binary())
}

/// [`scope_host_command`] of another build (a release build, for benches).
pub fn scope_host_command_of(binary: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(binary);
    cmd.env("SCOPE_HOST_CACHE", target_dir().join("test-compile-cache"))
        .env("SCOPE_HOST_STATE", std::env::temp_dir().join("scope-host-cli-tests"))
        .env_remove("SERVICE_PATH")
        .env_remove("AWS_PROFILE");
    cmd
}

/// A finished command's stdout, then its stderr, as text.
pub fn output_text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A finished command's exit code, stdout and stderr.
pub fn outcome(out: &std::process::Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One runtime per test binary, caching compiled components under the target dir.
pub fn runtime() -> &'static Runtime {
    shared_runtime()
}

/// [`runtime`], shared (what a workflow runner holds).
pub fn shared_runtime() -> &'static Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let options = EngineOptions {
            cache_dir: Some(target_dir().join("test-compile-cache")),
            ..EngineOptions::default()
        };
        Arc::new(Runtime::new(options).expect("engine"))
    })
}

pub fn load(name: &str) -> Arc<Plugin> {
    runtime().load_file(&guest(name)).unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// Every live log line, for assertions.
#[derive(Default)]
pub struct CaptureSink {
    pub lines: Mutex<Vec<(String, LogLevel, String)>>,
}

impl LogSink for CaptureSink {
    fn line(&self, step: &str, level: LogLevel, message: &str) {
        self.lines.lock().unwrap().push((step.to_owned(), level, message.to_owned()));
    }
}

impl CaptureSink {
    pub fn text(&self) -> String {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l, m)| format!("{} {m}\n", l.as_str()))
            .collect()
    }
}

/// What a test run leaves behind.
pub struct Ran {
    pub report: StepReport,
    pub env: Arc<RunEnv>,
    pub sim: Arc<SimCloud>,
    pub sink: Arc<CaptureSink>,
}

impl Ran {
    /// An output's value; panics with the report when absent.
    pub fn output(&self, name: &str) -> String {
        self.report
            .outputs
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.value.clone())
            .unwrap_or_else(|| panic!("no output {name} in {:#?}", self.report))
    }

    /// The journal's call entries as (service, operation, outcome).
    pub fn calls(&self) -> Vec<(String, String, String)> {
        self.env
            .journal()
            .entries()
            .into_iter()
            .filter(|e| e["event"] == "call")
            .map(|e| {
                (
                    e["service"].as_str().unwrap().to_owned(),
                    e["operation"].as_str().unwrap().to_owned(),
                    e["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The whole journal as text.
    pub fn journal_text(&self) -> String {
        self.env.journal().entries().iter().map(|e| e.to_string() + "\n").collect()
    }

    pub fn failure_kind(&self) -> &'static str {
        self.report.failure.as_ref().map(|f| f.kind.as_str()).unwrap_or("none")
    }
}

/// How to run a guest.
pub struct Setup {
    pub vars: Vec<(&'static str, String)>,
    pub cloud_state: Option<&'static str>,
    pub context: Option<&'static str>,
    pub providers: Option<&'static str>,
    pub limits: Limits,
    pub policy: Option<scope_host::grants::Policy>,
    /// Wall time every cloud call takes (a slow or hanging cloud).
    pub latency: Option<std::time::Duration>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            vars: Vec::new(),
            cloud_state: Some("cloud.json"),
            context: Some("context.json"),
            providers: Some("providers.json"),
            limits: Limits::default(),
            policy: None,
            latency: None,
        }
    }
}

/// Runs a guest with the setup against a fresh simulated cloud.
pub async fn run(name: &str, setup: Setup) -> Ran {
    let plugin = load(name);
    let sim = Arc::new(match setup.cloud_state {
        Some(f) => SimCloud::from_fixture_file(&fixture(f)).expect("fixture"),
        None => SimCloud::new_empty(),
    });
    let context = match setup.context {
        Some(f) => scope_host::context::load(&fixture(f)).expect("context"),
        None => serde_json::json!({}),
    };
    let sink = Arc::new(CaptureSink::default());
    let mut builder = RunBuilder::new(sim.clone()).context_secrets(&context).sink(sink.clone());
    if let Some(p) = setup.providers {
        builder = builder.providers(ProviderStore::load(&fixture(p)).expect("providers"));
    }
    if let Some(policy) = setup.policy {
        builder = builder.policy(policy);
    }
    let env = builder.build().await.expect("env");
    if let Some(latency) = setup.latency {
        sim.set_latency(latency);
    }
    let vars: BTreeMap<String, String> = setup.vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let request = StepRequest {
        name: name.to_owned(),
        plugin,
        vars,
        context: context.to_string().into(),
        limits: setup.limits,
    };
    let report = run_step(env.clone(), request).await;
    Ran { report, env, sim, sink }
}

/// The variables the exercise guest and friends need.
pub fn scope_vars() -> Vec<(&'static str, String)> {
    vec![
        ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".into()),
        ("ROLE_ARN", "arn:aws:iam::123456789012:role/np-lambda-agent".into()),
        ("REPOSITORY", "my-app".into()),
        ("IMAGE_URI", "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0".into()),
    ]
}

/// A workflow run in a temporary service folder, and what it left.
pub struct WorkflowRan {
    pub report: scope_host::workflow::runner::RunReport,
    pub env: Arc<RunEnv>,
    pub sim: Arc<SimCloud>,
    pub sink: Arc<CaptureSink>,
    pub dir: tempfile::TempDir,
}

impl WorkflowRan {
    pub fn step(&self, path: &str) -> &scope_host::workflow::runner::StepRecord {
        self.report
            .steps
            .iter()
            .find(|s| s.path == path)
            .unwrap_or_else(|| panic!("no step {path} in {:#?}", self.report.steps))
    }
    pub fn statuses(&self) -> Vec<(String, String)> {
        self.report
            .steps
            .iter()
            .map(|s| (s.path.clone(), format!("{:?}", s.status).to_lowercase()))
            .collect()
    }
    pub fn journal_text(&self) -> String {
        self.env.journal().entries().iter().map(|e| e.to_string() + "\n").collect()
    }
}

/// Writes `files` (name, text) into a fresh service folder, loads `workflow.yaml`
/// (with `overrides`), and runs it with the guests on the plugin path.
pub async fn run_workflow(files: &[(&str, &str)], overrides: &[&str], vars: Vec<(&str, &str)>) -> WorkflowRan {
    use scope_host::workflow::{load, plugins::PluginPath, runner::Runner, WorkflowSource};
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let base = BTreeMap::from([("SERVICE_PATH".to_owned(), dir.path().display().to_string())]);
    let source = WorkflowSource {
        path: dir.path().join("workflow.yaml"),
        overrides: overrides.iter().map(|o| dir.path().join(o)).collect(),
        values: vec![],
    };
    let loaded = load(&source, &base).unwrap_or_else(|e| panic!("{e}"));
    let sim = Arc::new(SimCloud::from_fixture_file(&fixture("cloud.json")).unwrap());
    let sink = Arc::new(CaptureSink::default());
    let env = RunBuilder::new(sim.clone()).sink(sink.clone()).build().await.unwrap();
    let runner = Runner {
        runtime: shared_runtime().clone(),
        env: env.clone(),
        plugins: PluginPath {
            dirs: vec![guest_dir(), builtin_dir()],
        },
        limits: Limits::default(),
        progress: Arc::new(scope_host::workflow::runner::Quiet),
        context: "{}".into(),
        retry: None,
    };
    let mut start = loaded.variables.clone();
    start.extend(vars.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
    let report = runner.run(&loaded, start).await;
    WorkflowRan {
        report,
        env,
        sim,
        sink,
        dir,
    }
}

/// A run's inputs given as data (for scenario tables), rather than fixture files.
pub struct Data {
    /// Run as this role (assumed by the agent before the step) instead of the agent.
    pub assume: Option<&'static str>,
    pub context: serde_json::Value,
    pub providers: Vec<scope_host::providers::Provider>,
    pub cloud: serde_json::Value,
    pub vars: Vec<(&'static str, String)>,
}

/// The Lambda scope's service path, `plugins/lambda`.
pub fn lambda_service() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda")
}

/// The sample scope of plugins/lambda/examples: its context, providers and cloud.
/// The example provider data plus a VPC provider naming the private listener of
/// the example cloud (a private scope's load balancer), written into `dir`.
pub fn private_providers(dir: &std::path::Path) -> std::path::PathBuf {
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lambda_service().join("examples/providers.json")).unwrap()).unwrap();
    p.as_array_mut().unwrap().push(serde_json::json!({
        "id": "vpc", "nrn": "organization=1:account=2", "category": "vpc", "specification_slug": "aws-vpc",
        "attributes": {"load_balancer": {"private": {"listener_arn":
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/scopes-internal/50dc6c495c0c9188/f2f7dc8efc522ab2"}}}
    }));
    let path = dir.join("private-providers.json");
    std::fs::write(&path, p.to_string()).unwrap();
    path
}

pub fn lambda_example(name: &str) -> serde_json::Value {
    let path = lambda_service().join("examples").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// `scope-host handle <notification> --service-path plugins/lambda --providers
/// <providers> --json` plus `args`, with the built-in plugins found beside the binary;
/// returns the exit code, the JSON report and the whole output.
pub fn handle_json<S: AsRef<std::ffi::OsStr>>(
    notification: &std::path::Path,
    providers: &std::path::Path,
    args: &[S],
    env: &[(&str, String)],
) -> (Option<i32>, serde_json::Value, String) {
    let out = scope_host_command()
        .arg("handle")
        .arg(notification)
        .arg("--service-path")
        .arg(lambda_service())
        .arg("--providers")
        .arg(providers)
        .arg("--json")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report, output_text(&out))
}

/// Each step of a `--json` run report as what two clouds must agree on: its path,
/// status, failure kind, output values and check verdicts — minus what differs by
/// nature between two clouds (revision ids, code hashes).
pub fn step_results(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {report}"))
        .iter()
        .map(|s| {
            let mut values = s["values"].clone();
            if let Some(m) = values.as_object_mut() {
                m.retain(|k, _| !k.contains("REVISION") && !k.contains("SHA256"));
            }
            let checks: Vec<serde_json::Value> = s["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| serde_json::json!([c["check"], c["status"], c["summary"]]))
                .collect();
            serde_json::json!({"step": s["path"], "status": s["status"], "failure": s["failure"]["kind"],
                "values": values, "checks": checks})
        })
        .collect()
}

/// Parses provider JSON (a list) into providers.
pub fn providers_from(v: serde_json::Value) -> Vec<scope_host::providers::Provider> {
    serde_json::from_value(v).expect("providers")
}

/// Runs the plugin `name` (a guest or a built-in plugin) with `data`.
pub async fn run_with(name: &str, data: Data) -> Ran {
    run_with_policy(name, data, scope_host::grants::Policy::allow_all()).await
}

/// [`run_with`] under an operator policy.
pub async fn run_with_policy(name: &str, data: Data, policy: scope_host::grants::Policy) -> Ran {
    run_plugin(load(name), name, data, policy).await
}

/// Runs the component at `path` (e.g. a Python or JS build) with `data`, as step `name`.
pub async fn run_file(path: &std::path::Path, name: &str, data: Data, policy: scope_host::grants::Policy) -> Ran {
    let plugin = runtime()
        .load_file(path)
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    run_plugin(plugin, name, data, policy).await
}

async fn run_plugin(plugin: Arc<Plugin>, name: &str, data: Data, policy: scope_host::grants::Policy) -> Ran {
    let sim = Arc::new(SimCloud::from_fixture_json(&data.cloud.to_string()).expect("cloud fixture"));
    let sink = Arc::new(CaptureSink::default());
    let mut builder = RunBuilder::new(sim.clone())
        .context_secrets(&data.context)
        .providers(ProviderStore::new(data.providers))
        .policy(policy)
        .sink(sink.clone());
    if let Some(role) = data.assume {
        use scope_host::cloud::{AssumeRoleRequest, CallCtx, CloudBase, StsApi};
        let ctx = CallCtx {
            identity: sim.agent_identity().await.expect("agent").value,
            region: sim.default_region(),
        };
        let req = AssumeRoleRequest {
            role_arn: role.to_owned(),
            session_name: "np-lambda-test".into(),
            session_policy: None,
            duration_seconds: 3600,
        };
        let assumed = sim.assume_role(&ctx, &req).await.expect("assume the test role").value;
        builder = builder.starting_identity(assumed);
    }
    let env = builder.build().await.expect("env");
    let vars: BTreeMap<String, String> = data.vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let request = StepRequest {
        name: name.to_owned(),
        plugin,
        vars,
        context: data.context.to_string().into(),
        limits: Limits::default(),
    };
    let report = run_step(env.clone(), request).await;
    Ran { report, env, sim, sink }
}

/// The moto emulator (tests/moto-harness), shared with the host's own tests.
pub use moto_harness::Moto;

/// Decodes `%XX` and `+` in a form-encoded field.
pub fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The builds a whole-process bench measures: BENCH_BINARY (default: the release
/// binary of this target directory), then BENCH_COMPARE if set, each an absolute
/// path (`cargo bench` runs in the tests folder). `how_to_build` is said when one
/// is missing.
pub fn bench_binaries(how_to_build: &str) -> Vec<PathBuf> {
    let binary = std::env::var_os("BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release/scope-host"));
    let mut binaries = vec![binary];
    binaries.extend(std::env::var_os("BENCH_COMPARE").map(PathBuf::from));
    for b in &binaries {
        assert!(b.exists(), "{} is missing: {how_to_build}", b.display());
    }
    binaries
}

/// The `q` quantile of `v` (linear between the nearest ranks).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let at = q * (v.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
}

/// BENCH_RUNS, else `default`.
pub fn bench_runs(default: usize) -> usize {
    std::env::var("BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(default)
}
