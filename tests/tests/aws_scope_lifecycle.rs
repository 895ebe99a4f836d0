//! The scope lifecycle (create, update, delete) on the AWS backend against moto,
//! and the same notifications on the simulated cloud: the same step outcomes and
//! outputs, and the same resources left — read back from moto by independent SDK
//! calls (the function, the execution role with its policies, the log group).
//!
//! moto 5.2.5 has no provisioned-concurrency API (its router answers with an HTML
//! 404), so both sides run create and update with `ensure_concurrency` skipped by
//! an overrides file; that step is tested on the simulator
//! (`tests/tests/scope_lifecycle.rs`). Invoke needs Docker in moto: simulator only.

use aws_sdk_cloudwatchlogs::Client as Logs;
use scope_host_tests::aws_state::{seed, Clients};
use scope_host_tests::{handle_json, lambda_example, lambda_service, step_results, Moto};
use serde_json::{json, Value};
use std::path::Path;

const FUNCTION: &str = "11-my-app-my-scope";
const ROLE: &str = "np-lambda-11-my-app-my-scope-role";

/// Overrides that leave out what moto cannot emulate.
fn overrides(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("overrides");
    for workflow in ["create", "update"] {
        let file = root.join(format!("scope/workflows/{workflow}.yaml"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "steps:\n  - name: ensure_concurrency\n    action: skip\n").unwrap();
    }
    root
}

async fn logs_client(endpoint: &str) -> Logs {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await;
    Logs::new(&config)
}

/// The scope's resources on moto, by independent SDK calls.
async fn read_moto(clients: &Clients, logs: &Logs) -> Value {
    let function = match clients.lambda.get_function().function_name(FUNCTION).send().await {
        Ok(f) => {
            let c = f.configuration().unwrap();
            json!({
                "package_type": c.package_type().map(|p| p.as_str().to_owned()),
                "memory_size": c.memory_size(),
                "role": c.role(),
                "image_uri": f.code().and_then(|c| c.image_uri()),
            })
        }
        Err(_) => Value::Null,
    };
    let role = match clients.iam.get_role().role_name(ROLE).send().await {
        Ok(r) => {
            let inline = clients.iam.list_role_policies().role_name(ROLE).send().await.unwrap();
            let mut names: Vec<String> = inline.policy_names().to_vec();
            names.sort();
            let tags: std::collections::BTreeMap<String, String> = r
                .role()
                .unwrap()
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            json!({"inline_policies": names, "tags": tags})
        }
        Err(_) => Value::Null,
    };
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{FUNCTION}"))
        .send()
        .await
        .unwrap();
    let log_group = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(&format!("/aws/lambda/{FUNCTION}")))
        .map_or(Value::Null, |g| json!({"retention_in_days": g.retention_in_days()}));
    json!({"function": function, "role": role, "log_group": log_group})
}

/// The same shape from the simulator's dump.
fn read_sim(dump: &Value) -> Value {
    let function = dump["lambda"]["functions"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == FUNCTION))
        .map_or(
            Value::Null,
            |f| json!({"package_type": f["package_type"], "memory_size": f["memory_size"], "role": f["role"], "image_uri": f["image_uri"]}),
        );
    let role = dump["iam"]["roles"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == ROLE))
        .map_or(Value::Null, |r| {
            let names: Vec<&String> = r["inline_policies"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
            json!({"inline_policies": names, "tags": r["tags"]})
        });
    let log_group = dump["logs"]["log_groups"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["name"] == format!("/aws/lambda/{FUNCTION}")))
        .map_or(Value::Null, |g| json!({"retention_in_days": g["retention_in_days"]}));
    json!({"function": function, "role": role, "log_group": log_group})
}

#[tokio::test(flavor = "multi_thread")]
async fn create_update_and_delete_against_moto_match_the_simulator() {
    let moto = Moto::start();
    let clients = Clients::new(&moto.endpoint).await;
    let logs = logs_client(&moto.endpoint).await;
    let fixture = lambda_example("scope-cloud-state.json");
    seed(&clients, &fixture).await;
    let dir = tempfile::tempdir().unwrap();
    let overrides = overrides(dir.path());
    let svc = lambda_service();
    let providers = svc.join("examples/providers.json");
    let mut sim_state = svc.join("examples/scope-cloud-state.json");
    let chain = [
        "create-scope-image",
        "start-initial",
        "update-scope",
        "create-scope-image",
        "delete-scope",
        "delete-scope",
    ];
    let mut seen = Vec::new();
    for (i, slug) in chain.iter().enumerate() {
        let notification = svc.join(format!("examples/notifications/{slug}.json"));
        let common = ["--overrides-path".to_owned(), overrides.display().to_string()];
        let mut aws: Vec<String> = ["--cloud", "aws", "--endpoint-url", &moto.endpoint, "--grant-declared"]
            .map(String::from)
            .to_vec();
        aws.extend(common.clone());
        let (code, on_aws, aws_text) = handle_json(&notification, &providers, &aws, &moto.env());
        assert_eq!(code, Some(0), "{slug} on moto:\n{aws_text}");

        let after = dir.path().join(format!("sim-{i}.json"));
        let mut sim = vec![
            "--cloud-state".to_owned(),
            sim_state.display().to_string(),
            "--dump-state".to_owned(),
            after.display().to_string(),
        ];
        sim.extend(common);
        let (code, on_sim, sim_text) = handle_json(&notification, &providers, &sim, &[]);
        assert_eq!(code, Some(0), "{slug} on the simulator:\n{sim_text}");
        assert_eq!(
            step_results(&on_aws),
            step_results(&on_sim),
            "{slug}: moto (left) and the simulator (right) disagree\n--- moto:\n{aws_text}"
        );
        sim_state = after;
        let on_moto = read_moto(&clients, &logs).await;
        let dump: Value = serde_json::from_str(&std::fs::read_to_string(&sim_state).unwrap()).unwrap();
        assert_eq!(
            on_moto,
            read_sim(&dump),
            "{slug}: the resources differ (left: moto, right: simulator)"
        );
        seen.push(on_moto);
    }
    let created = &seen[0];
    assert_eq!(created["function"]["package_type"], "Image");
    assert_eq!(
        created["role"]["inline_policies"],
        json!(["cloudwatch-logs", "ecr-image-pull", "secrets-manager-parameters-read"])
    );
    assert_eq!(created["log_group"]["retention_in_days"], 30);
    assert_eq!(
        seen[3]["function"]["image_uri"], "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0",
        "create after a deployment leaves the deployed image"
    );
    assert_eq!(
        seen[4],
        json!({"function": null, "role": null, "log_group": null}),
        "nothing of the scope is left"
    );
}
