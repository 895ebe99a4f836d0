//! Hostile guests: each is contained with a clear failure (or its excess is cut),
//! the host stays up, and the run record says what happened.

use scope_host::sandbox::Limits;
use scope_host_tests::{run, scope_vars, Setup};
use std::time::Duration;

fn finished(ran: &scope_host_tests::Ran) -> serde_json::Value {
    ran.env
        .journal()
        .entries()
        .into_iter()
        .find(|e| e["event"] == "step_finished")
        .expect("step_finished in the journal")
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_the_deadline() {
    let limits = Limits {
        deadline: Duration::from_millis(300),
        ..Limits::default()
    };
    let ran = run(
        "loop-forever",
        Setup {
            limits,
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "timeout");
    assert!(ran.report.failure.as_ref().unwrap().message.contains("deadline"));
    assert_eq!(finished(&ran)["failure_kind"], "timeout");
    // The host is still usable afterwards.
    let again = run(
        "check-sample",
        Setup {
            vars: scope_vars(),
            ..Setup::default()
        },
    )
    .await;
    assert!(again.report.succeeded());
}

#[tokio::test]
async fn the_deadline_also_cancels_a_hanging_host_call() {
    let limits = Limits {
        deadline: Duration::from_millis(300),
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let ran = run(
        "check-sample",
        Setup {
            vars: scope_vars(),
            limits,
            latency: Some(Duration::from_secs(3600)),
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "timeout");
    assert!(started.elapsed() < Duration::from_secs(60), "the hour-long call was not waited for");
    assert!(ran.calls().is_empty(), "the cancelled call never completed");
    assert_eq!(finished(&ran)["failure_kind"], "timeout");
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    let limits = Limits {
        memory_bytes: 64 << 20,
        ..Limits::default()
    };
    let ran = run(
        "memory-bomb",
        Setup {
            limits,
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "memory-limit", "{:?}", ran.report.failure);
    assert!(ran.report.failure.as_ref().unwrap().message.contains("64 MiB"));
}

#[tokio::test]
async fn stdout_and_log_floods_are_cut_at_the_caps() {
    let ran = run("stdout-flood", Setup::default()).await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let cap = Limits::default().stdio_bytes;
    assert_eq!(ran.report.stdout.len(), cap);
    assert_eq!(ran.report.stderr.len(), cap);
    assert_eq!(ran.report.dropped_stdio_bytes, 2 * (16 * 1024 * 1024 - cap as u64));

    let ran = run("log-flood", Setup::default()).await;
    assert!(ran.report.succeeded());
    assert!(ran.report.dropped_log_lines > 150_000, "{}", ran.report.dropped_log_lines);
    let kept = ran.sink.lines.lock().unwrap().len();
    assert!(kept < 20_000 && kept > 1_000, "{kept} lines kept");
}

#[tokio::test]
async fn a_panic_is_reported_with_its_message() {
    let ran = run(
        "panic",
        Setup {
            vars: vec![("SCOPE_ID", "11".into())],
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "panic");
    let msg = &ran.report.failure.as_ref().unwrap().message;
    assert!(msg.contains("boom: the context has no scope id (got Some(\"11\"))"), "{msg}");
    assert!(msg.contains("src/lib.rs"), "{msg}");
}

#[tokio::test]
async fn files_environment_arguments_and_network_are_out_of_reach() {
    // A real listener on loopback: the guest tries to connect to it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let mut vars = scope_vars();
    vars.push(("NET_TARGET", target.clone()));
    let ran = run("ambient", Setup { vars, ..Setup::default() }).await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    for name in ["FS_ROOT", "FS_PASSWD", "FS_WRITE", "NET_TCP", "NET_DNS"] {
        assert!(ran.output(name).starts_with("denied"), "{name} = {}", ran.output(name));
    }
    // The attempt was made and refused inside the sandbox: nothing reached the listener.
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("the guest connected to {target} from {from}"),
        Err(e) => panic!("the listener failed: {e}"),
    }
    assert_eq!(ran.output("ENV_COUNT"), "0");
    assert_eq!(ran.output("ARGS_COUNT"), "0");
    assert!(!std::path::Path::new("escape.txt").exists());
}

#[tokio::test]
async fn an_undeclared_action_is_denied_by_name_and_recorded() {
    let ran = run(
        "undeclared",
        Setup {
            vars: scope_vars(),
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "denied");
    let msg = &ran.report.failure.as_ref().unwrap().message;
    assert!(
        msg.contains("lambda:DeleteFunction on arn:aws:lambda:us-east-1:123456789012:function:11-my-app-my-scope:1"),
        "{msg}"
    );
    assert!(msg.contains("does not declare"), "{msg}");
    let calls = ran.calls();
    assert_eq!(calls[0], ("lambda".into(), "GetFunction".into(), "ok".into()));
    assert_eq!(calls[1], ("lambda".into(), "DeleteFunction".into(), "denied".into()));
    assert!(ran
        .env
        .journal()
        .entries()
        .iter()
        .any(|e| e["event"] == "denied" && e["action"] == "lambda:DeleteFunction"));
    // Nothing was deleted.
    assert!(ran.sim.dump_json().to_string().contains("deploy-prev"));
}

#[tokio::test]
async fn a_declared_action_outside_its_pattern_is_denied() {
    let ran = run(
        "outside-pattern",
        Setup {
            vars: scope_vars(),
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "denied");
    let msg = &ran.report.failure.as_ref().unwrap().message;
    assert!(msg.contains("function:someone-elses-function"), "{msg}");
    assert!(msg.contains("declares `lambda:GetFunction` only on"), "{msg}");

    // With the variable its pattern needs unset, the message says so.
    let ran = run("outside-pattern", Setup::default()).await;
    assert!(ran
        .report
        .failure
        .as_ref()
        .unwrap()
        .message
        .contains("needs variable `LAMBDA_FUNCTION_NAME`"));
}

#[tokio::test]
async fn the_operator_policy_narrows_what_a_plugin_declares() {
    let policy = scope_host::grants::Policy::from_flags(&["lambda:ListVersionsByFunction"]).unwrap();
    let ran = run(
        "check-sample",
        Setup {
            vars: scope_vars(),
            policy: Some(policy),
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "denied");
    assert!(ran
        .report
        .failure
        .as_ref()
        .unwrap()
        .message
        .contains("operator policy does not grant `lambda:GetFunction`"));
}

#[tokio::test]
async fn an_oversized_output_fails_the_step() {
    let ran = run("big-output", Setup::default()).await;
    assert_eq!(ran.failure_kind(), "output-limit");
    assert!(ran.report.outputs.is_empty());
    assert!(ran.report.failure.as_ref().unwrap().message.contains("2 MiB"));
}
