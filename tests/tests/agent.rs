//! `scope-host agent` as a real process: notifications over HTTP into its store
//! (SQLite; PostgreSQL when `SCOPE_HOST_TEST_STORE=postgres`, as scripts/test runs
//! them a second time), deduplicated; runs of the Lambda service on the simulated cloud, one per
//! scope in arrival order; bad input refused with `handle`'s messages and nothing
//! stored; tokens; cancel; and a SIGKILL mid-run that loses nothing, the run
//! resumed at restart without running its completed steps again.

use scope_host_tests::agent::{assert_each_scope_in_order, lambda_agent_args, mentions, span, started, AgentProcess};
use scope_host_tests::{guest_dir, lambda_service, scope_host_command};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

fn example(name: &str) -> String {
    std::fs::read_to_string(lambda_service().join("examples").join(name)).unwrap()
}

/// The Lambda service on the example cloud, store in `dir`.
fn lambda_agent(dir: &Path, extra: &[&str]) -> AgentProcess {
    lambda_agent_with_env(dir, extra, &[])
}

/// [`lambda_agent`] with environment variables; a `--cloud-state` in `extra`
/// replaces the example cloud.
fn lambda_agent_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> AgentProcess {
    let cloud = extra
        .iter()
        .position(|a| *a == "--cloud-state")
        .map(|i| PathBuf::from(extra[i + 1]))
        .unwrap_or_else(|| lambda_service().join("examples/cloud-state.json"));
    let mut extra = extra.to_vec();
    if let Some(i) = extra.iter().position(|a| *a == "--cloud-state") {
        extra.drain(i..i + 2);
    }
    let owned = lambda_agent_args(dir, &cloud);
    let mut args: Vec<&str> = owned.iter().map(String::as_str).collect();
    args.extend_from_slice(&extra);
    AgentProcess::start(dir, &args, env)
}

/// The start-initial notification for scope `scope`, with its own id.
fn initial_for(scope: u64, id: &str) -> String {
    let mut doc: Value = serde_json::from_str(&example("notifications/start-initial.json")).unwrap();
    doc["id"] = json!(id);
    doc["context"]["scope"]["id"] = json!(scope);
    doc.to_string()
}

#[test]
fn a_notification_runs_once_and_its_run_steps_and_journal_are_served_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let agent = lambda_agent(dir.path(), &[]);
    let body = example("notifications/start-initial.json");
    let accepted = agent.post("/v1/notifications", &body);
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let id = accepted.json()["run_id"].as_str().unwrap().to_owned();

    // The same document again, even re-formatted: the same run, not a second one.
    let again: Value = serde_json::from_str(&body).unwrap();
    let again = agent.post("/v1/notifications", &serde_json::to_string_pretty(&again).unwrap());
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["run_id"], id.as_str());

    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "succeeded", "{run:#}");
    assert_eq!(run["family"], "deployment");
    assert_eq!(run["workflow"], "initial");
    assert_eq!(run["scope"], "11");
    let steps: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(steps.first(), Some(&"assume_role"));
    assert!(steps.contains(&"update_alias"), "{steps:?}");
    assert!(run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "ok" && s["duration_us"].is_u64()));

    let runs = agent.get("/v1/runs").json();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "one run for two posts: {runs:#}");

    let journal = agent.get(&format!("/v1/runs/{id}/events")).json();
    let events = journal["events"].as_array().unwrap();
    assert_eq!(events.first().unwrap()["event"], "run_started");
    assert_eq!(events.last().unwrap()["event"], "run_finished");
    assert!(events.iter().any(|e| e["event"] == "call" && e["operation"] == "PublishVersion"));

    // The secret parameter of the context is nowhere the API serves, nor in the
    // store once the run is over.
    let secret = "s3cr3t-db-password";
    assert!(body.contains(secret), "the example carries the secret");
    for served in [
        agent.get(&format!("/v1/runs/{id}")).body,
        agent.get(&format!("/v1/runs/{id}/events")).body,
    ] {
        assert!(!served.contains(secret), "{served}");
    }
    if scope_host_tests::agent::on_postgres() {
        let url = scope_host_tests::agent::database(dir.path());
        for table in ["notifications", "runs", "steps", "journal"] {
            let sql = format!("SELECT count(*) FROM {table} t WHERE t::text LIKE '%{secret}%'");
            let (ok, count, err) = scope_host_tests::postgres::psql(&url, &sql);
            assert!(ok, "{err}");
            assert_eq!(count.trim(), "0", "the store's {table} still hold the secret");
        }
    } else {
        let db = std::fs::read(dir.path().join("agent.db")).unwrap();
        let wal = std::fs::read(dir.path().join("agent.db-wal")).unwrap_or_default();
        for bytes in [&db, &wal] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) || std::str::from_utf8(bytes).is_err(),
                "the store still holds the secret"
            );
        }
    }

    // The journal as the JSON-lines record `handle` writes, from the store.
    let out = scope_host_command()
        .args(["runs", "events", &id, "--jsonl", "--database"])
        .arg(scope_host_tests::agent::database(dir.path()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), events.len());
}

