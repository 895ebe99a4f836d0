//! Record and replay: the initial deployment recorded against moto (serving a
//! non-default account) with `--record`, then replayed on the simulated cloud from
//! the recording: the same step outcomes, output values and calls. The recording
//! holds no real account id, request id or secret value.

use scope_host_tests::aws_state::{env_signing_as, seed, Clients};
use scope_host_tests::{handle_json, lambda_service, output_text, scope_host_command, step_results, Moto};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The account moto serves: not the sample's 123456789012, so that a real id the
/// scrubbing missed cannot hide behind the sim's default.
const ACCOUNT: &str = "999988887777";
/// Another real account, planted in the repository policy (a CI role's).
const CI_ACCOUNT: &str = "444455556666";
/// A secret parameter of the notification's context: the run's redactor knows it.
const DB_PASSWORD: &str = "s3cr3t-db-password";
/// A secret in the function's environment before the run, which the run never learns.
const OLD_SECRET: &str = "0ld-s3cr3t-of-an-earlier-deployment";

fn service() -> PathBuf {
    lambda_service()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The sample notification and provider data, moved to [`ACCOUNT`]; returns their paths.
fn inputs_in_account(dir: &Path) -> (PathBuf, PathBuf) {
    let examples = service().join("examples");
    let notification = dir.join("start-initial.json");
    let providers = dir.join("providers.json");
    std::fs::write(
        &notification,
        read(&examples.join("notifications/start-initial.json")).replace("123456789012", ACCOUNT),
    )
    .unwrap();
    std::fs::write(&providers, read(&examples.join("providers.json")).replace("123456789012", ACCOUNT)).unwrap();
    (notification, providers)
}

/// The sample cloud in [`ACCOUNT`], with a CI role of [`CI_ACCOUNT`] in the repository
/// policy and secrets in the function's environment.
fn cloud_in_account() -> Value {
    let text = read(&service().join("examples/cloud-state.json")).replace("123456789012", ACCOUNT);
    let mut fixture: Value = serde_json::from_str(&text).unwrap();
    fixture["ecr"]["repositories"][0]["policy"]["Statement"][0]["Principal"]["AWS"] = json!(format!("arn:aws:iam::{CI_ACCOUNT}:role/ci"));
    fixture["lambda"]["functions"][0]["environment"] = json!({"DB_PASSWORD": DB_PASSWORD, "OLD_PASSWORD": OLD_SECRET});
    fixture
}

/// Each call's step, service, operation, resource, outcome and error code.
fn calls(report: &Value) -> Vec<Value> {
    report["calls"]
        .as_array()
        .unwrap_or_else(|| panic!("no calls in {report}"))
        .iter()
        .map(|c| json!([c["step"], c["service"], c["operation"], c["resource"], c["outcome"], c["code"]]))
        .collect()
}

fn lines(items: &[Value]) -> String {
    items.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_initial_deployment_recorded_against_moto_replays_on_the_simulated_cloud_with_the_same_outputs_and_calls() {
    let moto = Moto::start_in_account(ACCOUNT);
    seed(&Clients::new(&moto.endpoint).await, &cloud_in_account()).await;
    let dir = tempfile::tempdir().unwrap();
    let (notification, providers) = inputs_in_account(dir.path());
    let recording = dir.path().join("recording.json");
    let aws_journal = dir.path().join("aws.jsonl");

    let (code, on_aws, aws_text) = handle_json(
        &notification,
        &providers,
        &[
            "--cloud",
            "aws",
            "--endpoint-url",
            &moto.endpoint,
            "--grant-declared",
            "--record",
            recording.to_str().unwrap(),
            "--journal",
            aws_journal.to_str().unwrap(),
        ],
        &moto.env(),
    );
    assert_eq!(code, Some(0), "on moto:\n{aws_text}");
    assert!(
        on_aws["steps"][0]["values"]["AWS_ACCOUNT_ID"] == ACCOUNT,
        "the run is in moto's non-default account:\n{aws_text}"
    );

    // Nothing real in the file: accounts, request ids, secret values.
    let text = read(&recording);
    for (what, real) in [
        ("the account", ACCOUNT),
        ("the CI account", CI_ACCOUNT),
        ("a secret parameter", DB_PASSWORD),
        ("an unknown secret in the environment", OLD_SECRET),
    ] {
        assert!(!text.contains(real), "{what} ({real}) is in the recording:\n{text}");
    }
    let request_ids: Vec<String> = read(&aws_journal)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["request_id"].as_str().map(str::to_owned))
        .collect();
    assert!(request_ids.len() >= 10, "moto answered with request ids: {request_ids:?}");
    for id in &request_ids {
        assert!(!text.contains(id.as_str()), "request id {id} is in the recording:\n{text}");
    }

    // The same real account is the same placeholder everywhere.
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["account_id"], "000000000001", "{text}");
    assert_eq!(doc["recording"]["accounts"], json!(["000000000001", "000000000002"]), "{text}");
    let function = &doc["lambda"]["functions"][0];
    assert_eq!(function["role"], "arn:aws:iam::000000000001:role/lambda-exec", "{function}");
    assert_eq!(
        function["image_uri"], "000000000001.dkr.ecr.us-east-1.amazonaws.com/my-app:v0.9.0",
        "the state before the deployment, not after: {function}"
    );
    assert_eq!(function["environment"]["OLD_PASSWORD"], "[REDACTED]", "{function}");
    let ci = &doc["ecr"]["repositories"][0]["policy"]["Statement"][0]["Principal"]["AWS"];
    assert_eq!(ci, "arn:aws:iam::000000000002:role/ci", "{text}");
    assert_eq!(
        doc["recording"]["inputs"]["providers"][1]["attributes"]["account"]["id"], "000000000001",
        "{text}"
    );
    assert_eq!(doc["recording"]["outcome"], "ok");
    // The alias was moved before anything read it: the user is told what stands in.
    let note = "alias `main` was changed before the run read it, to a version of the run's; recorded pointing at $LATEST";
    assert!(aws_text.contains("note: --record: ") && aws_text.contains(note), "{aws_text}");
    assert!(doc["recording"]["notes"].to_string().contains(note), "{text}");
    let recorded_ops: Vec<&Value> = doc["recording"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["operation"])
        .collect();
    let aws_ops: Vec<&Value> = on_aws["calls"].as_array().unwrap().iter().map(|c| &c["operation"]).collect();
    assert_eq!(recorded_ops, aws_ops, "the recording lists the calls made");

    // Replayed with the same inputs: the real accounts come back from them.
    let after = dir.path().join("after.json");
    let (code, on_sim, sim_text) = handle_json(
        &notification,
        &providers,
        &[
            "--cloud-state",
            recording.to_str().unwrap(),
            "--dump-state",
            after.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "replay:\n{sim_text}");
    let (aws_steps, sim_steps) = (step_results(&on_aws), step_results(&on_sim));
    for (a, s) in aws_steps.iter().zip(&sim_steps) {
        assert_eq!(
            a, s,
            "moto (left) and the replay (right) disagree on a step\n--- replay:\n{sim_text}"
        );
    }
    assert_eq!(aws_steps.len(), sim_steps.len(), "different steps ran");
    assert_eq!(
        lines(&calls(&on_aws)),
        lines(&calls(&on_sim)),
        "the replay makes the same calls with the same outcomes (left: moto, right: replay)"
    );
    let dumped: Value = serde_json::from_str(&read(&after)).unwrap();
    assert_eq!(dumped["account_id"], ACCOUNT, "the replay ran in the real account");
    assert_eq!(
        dumped["ecr"]["repositories"][0]["policy"]["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::000000000002:role/ci",
        "an account the inputs do not name stays a placeholder"
    );

    // Replayed with the recording's own inputs (as someone without the real ones
    // would): placeholders throughout, and otherwise the same outcomes and outputs.
    let context = dir.path().join("recorded-context.json");
    let recorded_providers = dir.path().join("recorded-providers.json");
    std::fs::write(&context, doc["recording"]["inputs"]["context"].to_string()).unwrap();
    std::fs::write(&recorded_providers, doc["recording"]["inputs"]["providers"].to_string()).unwrap();
    let (code, on_placeholders, text) = handle_json(
        &notification,
        &recorded_providers,
        &["--cloud-state", recording.to_str().unwrap(), "--context", context.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, Some(0), "replay on placeholders:\n{text}");
    let scrubbed: Vec<Value> = aws_steps
        .iter()
        .map(|s| serde_json::from_str(&s.to_string().replace(ACCOUNT, "000000000001")).unwrap())
        .collect();
    let placeholder_steps = step_results(&on_placeholders);
    // The context's secret parameter is masked in the recording: the outputs built
    // from it differ by nature.
    let without_secrets = |steps: &[Value]| -> Vec<Value> {
        steps
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if let Some(m) = s["values"].as_object_mut() {
                    m.retain(|k, _| k != "LAMBDA_ENVIRONMENT_VARIABLES" && k != "PARAMETERS_JSON");
                }
                s
            })
            .collect()
    };
    assert_eq!(without_secrets(&scrubbed), without_secrets(&placeholder_steps), "{text}");
}

#[test]
fn record_without_cloud_aws_is_refused_and_says_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("recording.json");
    let svc = service();
    let notification = svc.join("examples/notifications/start-initial.json");
    let workflow = svc.join("deployment/workflows/initial.yaml");
    let commands: [Vec<&std::ffi::OsStr>; 3] = [
        vec![
            "handle".as_ref(),
            notification.as_os_str(),
            "--service-path".as_ref(),
            svc.as_os_str(),
        ],
        vec!["run".as_ref(), workflow.as_os_str()],
        vec!["step".as_ref(), "run".as_ref(), "no-such-plugin.wasm".as_ref()],
    ];
    for command in commands {
        let out = scope_host_command()
            .args(&command)
            .arg("--record")
            .arg(&recording)
            .arg("--cloud-state")
            .arg(svc.join("examples/cloud-state.json"))
            .output()
            .unwrap();
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(2), "{command:?}:\n{text}");
        assert!(
            text.contains("--record records a run against AWS: add --cloud aws"),
            "{command:?}:\n{text}"
        );
        assert!(!recording.exists(), "{command:?} wrote a recording");
    }
}

