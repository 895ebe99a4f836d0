//! `handle` as the platform's agent runs it: the notification in NP_ACTION_CONTEXT
//! (quoted), the channel's argument forms, and telemetry answered on stdout with
//! nothing else there.

use scope_host_tests::{lambda_service, scope_host_command};
use serde_json::{json, Value};
use std::io::Write as _;
use std::process::{Output, Stdio};

/// `scope-host handle` with the channel's arguments and the notification in
/// NP_ACTION_CONTEXT (or on stdin with `-`).
fn agent_run(notification: &Value, extra: &[&str], stdin: bool) -> Output {
    let svc = lambda_service();
    let mut cmd = scope_host_command();
    cmd.arg("handle");
    if stdin {
        cmd.arg("-");
    }
    cmd.arg(format!("--service-path={}", svc.display()))
        .arg("--providers")
        .arg(svc.join("examples/providers.json"))
        .arg("--cloud-state")
        .arg(svc.join("examples/telemetry-cloud-state.json"))
        .args(extra)
        .env_remove("SCOPE_HOST_PLUGINS")
        .env_remove("NP_ACTION_CONTEXT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !stdin {
        cmd.env("NP_ACTION_CONTEXT", format!("'{notification}'"));
    }
    let mut child = cmd.spawn().unwrap();
    if stdin {
        child.stdin.take().unwrap().write_all(notification.to_string().as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn example(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(lambda_service().join(format!("examples/notifications/{name}.json"))).unwrap()).unwrap()
}

fn stdout_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn log_read_answers_the_spec_example_on_stdout_and_nothing_else() {
    let out = agent_run(&example("log-read"), &[], false);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout_json(&out),
        json!({"results": [
            {"datetime": "2026-08-07T18:00:01Z", "message": "START RequestId: 6f1c2a Version: 3\n"},
            {"datetime": "2026-08-07T18:00:02Z", "message": "END RequestId: 6f1c2a\n"}],
            "next_page_token": ""}),
        "the incumbent's answer for the spec's notification, field by field"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("✔ run succeeded") && stderr.contains("journal"),
        "progress goes to stderr: {stderr}"
    );
}

#[test]
fn a_page_token_is_returned_and_honoured() {
    let mut n = example("log-read");
    n["notification"]["arguments"]["limit"] = json!(1);
    let first = stdout_json(&agent_run(&n, &[], false));
    assert_eq!(first["results"].as_array().unwrap().len(), 1);
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty(), "{first}");
    n["notification"]["arguments"]["next_page_token"] = json!(token);
    let second = stdout_json(&agent_run(&n, &[], false));
    assert_eq!(second["results"][0]["message"], "END RequestId: 6f1c2a\n");
    assert_eq!(second["next_page_token"], "");
}

#[test]
fn metric_list_and_instance_data_answer_from_stdin_too() {
    let out = agent_run(&example("metric-list"), &[], true);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let catalogue = stdout_json(&out);
    let names: Vec<&str> = catalogue["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Invocations",
            "Duration",
            "Errors",
            "Throttles",
            "ConcurrentExecutions",
            "stream.iterator_age"
        ]
    );
    assert_eq!(catalogue["results"][1]["unit"], "milliseconds", "milliseconds everywhere");
    let out = agent_run(&example("instance-data"), &[], false);
    assert_eq!(stdout_json(&out), json!({"results": []}));
}

