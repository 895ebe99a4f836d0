//! The call gate against a hostile plugin (tests/guests/gate-abuse): loops of
//! denied, malformed and allowed calls stop at the step's quotas with memory flat;
//! a plugin cannot censor its own record; identities cannot be switched without a
//! grant; an endless waiter ends. Each attack is shown to have really run.

use scope_host::sandbox::Limits;
use scope_host_tests::{run, run_workflow, scope_vars, Ran, Setup};

fn abuse(mode: &str, count: u32) -> Setup {
    let mut vars = scope_vars();
    vars.push(("MODE", mode.to_owned()));
    vars.push(("COUNT", count.to_string()));
    Setup { vars, ..Setup::default() }
}

fn events(ran: &Ran, kind: &str) -> Vec<serde_json::Value> {
    ran.env.journal().entries_of(kind)
}

/// The resident set of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test]
async fn a_loop_of_denied_calls_stops_at_the_quota_with_memory_flat() {
    let before = rss();
    let ran = run("gate-abuse", abuse("deny-loop", 200_000)).await;
    let grown = rss().saturating_sub(before);
    assert_eq!(ran.failure_kind(), "limit", "{:?}", ran.report.failure);
    let message = &ran.report.failure.as_ref().unwrap().message;
    assert!(message.contains("quota of 1000 refused calls"), "{message}");
    // The attack ran up to the quota: every one of those denials is in the record…
    let denied = events(&ran, "denied");
    assert_eq!(denied.len(), Limits::default().denials as usize);
    // …and then one record that the quota ran out, nothing more.
    let limited: Vec<_> = events(&ran, "call").into_iter().filter(|c| c["outcome"] == "limit").collect();
    assert_eq!(limited.len(), 1, "{limited:?}");
    assert_eq!(limited[0]["code"], "StepQuotaExceeded");
    // The terminal saw at most the log cap's worth of lines, not 200 000.
    let lines = ran.sink.lines.lock().unwrap().len();
    assert!(lines <= Limits::default().denials as usize + 2, "{lines} live lines");
    assert!(grown < 150 << 20, "the host grew by {} MiB", grown >> 20);
    assert_eq!(
        ran.env.journal().entries_of("step_finished")[0]["failure_kind"],
        "limit",
        "the record says how the step ended"
    );
}

#[tokio::test]
async fn a_loop_of_malformed_calls_stops_at_the_same_quota() {
    let ran = run("gate-abuse", abuse("invalid-loop", 50_000)).await;
    assert_eq!(ran.failure_kind(), "limit", "{:?}", ran.report.failure);
    let invalid = events(&ran, "call").into_iter().filter(|c| c["outcome"] == "invalid_input").count();
    assert_eq!(invalid, Limits::default().denials as usize);
}

#[tokio::test]
async fn a_loop_of_allowed_calls_stops_at_the_call_quota() {
    let mut setup = abuse("call-loop", 1_000);
    setup.limits = Limits {
        calls: 50,
        ..Limits::default()
    };
    let ran = run("gate-abuse", setup).await;
    assert_eq!(ran.failure_kind(), "limit", "{:?}", ran.report.failure);
    let calls = events(&ran, "call");
    let sent = calls.iter().filter(|c| c["outcome"] == "ok").count();
    assert_eq!(sent, 50, "exactly the quota reached the cloud");
    assert_eq!(calls.iter().filter(|c| c["outcome"] == "limit").count(), 1);
    assert!(ran.report.outputs.is_empty(), "a step past its quota hands nothing on");
}

#[tokio::test]
async fn a_record_bigger_than_its_quota_is_cut_and_the_step_stopped() {
    let mut setup = abuse("call-loop", 10_000);
    setup.limits = Limits {
        journal_bytes: 64 << 10,
        ..Limits::default()
    };
    let ran = run("gate-abuse", setup).await;
    assert_eq!(ran.failure_kind(), "limit", "{:?}", ran.report.failure);
    assert!(ran.report.failure.as_ref().unwrap().message.contains("of run record"));
    let ok = events(&ran, "call").into_iter().filter(|c| c["outcome"] == "ok").count();
    assert!((100..1_000).contains(&ok), "{ok} calls recorded for 64 KiB");
}

#[tokio::test]
async fn refused_secret_writes_cannot_censor_the_record() {
    let ran = run("gate-abuse", abuse("censor", 0)).await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    // The guest really tried six writes, each refused.
    assert_eq!(ran.output("DENIED"), "6", "{:?}", ran.report.outputs);
    let journal = ran.journal_text();
    assert!(!journal.contains("[REDACTED"), "the record was censored:\n{journal}");
    let get = events(&ran, "call")
        .into_iter()
        .find(|c| c["operation"] == "GetFunction")
        .expect("the allowed call is recorded");
    assert_eq!(get["service"], "lambda");
    assert_eq!(get["resource"], "arn:aws:lambda:us-east-1:123456789012:function:11-my-app-my-scope");
    for attempted in [
        "GetFunction",
        "lambda:GetFunction",
        "11-my-app-my-scope",
        "123456789012",
        "gate-abuse",
        "my-app-my-scope",
    ] {
        assert!(!ran.env.redactor().is_secret(attempted), "`{attempted}` became a secret");
    }
}

