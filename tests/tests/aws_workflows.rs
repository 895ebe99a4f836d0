//! The Lambda scope's deployment workflows end to end on the AWS backend, against the
//! moto emulator seeded through the SDK from the sample cloud fixture, and — the
//! differential half — the same notifications on the simulated cloud: same step
//! outcomes, same step outputs, same final Lambda/ECR state. The state on moto is read
//! back with independent SDK calls, not through the host.

use scope_host_tests::aws_state::{read_moto, read_sim_dump, seed, Clients};
use scope_host_tests::{output_text, scope_host_command, Moto};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FUNCTION: &str = "11-my-app-my-scope";
const REPOSITORY: &str = "my-app";

fn service() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda")
}

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(service().join("examples/cloud-state.json")).unwrap()).unwrap()
}

/// `scope-host handle <slug> --json` on one backend; returns the exit code, the
/// JSON report and the whole output.
fn handle(slug: &str, dir: &Path, backend: &[String], extra_env: &[(&str, String)]) -> (Option<i32>, Value, String) {
    let svc = service();
    let out = scope_host_command()
        .arg("handle")
        .arg(svc.join(format!("examples/notifications/{slug}.json")))
        .arg("--service-path")
        .arg(&svc)
        .arg("--providers")
        .arg(svc.join("examples/providers.json"))
        .arg("--journal")
        .arg(dir.join(format!("{slug}.jsonl")))
        .arg("--json")
        .args(backend)
        .envs(extra_env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    let text = output_text(&out);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), report, text)
}

/// Each step's name, status, output values and check verdicts, minus what differs by nature between
/// two clouds (revision ids, code hashes).
fn step_results(report: &Value) -> Vec<Value> {
    report["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {report}"))
        .iter()
        .map(|s| {
            let mut values = s["values"].clone();
            if let Some(m) = values.as_object_mut() {
                m.retain(|k, _| !k.contains("REVISION") && !k.contains("SHA256"));
            }
            let checks: Vec<Value> = s["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| json!([c["check"], c["status"], c["summary"]]))
                .collect();
            json!({"step": s["path"], "status": s["status"], "values": values, "checks": checks})
        })
        .collect()
}

/// What moto 5.2.5 does not emulate, taken out of the comparison (and checked to be
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
async fn run_chain_on_both(chain: &[&str], moto: &Moto) -> (Clients, Vec<Value>) {
    let clients = Clients::new(&moto.endpoint).await;
    seed(&clients, &fixture()).await;
    let dir = tempfile::tempdir().unwrap();
    let aws = vec!["--cloud".into(), "aws".into(), "--endpoint-url".into(), moto.endpoint.clone()];
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
