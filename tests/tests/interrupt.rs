//! Ctrl-C and SIGTERM sent for real to a `scope-host run` whose second step spins
//! forever: the step is stopped at its next tick, the third never starts, the
//! summary is printed, the record ends with `run_finished` `interrupted`, and the
//! exit code is the shell's 128 + signal.

use scope_host_tests::{builtin_dir, guest_dir, output_text, scope_host_command};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn events(journal: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn interrupted_by(signal: &str, code: i32, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflow.yaml");
    std::fs::write(
        &wf,
        "steps:\n  - {name: first, type: wasm, plugin: emit}\n  - {name: spin, type: wasm, plugin: loop-forever}\n  - {name: third, type: wasm, plugin: emit}\n",
    )
    .unwrap();
    let journal = dir.path().join("run.jsonl");
    let child = scope_host_command()
        .args([
            "run",
            wf.to_str().unwrap(),
            "--timeout",
            "120s",
            "--journal",
            journal.to_str().unwrap(),
        ])
        .env("SCOPE_HOST_PLUGINS", std::env::join_paths([guest_dir(), builtin_dir()]).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the spinning step has started (the journal says so), the signal.
    let waited = Instant::now();
    while !events(&journal).iter().any(|e| e["event"] == "step_started" && e["step"] == "spin") {
        assert!(waited.elapsed() < Duration::from_secs(60), "the spinning step never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let signalled = Instant::now();
    let out = child.wait_with_output().unwrap();
    let t = output_text(&out);
    // Far less than the step's 120 s deadline: it stopped at its next tick.
    assert!(signalled.elapsed() < Duration::from_secs(30), "{t}");
    assert_eq!(out.status.code(), Some(code), "{t}");
    assert!(t.contains(&format!("⏹ run {says}: 1 ok, 1 failed, 1 skipped")), "{t}");
    let record = events(&journal);
    let spin = record
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == "spin")
        .expect("the stopped step is recorded");
    assert_eq!(spin["failure_kind"], "interrupted", "{spin}");
    assert!(
        !record.iter().any(|e| e["event"] == "step_started" && e["step"] == "third"),
        "no step starts after the signal"
    );
    let last = record.last().unwrap();
    assert_eq!(
        (&last["event"], &last["outcome"]),
        (&"run_finished".into(), &"interrupted".into()),
        "{last}"
    );
}

#[test]
fn ctrl_c_stops_the_running_step_and_leaves_a_whole_record() {
    interrupted_by("-INT", 130, "interrupted (SIGINT)");
}

#[test]
fn sigterm_does_the_same_with_its_own_exit_code() {
    interrupted_by("-TERM", 143, "interrupted (SIGTERM)");
}
