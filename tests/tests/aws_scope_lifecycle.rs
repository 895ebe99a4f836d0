//! The scope lifecycle (create, update, delete) on the AWS backend against moto,
//! and the same notifications on the simulated cloud: the same step outcomes and
//! outputs, and the same resources left — read back from moto by independent SDK
//! calls (the function, the execution role with its policies, the log group).
//!
//! moto 5.2.6 has no provisioned-concurrency API (its router answers with an HTML
//! 404), so both sides run create and update with `ensure_concurrency` skipped by
//! an overrides file; that step is tested on the simulator
//! (`tests/tests/scope_lifecycle.rs`). Invoke needs Docker in moto: simulator only.

use aws_sdk_cloudwatchlogs::Client as Logs;
use scope_host_tests::aws_state::{env_signing_as, sdk_config, seed, Clients};
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

async fn apigateway_client(endpoint: &str) -> aws_sdk_apigatewayv2::Client {
    aws_sdk_apigatewayv2::Client::new(&sdk_config(endpoint).await)
}

async fn route53_client(endpoint: &str) -> aws_sdk_route53::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await;
    aws_sdk_route53::Client::new(&config)
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
async fn read_moto(clients: &Clients, logs: &Logs, net: &Net, zone_id: &str) -> Value {
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
    let apis = net.apis.get_apis().send().await.unwrap();
    let api = apis.items().iter().find(|a| a.name() == Some(API));
    let entry = match api {
        Some(a) => {
            let id = a.api_id().unwrap();
            let routes = net.apis.get_routes().api_id(id).send().await.unwrap();
            let keys: Vec<&str> = routes.items().iter().filter_map(|r| r.route_key()).collect();
            let records = net.dns.list_resource_record_sets().hosted_zone_id(zone_id).send().await.unwrap();
            let points_at_api = records.resource_record_sets().iter().any(|r| {
                r.name() == DOMAIN
                    && r.resource_records()
                        .iter()
                        .any(|v| v.value() == format!("{id}.execute-api.us-east-1.amazonaws.com"))
            });
            json!({"routes": keys, "dns_points_at_api": points_at_api})
        }
        None => Value::Null,
    };
    json!({"function": function, "role": role, "log_group": log_group, "entry_point": entry})
}

const API: &str = "my-namespace-my-app-my-scope";
const DOMAIN: &str = "my-namespace-my-app-my-scope.example.com.";

/// API Gateway and Route 53 clients on moto.
struct Net {
    apis: aws_sdk_apigatewayv2::Client,
    dns: aws_sdk_route53::Client,
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
    let api = dump["networking"]["apis"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == API))
        .cloned();
    let entry = match api {
        Some(a) => {
            let id = a["id"].as_str().unwrap();
            let keys: Vec<&String> = a["routes"].as_object().map(|r| r.keys().collect()).unwrap_or_default();
            let points_at_api = dump["networking"]["hosted_zones"][0]["records"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["name"] == DOMAIN && r["values"] == json!([format!("{id}.execute-api.us-east-1.amazonaws.com")]));
            json!({"routes": keys, "dns_points_at_api": points_at_api})
        }
        None => Value::Null,
    };
    json!({"function": function, "role": role, "log_group": log_group, "entry_point": entry})
}

/// Step results with the HTTP API's id masked: each cloud names its APIs itself.
fn without_api_ids(mut steps: Vec<Value>) -> Vec<Value> {
    for step in &mut steps {
        let id = step["values"]["API_ID"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() {
            continue;
        }
        for value in step["values"].as_object_mut().unwrap().values_mut() {
            if let Some(text) = value.as_str() {
                *value = json!(text.replace(&id, "<api id>"));
            }
        }
    }
    steps
}

#[tokio::test(flavor = "multi_thread")]
async fn create_update_and_delete_against_moto_match_the_simulator() {
    let chain = [
        "create-scope-image",
        "start-initial",
        "update-scope",
        "create-scope-image",
        "delete-scope",
        "delete-scope",
    ];
    let seen = chain_on_both(&chain, true).await;
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
        created["entry_point"],
        json!({"routes": ["$default"], "dns_points_at_api": true}),
        "a public scope: an HTTP API and its DNS name"
    );
    assert_eq!(
        seen[4],
        json!({"function": null, "role": null, "log_group": null, "entry_point": null}),
        "nothing of the scope is left"
    );
}

