//! The `initial` deployment of the sample scope against the moto emulator, whole
//! `scope-host handle` process (release build), as an agent runs it. Reports the
//! median wall time and the host's overhead: wall time minus the time spent waiting
//! for the cloud (the sum of the journaled call durations), which the issue wants
//! at most 10 % of the wall time. BENCH_CASE=log-read or metric-data measures a
//! telemetry request instead (log events and datapoints seeded once through the SDK).
//! BENCH_CASE=plan runs the initial deployment and its `--plan` in turn, run for
//! run: both wall times, their paired difference, and what a planned change costs
//! on the overlay (seeding, rebuilding it, the simulated call) beside the same
//! change made on moto.
//!
//! Run: `scripts/bench-moto` (builds the release binary, then
//! `cargo bench -p scope-host-tests --bench moto`). BENCH_RUNS sets the runs (15);
//! BENCH_BINARY measures another build (say, a copy of an older one saved in
//! target/release, where it finds the built-in plugins); BENCH_COMPARE names a
//! second build to run in turn with the first, run for run on the same machine,
//! and reports both and their paired difference.

use scope_host_tests::aws_state::{seed, Clients};
use scope_host_tests::{target_dir, Moto};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Sample {
    wall_ms: f64,
    calls_ms: f64,
    calls: usize,
    /// Wall time outside the run's own span (process start, set-up, exit).
    outside_ms: f64,
    /// Time inside steps not spent waiting for the cloud (load, instantiate, guest code).
    in_steps_ms: f64,
    /// The changes: how many, and the time their calls took (on the overlay, in a plan).
    changes: usize,
    changes_ms: f64,
}

/// One whole `scope-host handle` process against the freshly seeded emulator.
/// What is measured.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    Initial,
    LogRead,
    MetricData,
    Plan,
}

impl Case {
    fn from_env() -> Case {
        match std::env::var("BENCH_CASE").as_deref() {
            Err(_) | Ok("" | "initial") => Case::Initial,
            Ok("log-read") => Case::LogRead,
            Ok("metric-data") => Case::MetricData,
            Ok("plan") => Case::Plan,
            Ok(other) => panic!("BENCH_CASE={other}: give initial, plan, log-read or metric-data"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Case::Initial => "initial deployment",
            Case::LogRead => "log:read request",
            Case::MetricData => "metric:data request",
            Case::Plan => "initial deployment (BENCH_CASE=plan)",
        }
    }
}

/// Log events and Duration datapoints of the sample function in the last hour;
/// the notification of `case` asking for them, written into `dir`.
async fn seed_telemetry(clients: &Clients, case: Case, dir: &Path, svc: &Path) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t0 = (now - 1800) / 60 * 60;
    let events: Vec<(u64, String)> = (0..50u64).map(|i| ((t0 + i * 10) * 1000, format!("event {i}\n"))).collect();
    clients.put_log_events("/aws/lambda/11-my-app-my-scope", "s", &events).await;
    let points: Vec<(u64, f64)> = (0..60u64).map(|i| (t0 + i * 20, 5.0 + i as f64 / 10.0)).collect();
    clients.put_durations("11-my-app-my-scope", &points).await;
    let (example, arguments) = match case {
        Case::LogRead => (
            "log-read",
            serde_json::json!({"start_time": t0 * 1000, "end_time": (t0 + 1200) * 1000, "limit": 100}),
        ),
        _ => (
            "metric-data",
            serde_json::json!({"metric": "Duration", "period": "60", "start_time": t0 * 1000, "end_time": (t0 + 1200) * 1000}),
        ),
    };
    let mut n: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(svc.join(format!("examples/notifications/{example}.json"))).unwrap()).unwrap();
    for (k, v) in arguments.as_object().unwrap() {
        n["notification"]["arguments"][k] = v.clone();
    }
    let path = dir.join(format!("{example}.json"));
    std::fs::write(&path, n.to_string()).unwrap();
    path
}

struct Bench<'a> {
    case: Case,
    notification: PathBuf,
    moto: &'a Moto,
    clients: &'a Clients,
    fixture: &'a serde_json::Value,
    rt: &'a tokio::runtime::Runtime,
    svc: PathBuf,
    dir: &'a Path,
}