#[test]
fn bad_arguments_fail_on_stderr_with_nothing_on_stdout() {
    for (edit, expected) in [
        (
            json!({"start_time": 1786129200000u64, "end_time": 1786125600000u64}),
            "is before arguments.start_time",
        ),
        (json!({"limit": 10001}), "a page holds 1 to 10000 events"),
        (json!({"limit": "many"}), "arguments.limit is \"many\", not a whole number"),
    ] {
        let mut n = example("log-read");
        for (k, v) in edit.as_object().unwrap() {
            n["notification"]["arguments"][k] = v.clone();
        }
        let out = agent_run(&n, &[], false);
        assert_eq!(out.status.code(), Some(1), "{expected}");
        assert!(
            out.stdout.is_empty(),
            "stdout must stay empty: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expected),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_missing_or_malformed_np_action_context_is_bad_input() {
    let svc = lambda_service();
    let run = |value: Option<&str>| {
        let mut cmd = scope_host_command();
        cmd.arg("handle")
            .arg(format!("--service-path={}", svc.display()))
            .env_remove("NP_ACTION_CONTEXT");
        if let Some(v) = value {
            cmd.env("NP_ACTION_CONTEXT", v);
        }
        cmd.output().unwrap()
    };
    let out = run(None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NP_ACTION_CONTEXT is not set"),
        "{out:?}"
    );
    let out = run(Some("''"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NP_ACTION_CONTEXT is not set"),
        "{out:?}"
    );
    let out = run(Some("'{\"notification\": '"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NP_ACTION_CONTEXT is not valid JSON at line 1"),
        "{out:?}"
    );
}

#[test]
fn the_channels_comma_list_of_override_folders_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let wf = b.join("instance/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::create_dir_all(&a).unwrap();
    // The second folder overrides instance:data's step with another built-in one.
    std::fs::write(
        wf.join("data.yaml"),
        "steps:\n  - name: instance_data\n    action: replace\n    type: wasm\n    plugin: metric-catalogue\n    output: [{name: TELEMETRY_RESPONSE, type: environment}]\n",
    )
    .unwrap();
    let list = format!("--overrides-path={}, {}", a.display(), b.display());
    let out = agent_run(&example("instance-data"), &[&list], false);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout_json(&out)["results"].as_array().unwrap().len() > 1, "the override applied");
}

#[test]
fn metric_data_answers_the_spec_example_field_by_field() {
    let out = agent_run(&example("metric-data"), &[], false);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout_json(&out),
        json!({"metric": "Duration", "type": "gauge", "period_in_seconds": 60, "unit": "milliseconds",
            "results": [{"selector": {"FunctionName": "11-my-app-my-scope"},
                "data": [{"timestamp": "2026-08-07T18:00:00+00:00", "value": 5.25},
                         {"timestamp": "2026-08-07T18:01:00+00:00", "value": 4.8}]}]}),
        "the incumbent's answer for the spec's notification: the average per minute, the point before the window left out"
    );
}

#[test]
fn metric_data_defaults_and_an_empty_window() {
    // No metric and no period: Invocations, summed per 300 s, a count.
    let mut n = example("metric-data");
    let args = n["notification"]["arguments"].as_object_mut().unwrap();
    args.remove("metric");
    args.remove("period");
    let answer = stdout_json(&agent_run(&n, &[], false));
    assert_eq!(answer["metric"], "Invocations");
    assert_eq!(answer["unit"], "count");
    assert_eq!(answer["period_in_seconds"], 300);
    assert_eq!(
        answer["results"][0]["data"],
        json!([{"timestamp": "2026-08-07T18:00:00+00:00", "value": 3.0},
               {"timestamp": "2026-08-07T18:05:00+00:00", "value": 1.0}])
    );
    // A window with no datapoints: the same envelope, no results, success.
    let mut n = example("metric-data");
    n["notification"]["arguments"]["start_time"] = json!("2026-08-08T18:00:00Z");
    n["notification"]["arguments"]["end_time"] = json!("2026-08-08T19:00:00Z");
    let out = agent_run(&n, &[], false);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout_json(&out),
        json!({"metric": "Duration", "type": "gauge", "period_in_seconds": 60, "unit": "milliseconds", "results": []})
    );
}

#[test]
fn bad_metric_arguments_and_the_point_cap_fail_with_nothing_on_stdout() {
    for (edit, expected) in [
        (
            json!({"period": "90"}),
            "arguments.period is 90: CloudWatch's Lambda metrics need a multiple of 60 seconds",
        ),
        (
            json!({"period": "soon"}),
            "arguments.period is \"soon\", not a whole number of seconds",
        ),
        (
            json!({"start_time": "yesterday"}),
            "arguments.start_time: \"yesterday\" is not an ISO-8601 date-time",
        ),
        (
            json!({"end_time": "2026-08-07T17:00:00Z"}),
            "arguments.end_time (2026-08-07T17:00:00+00:00) is not after arguments.start_time",
        ),
        (
            json!({"start_time": "2026-08-05T18:00:00Z"}),
            "the window holds 2940 periods of 60 s; CloudWatch answers at most 1440 datapoints",
        ),
    ] {
        let mut n = example("metric-data");
        for (k, v) in edit.as_object().unwrap() {
            n["notification"]["arguments"][k] = v.clone();
        }
        let out = agent_run(&n, &[], false);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{expected}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "stdout must stay empty: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
}