#[tokio::test]
async fn a_flood_of_secrets_stops_at_the_secret_quota() {
    let mut setup = abuse("secret-flood", 5_000);
    setup.limits = Limits {
        secrets: 100,
        ..Limits::default()
    };
    let ran = run("gate-abuse", setup).await;
    assert_eq!(ran.failure_kind(), "limit", "{:?}", ran.report.failure);
    assert!(ran.report.failure.as_ref().unwrap().message.contains("secret values written"));
    // Every value that reached the cloud is masked, the one past the quota included.
    let created = events(&ran, "call").into_iter().filter(|c| c["outcome"] == "ok").count();
    assert_eq!(created, 101);
    assert!(ran.env.redactor().is_secret("flooded-secret-value-00000100"));
    assert!(!ran.env.redactor().is_secret("flooded-secret-value-00000101"));
}

#[tokio::test]
async fn an_endless_waiter_ends_at_the_call_quota_not_never() {
    // A function whose update never finishes, and a wait of u32::MAX seconds: on
    // the simulated cloud each poll answers at once.
    let ran = run("gate-abuse", {
        let mut s = abuse("endless-waiter", 1);
        s.cloud_state = Some("stuck-update.json");
        s.limits = Limits {
            calls: 2_000,
            ..Limits::default()
        };
        s
    })
    .await;
    assert_eq!(ran.failure_kind(), "limit", "{:?}", ran.report.failure);
    let polls = events(&ran, "call")
        .into_iter()
        .filter(|c| c["operation"] == "GetFunctionConfiguration" && c["outcome"] == "ok")
        .count();
    assert_eq!(polls, 2_000, "the waiter polled until the quota");
}

#[tokio::test]
async fn an_endless_waiter_yields_so_the_deadline_fires() {
    let ran = run("gate-abuse", {
        let mut s = abuse("endless-waiter", 1);
        s.cloud_state = Some("stuck-update.json");
        s.limits = Limits {
            calls: u32::MAX,
            journal_bytes: usize::MAX,
            deadline: std::time::Duration::from_millis(100),
            ..Limits::default()
        };
        s
    })
    .await;
    assert_eq!(ran.failure_kind(), "timeout", "{:?}", ran.report.failure);
}

#[tokio::test]
async fn a_step_without_a_grant_cannot_make_the_agent_the_workflows_identity() {
    let wf = "
steps:
  - name: assume
    type: wasm
    plugin: emit
    configuration: {ASSUME_ROLE: 'arn:aws:iam::123456789012:role/np-lambda-agent'}
  - name: hijack
    type: wasm
    plugin: gate-abuse
    configuration: {MODE: switch-to-agent, LAMBDA_FUNCTION_NAME: 11-my-app-my-scope}
";
    let ran = run_workflow(&[("workflow.yaml", wf)], &[], vec![]).await;
    assert!(!ran.report.succeeded);
    let hijack = ran.step("hijack");
    let failure = hijack.failure.as_ref().expect("the switch is refused");
    assert_eq!(failure.kind, "denied", "{failure:?}");
    assert!(failure.message.contains("not a role the host assumed"), "{}", failure.message);
    // The workflow's identity is still the assumed role.
    let identity = ran.env.workflow_identity().arn;
    assert!(identity.contains(":assumed-role/np-lambda-agent/"), "{identity}");
    let denied = ran.env.journal().entries_of("denied");
    assert!(denied.iter().any(|d| d["step"] == "hijack"), "{denied:?}");
}

#[tokio::test]
async fn lambda_environment_values_never_reach_the_guest_and_masks_are_not_written_back() {
    let ran = run("gate-abuse", {
        let mut s = abuse("read-env", 1);
        s.cloud_state = Some("env-secret.json");
        s
    })
    .await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    // The guest saw the names, not the values, and tried to log and return them.
    let mask = scope_host::caps::lambda::ENV_VALUE_MASK;
    assert_eq!(ran.output("ENV_DB_PASSWORD"), mask);
    assert_eq!(ran.output("ENV_LOG_LEVEL"), mask);
    assert!(ran.sink.text().contains("DB_PASSWORD="), "{}", ran.sink.text());
    for place in [ran.sink.text(), ran.journal_text()] {
        assert!(!place.contains("an-unregistered-s3cret"), "{place}");
    }
    // Writing the masks back is refused, and the function keeps its values.
    assert_eq!(ran.output("INVALID"), "1");
    let state = ran.sim.dump_json().to_string();
    assert!(state.contains("an-unregistered-s3cret"), "the real value is still there");
}
