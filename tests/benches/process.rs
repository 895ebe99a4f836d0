//! Whole `scope-host` processes on the simulated cloud, as a user or an agent runs
//! them: the process floor (`--version`), a six-step no-op workflow (`run`), the
//! `initial` deployment of the sample Lambda scope, the `create` of a public zip
//! scope and the `log:read` and `metric:data` telemetry requests (`handle`). Reports the median
//! wall time and its spread (quartiles) per command.
//!
//! Run: `cargo build --release -p scope-host && cargo bench -p scope-host-tests --bench
//! process`. BENCH_BINARY measures another build; BENCH_COMPARE names a second build
//! that takes turns with the first, run for run, so both meet the same machine (its
//! speed drifts by tens of percent over minutes), and the paired difference is
//! reported. BENCH_RUNS sets the runs per command (40).

use scope_host_tests::{builtin_dir, guest_dir, quantile};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// `median [p25 – p75]` in milliseconds.
fn spread(v: &[f64]) -> String {
    format!("{:7.2} ms  [{:.2} – {:.2}]", quantile(v, 0.5), quantile(v, 0.25), quantile(v, 0.75))
}

/// A command's arguments, given the scratch folder of the build that runs it.
type Args = Box<dyn Fn(&Path) -> Vec<String>>;

/// One command of the bench.
struct Case {
    name: String,
    args: Args,
    plugins: Vec<PathBuf>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let steps: String = (1..=6)
        .map(|i| format!("  - {{name: step{i}, type: wasm, plugin: emit}}\n"))
        .collect();
    let workflow = dir.join("workflow.yaml");
    std::fs::write(&workflow, format!("steps:\n{steps}")).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    vec![
        Case {
            name: "`scope-host --version` (process floor)".into(),
            args: Box::new(|_| vec!["--version".into()]),
            plugins: vec![],
        },
        Case {
            name: "`scope-host run`, 6 no-op steps".into(),
            args: Box::new(move |scratch| vec!["run".into(), s(&workflow), "--journal".into(), s(&scratch.join("run.jsonl"))]),
            plugins: vec![guest_dir(), builtin_dir()],
        },
        handle_case("initial deployment", "start-initial", "cloud-state.json"),
        handle_case("create of a public zip scope", "create-scope", "scope-cloud-state.json"),
        handle_case("log:read telemetry request", "log-read", "telemetry-cloud-state.json"),
        handle_case("metric:data telemetry request", "metric-data", "telemetry-cloud-state.json"),
    ]
}

/// `scope-host handle` of an example notification on an example cloud state, as
/// the platform's channel passes it.
fn handle_case(what: &str, notification: &'static str, state: &'static str) -> Case {
    Case {
        name: format!("`scope-host handle`, {what}, simulated cloud"),
        args: Box::new(move |scratch| {
            let svc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda");
            let ex = svc.join("examples");
            let s = |p: &Path| p.to_str().unwrap().to_owned();
            vec![
                "handle".into(),
                s(&ex.join(format!("notifications/{notification}.json"))),
                format!("--service-path={}", s(&svc)),
                "--providers".into(),
                s(&ex.join("providers.json")),
                "--cloud-state".into(),
                s(&ex.join(state)),
                "--journal".into(),
                s(&scratch.join(format!("{notification}.jsonl"))),
            ]
        }),
        plugins: vec![builtin_dir()],
    }
}

/// One whole process; its wall time in milliseconds.
fn run_once(binary: &Path, case: &Case, scratch: &Path) -> f64 {
    let mut cmd = Command::new(binary);
    cmd.args((case.args)(scratch))
        .env("SCOPE_HOST_CACHE", scratch.join("compile-cache"))
        // `cargo bench` points LD_LIBRARY_PATH at every build script's output folder;
        // the dynamic loader would search them all for libc at each start.
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("RUST_LOG");
    if case.plugins.is_empty() {
        cmd.env_remove("SCOPE_HOST_PLUGINS");
    } else {
        cmd.env("SCOPE_HOST_PLUGINS", std::env::join_paths(&case.plugins).unwrap());
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let wall = started.elapsed().as_secs_f64() * 1e3;
    assert!(
        out.status.success(),
        "{} {}: {}{}",
        binary.display(),
        case.name,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    wall
}

fn main() {
    let binaries = scope_host_tests::bench_binaries("build it first with `cargo build --release -p scope-host`");
    let runs = scope_host_tests::bench_runs(40);
    let dir = tempfile::tempdir().unwrap();
    // Each build has its own compile cache (their engines may differ).
    let scratch: Vec<PathBuf> = (0..binaries.len())
        .map(|k| {
            let p = dir.path().join(format!("build-{k}"));
            std::fs::create_dir_all(&p).unwrap();
            p
        })
        .collect();
    for case in cases(dir.path()) {
        let mut samples: Vec<Vec<f64>> = binaries.iter().map(|_| Vec::new()).collect();
        // One warm-up run of each fills its compile cache and the page cache.
        for i in 0..=runs {
            for k in 0..binaries.len() {
                let k = (k + i) % binaries.len();
                let wall = run_once(&binaries[k], &case, &scratch[k]);
                if i > 0 {
                    samples[k].push(wall);
                }
            }
        }
        println!("{} — {runs} runs, median [quartiles]:", case.name);
        for (b, s) in binaries.iter().zip(&samples) {
            println!("  {}  {}", spread(s), b.display());
        }
        if let [a, b] = &samples[..] {
            let diff: Vec<f64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
            println!("  {}  BENCH_COMPARE − BENCH_BINARY, run for run", spread(&diff));
        }
    }
}
