//! A fleet of `scope-host agent` replicas on one real PostgreSQL server (started
//! per test by scripts/postgres): the store keeps the same contract as SQLite's;
//! notifications posted to any replica run exactly once, a scope's in arrival
//! order; a replica killed (SIGKILL) or paused past its lease (SIGSTOP) loses its
//! runs to another, which resumes them without running completed steps again, the
//! paused one's late writes refused and journaled; and the database restarted in
//! the middle loses nothing.

use scope_host::agent::store::{contract, postgres::PgStore, Store};
use scope_host_tests::agent::{assert_each_scope_in_order, mentions, signal, started, AgentProcess};
use scope_host_tests::guest_dir;
use scope_host_tests::postgres::Postgres;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_postgres_store_keeps_the_contract_and_hands_each_run_to_one_claimer() {
    let pg = Postgres::start();
    let url = pg.database("contract");
    let store = PgStore::open(&url, 4).await.unwrap();
    contract::contract(&store).await;
    // Ended runs forget their notification: no secret is left in the database.
    let leftover = psql(
        &url,
        "SELECT count(*) FROM runs WHERE notification LIKE '%s3cr3t%' AND state <> 'queued' AND state <> 'running'",
    );
    assert_eq!(leftover.trim(), "0");

    let url = pg.database("claims");
    let store = PgStore::open(&url, 8).await.unwrap();
    contract::concurrent_claims(&store, 4).await;
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_running_run_in_a_scope_and_a_newer_schema() {
    let pg = Postgres::start();
    let url = pg.database("index");
    let store = PgStore::open(&url, 2).await.unwrap();
    for (id, key) in [("a1", "k1"), ("a2", "k2")] {
        store
            .submit(scope_host::agent::store::NewRun {
                id: id.into(),
                dedupe_key: key.into(),
                scope: Some("a".into()),
                family: "scope".into(),
                workflow: "create".into(),
                notification: "{}".into(),
                max_queued: 10,
                plan_only: false,
            })
            .await
            .unwrap();
    }
    assert_eq!(store.claim("r1", MINUTE, 10).await.unwrap().len(), 1);
    // What a replica with a bug in its claim would do: the index says no.
    let refused = psql_err(&url, "UPDATE runs SET state = 'running', lease_owner = 'rogue' WHERE id = 'a2'");
    assert!(refused.contains("one_running_run_per_scope"), "{refused}");

    psql(&url, "INSERT INTO schema_version (version) VALUES (99)");
    let newer = PgStore::open(&url, 2).await;
    assert!(
        matches!(&newer, Err(scope_host::agent::store::StoreError::Schema(m)) if m.contains("schema version 99")),
        "{:?}",
        newer.err()
    );
}

/// `psql -c SQL` on `url`: its output.
fn psql(url: &str, sql: &str) -> String {
    let (ok, out, err) = scope_host_tests::postgres::psql(url, sql);
    assert!(ok, "psql {sql}: {err}");
    out
}

/// `psql -c SQL` expected to fail: its error.
fn psql_err(url: &str, sql: &str) -> String {
    let (ok, _, err) = scope_host_tests::postgres::psql(url, sql);
    assert!(!ok, "psql {sql} succeeded");
    err
}

/// A service whose one workflow (scope create) runs `first` (an output), `work`
/// (sleeps `sleep_ms`) and `last` (echoes `first`'s output).
fn sleeping_service(dir: &Path, sleep_ms: u64) -> PathBuf {
    let service = dir.join("service");
    let wf = service.join("scope/workflows/create.yaml");
    std::fs::create_dir_all(wf.parent().unwrap()).unwrap();
    std::fs::write(
        &wf,
        format!(
            "steps:
  - name: first
    type: wasm
    plugin: emit
    configuration: {{EMIT: 'FIRST=one'}}
    output:
      - {{name: FIRST, type: environment}}
  - name: work
    type: wasm
    plugin: emit
    configuration: {{SLEEP_MS: '{sleep_ms}'}}
  - name: last
    type: wasm
    plugin: emit
    configuration: {{ECHO_VARS: 'FIRST'}}
    output:
      - {{name: SAW_FIRST, type: environment}}
"
        ),
    )
    .unwrap();
    service
}

/// A replica of the fleet on `database`, running `service`, with `extra` flags.
fn replica(dir: &Path, database: &str, service: &Path, extra: &[&str]) -> AgentProcess {
    let guests = guest_dir();
    let mut args = vec![
        "--database",
        database,
        "--service-path",
        service.to_str().unwrap(),
        "--plugins",
        guests.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    AgentProcess::start(dir, &args, &[])
}

fn notification(key: &str, scope: u64) -> String {
    json!({"id": key, "notification": {"type": "create", "parameters": {"scope_id": scope.to_string()}},
        "context": {"scope": {"id": scope}}})
    .to_string()
}

/// Posts a notification to `agent`: its run id (a new run: 202; a known one: 200).
fn post(agent: &AgentProcess, key: &str, scope: u64) -> (u16, String) {
    let answer = agent.post("/v1/notifications", &notification(key, scope));
    assert!([200, 202].contains(&answer.status), "{}", answer.body);
    (answer.status, answer.json()["run_id"].as_str().unwrap().to_owned())
}

/// Waits until the run's `work` step is running (`first` stored) on `agent`'s fleet.
fn wait_for_work(agent: &AgentProcess, id: &str) {
    let deadline = Instant::now() + MINUTE;
    loop {
        let run = agent.get(&format!("/v1/runs/{id}")).json();
        if run["state"] == "running" && run["steps"].as_array().unwrap().len() == 1 && started(&agent.events(id), "work") == 1 {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never reached `work`: {run:#}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Which of `replicas` logged starting `run`.
fn runners(replicas: &[&AgentProcess], run: &str) -> Vec<usize> {
    let needle = format!("run={run}");
    replicas
        .iter()
        .enumerate()
        .filter(|(_, r)| r.log_text().lines().any(|l| l.contains("run started") && l.contains(&needle)))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn three_replicas_run_300_notifications_across_30_scopes_each_once_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let db = pg.database("fleet");
    let service = sleeping_service(dir.path(), 0);
    let replicas: Vec<AgentProcess> = (0..3)
        .map(|_| replica(dir.path(), &db, &service, &["--concurrency", "4"]))
        .collect();

    // Each notification to a pseudo-random replica; every fifth posted again to
    // another, which must answer with the same run.
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut runs: Vec<(u64, String)> = Vec::new();
    for i in 0..300u64 {
        let scope = 1000 + i % 30;
        let key = format!("n-{i}");
        let to = next(3) as usize;
        let (status, id) = post(&replicas[to], &key, scope);
        assert_eq!(status, 202);
        if i % 5 == 0 {
            let (status, again) = post(&replicas[(to + 1 + next(2) as usize) % 3], &key, scope);
            assert_eq!((status, &again), (200, &id), "a duplicate is the same run, on any replica");
        }
        runs.push((scope, id));
    }
    let ids: HashSet<&String> = runs.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 300, "one run per notification");

    let ended: Vec<(u64, Value)> = runs
        .iter()
        .map(|(scope, id)| (*scope, replicas[0].wait_run(id, 3 * MINUTE)))
        .collect();
    for (_, run) in &ended {
        assert_eq!(run["state"], "succeeded", "{run:#}");
        assert_eq!(run["attempts"], 1, "{run:#}");
    }
    // Each scope's runs one after the other, in the order they were notified.
    assert_each_scope_in_order(&ended, 10);
    // Each ran once: one start in its journal, each step once; and the work was
    // shared by the replicas.
    let all: Vec<&AgentProcess> = replicas.iter().collect();
    let mut by_replica = BTreeMap::new();
    for (_, id) in runs.iter().step_by(7) {
        let events = replicas[1].events(id);
        assert_eq!(events.iter().filter(|e| e["event"] == "run_started").count(), 1, "{events:#?}");
        assert_eq!((started(&events, "first"), started(&events, "last")), (1, 1));
        let ran = runners(&all, id);
        assert_eq!(ran.len(), 1, "{id} started on replicas {ran:?}");
        *by_replica.entry(ran[0]).or_insert(0) += 1;
    }
    assert!(by_replica.len() >= 2, "one replica did all the work: {by_replica:?}");
}

#[test]
fn a_replica_killed_holding_runs_loses_them_to_another_within_the_lease_and_nothing_runs_twice() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let db = pg.database("takeover");
    let service = sleeping_service(dir.path(), 2000);
    let flags = ["--concurrency", "4", "--lease", "3s"];
    // The first replica alone takes the runs in hand; then the others join.
    let mut doomed = replica(dir.path(), &db, &service, &flags);
    let ids: Vec<String> = (0..4).map(|i| post(&doomed, &format!("k-{i}"), 70 + i).1).collect();
    for id in &ids {
        wait_for_work(&doomed, id);
    }
    let survivors = [
        replica(dir.path(), &db, &service, &flags),
        replica(dir.path(), &db, &service, &flags),
    ];
    let killed_at = scope_host::agent::store::now_ms();
    doomed.kill9();

    for id in &ids {
        let run = survivors[0].wait_run(id, MINUTE);
        assert_eq!(run["state"], "succeeded", "{run:#}");
        assert_eq!(run["attempts"], 2, "{run:#}");
        let late = run["finished_ms"].as_i64().unwrap() - killed_at;
        assert!(late <= 3000 + 5000, "{id} finished {late} ms after the kill (lease 3 s + 5 s)");
        let last = run["steps"].as_array().unwrap().iter().find(|s| s["path"] == "last").unwrap();
        assert_eq!(
            last["values"]["SAW_FIRST"], "one",
            "the output of the step not run again is restored"
        );
        let events = survivors[1].events(id);
        assert_eq!(started(&events, "first"), 1, "a completed step ran again: {events:#?}");
        assert_eq!(started(&events, "work"), 2, "the step in flight at the kill ran again");
        assert!(
            mentions(&events, "attempt 2: taken over by"),
            "the journal names the takeover: {events:#?}"
        );
    }
}

#[test]
fn a_replica_paused_past_its_lease_has_its_late_writes_refused_and_gives_the_run_up() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let db = pg.database("fencing");
    let service = sleeping_service(dir.path(), 2500);
    let flags = ["--lease", "2s"];
    let paused = replica(dir.path(), &db, &service, &flags);
    let id = post(&paused, "k-paused", 90).1;
    wait_for_work(&paused, &id);
    signal(paused.pid(), "STOP");
    let taker = replica(dir.path(), &db, &service, &flags);
    let run = taker.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "succeeded", "{run:#}");
    assert_eq!(run["attempts"], 2);

    // Woken, the paused replica finds the run is not its own any more: what it
    // tries to write is refused, journaled, and it lets the run go.
    signal(paused.pid(), "CONT");
    let deadline = Instant::now() + MINUTE;
    let events = loop {
        let events = taker.events(&id);
        if mentions(&events, "a late write of a former owner was refused") {
            break events;
        }
        assert!(
            Instant::now() < deadline,
            "no refusal journaled: {events:#?}\nthe paused replica's log:\n{}",
            paused.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        paused.log_text().contains("the run was taken over: giving it up"),
        "{}",
        paused.log_text()
    );
    let after = taker.get(&format!("/v1/runs/{id}")).json();
    assert_eq!(after["state"], "succeeded", "the late writer changed nothing: {after:#}");
    assert_eq!(after["steps"].as_array().unwrap().len(), 3, "{after:#}");
    assert_eq!(started(&events, "first"), 1);
    // The paused replica is well and takes new work.
    assert_eq!(paused.get("/readyz").status, 200);
}

#[test]
fn postgres_restarted_in_the_middle_every_run_finishes_once_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let db = pg.database("outage");
    let service = sleeping_service(dir.path(), 400);
    let flags = ["--concurrency", "3", "--lease", "20s"];
    let replicas = [
        replica(dir.path(), &db, &service, &flags),
        replica(dir.path(), &db, &service, &flags),
    ];
    let ids: Vec<String> = (0..24u64)
        .map(|i| post(&replicas[(i % 2) as usize], &format!("o-{i}"), 200 + i % 8).1)
        .collect();
    wait_for_work(&replicas[0], &ids[0]);

    pg.pause();
    // Down: the replicas say they are not ready (a load balancer stops sending).
    let deadline = Instant::now() + Duration::from_secs(20);
    while replicas[0].get("/readyz").status == 200 {
        assert!(Instant::now() < deadline, "still ready with the database down");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    pg.resume();

    for id in &ids {
        let run = replicas[1].wait_run(id, 2 * MINUTE);
        assert_eq!(run["state"], "succeeded", "{run:#}");
        assert_eq!(run["attempts"], 1, "no run was taken over: {run:#}");
        let events = replicas[0].events(id);
        assert_eq!(
            (started(&events, "first"), started(&events, "work"), started(&events, "last")),
            (1, 1, 1),
            "{id}: {events:#?}"
        );
        assert_eq!(run["steps"].as_array().unwrap().len(), 3, "every step's record was kept: {run:#}");
    }
    for r in &replicas {
        assert_eq!(r.get("/readyz").status, 200, "ready again: {}", r.log_text());
    }
    // The outage met the runs in flight: their writes were retried, not dropped.
    assert!(
        replicas
            .iter()
            .any(|r| r.log_text().contains("the store did not answer; trying again")),
        "no write was retried: the outage missed the runs"
    );
}

#[test]
fn a_notification_taken_by_a_busy_replica_wakes_an_idle_one_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let db = pg.database("wake");
    let service = sleeping_service(dir.path(), 3000);
    // Polls a minute apart: only the database's NOTIFY can wake the idle replica soon.
    let flags = ["--concurrency", "1", "--poll", "60s"];
    let busy = replica(dir.path(), &db, &service, &flags);
    let idle = replica(dir.path(), &db, &service, &flags);
    // Whichever replica took the first run is full; the other takes the second.
    let first = post(&busy, "w-1", 1).1;
    wait_for_work(&busy, &first);
    let second = post(&busy, "w-2", 2).1;
    let run = idle.wait_run(&second, MINUTE);
    assert_eq!(run["state"], "succeeded", "{run:#}");
    let waited = run["started_ms"].as_i64().unwrap() - run["created_ms"].as_i64().unwrap();
    assert!(waited < 2000, "the second run waited {waited} ms to start: no replica was woken");
    assert_eq!(runners(&[&busy, &idle], &second).len(), 1);

    // The fleet's runs, read from the database beside the replicas.
    let shown = scope_host_tests::scope_host_command()
        .args(["runs", "list", "--json", "--database", &db])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let listed: Value = serde_json::from_slice(&shown.stdout).unwrap();
    let ids: HashSet<&str> = listed.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, HashSet::from([first.as_str(), second.as_str()]));
}

/// A certificate authority and a server certificate for 127.0.0.1 signed by it,
/// in `dir` (`ca.pem`, `server.pem`, `server.key`), readable by the server.
fn certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    // PostgreSQL wants its key private to the user it runs as (`postgres` under root).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if std::process::Command::new("id").arg("-u").output().unwrap().stdout == b"0\n" {
        let out = std::process::Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
}