/// Moto with IAM enforced: the agent is a real user allowed to assume the deployment
/// role, which may do everything a deployment needs but `lambda:PublishVersion`.
/// Returns the agent's keys as environment variables.
async fn deny_publish_version(moto: &Moto, clients: &Clients) -> Vec<(&'static str, String)> {
    let key = clients
        .user_with_policy(
            "np-agent",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}),
        )
        .await;
    let deploy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:*", "ecr:*", "tag:GetResources", "iam:GetRole", "secretsmanager:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:PublishVersion", "Resource": "*"}]});
    clients.put_role_policy("np-lambda-agent", "deploy-without-publish", &deploy).await;
    moto.enforce_iam();
    env_signing_as(moto, &key)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_aws_refused_is_recorded_and_replays_failing_the_same_way() {
    let moto = Moto::start_in_account(ACCOUNT);
    let clients = Clients::new(&moto.endpoint).await;
    seed(&clients, &cloud_in_account()).await;
    let env = deny_publish_version(&moto, &clients).await;
    let dir = tempfile::tempdir().unwrap();
    let (notification, providers) = inputs_in_account(dir.path());
    let recording = dir.path().join("recording.json");

    let aws = [
        "--cloud",
        "aws",
        "--endpoint-url",
        &moto.endpoint,
        "--grant-declared",
        "--record",
        recording.to_str().unwrap(),
    ];
    let (code, on_aws, aws_text) = handle_json(&notification, &providers, &aws, &env);
    assert_eq!(code, Some(1), "the run fails on moto:\n{aws_text}");
    let doc: Value =
        serde_json::from_str(&read(&recording)).unwrap_or_else(|e| panic!("no recording of the failed run ({e}):\n{aws_text}"));
    assert_eq!(doc["recording"]["outcome"], "failed");
    let secret_key = &env.iter().find(|(k, _)| *k == "AWS_SECRET_ACCESS_KEY").unwrap().1;
    assert!(
        !doc.to_string().contains(secret_key.as_str()),
        "the agent's key is in the recording"
    );

    let (code, on_sim, sim_text) = handle_json(&notification, &providers, &["--cloud-state", recording.to_str().unwrap()], &[]);
    assert_eq!(code, Some(1), "the replay fails too:\n{sim_text}");
    assert_eq!(step_results(&on_aws), step_results(&on_sim), "--- replay:\n{sim_text}");
    let publish = on_sim["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "publish_version")
        .unwrap();
    assert_eq!(publish["failure"]["kind"], "cloud", "the cloud refused it, not the host: {publish}");
    let message = publish["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("AccessDenied") && message.contains("lambda:PublishVersion"),
        "{message}"
    );
    // The same calls, each with the same outcome; AWS and the sim may word the code
    // of a refusal differently (AccessDenied, AccessDeniedException).
    let outcomes = |report: &Value| -> Vec<Value> {
        calls(report)
            .into_iter()
            .map(|mut c| {
                if c[5].as_str().is_some_and(|code| code.starts_with("AccessDenied")) {
                    c[5] = json!("AccessDenied…");
                }
                c
            })
            .collect()
    };
    assert_eq!(lines(&outcomes(&on_aws)), lines(&outcomes(&on_sim)), "left: moto, right: replay");
}
