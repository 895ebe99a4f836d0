//! The Lambda scope's deployment workflows end to end on the AWS backend, against the
//! moto emulator seeded through the SDK from the sample cloud fixture, and — the
//! differential half — the same notifications on the simulated cloud: same step
//! outcomes, same step outputs, same final Lambda/ECR state. The state on moto is read
//! back with independent SDK calls, not through the host.

use scope_host_tests::aws_state::{env_signing_as, read_moto, read_sim_dump, seed, Clients};
use scope_host_tests::{form_decode, handle_json, lambda_example, lambda_service, step_results, Moto};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FUNCTION: &str = "11-my-app-my-scope";
const REPOSITORY: &str = "my-app";

fn service() -> PathBuf {
    lambda_service()
}

fn fixture() -> Value {
    lambda_example("cloud-state.json")
}

/// `scope-host handle <slug> --json` on one backend, journaled beside the others of
/// the chain; returns the exit code, the JSON report and the whole output.
fn handle(slug: &str, dir: &Path, backend: &[String], extra_env: &[(&str, String)]) -> (Option<i32>, Value, String) {
    let svc = service();
    let mut args = vec!["--journal".to_owned(), dir.join(format!("{slug}.jsonl")).display().to_string()];
    args.extend_from_slice(backend);
    handle_json(
        &svc.join(format!("examples/notifications/{slug}.json")),
        &svc.join("examples/providers.json"),
        &args,
        extra_env,
    )
}

/// What moto 5.2.6 does not emulate, taken out of the comparison (and checked to be
/// what it is, so a moto that learns it shows up here): it has no provisioned-
/// concurrency API (its router answers GetProvisionedConcurrencyConfig with an HTML
/// 404), so that diagnose check cannot find the alias's configuration there.
fn emulator_gaps(aws_steps: &mut [Value], sim_steps: &mut [Value]) {
    for (a, s) in aws_steps.iter_mut().zip(sim_steps.iter_mut()) {
        let Some(checks) = a["checks"].as_array_mut() else { continue };
        if let Some(i) = checks.iter().position(|c| c[0] == "provisioned-concurrency") {
            let gap = checks.remove(i);
            assert_eq!(gap[1], "skipped", "moto now answers GetProvisionedConcurrencyConfig? {gap}");
            s["checks"].as_array_mut().unwrap().retain(|c| c[0] != "provisioned-concurrency");
        }
    }
}

/// Runs a chain of notifications on moto (seeded from the fixture) and on the
/// simulated cloud (from the same fixture, each run on the state the last left),
/// asserting after every notification that both agree; returns the moto clients.
/// `--cloud aws` at the emulator, every plugin granted what it declares (a test
/// of the backend, not of an operator's policy).
fn aws_args(moto: &Moto) -> Vec<String> {
    ["--cloud", "aws", "--endpoint-url", &moto.endpoint, "--grant-declared"]
        .map(String::from)
        .to_vec()
}

async fn run_chain_on_both(chain: &[&str], moto: &Moto) -> (Clients, Vec<Value>) {
    let clients = Clients::new(&moto.endpoint).await;
    seed(&clients, &fixture()).await;
    let dir = tempfile::tempdir().unwrap();
    let aws = aws_args(moto);
    let mut sim_state = service().join("examples/cloud-state.json");
    let mut states = Vec::new();
    for slug in chain {
        let (code, on_aws, aws_text) = handle(slug, dir.path(), &aws, &moto.env());
        assert_eq!(code, Some(0), "{slug} on moto:\n{aws_text}");
        assert_eq!(on_aws["ok"], true, "{slug} on moto:\n{aws_text}");

        let after = dir.path().join(format!("sim-after-{slug}.json"));
        let sim = vec![
            "--cloud-state".to_owned(),
            sim_state.display().to_string(),
            "--dump-state".to_owned(),
            after.display().to_string(),
        ];
        let (code, on_sim, sim_text) = handle(slug, dir.path(), &sim, &[]);
        assert_eq!(code, Some(0), "{slug} on the simulator:\n{sim_text}");
        let (mut aws_steps, mut sim_steps) = (step_results(&on_aws), step_results(&on_sim));
        emulator_gaps(&mut aws_steps, &mut sim_steps);
        for (a, s) in aws_steps.iter().zip(&sim_steps) {
            assert_eq!(
                a, s,
                "{slug}: moto (left) and the simulator (right) disagree on a step\n--- moto:\n{aws_text}"
            );
        }
        assert_eq!(aws_steps.len(), sim_steps.len(), "{slug}: different steps ran");
        sim_state = after;

        let on_moto = read_moto(&clients, FUNCTION, REPOSITORY).await;
        let dump: Value = serde_json::from_str(&std::fs::read_to_string(&sim_state).unwrap()).unwrap();
        let on_sim = read_sim_dump(&dump, FUNCTION, REPOSITORY);
        assert_eq!(
            on_moto, on_sim,
            "{slug}: the final Lambda/ECR state differs (left: moto, right: simulator)"
        );
        states.push(on_moto);
    }
    (clients, states)
}

