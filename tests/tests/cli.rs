//! The `scope-host` binary as a user runs it: exit codes, live output, JSON, errors.

use scope_host_tests::{fixture, guest, output_text, scope_host_command};
use std::process::Output;

fn scope_host(args: &[&str]) -> Output {
    scope_host_command().args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    output_text(out)
}

#[test]
fn step_run_shows_logs_outputs_calls_and_journal() {
    let g = guest("exercise");
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("after.json");
    let journal = dir.path().join("run.jsonl");
    let mut args = vec!["step", "run", g.to_str().unwrap()];
    let ctx = fixture("context.json");
    let cloud = fixture("cloud.json");
    let providers = fixture("providers.json");
    args.extend([
        "--context",
        ctx.to_str().unwrap(),
        "--cloud-state",
        cloud.to_str().unwrap(),
        "--providers",
        providers.to_str().unwrap(),
    ]);
    args.extend(["--dump-state", dump.to_str().unwrap(), "--journal", journal.to_str().unwrap()]);
    let vars = [
        "LAMBDA_FUNCTION_NAME=11-my-app-my-scope",
        "ROLE_ARN=arn:aws:iam::123456789012:role/np-lambda-agent",
        "REPOSITORY=my-app",
        "IMAGE_URI=123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0",
    ];
    for v in &vars {
        args.extend(["--var", v]);
    }
    let out = scope_host(&args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("info  info line"), "{t}");
    assert!(t.contains("✔ exercise ok"), "{t}");
    assert!(t.contains("PUBLISHED_VERSION = 2"), "{t}");
    assert!(
        t.contains("lambda PublishVersion arn:aws:lambda:us-east-1:123456789012:function:11-my-app-my-scope → ok"),
        "{t}"
    );
    assert!(t.contains("(warning: not declared in the plugin's manifest)"), "{t}");
    // The dumped state loads again as a fixture, and the journal is on disk.
    let state = std::fs::read_to_string(&dump).unwrap();
    scope_host::cloud::sim::SimCloud::from_fixture_json(&state).unwrap();
    let lines = std::fs::read_to_string(&journal).unwrap();
    assert!(lines.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(lines.contains("\"event\":\"run_finished\""));
    assert!(!lines.contains("s3cr3t-planted-password"));

    // --json prints one document.
    args.push("--json");
    args.retain(|a| !a.ends_with("after.json") && *a != "--dump-state");
    let out = scope_host(&args);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(doc["ok"], true);
    assert!(doc["calls"].as_array().unwrap().len() > 20);
}

#[test]
fn a_failing_step_exits_1_and_says_why() {
    let out = scope_host(&["step", "run", guest("panic").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("✘ panic failed (panic)") && t.contains("boom"), "{t}");
}

#[test]
fn bad_input_exits_2_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ctx.json");
    std::fs::write(&bad, "{\n  \"scope\": {,\n}").unwrap();
    let out = scope_host(&[
        "step",
        "run",
        guest("exercise").to_str().unwrap(),
        "--context",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(t.contains("line 2, column 13"), "{t}");

    let out = scope_host(&["step", "run", guest("exercise").to_str().unwrap(), "--var", "NOEQUALS"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("is not NAME=VALUE"));

    let out = scope_host(&["step", "run", "/nonexistent/x.wasm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("reading plugin /nonexistent/x.wasm"));
}

#[test]
fn plugin_inspect_prints_the_manifest_and_interfaces() {
    let out = scope_host(&["plugin", "inspect", guest("check-sample").to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["manifest"]["name"], "check-sample");
    assert_eq!(doc["manifest"]["kind"], "check");
    assert_eq!(doc["manifest"]["contract"], "0.2.0");
    assert!(doc["exports"].as_array().unwrap().contains(&"check".into()));
    assert!(doc["imports"].as_array().unwrap().contains(&"scope:step/lambda@0.2.0".into()));
    let out = scope_host(&["plugin", "inspect", guest("check-sample").to_str().unwrap()]);
    assert!(text(&out).contains("lambda:GetFunction on arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"));
    // A plugin built for the previous contract says so, and what it imports.
    let out = scope_host(&["plugin", "inspect", guest("exercise-v0-1").to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["manifest"]["contract"], "0.1.0");
    assert!(doc["imports"].as_array().unwrap().contains(&"scope:step/lambda@0.1.0".into()));
}

/// The binary holds cloud credentials and maps code compiled from third-party
/// components: its own image is position-independent, so the kernel randomises it.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_is_position_independent() {
    let bin = scope_host_tests::binary();
    let header = std::fs::read(&bin).unwrap();
    assert_eq!(&header[..4], b"\x7fELF", "{} is not an ELF file", bin.display());
    // e_type: ET_EXEC (2) is linked at a fixed address, ET_DYN (3) is PIE.
    let e_type = u16::from_le_bytes([header[16], header[17]]);
    assert_eq!(e_type, 3, "scope-host is linked at a fixed address (ET_EXEC); it must be PIE");
    let version = scope_host(&["--version"]);
    assert!(!text(&version).contains("without PIE"), "{}", text(&version));
}

#[test]
fn absurd_durations_and_sizes_are_refused_with_exit_2_never_a_panic() {
    let hello = guest("hello");
    for (flag, value) in [
        ("--timeout", "99999999999999999999999h"),
        ("--timeout", "0.0000000001ms"),
        ("--memory", "17179869184GiB"),
        ("--memory", "0"),
    ] {
        let out = scope_host(&["step", "run", hello.to_str().unwrap(), flag, value]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {t}");
        assert!(t.contains(value) && !t.contains("panicked"), "{t}");
    }
}

/// An agent whose log pipe is gone: the run still happens and is recorded.
#[test]
fn a_closed_stdout_does_not_stop_the_run_or_lose_its_record() {
    let hello = guest("hello");
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let cmd = scope_host_tests::scope_host_command();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" step run \"$1\" --journal \"$2\" >&- 2>&-")
        .arg(cmd.get_program())
        .arg(&hello)
        .arg(&journal)
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let record = std::fs::read_to_string(&journal).unwrap();
    assert!(record.contains("\"event\":\"run_finished\""), "{record}");
    assert!(record.contains("\"outcome\":\"ok\""), "{record}");
}

/// A guest's text cannot drive the operator's terminal: escape sequences and
/// carriage returns in its log lines are shown, not obeyed.
#[test]
fn terminal_controls_in_guest_text_are_shown_escaped() {
    let emit = guest("emit");
    let forged = "X=\u{1b}[2K\r✔ run succeeded";
    let out = scope_host(&["step", "run", emit.to_str().unwrap(), "--var", "ECHO_VARS=X", "--var", forged]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("\\x1b[2K\\r✔ run succeeded"), "{t}");
    assert!(
        !t.contains('\u{1b}') && !t.contains('\r'),
        "a raw control reached the terminal: {t:?}"
    );
}

/// `-v --log-format json`: one JSON line per cloud call on stderr, inside the step's
/// and the call's spans, with the outcome but never a secret.
#[test]
fn diagnostics_trace_each_call_as_json_on_stderr() {
    let g = scope_host_tests::guest("gate-abuse");
    let out = scope_host(&[
        "step",
        "run",
        g.to_str().unwrap(),
        "--cloud-state",
        fixture("cloud.json").to_str().unwrap(),
        "--var",
        "LAMBDA_FUNCTION_NAME=11-my-app-my-scope",
        "--var",
        "MODE=call-loop",
        "--var",
        "COUNT=2",
        "-v",
        "--log-format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let calls: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["span"]["name"] == "call")
        .collect();
    assert_eq!(calls.len(), 2, "{stderr}");
    assert_eq!(calls[0]["span"]["operation"], "GetFunction");
    assert_eq!(calls[0]["message"], "ok");
    // Without -v nothing is written there.
    let quiet = scope_host(&[
        "step",
        "run",
        g.to_str().unwrap(),
        "--var",
        "LAMBDA_FUNCTION_NAME=x",
        "--var",
        "MODE=call-loop",
        "--var",
        "COUNT=1",
    ]);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("\"span\""), "{}", text(&quiet));
}

/// A new project's scenario run before its build.sh: the missing component is said
/// to be unbuilt, with the script that builds it.
#[test]
fn testing_a_project_before_building_it_says_to_run_build_sh() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("build.sh"), "#!/bin/sh\n").unwrap();
    std::fs::create_dir(project.path().join("tests")).unwrap();
    std::fs::write(
        project.path().join("tests/forgot.yaml"),
        "scenarios:\n  - name: runs\n    plugin: ../target/forgot.wasm\n    expect: {outcome: success}\n",
    )
    .unwrap();
    let out = scope_host(&["test", project.path().join("tests/forgot.yaml").to_str().unwrap()]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("no file at") && t.contains(&format!("it is not built yet: run {}", project.path().join("build.sh").display())),
        "{t}"
    );
}
