//! `scope-host agent` under load, on the simulated cloud: the `initial` deployment
//! of the sample Lambda scope, notified for many scopes at once. On SQLite, one
//! agent with 1 and 4 runs at a time; on PostgreSQL (a throwaway server), a fleet
//! of 1, 2 and 3 replicas (notifications spread over them in turn), with the
//! statements they send per run. Reports runs per second (from the first
//! notification to the last run's end), how long a run waited from accepted to
//! started (the claim latency: p50, p99) and how long it ran (p50, p99); "one at a
//! time" sends each notification once the last run ended (an idle agent's latency).
//!
//! Run: `cargo build --release -p scope-host && cargo bench -p scope-host-tests
//! --bench agent`. BENCH_BINARY measures another build; BENCH_RUNS sets the
//! notifications per round (200, over 20 scopes); BENCH_STORE=sqlite or postgres
//! measures one store.

use scope_host_tests::agent::AgentProcess;
use scope_host_tests::postgres::{psql, Postgres};
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

/// What one round measured.
struct Round {
    label: String,
    runs: Vec<Value>,
    /// When each run's first step started (its journal's clock, ms).
    first_steps: Vec<f64>,
    wall: f64,
}

impl Round {
    fn print(&self, extra: &str) {
        let n = self.runs.len();
        let failed = self.runs.iter().filter(|r| r["state"] != "succeeded").count();
        assert_eq!(failed, 0, "{:#}", self.runs.iter().find(|r| r["state"] != "succeeded").unwrap());
        let ms = |r: &Value, k: &str| r[k].as_i64().unwrap() as f64;
        let waits: Vec<f64> = self.runs.iter().map(|r| ms(r, "started_ms") - ms(r, "created_ms")).collect();
        let first_steps: Vec<f64> = self
            .first_steps
            .iter()
            .zip(&self.runs)
            .map(|(t, r)| t - ms(r, "created_ms"))
            .collect();
        let durations: Vec<f64> = self.runs.iter().map(|r| ms(r, "finished_ms") - ms(r, "started_ms")).collect();
        println!(
            "{}: {n} runs of `initial` over {SCOPES} scopes in {:.2} s = {:.1} runs/s; \
             accepted→claimed p50 {:.0} ms p99 {:.0} ms, accepted→first step started p50 {:.0} ms p99 {:.0} ms \
             (queueing included); run p50 {:.1} ms p99 {:.1} ms{extra}",
            self.label,
            self.wall,
            n as f64 / self.wall,
            quantile(&waits, 0.5),
            quantile(&waits, 0.99),
            quantile(&first_steps, 0.5),
            quantile(&first_steps, 0.99),
            quantile(&durations, 0.5),
            quantile(&durations, 0.99),
        );
    }
}

/// Notifies `rounds` runs, spread over `agents` in turn (one at a time, each once
/// the last ended, when `idle`), and waits for them all.
fn round(agents: &[AgentProcess], rounds: usize, idle: bool, label: String) -> Round {
    // Warm: one run per replica compiles nothing (the agent compiled at start) but fills caches.
    for (i, agent) in agents.iter().enumerate() {
        let warm = agent.post("/v1/notifications", &notification(usize::MAX / 2 + i)).json()["run_id"]
            .as_str()
            .unwrap()
            .to_owned();
        agent.wait_run(&warm, Duration::from_secs(60));
    }
    let started = Instant::now();
    let mut runs: Vec<Value> = Vec::new();
    let ids: Vec<String> = (0..rounds)
        .map(|i| {
            let agent = &agents[i % agents.len()];
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
        runs = ids.iter().map(|id| agents[0].wait_run(id, Duration::from_secs(600))).collect();
    }
    let wall = started.elapsed().as_secs_f64();
    let first_steps = runs
        .iter()
        .map(|r| {
            let events = agents[0].events(r["id"].as_str().unwrap());
            let first = events.iter().find(|e| e["event"] == "step_started").expect("a step started");
            first["ts_ms"].as_f64().unwrap()
        })
        .collect();
    Round {
        label,
        runs,
        first_steps,
        wall,
    }
}

/// Starts `replicas` agents on `database` with `--concurrency`.
fn agents(binary: &std::path::Path, dir: &std::path::Path, database: &str, replicas: usize, concurrency: &str) -> Vec<AgentProcess> {
    let cloud = cloud(dir);
    let mut args = scope_host_tests::agent::lambda_agent_args(dir, &cloud);
    let at = args.iter().position(|a| a == "--database").unwrap();
    args[at + 1] = database.to_owned();
    args.extend(["--concurrency", concurrency, "--max-queued", "100000", "-q"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (0..replicas).map(|_| AgentProcess::start_binary(binary, dir, &args, &[])).collect()
}

fn main() {
    let binaries = bench_binaries("build it first: cargo build --release -p scope-host");
    let n = bench_runs(200);
    let stores = std::env::var("BENCH_STORE").unwrap_or_else(|_| "sqlite,postgres".into());
    if stores.contains("sqlite") {
        for concurrency in ["idle", "1", "4"] {
            // `idle`: one notification at a time, each sent once the last run ended —
            // the claim latency of an agent with nothing queued.
            let idle = concurrency == "idle";
            let concurrency = if idle { "1" } else { concurrency };
            let dir = tempfile::tempdir().unwrap();
            let db = format!("sqlite:{}", dir.path().join("agent.db").display());
            let agents = agents(&binaries[0], dir.path(), &db, 1, concurrency);
            let label = if idle {
                "SQLite, one at a time".to_owned()
            } else {
                format!("SQLite, --concurrency {concurrency}")
            };
            round(&agents, if idle { n / 4 } else { n }, idle, label).print("");
        }
    }
    if stores.contains("postgres") {
        // pg_stat_statements counts the statements the replicas send: each is one
        // round trip (BEGIN and COMMIT included).
        let pg = Postgres::start_with("-c shared_preload_libraries=pg_stat_statements");
        for (i, (replicas, concurrency)) in [(0, "1"), (1, "4"), (2, "4"), (3, "4")].into_iter().enumerate() {
            let idle = replicas == 0;
            let replicas = replicas.max(1);
            let dir = tempfile::tempdir().unwrap();
            let db = pg.database(&format!("bench{i}"));
            let (ok, _, err) = psql(&db, "CREATE EXTENSION pg_stat_statements");
            assert!(ok, "{err}");
            let agents = agents(&binaries[0], dir.path(), &db, replicas, concurrency);
            psql(&db, "SELECT pg_stat_statements_reset()");
            let label = if idle {
                "PostgreSQL, 1 replica, one at a time".to_owned()
            } else {
                format!("PostgreSQL, {replicas} replica(s) × --concurrency {concurrency}")
            };
            let measured = round(&agents, if idle { n / 4 } else { n }, idle, label);
            let (_, calls, _) = psql(
                &db,
                "SELECT sum(calls) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
            );
            let calls: f64 = calls.trim().parse().unwrap_or(0.0);
            // The warm-up runs are counted too: one per replica.
            let per_run = calls / (measured.runs.len() + replicas) as f64;
            measured.print(&format!("; {per_run:.1} statements (round trips) per run"));
        }
    }
}