#[test]
fn bad_notifications_get_handles_messages_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let agent = lambda_agent(dir.path(), &[]);
    let malformed = agent.post("/v1/notifications", "{\"notification\": {\"slug\": \n}");
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("the request body is not valid JSON at line 2, column 1"),
        "{}",
        malformed.body
    );
    // An unknown deployment slug: the message handle gives for the same file.
    let unroutable = r#"{"notification": {"slug": "start-nonsense", "parameters": {"deployment_id": 5}}, "context": {}}"#;
    let answer = agent.post("/v1/notifications", unroutable);
    assert_eq!(answer.status, 400);
    let file = dir.path().join("unroutable.json");
    std::fs::write(&file, unroutable).unwrap();
    let handle = scope_host_command()
        .arg("handle")
        .arg(&file)
        .arg("--service-path")
        .arg(lambda_service())
        .output()
        .unwrap();
    let handle_said = String::from_utf8_lossy(&handle.stderr);
    let reason = answer.json()["error"]
        .as_str()
        .unwrap()
        .trim_start_matches("the request body: ")
        .to_owned();
    assert!(reason.contains("unknown slug `start-nonsense`"), "{reason}");
    assert!(handle_said.contains(&reason), "handle said:\n{handle_said}\nthe agent: {reason}");

    let too_big = "x".repeat(2 * 1024 * 1024);
    let answer = agent.post("/v1/notifications", &too_big);
    assert_eq!(answer.status, 413, "{}", answer.body);

    assert_eq!(agent.get("/v1/runs").json()["runs"], json!([]), "nothing stored");
    assert_eq!(agent.get("/v1/runs/run-nope").status, 404);
    let bad_state = agent.get("/v1/runs?state=finished");
    assert_eq!(bad_state.status, 400);
    assert!(bad_state.body.contains("succeeded"), "{}", bad_state.body);
}

#[test]
fn a_full_queue_says_when_to_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let agent = lambda_agent(dir.path(), &["--max-queued", "0"]);
    let answer = agent.post("/v1/notifications", &example("notifications/start-initial.json"));
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.header("retry-after"), Some("5"));
    assert!(answer.body.contains("--max-queued 0"), "{}", answer.body);
}