impl Bench<'_> {
    /// `grant_declared`: the build refuses `--cloud aws` without a policy unless told
    /// `--grant-declared` (older builds know no such flag).
    fn run(&self, binary: &Path, journal: &Path, grant_declared: bool) -> Sample {
        self.run_with(binary, journal, grant_declared, &[])
    }

    fn run_with(&self, binary: &Path, journal: &Path, grant_declared: bool, extra: &[&str]) -> Sample {
        if matches!(self.case, Case::Initial | Case::Plan) {
            assert_eq!(self.moto.api("POST", "/moto-api/reset", "").0, 200);
            self.rt.block_on(seed(self.clients, self.fixture));
        }
        let svc = &self.svc;
        let started = Instant::now();
        let out = std::process::Command::new(binary)
            .arg("handle")
            .arg(&self.notification)
            .arg("--service-path")
            .arg(svc)
            .arg("--providers")
            .arg(svc.join("examples/providers.json"))
            .args(["--cloud", "aws", "--endpoint-url", &self.moto.endpoint])
            .args(grant_declared.then_some("--grant-declared"))
            .arg("--journal")
            .arg(journal)
            .args(extra)
            .env("SCOPE_HOST_CACHE", self.dir.join("compile-cache"))
            .env_remove("SCOPE_HOST_PLUGINS")
            .env_remove("AWS_PROFILE")
            // `cargo bench` points LD_LIBRARY_PATH at every build script's output
            // folder; the dynamic loader would search them all for libc at each start.
            .env_remove("LD_LIBRARY_PATH")
            .envs(self.moto.env())
            .output()
            .unwrap();
        let wall = started.elapsed();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let record = std::fs::read_to_string(journal).unwrap();
        let events: Vec<serde_json::Value> = record.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let of = |kind: &'static str| events.iter().filter(move |e| e["event"] == kind);
        let us = |e: &serde_json::Value| e["duration_us"].as_u64().unwrap() as f64 / 1e3;
        let calls: Vec<&serde_json::Value> = of("call").collect();
        let calls_us: u64 = calls.iter().map(|c| c["duration_us"].as_u64().unwrap()).sum();
        let run_ms: f64 = of("run_finished").map(us).sum();
        let steps_ms: f64 = of("step_finished").map(us).sum();
        let step_calls_ms: f64 = calls.iter().filter(|c| c["step"] != "(host)").map(|c| us(c)).sum();
        let changes: Vec<&&serde_json::Value> = calls
            .iter()
            .filter(|c| {
                c["service"] != "sts"
                    && !scope_host::grants::is_read_action(&format!(
                        "{}:{}",
                        c["service"].as_str().unwrap_or(""),
                        c["operation"].as_str().unwrap_or("")
                    ))
            })
            .collect();
        Sample {
            changes: changes.len(),
            changes_ms: changes.iter().map(|c| us(c)).sum(),
            wall_ms: wall.as_secs_f64() * 1e3,
            calls_ms: calls_us as f64 / 1e3,
            calls: calls.len(),
            outside_ms: wall.as_secs_f64() * 1e3 - run_ms,
            in_steps_ms: steps_ms - step_calls_ms,
        }
    }
}

impl Sample {
    fn overhead_ms(&self) -> f64 {
        self.wall_ms - self.calls_ms
    }
}

fn report(name: &str, case: Case, runs: usize, samples: &[Sample]) {
    let wall = median(samples.iter().map(|s| s.wall_ms).collect());
    let waiting = median(samples.iter().map(|s| s.calls_ms).collect());
    let overhead = median(samples.iter().map(Sample::overhead_ms).collect());
    let share = median(samples.iter().map(|s| s.overhead_ms() / s.wall_ms * 100.0).collect());
    println!(
        "{name}: {} against moto, whole `scope-host handle` process, {runs} runs (medians):",
        case.describe()
    );
    println!("  wall time                 {wall:8.1} ms");
    println!("  waiting for the cloud     {waiting:8.1} ms  ({} calls)", samples[0].calls);
    let target = if case == Case::Initial { " (target ≤ 10 %)" } else { "" };
    println!("  host overhead             {overhead:8.1} ms  = {share:.1} % of the wall time{target}");
    let outside = median(samples.iter().map(|s| s.outside_ms).collect());
    let in_steps = median(samples.iter().map(|s| s.in_steps_ms).collect());
    println!("    of which outside the run  {outside:8.1} ms  (process start, engine, SDK set-up, exit)");
    println!("    of which inside steps     {in_steps:8.1} ms  (plugin load, instantiate, guest code, host checks)");
    let min = samples.iter().map(|s| s.wall_ms).fold(f64::MAX, f64::min);
    let max = samples.iter().map(|s| s.wall_ms).fold(0.0, f64::max);
    println!("  wall time range           {min:8.1} – {max:.1} ms");
}

