//! The workflow commands as a user runs them: `run`, `render`, `check`, `handle`.

use scope_host_tests::{builtin_dir, fixture, guest_dir, output_text, scope_host_command};
use std::path::Path;
use std::process::Output;

fn scope_host(args: &[&str]) -> Output {
    scope_host_command()
        .args(args)
        .env("SCOPE_HOST_PLUGINS", std::env::join_paths([guest_dir(), builtin_dir()]).unwrap())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    output_text(out)
}

fn service() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, body: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    write("values.yaml", "configuration: {GREETING_TARGET: service}\n");
    write(
        "deployment/workflows/initial.yaml",
        "include: [\"$SERVICE_PATH/values.yaml\"]
steps:
  - {name: assume_role, type: wasm, plugin: emit, configuration: {ASSUME_ROLE: 'arn:aws:iam::123456789012:role/np-lambda-agent'}}
  - {name: build_context, type: wasm, plugin: emit, configuration: {EMIT: 'A=built'}, output: [{name: A}]}
  - {name: publish, type: wasm, plugin: emit, configuration: {ECHO_VARS: 'A,GREETING_TARGET'}}
",
    );
    write(
        "scope/workflows/create.yaml",
        "steps:\n  - {name: create, type: wasm, plugin: emit, configuration: {ECHO_VARS: GREETING_TARGET}}\n",
    );
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn run_shows_each_step_live_and_a_summary() {
    let svc = service();
    let wf = svc.path().join("deployment/workflows/initial.yaml");
    let journal = svc.path().join("run.jsonl");
    let out = scope_host(&["run", s(&wf), "--cloud-state", s(&fixture("cloud.json")), "--journal", s(&journal)]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for expected in [
        "▶ assume_role (emit)",
        "✔ assume_role ok",
        "as arn:aws:sts::123456789012:assumed-role/np-lambda-agent/np-lambda-workflow",
        "  info  A=built",
        "  info  GREETING_TARGET=service",
        "✔ run succeeded: 3 ok, 0 failed, 0 skipped · 2 cloud calls",
    ] {
        assert!(t.contains(expected), "missing `{expected}` in:\n{t}");
    }
    assert!(std::fs::read_to_string(&journal).unwrap().contains("\"event\":\"run_finished\""));

    let out = scope_host(&["run", s(&wf), "--var", "FAIL=stop here", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["steps"][0]["status"], "failed");
    assert_eq!(doc["steps"][1]["status"], "skipped");
}

#[test]
fn render_prints_the_merged_workflow() {
    let svc = service();
    let wf = svc.path().join("deployment/workflows/initial.yaml");
    let ov = svc.path().join("ov.yaml");
    std::fs::write(
        &ov,
        "steps:\n  - {name: assume_role, action: skip}\n  - {name: audit, type: wasm, plugin: emit, before: publish}\n",
    )
    .unwrap();
    let out = scope_host(&["render", s(&wf), "--overrides", s(&ov)]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let rendered: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = rendered["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["build_context", "audit", "publish"]);
    // The configuration the steps start with, merged: the include is gone, its
    // values are there, and a --values file changes them.
    assert!(rendered.get("include").is_none(), "{t}");
    assert_eq!(rendered["configuration"]["GREETING_TARGET"], "service", "{t}");
    let values = svc.path().join("more.yaml");
    std::fs::write(&values, "configuration: {GREETING_TARGET: values-file, EXTRA: '1'}\n").unwrap();
    let out = scope_host(&["render", s(&wf), "--values", s(&values), "--explain"]);
    let t = text(&out);
    let rendered: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    assert_eq!(rendered["configuration"]["GREETING_TARGET"], "values-file", "{t}");
    assert_eq!(rendered["configuration"]["EXTRA"], "1", "{t}");
    // --explain: where each value comes from, as comments (the YAML stays valid).
    assert!(
        t.contains(&format!("GREETING_TARGET: values-file  # {} (--values)", values.display())),
        "{t}"
    );
}

#[test]
fn check_exits_1_on_defects_and_malformed_yaml_has_a_location() {
    let svc = service();
    let wf = svc.path().join("deployment/workflows/initial.yaml");
    let out = scope_host(&["check", s(&wf)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 steps, 0 errors"));

    let bad = svc.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "steps:\n  - {name: x, type: script, file: update_function_code}\n  - {name: y, type: wasm, plugin: missing-one}\n",
    )
    .unwrap();
    let out = scope_host(&["check", s(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("`update-code` replaces it") && t.contains("plugin `missing-one` not found"),
        "{t}"
    );

    std::fs::write(&bad, "steps:\n  - name: x\n    type: wasm\n    plugn: emit\n").unwrap();
    let out = scope_host(&["check", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(t.contains("bad.yaml:") && t.contains("unknown field `plugn`"), "{t}");
}

#[test]
fn handle_routes_a_notification_and_runs_its_workflow() {
    let svc = service();
    let note = svc.path().join("n.json");
    std::fs::write(
        &note,
        r#"{"notification": {"action": "x", "slug": "start-initial", "type": "deployment", "parameters": {"scope_id": 11, "deployment_id": 7}}, "context": {"scope": {"id": "11"}}}"#,
    )
    .unwrap();
    let out = scope_host(&[
        "handle",
        s(&note),
        "--service-path",
        s(svc.path()),
        "--cloud-state",
        s(&fixture("cloud.json")),
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("notification → deployment workflow `initial`") && t.contains("✔ run succeeded: 3 ok"),
        "{t}"
    );

    // Overrides from an overrides path with the same layout.
    let ovdir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ovdir.path().join("deployment/workflows")).unwrap();
    std::fs::write(
        ovdir.path().join("deployment/workflows/initial.yaml"),
        "steps:\n  - {name: publish, action: skip}\n",
    )
    .unwrap();
    let out = scope_host(&[
        "handle",
        s(&note),
        "--service-path",
        s(svc.path()),
        "--overrides-path",
        s(ovdir.path()),
        "--cloud-state",
        s(&fixture("cloud.json")),
    ]);
    assert!(
        text(&out).contains("with 1 override file(s)") && text(&out).contains("2 ok"),
        "{}",
        text(&out)
    );

    std::fs::write(
        &note,
        r#"{"notification": {"slug": "explode", "parameters": {"deployment_id": 7}}, "context": {}}"#,
    )
    .unwrap();
    let out = scope_host(&["handle", s(&note), "--service-path", s(svc.path())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("unknown slug `explode`"), "{}", text(&out));

    std::fs::write(&note, r#"{"notification": {"type": "create", "parameters": {"scope_id": 11}}}"#).unwrap();
    let out = scope_host(&["handle", s(&note), "--service-path", s(svc.path())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no built context"), "{}", text(&out));
}

#[test]
fn a_workflow_of_more_steps_than_the_command_has_sandbox_slots_runs_to_its_end() {
    // A command's engine has 16 instance slots; each finished step's sandbox is kept
    // until the next step waits, then freed, so a long workflow never runs out.
    let svc = service();
    let wf = svc.path().join("long.yaml");
    let steps: String = (0..40)
        .map(|i| format!("  - {{name: s{i}, type: wasm, plugin: emit, configuration: {{EMIT: 'N{i}=x'}}}}\n"))
        .collect();
    std::fs::write(&wf, format!("steps:\n{steps}")).unwrap();
    let out = scope_host(&["run", s(&wf)]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("✔ run succeeded: 40 ok, 0 failed"), "{t}");
}

#[test]
fn a_first_step_pinned_to_another_digest_is_refused_although_its_sandbox_was_made_early() {
    let svc = service();
    let wf = svc.path().join("pinned.yaml");
    std::fs::write(
        &wf,
        "steps:\n  - {name: first, type: wasm, plugin: 'emit@sha256:0000000000000000000000000000000000000000000000000000000000000000'}\n  - {name: second, type: wasm, plugin: emit}\n",
    )
    .unwrap();
    let journal = svc.path().join("run.jsonl");
    let out = scope_host(&["run", s(&wf), "--journal", s(&journal)]);
    let t = text(&out);
    // Refused by the check before the first step (the pin is verified again at the
    // step's turn, for a file replaced meanwhile).
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("not the pinned sha256:0000") && t.contains("refusing to run it"), "{t}");
    assert!(t.contains("run refused before its first step"), "{t}");
    let record = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !record.contains("\"step_started\""),
        "the refused component never started: {record}"
    );
}

/// A typo in a late step's plugin used to leave a half-done deployment: the code and
/// configuration updated and a version published, then "plugin not found". Now the
/// whole workflow is checked first and nothing runs.
#[test]
fn a_typo_in_a_late_step_refuses_the_run_before_anything_changes() {
    let svc = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda");
    let ex = svc.join("examples");
    let dir = tempfile::tempdir().unwrap();
    let ovdir = dir.path().join("overrides");
    std::fs::create_dir_all(ovdir.join("deployment/workflows")).unwrap();
    std::fs::write(
        ovdir.join("deployment/workflows/initial.yaml"),
        "steps:\n  - {name: update_alias, plugin: update-alais}\n",
    )
    .unwrap();
    let (journal, dump) = (dir.path().join("run.jsonl"), dir.path().join("after.json"));
    let args = |overrides: bool| {
        let mut a = vec![
            "handle".to_owned(),
            s(&ex.join("notifications/start-initial.json")).to_owned(),
            "--service-path".into(),
            s(&svc).into(),
            "--providers".into(),
            s(&ex.join("providers.json")).into(),
            "--cloud-state".into(),
            s(&ex.join("cloud-state.json")).into(),
            "--journal".into(),
            s(&journal).into(),
            "--dump-state".into(),
            s(&dump).into(),
        ];
        if overrides {
            a.extend(["--overrides-path".to_owned(), s(&ovdir).to_owned()]);
        }
        a
    };
    let run = |overrides: bool| {
        scope_host_command()
            .args(args(overrides))
            .env("SCOPE_HOST_PLUGINS", builtin_dir())
            .output()
            .unwrap()
    };

    let out = run(true);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("plugin `update-alais` not found"), "{t}");
    assert!(t.contains("run refused before its first step: 1 error"), "{t}");
    assert!(!t.contains("▶"), "no step started: {t}");
    let record = std::fs::read_to_string(&journal).unwrap();
    let events: Vec<serde_json::Value> = record.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!events.iter().any(|e| e["event"] == "step_started"), "{record}");
    let step_calls: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "call" && e["step"] != "(host)").collect();
    assert!(step_calls.is_empty(), "{step_calls:?}");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "log" && e["level"] == "error" && e["message"].as_str().unwrap().contains("update-alais")),
        "the record says why: {record}"
    );
    let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(ex.join("cloud-state.json")).unwrap()).unwrap();
    let before_dump = {
        // The same fixture, dumped by a run that changes nothing: the baseline.
        let sim = scope_host::cloud::sim::SimCloud::from_fixture_json(&fixture.to_string()).unwrap();
        sim.dump_json()
    };
    let after: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    assert_eq!(after, before_dump, "the cloud is as it was");

    // Without the typo the same deployment runs (the refusal was the typo's).
    let out = run(false);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_notification_given_to_run_points_to_handle() {
    let note = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda/examples/notifications/start-initial.json");
    let out = scope_host(&["run", s(&note)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is a platform notification, not a workflow: run it with `scope-host handle"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_json_error_names_its_position_once() {
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("n.json");
    std::fs::write(&note, "{\"notification\": {\"type\": \"deployment\"},}").unwrap();
    let out = scope_host(&["handle", s(&note), "--service-path", s(dir.path())]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("is not valid JSON at line 1, column 41: trailing comma"), "{t}");
    assert!(!t.contains("at line 1 column"), "the position twice: {t}");
}

#[test]
fn an_overrides_file_of_the_wrong_shape_says_what_is_expected() {
    let svc = service();
    let wf = svc.path().join("deployment/workflows/initial.yaml");
    let ov = svc.path().join("ov.yaml");
    std::fs::write(&ov, "steps:\n  name: publish\n  action: skip\n").unwrap();
    let out = scope_host(&["render", s(&wf), "--overrides", s(&ov)]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("ov.yaml:2:3: steps: invalid type: map, expected a sequence"), "{t}");
    assert!(
        t.contains("hint: an overrides file holds `steps:`, a list of `{name: <step>, …}` entries"),
        "{t}"
    );
}