#[test]
fn tokens_are_required_off_loopback_and_a_wrong_one_learns_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = scope_host_tests::agent::database(dir.path());
    let service = lambda_service();
    let (code, said) = AgentProcess::refused(
        &[
            "--listen",
            "0.0.0.0:0",
            "--database",
            &db,
            "--service-path",
            service.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("API tokens are required"), "{said}");

    // A token given where its hash belongs: refused, the token not echoed.
    let (code, said) = AgentProcess::refused(
        &["--database", &db, "--service-path", service.to_str().unwrap()],
        &[("SCOPE_HOST_AGENT_TOKENS", "plain-token-value")],
    );
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("sha256sum") && !said.contains("plain-token-value"), "{said}");

    let tokens = dir.path().join("tokens");
    std::fs::write(
        &tokens,
        format!("# operators\n{}\n", scope_host::agent::auth::hash_of("good-token")),
    )
    .unwrap();
    let agent = lambda_agent(dir.path(), &["--tokens", tokens.to_str().unwrap()]);
    let body = example("notifications/start-initial.json");
    for (header, expected) in [
        (None, 401),
        (Some("Bearer wrong-token"), 401),
        (Some("good-token"), 401),
        (Some("Bearer good-token"), 202),
    ] {
        let headers: Vec<(&str, &str)> = header.map(|h| ("Authorization", h)).into_iter().collect();
        let answer = agent.request("POST", "/v1/notifications", &headers, &body);
        assert_eq!(answer.status, expected, "{header:?}: {}", answer.body);
        if expected == 401 {
            assert!(!answer.body.contains("good"), "{}", answer.body);
            assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        }
    }
    // Health needs no token; the runs do.
    assert_eq!(agent.get("/healthz").status, 200);
    assert_eq!(agent.get("/v1/runs").status, 401);
    assert!(agent.log_text().contains("refused: no valid bearer token"), "{}", agent.log_text());
    assert!(!agent.log_text().contains("wrong-token"));

    // `scope-host runs` through the API, with the token from the environment.
    let url = format!("http://{}", agent.addr);
    let runs = |token: Option<&str>, args: &[&str]| {
        let mut cmd = scope_host_command();
        cmd.arg("runs").args(args).args(["--agent", &url]).env_remove("SCOPE_HOST_DATABASE");
        match token {
            Some(t) => cmd.env("SCOPE_HOST_AGENT_TOKEN", t),
            None => cmd.env_remove("SCOPE_HOST_AGENT_TOKEN"),
        };
        cmd.output().unwrap()
    };
    let listed = runs(Some("good-token"), &["list", "--json"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let shown = runs(Some("good-token"), &["show", &id]);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&shown.stdout).unwrap()["id"], id.as_str());
    let refused = runs(None, &["list"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SCOPE_HOST_AGENT_TOKEN"));
}

/// A service whose one workflow (scope create) spins until the step's deadline.
fn spinning_service(dir: &Path) -> PathBuf {
    let service = dir.join("spin-service");
    let wf = service.join("scope/workflows/create.yaml");
    std::fs::create_dir_all(wf.parent().unwrap()).unwrap();
    std::fs::write(&wf, "steps:\n  - name: spin\n    type: wasm\n    plugin: loop-forever\n").unwrap();
    service
}

#[test]
fn runs_of_one_scope_go_one_at_a_time_in_arrival_order_and_scopes_run_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let service = spinning_service(dir.path());
    let db = scope_host_tests::agent::database(dir.path());
    let guests = guest_dir();
    // Each run takes its step's deadline: long enough to overlap, short to wait for.
    let agent = AgentProcess::start(
        dir.path(),
        &[
            "--database",
            &db,
            "--service-path",
            service.to_str().unwrap(),
            "--plugins",
            guests.to_str().unwrap(),
            "--timeout",
            "200ms",
            "--concurrency",
            "3",
        ],
        &[],
    );
    let mut ids: Vec<(u64, String)> = Vec::new();
    for i in 0..12u64 {
        let scope = 11 + i % 3;
        let n = json!({"id": format!("n-{i}"), "notification": {"type": "create", "parameters": {"scope_id": scope}},
            "context": {"scope": {"id": scope}}});
        let answer = agent.post("/v1/notifications", &n.to_string());
        assert_eq!(answer.status, 202, "{}", answer.body);
        ids.push((scope, answer.json()["run_id"].as_str().unwrap().to_owned()));
    }
    let runs: Vec<(u64, Value)> = ids.iter().map(|(s, id)| (*s, agent.wait_run(id, MINUTE))).collect();
    for (_, run) in &runs {
        assert_eq!(run["state"], "failed", "{run:#}");
        assert!(run["reason"].as_str().unwrap().contains("(timeout)"), "{run:#}");
    }
    assert_each_scope_in_order(&runs, 4);
    // Runs of different scopes overlapped.
    let overlapping = runs.iter().any(|(a, ra)| {
        runs.iter()
            .any(|(b, rb)| a != b && span(ra).0 < span(rb).1 && span(rb).0 < span(ra).1)
    });
    assert!(overlapping, "no two scopes ran at the same time: {runs:#?}");
}

#[test]
fn a_queued_run_is_cancelled_at_once_and_an_ended_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let agent = lambda_agent(dir.path(), &[]);
    let id = agent.post("/v1/notifications", &initial_for(11, "c-1")).json()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "succeeded");
    let answer = agent.post(&format!("/v1/runs/{id}/cancel"), "");
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(answer.body.contains("over already (succeeded)"), "{}", answer.body);
    assert_eq!(agent.post("/v1/runs/run-nope/cancel", "").status, 404);
}