#[tokio::test(flavor = "multi_thread")]
async fn initial_blue_green_switch_finalize_and_diagnose_against_moto_match_the_simulator() {
    let moto = Moto::start();
    let chain = [
        "start-initial",
        "start-blue-green",
        "switch-traffic",
        "finalize-blue-green",
        "diagnose-deployment",
    ];
    let (clients, states) = run_chain_on_both(&chain, &moto).await;

    // Independent reads of what each notification left on moto.
    let initial = &states[0];
    assert_eq!(initial["aliases"]["main"], json!({"version": "2", "routing": {}}));
    assert_eq!(initial["versions"], json!(["1:deploy-prev", "2:deploy-1"]));
    assert_eq!(initial["image_uri"], "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0");
    assert_eq!(initial["memory_size"], 512);
    let switched = &states[2];
    assert_eq!(switched["aliases"]["main"], json!({"version": "2", "routing": {"3": 0.25}}));
    let finalized = &states[3];
    assert_eq!(finalized["aliases"]["main"], json!({"version": "3", "routing": {}}));
    assert_eq!(
        finalized["versions"],
        json!(["1:deploy-prev", "3:deploy-2"]),
        "the old version is cleaned up"
    );

    // The repository policy keeps the CI statement and gained Lambda's pull statement.
    let policy = clients
        .ecr
        .get_repository_policy()
        .repository_name(REPOSITORY)
        .send()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(policy.policy_text().unwrap()).unwrap();
    let statements = doc["Statement"].as_array().unwrap();
    assert!(statements.iter().any(|s| s["Sid"] == "CIPush"), "{doc}");
    let pull = statements
        .iter()
        .find(|s| s["Principal"]["Service"] == "lambda.amazonaws.com")
        .unwrap_or_else(|| panic!("no Lambda pull statement in {doc}"));
    assert!(pull.to_string().contains("ecr:BatchGetImage"), "{pull}");
    assert_eq!(statements.len(), 2, "merged once, not per deployment: {doc}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_against_moto_matches_the_simulator() {
    let moto = Moto::start();
    let chain = ["start-initial", "start-blue-green", "switch-traffic", "rollback-deployment"];
    let (_, states) = run_chain_on_both(&chain, &moto).await;
    let rolled_back = states.last().unwrap();
    assert_eq!(rolled_back["aliases"]["main"], json!({"version": "2", "routing": {}}));
    assert_eq!(
        rolled_back["versions"],
        json!(["1:deploy-prev", "2:deploy-1"]),
        "the rolled-back version is gone"
    );
}

/// Each AssumeRole the run sent, as its decoded form fields.
fn assume_role_requests(moto: &Moto) -> Vec<std::collections::BTreeMap<String, String>> {
    moto.recorded_bodies()
        .iter()
        .filter(|b| b.contains("Action=AssumeRole"))
        .map(|b| {
            b.split('&')
                .filter_map(|f| f.split_once('='))
                .map(|(k, v)| (form_decode(k), form_decode(v)))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_step_session_carries_the_steps_grant_as_its_session_policy() {
    let moto = Moto::start();
    let clients = Clients::new(&moto.endpoint).await;
    seed(&clients, &fixture()).await;
    moto.start_recording();
    let dir = tempfile::tempdir().unwrap();
    let aws = aws_args(&moto);
    let (code, _, text) = handle("start-initial", dir.path(), &aws, &moto.env());
    assert_eq!(code, Some(0), "{text}");

    let sent = assume_role_requests(&moto);
    let by_session = |name: &str| {
        sent.iter()
            .find(|r| r["RoleSessionName"] == name)
            .unwrap_or_else(|| panic!("no AssumeRole with session {name}: {sent:?}"))
    };
    let policy = |name: &str| -> Value { serde_json::from_str(&by_session(name)["Policy"]).unwrap() };
    let actions = |doc: &Value| -> Vec<String> {
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()))
            .collect()
    };
    // publish_version's keys may publish this function, and nothing else.
    let publish = policy("np-lambda-11.publish_version");
    assert_eq!(actions(&publish), ["lambda:PublishVersion"], "{publish}");
    assert_eq!(
        publish["Statement"][0]["Resource"],
        json!(["arn:aws:lambda:*:*:function:11-my-app-my-scope"]),
        "variables resolved: {publish}"
    );
    // update_alias may move aliases but not publish; update_function_code may not move aliases.
    let alias = actions(&policy("np-lambda-11.update_alias"));
    assert!(
        alias.contains(&"lambda:UpdateAlias".to_owned()) && !alias.contains(&"lambda:PublishVersion".to_owned()),
        "{alias:?}"
    );
    let code_actions = actions(&policy("np-lambda-11.update_function_code"));
    assert!(
        code_actions.contains(&"lambda:UpdateFunctionCode".to_owned()) && !code_actions.iter().any(|a| a.contains("Alias")),
        "{code_actions:?}"
    );
    // Durations follow the step deadline (15 min + margin), within AWS's bounds.
    for r in &sent {
        let d: u32 = r["DurationSeconds"].parse().unwrap();
        assert!((900..=3600).contains(&d), "{r:?}");
    }
    // Steps that make no cloud call open no session.
    assert!(
        sent.iter()
            .all(|r| r["RoleSessionName"] != "np-lambda-11.wait_provisioned_concurrency"),
        "{sent:?}"
    );
    // The keys of those sessions never reach the output.
    assert!(!text.contains("SecretAccessKey") && !text.contains("SessionToken"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_iam_enforced_a_role_without_publish_version_fails_the_publish_step_with_access_denied() {
    let moto = Moto::start();
    let clients = Clients::new(&moto.endpoint).await;
    seed(&clients, &fixture()).await;
    // The agent is a real IAM user allowed to assume the role; the role may do
    // what a deployment needs except lambda:PublishVersion.
    let key = clients
        .user_with_policy(
            "np-agent",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}),
        )
        .await;
    clients.put_role_policy("np-lambda-agent", "deploy-without-publish", &json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["lambda:*", "ecr:*", "tag:GetResources", "iam:GetRole", "secretsmanager:*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "lambda:PublishVersion", "Resource": "*"}]})).await;
    moto.enforce_iam();

    let dir = tempfile::tempdir().unwrap();
    let aws = aws_args(&moto);
    let env = env_signing_as(&moto, &key);
    let (code, report, text) = handle("start-initial", dir.path(), &aws, &env);
    assert_eq!(code, Some(1), "{text}");
    let steps = report["steps"].as_array().unwrap();
    let status = |name: &str| steps.iter().find(|s| s["name"] == name).map(|s| s["status"].clone());
    assert_eq!(status("update_function_code"), Some(json!("ok")), "{text}");
    let publish = steps.iter().find(|s| s["name"] == "publish_version").unwrap();
    assert_eq!(publish["status"], "failed", "{text}");
    assert_eq!(publish["failure"]["kind"], "cloud", "AWS refused it, not the host: {publish}");
    let message = publish["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("AccessDenied") && message.contains("lambda:PublishVersion"),
        "{message}"
    );
    assert_eq!(
        status("update_alias"),
        Some(json!("skipped")),
        "nothing runs after the failed step: {text}"
    );
    // The run record says what happened: the refused call, with AWS's answer.
    let journal = std::fs::read_to_string(dir.path().join("start-initial.jsonl")).unwrap();
    let refused: Value = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["operation"] == "PublishVersion")
        .unwrap();
    assert_eq!(refused["outcome"], "cloud_error", "{refused}");
    assert!(refused["code"].as_str().unwrap().starts_with("AccessDenied"), "{refused}");
    assert!(!journal.contains(&key.1), "the agent's secret key is in the journal");
}