/// BENCH_CASE=plan: the run and its plan in turn, run for run.
fn plan_vs_run(bench: &Bench, binary: &Path, runs: usize) {
    let (mut real, mut plan) = (Vec::new(), Vec::new());
    for i in 0..=runs {
        let r = bench.run_with(binary, &bench.dir.join(format!("real-{i}.jsonl")), true, &[]);
        let p = bench.run_with(binary, &bench.dir.join(format!("plan-{i}.jsonl")), true, &["--plan"]);
        if i > 0 {
            real.push(r);
            plan.push(p);
        }
    }
    let spread = |v: &[Sample]| {
        let min = v.iter().map(|s| s.wall_ms).fold(f64::MAX, f64::min);
        let max = v.iter().map(|s| s.wall_ms).fold(0.0, f64::max);
        format!("{min:.1} – {max:.1} ms")
    };
    println!("initial deployment against moto, whole process, {runs} runs each, run and plan in turn (medians):");
    println!(
        "  run    wall {:8.1} ms  ({})  waiting for moto {:7.1} ms, {} calls",
        median(real.iter().map(|s| s.wall_ms).collect()),
        spread(&real),
        median(real.iter().map(|s| s.calls_ms).collect()),
        real[0].calls
    );
    println!(
        "  --plan wall {:8.1} ms  ({})  waiting for moto and the overlay {:7.1} ms, {} calls",
        median(plan.iter().map(|s| s.wall_ms).collect()),
        spread(&plan),
        median(plan.iter().map(|s| s.calls_ms).collect()),
        plan[0].calls
    );
    let diff = median(real.iter().zip(&plan).map(|(r, p)| p.wall_ms - r.wall_ms).collect());
    println!("  --plan − run, run for run: {diff:+.1} ms wall time");
    let per = |v: &[Sample]| median(v.iter().map(|s| s.changes_ms / s.changes.max(1) as f64).collect());
    println!(
        "  a change: {:.2} ms on moto, {:.2} ms planned on the overlay (seeding reads, rebuilding the overlay, the simulated call), {} changes",
        per(&real),
        per(&plan),
        plan[0].changes
    );
}

fn main() {
    let binaries = scope_host_tests::bench_binaries("run scripts/bench-moto (it builds target/release/scope-host)");
    let runs = scope_host_tests::bench_runs(15);
    let svc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda");
    let case = Case::from_env();
    let state = if matches!(case, Case::Initial | Case::Plan) {
        "cloud-state.json"
    } else {
        "telemetry-cloud-state.json"
    };
    let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(svc.join("examples").join(state)).unwrap()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let moto = Moto::start();
    let clients = rt.block_on(Clients::new(&moto.endpoint));
    let dir = tempfile::tempdir().unwrap();
    let notification = match case {
        Case::Initial | Case::Plan => svc.join("examples/notifications/start-initial.json"),
        _ => {
            rt.block_on(seed(&clients, &fixture));
            rt.block_on(seed_telemetry(&clients, case, dir.path(), &svc))
        }
    };
    let bench = Bench {
        case,
        notification,
        moto: &moto,
        clients: &clients,
        fixture: &fixture,
        rt: &rt,
        svc,
        dir: dir.path(),
    };

    if case == Case::Plan {
        plan_vs_run(&bench, &binaries[0], runs);
        return;
    }
    let grant_declared: Vec<bool> = binaries
        .iter()
        .map(|b| {
            let help = std::process::Command::new(b).args(["handle", "--help"]).output().unwrap();
            String::from_utf8_lossy(&help.stdout).contains("--grant-declared")
        })
        .collect();
    let mut samples: Vec<Vec<Sample>> = binaries.iter().map(|_| Vec::new()).collect();
    // One warm-up run of each fills the compile cache, as on an agent that has run
    // before. Compared builds take turns, first one then the other, so that both
    // meet the same machine (its speed drifts by tens of percent over minutes).
    for i in 0..=runs {
        for k in 0..binaries.len() {
            let k = (k + i) % binaries.len();
            let sample = bench.run(&binaries[k], &dir.path().join(format!("run-{k}-{i}.jsonl")), grant_declared[k]);
            if i > 0 {
                samples[k].push(sample);
            }
        }
    }
    let last = target_dir().join("bench-moto-last.jsonl");
    std::fs::copy(dir.path().join(format!("run-0-{runs}.jsonl")), &last).unwrap();
    for (b, s) in binaries.iter().zip(&samples) {
        report(&b.display().to_string(), case, runs, s);
    }
    if let [a, b] = &samples[..] {
        let diff = median(a.iter().zip(b).map(|(a, b)| b.overhead_ms() - a.overhead_ms()).collect());
        let wall = median(a.iter().zip(b).map(|(a, b)| b.wall_ms - a.wall_ms).collect());
        println!("BENCH_COMPARE − BENCH_BINARY, run for run (medians): host overhead {diff:+.2} ms, wall time {wall:+.2} ms");
    }
    println!("the last run's record: {}", last.display());
}
