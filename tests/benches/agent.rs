//! `scope-host agent` under load, on the simulated cloud and its SQLite store: the
//! `initial` deployment of the sample Lambda scope, notified for many scopes at
//! once, with 1 and 4 runs at a time. Reports runs per second (from the first
//! notification to the last run's end), how long a run waited from accepted to
//! started (the claim latency: p50, p99) and how long it ran (p50, p99).
//!
//! Run: `cargo build --release -p scope-host && cargo bench -p scope-host-tests
//! --bench agent`. BENCH_BINARY measures another build; BENCH_RUNS sets the
//! notifications per round (200, over 20 scopes).

use scope_host_tests::agent::AgentProcess;
use scope_host_tests::{bench_binaries, bench_runs, lambda_service, quantile};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SCOPES: u64 = 20;

/// The example cloud with one function per scope (`<id>-my-app-my-scope`).
fn cloud(dir: &std::path::Path) -> std::path::PathBuf {
    let mut cloud: Value =
        serde_json::from_str(&std::fs::read_to_string(lambda_service().join("examples/cloud-state.json")).unwrap()).unwrap();
    let template = cloud["lambda"]["functions"][0].clone();
    let functions: Vec<Value> = (0..SCOPES)
        .map(|i| {
            let id = 100 + i;
            let mut f = template.clone();
            f["name"] = json!(format!("{id}-my-app-my-scope"));
            f["tags"]["nullplatform:scope-id"] = json!(id.to_string());
            f
        })
        .collect();
    cloud["lambda"]["functions"] = json!(functions);
    let path = dir.join("cloud.json");
    std::fs::write(&path, cloud.to_string()).unwrap();
    path
}

fn notification(i: usize) -> String {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(lambda_service().join("examples/notifications/start-initial.json")).unwrap())
            .unwrap();
    let scope = 100 + (i as u64 % SCOPES);
    doc["id"] = json!(format!("bench-{i}"));
    doc["context"]["scope"]["id"] = json!(scope);
    doc.to_string()
}

fn main() {
    let binaries = bench_binaries("build it first: cargo build --release -p scope-host");
    let n = bench_runs(200);
    for concurrency in ["idle", "1", "4"] {
        // `idle`: one notification at a time, each sent once the last run ended —
        // the claim latency of an agent with nothing queued.
        let idle = concurrency == "idle";
        let concurrency = if idle { "1" } else { concurrency };
        let dir = tempfile::tempdir().unwrap();
        let cloud = cloud(dir.path());
        let mut args = scope_host_tests::agent::lambda_agent_args(dir.path(), &cloud);
        args.extend(["--concurrency", concurrency, "--max-queued", "100000", "-q"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let agent = AgentProcess::start_binary(&binaries[0], dir.path(), &args, &[]);
        // Warm: one run compiles nothing (the agent compiled at start) but fills caches.
        let warm = agent.post("/v1/notifications", &notification(usize::MAX / 2)).json()["run_id"]
            .as_str()
            .unwrap()
            .to_owned();
        agent.wait_run(&warm, Duration::from_secs(60));
        let started = Instant::now();
        let rounds = if idle { n / 4 } else { n };
        let mut runs: Vec<Value> = Vec::new();
        let ids: Vec<String> = (0..rounds)
            .map(|i| {
                let answer = agent.post("/v1/notifications", &notification(i));
                assert_eq!(answer.status, 202, "{}", answer.body);
                let id = answer.json()["run_id"].as_str().unwrap().to_owned();
                if idle {
                    runs.push(agent.wait_run(&id, Duration::from_secs(600)));
                }
                id
            })
            .collect();
        if !idle {
            runs = ids.iter().map(|id| agent.wait_run(id, Duration::from_secs(600))).collect();
        }
        let n = rounds;
        let wall = started.elapsed().as_secs_f64();
        let failed = runs.iter().filter(|r| r["state"] != "succeeded").count();
        assert_eq!(failed, 0, "{:#}", runs.iter().find(|r| r["state"] != "succeeded").unwrap());
        let ms = |r: &Value, k: &str| r[k].as_i64().unwrap() as f64;
        let waits: Vec<f64> = runs.iter().map(|r| ms(r, "started_ms") - ms(r, "created_ms")).collect();
        let durations: Vec<f64> = runs.iter().map(|r| ms(r, "finished_ms") - ms(r, "started_ms")).collect();
        let label = if idle {
            "one at a time".to_owned()
        } else {
            format!("--concurrency {concurrency}")
        };
        println!(
            "{label}: {n} runs of `initial` over {SCOPES} scopes in {wall:.2} s = {:.1} runs/s; \
             accepted→started p50 {:.0} ms p99 {:.0} ms (queueing included); run p50 {:.1} ms p99 {:.1} ms",
            n as f64 / wall,
            quantile(&waits, 0.5),
            quantile(&waits, 0.99),
            quantile(&durations, 0.5),
            quantile(&durations, 0.99),
        );
    }
}