/// A service of test guests: `assume` (switches the workflow to a role), `mark`
/// (an output), `block` (spins until killed), `last` (echoes what came before).
/// The arguments of an agent running [`blocking_service`] on the example cloud,
/// its store in `dir`.
fn blocking_agent_args(dir: &Path) -> Vec<String> {
    let service = blocking_service(dir);
    vec![
        "--database".into(),
        scope_host_tests::agent::database(dir),
        // A restarted agent is another owner on PostgreSQL: it resumes the killed
        // one's run once the lease expires (SQLite's single agent at once).
        "--lease".into(),
        "3s".into(),
        "--service-path".into(),
        service.display().to_string(),
        "--plugins".into(),
        guest_dir().display().to_string(),
        "--cloud-state".into(),
        lambda_service().join("examples/cloud-state.json").display().to_string(),
    ]
}

fn blocking_service(dir: &Path) -> PathBuf {
    let service = dir.join("service");
    let wf = service.join("scope/workflows/create.yaml");
    std::fs::create_dir_all(wf.parent().unwrap()).unwrap();
    std::fs::write(
        &wf,
        "steps:
  - name: assume
    type: wasm
    plugin: emit
    configuration: {ASSUME_ROLE: 'arn:aws:iam::123456789012:role/np-lambda-agent', EMIT: 'FIRST=one', COUNT_RUNS: '1'}
    output:
      - {name: FIRST, type: environment}
  - name: mark
    type: wasm
    plugin: emit
    configuration: {EMIT: 'SECOND=two'}
    output:
      - {name: SECOND, type: environment}
  - name: block
    type: wasm
    plugin: loop-forever
  - name: last
    type: wasm
    plugin: emit
    configuration: {ECHO_VARS: 'FIRST,SECOND'}
    output:
      - {name: SAW_FIRST, type: environment}
      - {name: SAW_SECOND, type: environment}
",
    )
    .unwrap();
    service
}

/// Notifies the create of scope `scope` (the blocking service's one workflow); the run id.
fn create_in_scope(agent: &AgentProcess, key: &str, scope: u64) -> String {
    let notification = json!({"id": key, "notification": {"type": "create", "parameters": {"scope_id": scope.to_string()}},
        "context": {"scope": {"id": scope}}});
    let accepted = agent.post("/v1/notifications", &notification.to_string());
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    accepted.json()["run_id"].as_str().unwrap().to_owned()
}

