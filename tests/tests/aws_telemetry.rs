//! Telemetry on the AWS backend against moto: log events and datapoints seeded
//! through the SDK, the same seeded into the simulator, and `scope-host handle` as
//! the platform's agent runs it (NP_ACTION_CONTEXT, the answer alone on stdout)
//! answering the same JSON on both, field by field.

use scope_host_tests::aws_state::{seed, Clients};
use scope_host_tests::{lambda_example, lambda_service, scope_host_command, Moto};
use serde_json::{json, Value};

const FUNCTION: &str = "11-my-app-my-scope";

/// `handle` with the notification in NP_ACTION_CONTEXT; (exit code, stdout, stderr).
fn answer(notification: &Value, args: &[String], env: &[(&str, String)]) -> (Option<i32>, String, String) {
    let svc = lambda_service();
    let out = scope_host_command()
        .arg("handle")
        .arg(format!("--service-path={}", svc.display()))
        .arg("--providers")
        .arg(svc.join("examples/providers.json"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("NP_ACTION_CONTEXT", format!("'{notification}'"))
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    scope_host_tests::outcome(&out)
}

/// `2026-08-07T18:00:00Z` for seconds since the epoch.
fn iso(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_read_and_metric_data_answer_the_same_on_moto_as_on_the_simulator() {
    let moto = Moto::start();
    let clients = Clients::new(&moto.endpoint).await;
    let mut fixture = lambda_example("telemetry-cloud-state.json");
    seed(&clients, &fixture).await;
    // Recent, on whole minutes: CloudWatch Logs (and moto) refuse events older than
    // 14 days.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t0 = (now - 1800) / 60 * 60;
    let group = format!("/aws/lambda/{FUNCTION}");
    let events = [
        (t0 * 1000 + 1000, "START RequestId: 6f1c2a Version: 3\n".to_owned()),
        (t0 * 1000 + 2000, "END RequestId: 6f1c2a\n".to_owned()),
    ];
    clients.put_log_events(&group, "s", &events).await;
    let points = [(t0 + 10, 5.0), (t0 + 40, 5.5), (t0 + 70, 4.8)];
    clients.put_durations(FUNCTION, &points).await;

    // The same data in the simulator.
    fixture["logs"]["log_groups"] = json!([{"name": group, "events":
        events.iter().map(|(t, m)| json!({"timestamp": t, "message": m, "log_stream_name": "s"})).collect::<Vec<_>>()}]);
    fixture["metrics"] = json!([{"namespace": "AWS/Lambda", "metric_name": "Duration",
        "dimensions": {"FunctionName": FUNCTION}, "unit": "Milliseconds",
        "datapoints": points.iter().map(|(t, v)| json!([t, v])).collect::<Vec<_>>()}]);
    let dir = tempfile::tempdir().unwrap();
    let sim_state = dir.path().join("sim.json");
    std::fs::write(&sim_state, fixture.to_string()).unwrap();

    let mut log_read = lambda_example("notifications/log-read.json");
    log_read["notification"]["arguments"]["start_time"] = json!((t0 - 60) * 1000);
    log_read["notification"]["arguments"]["end_time"] = json!((t0 + 600) * 1000);
    let mut metric_data = lambda_example("notifications/metric-data.json");
    metric_data["notification"]["arguments"]["start_time"] = json!(iso(t0));
    metric_data["notification"]["arguments"]["end_time"] = json!(iso(t0 + 600));
    let on_aws: Vec<String> = ["--cloud", "aws", "--endpoint-url", &moto.endpoint, "--grant-declared"]
        .map(String::from)
        .to_vec();
    let on_sim = vec!["--cloud-state".to_owned(), sim_state.display().to_string()];
    for (what, notification) in [("log:read", &log_read), ("metric:data", &metric_data)] {
        let (code, aws_out, aws_err) = answer(notification, &on_aws, &moto.env());
        assert_eq!(code, Some(0), "{what} on moto:\n{aws_err}");
        let (code, sim_out, sim_err) = answer(notification, &on_sim, &[]);
        assert_eq!(code, Some(0), "{what} on the simulator:\n{sim_err}");
        let mut aws_answer: Value = serde_json::from_str(&aws_out).unwrap_or_else(|e| panic!("{what}: {e}: {aws_out}"));
        // moto 5.2.6 stamps a statistic with its period's first datapoint rather than
        // the period's start, as CloudWatch does: compare by the minute.
        let points = aws_answer.pointer_mut("/results/0/data").and_then(Value::as_array_mut);
        for point in points.into_iter().flatten() {
            let stamp = point["timestamp"].as_str().unwrap().to_owned();
            point["timestamp"] = json!(format!("{}:00+00:00", &stamp[..16]));
        }
        let sim_answer: Value = serde_json::from_str(&sim_out).unwrap();
        assert_eq!(aws_answer, sim_answer, "{what}: moto (left) and the simulator (right) disagree");
        assert!(!aws_answer["results"].as_array().unwrap().is_empty(), "{what}: {aws_answer}");
    }
}