/// With moto's IAM enforcement on, the role the agent assumes may do everything
/// create needs except `iam:PutRolePolicy`: AWS itself refuses that call, the step
/// that needs it fails naming the action, and the journal says what exists.
///
/// The execution role exists already (made before enforcement, as a lost run would
/// leave it): moto 5.2.6, enforcing, rejects the signature of any form body the
/// Rust SDK sends with a space in it (CreateRole's Description) as
/// SignatureDoesNotMatch, though AWS and boto3 agree on it. ensure_role then
/// reconciles it, and its first write is the refused PutRolePolicy.
#[tokio::test(flavor = "multi_thread")]
async fn with_iam_enforced_a_role_without_put_role_policy_fails_ensure_role_with_access_denied() {
    let moto = Moto::start();
    let clients = Clients::new(&moto.endpoint).await;
    seed(&clients, &lambda_example("scope-cloud-state.json")).await;
    let key = clients
        .user_with_policy(
            "np-agent",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}),
        )
        .await;
    clients
        .put_role_policy(
            "np-lambda-agent",
            "create-without-put-role-policy",
            &json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["lambda:*", "iam:*", "logs:*", "ecr:*", "apigateway:*", "route53:*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:PutRolePolicy", "Resource": "*"}]}),
        )
        .await;
    clients.bare_execution_role(ROLE).await;
    moto.enforce_iam();

    let dir = tempfile::tempdir().unwrap();
    let svc = lambda_service();
    let journal = dir.path().join("create.jsonl");
    let args: Vec<String> = [
        "--cloud",
        "aws",
        "--endpoint-url",
        &moto.endpoint,
        "--grant-declared",
        "--overrides-path",
        overrides(dir.path()).to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let env = env_signing_as(&moto, &key);
    let (code, report, text) = handle_json(
        &svc.join("examples/notifications/create-scope.json"),
        &svc.join("examples/providers.json"),
        &args,
        &env,
    );
    assert_eq!(code, Some(1), "{text}");
    let steps = report["steps"].as_array().unwrap();
    let role = steps.iter().find(|s| s["name"] == "ensure_role").unwrap();
    assert_eq!(role["failure"]["kind"], "cloud", "AWS refused it, not the host: {role}");
    let message = role["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("AccessDenied") && message.contains("iam:PutRolePolicy"),
        "{message}"
    );
    let function = steps.iter().find(|s| s["name"] == "ensure_function").unwrap();
    assert_eq!(function["status"], "skipped", "{text}");
    // The journal says what was done before the refusal: the role was read.
    let entries: Vec<Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcome = |op: &str| {
        entries
            .iter()
            .find(|e| e["operation"] == op)
            .map(|e| e["outcome"].as_str().unwrap().to_owned())
    };
    assert_eq!(outcome("GetRole").as_deref(), Some("ok"));
    assert_eq!(outcome("PutRolePolicy").as_deref(), Some("cloud_error"));
}

/// Runs `chain` on moto and on the simulator from the example scope cloud, after
/// every notification comparing the steps' results and the scope's resources;
/// returns what moto held after each. `assume_role`: with the account's IAM
/// provider (the agent assumes `np-lambda-agent`), else the agent's own identity.
async fn chain_on_both(chain: &[&str], assume_role: bool) -> Vec<Value> {
    let moto = Moto::start();
    let clients = Clients::new(&moto.endpoint).await;
    let logs = logs_client(&moto.endpoint).await;
    let net = Net {
        apis: apigateway_client(&moto.endpoint).await,
        dns: route53_client(&moto.endpoint).await,
    };
    let mut fixture = lambda_example("scope-cloud-state.json");
    seed(&clients, &fixture).await;
    // moto names its hosted zones itself: the scope's zone is made there first, and
    // the simulator and the providers are given the same id.
    let zone = net
        .dns
        .create_hosted_zone()
        .name("example.com")
        .caller_reference("scope-lifecycle-test")
        .send()
        .await
        .unwrap();
    let zone_id = zone.hosted_zone().unwrap().id().trim_start_matches("/hostedzone/").to_owned();
    fixture["networking"]["hosted_zones"][0]["id"] = json!(zone_id);
    let dir = tempfile::tempdir().unwrap();
    let overrides = overrides(dir.path());
    let svc = lambda_service();
    let providers = dir.path().join("providers.json");
    let mut p: Value = serde_json::from_str(&std::fs::read_to_string(svc.join("examples/providers.json")).unwrap()).unwrap();
    if !assume_role {
        p.as_array_mut()
            .unwrap()
            .retain(|e| e["specification_slug"] != "aws-iam-configuration");
    }
    for entry in p.as_array_mut().unwrap() {
        if entry["attributes"]["networking"]["hosted_public_zone_id"].is_string() {
            entry["attributes"]["networking"]["hosted_public_zone_id"] = json!(zone_id);
        }
    }
    std::fs::write(&providers, p.to_string()).unwrap();
    let mut sim_state = dir.path().join("sim-start.json");
    std::fs::write(&sim_state, fixture.to_string()).unwrap();
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
            without_api_ids(step_results(&on_aws)),
            without_api_ids(step_results(&on_sim)),
            "{slug}: moto (left) and the simulator (right) disagree\n--- moto:\n{aws_text}"
        );
        sim_state = after;
        let on_moto = read_moto(&clients, &logs, &net, &zone_id).await;
        let dump: Value = serde_json::from_str(&std::fs::read_to_string(&sim_state).unwrap()).unwrap();
        assert_eq!(
            on_moto,
            read_sim(&dump),
            "{slug}: the resources differ (left: moto, right: simulator)"
        );
        seen.push(on_moto);
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_iam_provider_the_agent_itself_creates_and_deletes_on_moto_as_on_the_simulator() {
    let seen = chain_on_both(&["create-scope", "delete-scope"], false).await;
    assert_eq!(seen[0]["function"]["package_type"], "Zip");
    assert_eq!(
        seen[1],
        json!({"function": null, "role": null, "log_group": null, "entry_point": null})
    );
}