/// Waits until attempt `attempt` of the run spins in `block`, the two steps before
/// it stored.
fn wait_for_block(agent: &AgentProcess, id: &str, attempt: u64) {
    let deadline = std::time::Instant::now() + MINUTE;
    loop {
        let run = agent.get(&format!("/v1/runs/{id}")).json();
        if run["attempts"] == attempt
            && run["state"] == "running"
            && run["steps"].as_array().unwrap().len() == 2
            && started(&agent.events(id), "block") == attempt as usize
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "attempt {attempt} never reached `block`: {run:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The agent of `base` started again with `block` taken out (an operator's override).
fn restart_without_block(dir: &Path, base: &[&str]) -> AgentProcess {
    let overrides = dir.join("overrides");
    let file = overrides.join("scope/workflows/create.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "steps:\n  - name: block\n    action: skip\n").unwrap();
    let mut args = base.to_vec();
    args.extend(["--overrides-path", overrides.to_str().unwrap()]);
    AgentProcess::start(dir, &args, &[])
}

#[test]
fn killed_mid_run_the_agent_loses_nothing_and_resumes_without_running_completed_steps_again() {
    let dir = tempfile::tempdir().unwrap();
    let owned = blocking_agent_args(dir.path());
    let base: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut agent = AgentProcess::start(dir.path(), &base, &[]);
    let id = create_in_scope(&agent, "crash-1", 7);
    wait_for_block(&agent, &id, 1);
    agent.kill9();

    let agent = restart_without_block(dir.path(), &base);
    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "succeeded", "{run:#}");
    assert_eq!(run["attempts"], 2);
    let last = run["steps"].as_array().unwrap().iter().find(|s| s["path"] == "last").unwrap();
    assert_eq!(
        last["values"]["SAW_FIRST"], "one",
        "outputs of steps not run again are restored: {last:#}"
    );
    assert_eq!(last["values"]["SAW_SECOND"], "two");
    assert!(
        last["identity"].as_str().unwrap().contains(":assumed-role/np-lambda-agent/"),
        "the role the first attempt switched to is the workflow's again: {last:#}"
    );
    // No completed step ran twice: each started once in the journal, and the
    // journal names the takeover.
    let events = agent.events(&id);
    assert_eq!(
        (started(&events, "assume"), started(&events, "mark"), started(&events, "last")),
        (1, 1, 1),
        "{events:#?}"
    );
    assert!(mentions(&events, "attempt 2: taken over"), "{events:#?}");
    assert_eq!(events.iter().filter(|e| e["event"] == "run_started").count(), 2);
}

#[test]
fn sigterm_gives_running_runs_back_and_the_next_start_resumes_them() {
    let dir = tempfile::tempdir().unwrap();
    let owned = blocking_agent_args(dir.path());
    let base: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut args = base.to_vec();
    args.extend(["--grace", "500ms"]);
    let mut agent = AgentProcess::start(dir.path(), &args, &[]);
    let id = create_in_scope(&agent, "term-1", 8);
    wait_for_block(&agent, &id, 1);
    // `block` never finishes: the grace runs out, the step is stopped, the run goes
    // back to the queue, and the agent exits 0.
    assert_eq!(agent.terminate(Duration::from_secs(30)), Some(0), "{}", agent.log_text());
    let log = agent.log_text();
    assert!(log.contains("the shutdown grace ran out"), "{log}");

    let agent = restart_without_block(dir.path(), &base);
    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "succeeded", "{run:#}");
    assert_eq!(run["attempts"], 1, "a run given back is not a failed attempt: {run:#}");
    let events = agent.events(&id);
    assert_eq!(
        (started(&events, "assume"), started(&events, "mark"), started(&events, "last")),
        (1, 1, 1)
    );
    assert!(
        mentions(&events, "shutdown grace ran out"),
        "the journal says why the run stopped: {events:#?}"
    );
}

#[test]
fn a_changed_policy_or_token_file_is_reloaded_without_a_restart_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"allow": [{"action": "sts:*", "resource": "*"}]}"#).unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, scope_host::agent::auth::hash_of("first")).unwrap();
    let agent = lambda_agent(
        dir.path(),
        &["--policy", policy.to_str().unwrap(), "--tokens", tokens.to_str().unwrap()],
    );
    let post = |token: &str, id: &str| {
        agent.request(
            "POST",
            "/v1/notifications",
            &[("Authorization", &format!("Bearer {token}"))],
            &initial_for(11, id),
        )
    };
    let get = |path: &str| agent.request("GET", path, &[("Authorization", "Bearer first")], "").json();
    let wait = |id: &str| {
        let deadline = std::time::Instant::now() + MINUTE;
        loop {
            let run = get(&format!("/v1/runs/{id}"));
            if !["queued", "running"].contains(&run["state"].as_str().unwrap()) {
                return run;
            }
            assert!(std::time::Instant::now() < deadline, "{run:#}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let first = post("first", "r-1").json()["run_id"].as_str().unwrap().to_owned();
    let run = wait(&first);
    assert_eq!(run["state"], "failed");
    assert!(run["reason"].as_str().unwrap().contains("did not start"), "{run:#}");

    // Broken: refused, the policy in force stays (and says why in the log).
    std::fs::write(&policy, "{\"allow\": [").unwrap();
    let deadline = std::time::Instant::now() + MINUTE;
    while !agent.log_text().contains("reload refused") {
        assert!(std::time::Instant::now() < deadline, "{}", agent.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Fixed, and a second token: both in force for what comes next.
    std::fs::write(&policy, r#"{"allow": [{"action": "*", "resource": "*"}]}"#).unwrap();
    std::fs::write(
        &tokens,
        format!(
            "{}\n{}\n",
            scope_host::agent::auth::hash_of("first"),
            scope_host::agent::auth::hash_of("second")
        ),
    )
    .unwrap();
    while !agent.log_text().contains("configuration reloaded") {
        assert!(std::time::Instant::now() < deadline, "{}", agent.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    let answer = post("second", "r-2");
    assert_eq!(answer.status, 202, "{}", answer.body);
    let run = wait(answer.json()["run_id"].as_str().unwrap());
    assert_eq!(run["state"], "succeeded", "{run:#}");
}

/// The families and samples of an OpenMetrics text, as Prometheus's reference
/// client (prometheus-client, PyPI) parses it: `[{name, type, samples: [{name,
/// labels, value}]}]`. A text it cannot parse fails the test with its error.
fn parse_openmetrics(text: &str) -> Vec<Value> {
    let python = scope_host_tests::target_dir().join("metrics-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/linters installs it (scripts/test runs it)",
        python.display()
    );
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn metrics_count_runs_calls_steps_notifications_and_sessions_in_a_format_prometheus_parses() {
    let dir = tempfile::tempdir().unwrap();
    let agent = lambda_agent(dir.path(), &[]);
    let id = agent.post("/v1/notifications", &initial_for(11, "m-1")).json()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(agent.wait_run(&id, MINUTE)["state"], "succeeded");
    agent.post("/v1/notifications", &initial_for(11, "m-1"));
    agent.post("/v1/notifications", "{");
    let answer = agent.get("/metrics");
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    let families = parse_openmetrics(&answer.body);
    let sample = |family: &str, suffix: &str, labels: &[(&str, &str)]| -> f64 {
        let f = families
            .iter()
            .find(|f| f["name"] == family)
            .unwrap_or_else(|| panic!("no family {family} in:\n{}", answer.body));
        f["samples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["name"] == format!("{family}{suffix}"))
            .find(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
            .map(|s| s["value"].as_f64().unwrap())
            .unwrap_or_else(|| panic!("no {family}{suffix} {labels:?} in:\n{}", answer.body))
    };
    assert_eq!(
        sample(
            "scope_host_runs",
            "_total",
            &[("workflow", "deployment/initial"), ("outcome", "succeeded")]
        ),
        1.0
    );
    assert_eq!(
        sample("scope_host_run_duration_seconds", "_count", &[("workflow", "deployment/initial")]),
        1.0
    );
    assert_eq!(
        sample(
            "scope_host_cloud_calls",
            "_total",
            &[("service", "lambda"), ("operation", "PublishVersion"), ("outcome", "ok")]
        ),
        1.0
    );
    assert!(sample("scope_host_cloud_call_duration_seconds", "_count", &[("service", "lambda")]) >= 3.0);
    assert!(sample("scope_host_step_duration_seconds", "_count", &[("plugin", "publish-version")]) >= 1.0);
    for (answer, n) in [("accepted", 1.0), ("duplicate", 1.0), ("refused", 1.0)] {
        assert_eq!(sample("scope_host_notifications", "_total", &[("answer", answer)]), n, "{answer}");
    }
    assert_eq!(sample("scope_host_queue_depth", "", &[]), 0.0);
    // Each step after assume_role opened its own session of the role.
    assert!(sample("scope_host_role_sessions", "_total", &[("result", "miss")]) >= 5.0);
}

/// The example cloud with `faults` scripted, written into `dir`.
fn cloud_with_faults(dir: &Path, faults: Value) -> PathBuf {
    let mut cloud: Value = serde_json::from_str(&example("cloud-state.json")).unwrap();
    cloud["faults"] = faults;
    let path = dir.join("faulty-cloud.json");
    std::fs::write(&path, cloud.to_string()).unwrap();
    path
}

#[test]
fn a_step_throttled_runs_again_with_backoff_within_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = cloud_with_faults(
        dir.path(),
        json!([{"operation": "PublishVersion", "code": "TooManyRequestsException", "times": 2}]),
    );
    let agent = lambda_agent(dir.path(), &["--cloud-state", cloud.to_str().unwrap()]);
    let id = agent.post("/v1/notifications", &initial_for(11, "t-1")).json()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "succeeded", "{run:#}");
    let events = agent.events(&id);
    let publishes: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "call" && e["operation"] == "PublishVersion")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(publishes, ["cloud_error", "cloud_error", "ok"], "{events:#?}");
    let retries = events
        .iter()
        .filter(|e| e["message"].as_str().is_some_and(|m| m.contains("running it again in")))
        .count();
    assert_eq!(retries, 2);
    // The first call throttled was the step's only try each time: no other step ran twice.
    assert_eq!(started(&events, "update_alias"), 1);

    // Throttled for good: retried only within the step's deadline, then failed.
    let dir = tempfile::tempdir().unwrap();
    let cloud = cloud_with_faults(
        dir.path(),
        json!([{"operation": "PublishVersion", "code": "ThrottlingException", "times": 100000}]),
    );
    let agent = lambda_agent(dir.path(), &["--cloud-state", cloud.to_str().unwrap(), "--timeout", "2s"]);
    let id = agent.post("/v1/notifications", &initial_for(11, "t-2")).json()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "failed", "{run:#}");
    assert!(run["reason"].as_str().unwrap().contains("ThrottlingException"), "{run:#}");
    let publish = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "publish_version")
        .unwrap();
    let events = agent.events(&id);
    let tries = started(&events, "publish_version");
    assert!(tries >= 2, "it was tried again: {tries}");
    assert!(
        publish["failure"]["message"].as_str().unwrap().contains("ThrottlingException"),
        "it ends on the cloud's error, not a timeout: {publish:#}"
    );
}

#[test]
fn a_run_whose_agent_keeps_dying_ends_interrupted_after_max_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let owned = blocking_agent_args(dir.path());
    let mut args: Vec<&str> = owned.iter().map(String::as_str).collect();
    args.extend(["--max-attempts", "2"]);
    let mut id = String::new();
    for attempt in 1..=2 {
        let mut agent = AgentProcess::start(dir.path(), &args, &[]);
        if attempt == 1 {
            id = create_in_scope(&agent, "doomed", 9);
        }
        wait_for_block(&agent, &id, attempt);
        agent.kill9();
    }
    let agent = AgentProcess::start(dir.path(), &args, &[]);
    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "interrupted", "{run:#}");
    assert!(run["reason"].as_str().unwrap().contains("--max-attempts 2"), "{run:#}");
    assert_eq!(started(&agent.events(&id), "assume"), 1);
}

/// A local OTLP/HTTP receiver: every POST body to /v1/traces, answered 200.
fn otlp_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    break;
                }
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                if request_line.contains("/v1/traces") {
                    seen.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
                }
                let _ = reader
                    .get_mut()
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}");
            }
        }
    });
    (endpoint, bodies)
}