#[test]
fn replicas_verify_the_database_server_certificate_when_told_to() {
    let dir = tempfile::tempdir().unwrap();
    let certs = scope_host_tests::target_dir()
        .join("postgres-tests")
        .join(format!("certs-{}", std::process::id()));
    certificates(&certs);
    let pg = Postgres::start_with(&format!(
        "-c ssl=on -c ssl_cert_file={0}/server.pem -c ssl_key_file={0}/server.key",
        certs.display()
    ));
    let db = pg.database("tls");
    let service = sleeping_service(dir.path(), 0);
    let verified = format!("{db}?sslmode=verify-full&sslrootcert={}", certs.join("ca.pem").display());
    let agent = replica(dir.path(), &verified, &service, &[]);
    let id = post(&agent, "tls-1", 5).1;
    assert_eq!(agent.wait_run(&id, MINUTE)["state"], "succeeded");
    // The server's connections from the agent are encrypted.
    let (ok, encrypted, err) = scope_host_tests::postgres::psql(
        &db,
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND application_name = 'scope-host agent'",
    );
    assert!(ok, "{err}");
    assert_ne!(encrypted.trim(), "0", "no encrypted connection from the agent");

    // A server whose certificate another authority signed is refused.
    let other = certs.join("other");
    certificates(&other);
    let wrong = format!("{db}?sslmode=verify-full&sslrootcert={}", other.join("ca.pem").display());
    let (code, said) = AgentProcess::refused(&["--database", &wrong, "--service-path", service.to_str().unwrap()], &[]);
    assert_ne!(code, Some(0));
    assert!(said.to_lowercase().contains("certificate"), "{said}");
    assert!(!said.contains("postgres://"), "the URL is not echoed: {said}");
    let _ = std::fs::remove_dir_all(&certs);
}