#[test]
fn spans_of_run_step_and_cloud_call_reach_an_otlp_receiver_with_the_request_id() {
    let (endpoint, bodies) = otlp_receiver();
    let dir = tempfile::tempdir().unwrap();
    let mut agent = lambda_agent_with_env(dir.path(), &[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]);
    let id = agent.post("/v1/notifications", &initial_for(11, "o-1")).json()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(agent.wait_run(&id, MINUTE)["state"], "succeeded");
    // Stopping flushes what is buffered.
    assert_eq!(agent.terminate(Duration::from_secs(30)), Some(0));
    let spans: Vec<Value> = bodies
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| {
            let doc: Value = serde_json::from_str(b).unwrap();
            let mut out = Vec::new();
            for rs in doc["resourceSpans"].as_array().unwrap() {
                for ss in rs["scopeSpans"].as_array().unwrap() {
                    out.extend(ss["spans"].as_array().unwrap().iter().cloned());
                }
            }
            out
        })
        .collect();
    let attr = |span: &Value, key: &str| -> Option<String> {
        span["attributes"].as_array()?.iter().find(|a| a["key"] == key).map(|a| {
            let v = &a["value"];
            v["stringValue"].as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())
        })
    };
    let by_id = |id: &Value| spans.iter().find(|s| s["spanId"] == *id);
    let publish = spans
        .iter()
        .find(|s| s["name"] == "call" && attr(s, "operation").as_deref() == Some("PublishVersion"))
        .unwrap_or_else(|| panic!("no PublishVersion call span among {} spans", spans.len()));
    assert_eq!(attr(publish, "service").as_deref(), Some("lambda"));
    assert_eq!(attr(publish, "outcome").as_deref(), Some("ok"));
    assert!(
        attr(publish, "request_id").is_some_and(|r| r.starts_with("sim-req-")),
        "{publish:#}"
    );
    let step = by_id(&publish["parentSpanId"]).expect("the call's parent span");
    assert_eq!(step["name"], "step");
    assert_eq!(attr(step, "plugin").as_deref(), Some("publish-version"));
    let run = by_id(&step["parentSpanId"]).expect("the step's parent span");
    assert_eq!(run["name"], "run");
    let agent_run = by_id(&run["parentSpanId"]).expect("the run's parent span");
    assert_eq!(agent_run["name"], "agent_run");
    assert_eq!(attr(agent_run, "run_id").as_deref(), Some(id.as_str()));
    assert_eq!(agent_run["traceId"], publish["traceId"], "one trace per run");
}

/// `POST /v1/notifications?plan=true`: the run plans its changes and stops at
/// `planned`, showing them; nothing is changed until `POST /v1/runs/{id}/approve`,
/// when it checks the plan still holds and makes exactly its changes. A plan whose
/// function another run changed meanwhile is refused as stale; a second approval,
/// or one of a run that was no plan, is refused.
#[test]
fn a_planned_run_waits_for_approval_then_makes_exactly_its_planned_changes() {
    let dir = tempfile::tempdir().unwrap();
    let agent = lambda_agent(dir.path(), &[]);
    let accepted = agent.post("/v1/notifications?plan=true", &initial_for(11, "plan-1"));
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    assert_eq!(accepted.json()["plan"], true);
    let id = accepted.json()["run_id"].as_str().unwrap().to_owned();
    let run = agent.wait_run(&id, MINUTE);
    assert_eq!(run["state"], "planned", "{run:#}");
    assert_eq!(run["mode"], "plan");
    let changes = run["plan"].as_array().expect("the plan's changes are shown").clone();
    let operations: Vec<&str> = changes.iter().map(|c| c["operation"].as_str().unwrap()).collect();
    const PLANNED: [&str; 5] = [
        "SetRepositoryPolicy",
        "UpdateFunctionCode",
        "UpdateFunctionConfiguration",
        "PublishVersion",
        "UpdateAlias",
    ];
    assert_eq!(operations, PLANNED);
    assert!(!agent.get(&format!("/v1/runs/{id}")).body.contains("s3cr3t-db-password"));
    let events = agent.events(&id);
    assert!(events.iter().any(|e| e["operation"] == "PublishVersion" && e["planned"] == true));

    // Approved: the plan still holds, and exactly its changes are made, for real.
    let approved = agent.post(&format!("/v1/runs/{id}/approve"), "");
    assert_eq!(approved.status, 200, "{}", approved.body);
    let applied = agent.wait_run(&id, MINUTE);
    assert_eq!(applied["state"], "succeeded", "{applied:#}\n{}", agent.log_text());
    assert_eq!(applied["mode"], "apply");
    let events = agent.events(&id);
    assert!(mentions(&events, "the approved plan holds"), "{events:#?}");
    let made: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "call" && e["outcome"] == "ok" && e["planned"] != true)
        .filter(|e| PLANNED.contains(&e["operation"].as_str().unwrap()))
        .collect();
    assert_eq!(made.len(), PLANNED.len(), "each planned change made once, for real: {made:#?}");

    // Approving again, or approving what is no plan: refused.
    let again = agent.post(&format!("/v1/runs/{id}/approve"), "");
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("only a planned run"), "{}", again.body);
    assert_eq!(agent.post("/v1/runs/nope/approve", "").status, 404);

    // A plan of other memory, then another run changes the function first: the
    // plan, approved, is stale and changes nothing. A planned run does not hold
    // its scope up meanwhile.
    let mut bigger: Value = serde_json::from_str(&initial_for(11, "plan-2")).unwrap();
    bigger["context"]["scope"]["capabilities"]["memory"] = json!(1024);
    let stale = agent.post("/v1/notifications?plan=true", &bigger.to_string()).json()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(agent.wait_run(&stale, MINUTE)["state"], "planned");
    let mut other: Value = serde_json::from_str(&initial_for(11, "run-3")).unwrap();
    other["context"]["scope"]["capabilities"]["memory"] = json!(2048);
    let other = agent.post("/v1/notifications", &other.to_string()).json()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(agent.wait_run(&other, MINUTE)["state"], "succeeded");
    assert_eq!(agent.post(&format!("/v1/runs/{stale}/approve"), "").status, 200);
    let refused = agent.wait_run(&stale, MINUTE);
    assert_eq!(refused["state"], "failed", "{refused:#}");
    let reason = refused["reason"].as_str().unwrap();
    assert!(reason.contains("the approved plan is stale, nothing was changed"), "{reason}");
    assert!(reason.contains("memory_size was 512 when planned, is 2048 now"), "{reason}");
    let events = agent.events(&stale);
    assert!(
        !events
            .iter()
            .any(|e| e["event"] == "call" && e["planned"] != true && e["operation"] == "UpdateFunctionConfiguration"),
        "nothing was changed by the stale plan"
    );
}
