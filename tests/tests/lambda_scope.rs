//! The built-in Lambda-scope steps on the simulated cloud, rule by rule (the behaviour of
//! the bash steps they replace, known defects fixed), and the initial deployment end to end.

use scope_host_tests::{lambda_example, providers_from, run_with, Data};
use serde_json::{json, Value};

fn sample() -> Data {
    Data {
        assume: None,
        context: lambda_example("context.json"),
        providers: providers_from(lambda_example("providers.json")),
        cloud: lambda_example("cloud-state.json"),
        vars: vec![],
    }
}

fn function(state: &Value) -> &Value {
    state["lambda"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "11-my-app-my-scope")
        .unwrap()
}

// ---- assume-role -------------------------------------------------------------

#[tokio::test]
async fn role_resolution_follows_the_five_levels() {
    let agent_role = "arn:aws:iam::123456789012:role/np-lambda-agent";
    let legacy = json!([{"id": "legacy", "nrn": "organization=1:account=2", "category": "scope-configurations",
        "attributes": {"assume_role": {"arn": agent_role}}}]);
    let malformed = json!([{"id": "iam", "nrn": "organization=1:account=2", "category": "cloud-providers",
        "specification_slug": "aws-iam-configuration", "attributes": {"iam_role_arns": {"arns": "not a list"}}}]);
    // (what, providers, variables, the ROLE_SOURCE expected)
    type Case = (&'static str, Value, Vec<(&'static str, String)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "variable wins",
            lambda_example("providers.json"),
            vec![("ASSUME_ROLE_ARN", agent_role.into())],
            "variable ASSUME_ROLE_ARN",
        ),
        (
            "IAM provider by selector",
            lambda_example("providers.json"),
            vec![],
            "the account's IAM provider",
        ),
        (
            "selector mismatch falls through to the default",
            lambda_example("providers.json"),
            vec![
                ("ASSUME_ROLE_SELECTOR", "ecs".into()),
                ("ASSUME_ROLE_ARN_DEFAULT", agent_role.into()),
            ],
            "variable ASSUME_ROLE_ARN_DEFAULT",
        ),
        ("legacy provider", legacy, vec![], "the legacy scope-configurations provider"),
        (
            "malformed provider data is no match",
            malformed.clone(),
            vec![("ASSUME_ROLE_ARN_DEFAULT", agent_role.into())],
            "variable ASSUME_ROLE_ARN_DEFAULT",
        ),
        ("nothing: the agent", malformed, vec![], "agent"),
    ];
    for (what, providers, vars, source) in cases {
        let ran = run_with(
            "assume-role",
            Data {
                providers: providers_from(providers),
                vars,
                ..sample()
            },
        )
        .await;
        assert!(ran.report.succeeded(), "{what}: {:?}", ran.report.failure);
        assert_eq!(ran.output("ROLE_SOURCE"), source, "{what}");
        let identity = ran.env.workflow_identity().arn;
        if source == "agent" {
            assert_eq!(identity, "arn:aws:iam::123456789012:user/np-agent", "{what}");
        } else {
            assert_eq!(
                identity, "arn:aws:sts::123456789012:assumed-role/np-lambda-agent/np-lambda-11",
                "{what}"
            );
        }
    }
}

#[tokio::test]
async fn a_refused_role_names_the_arn_and_the_likely_causes() {
    let ran = run_with(
        "assume-role",
        Data {
            vars: vec![("ASSUME_ROLE_ARN", "arn:aws:iam::123456789012:role/lambda-exec".into())],
            ..sample()
        },
    )
    .await;
    let msg = ran.report.failure.expect("failure").message;
    for part in [
        "could not assume arn:aws:iam::123456789012:role/lambda-exec",
        "AccessDenied",
        "trust policy",
        "selector `lambda`",
    ] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
}

// ---- build-context -----------------------------------------------------------

#[tokio::test]
async fn build_context_outputs_the_page_rules() {
    let ran = run_with("build-context", sample()).await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    for (name, want) in [
        ("SCOPE_ID", "11"),
        ("DEPLOYMENT_ID", "deploy-1"),
        ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope"),
        ("LAMBDA_FUNCTION_EXISTS", "true"),
        ("DEPLOYMENT_STRATEGY", "initial"),
        ("DESIRED_TRAFFIC", "100"),
        ("LAMBDA_MAIN_ALIAS_NAME", "main"),
        ("BLUE_DEPLOYMENT_ID", "deploy-prev"),
        ("LAMBDA_BLUE_VERSION", "1"),
        ("LAMBDA_GREEN_VERSION", ""),
        ("VISIBILITY", "public"),
        ("LAMBDA_MEMORY", "512"),
        ("LAMBDA_ARCHITECTURE", "x86_64"),
        ("LAMBDA_RUNTIME", "nodejs22.x"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCOUNT_ID", "123456789012"),
        ("STATE_BUCKET", "np-state-bucket"),
        ("PACKAGE_TYPE", "Image"),
        ("IMAGE_URI", "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0"),
        ("PARAMETERS_STRATEGY", "env"),
    ] {
        assert_eq!(ran.output(name), want, "{name}");
    }
    let env: Value = serde_json::from_str(&ran.output("LAMBDA_ENVIRONMENT_VARIABLES")).unwrap();
    assert_eq!(env, json!({"DB_HOST": "db.example.com", "DB_PASSWORD": "s3cr3t-db-password"}));
    let env_out = ran
        .report
        .outputs
        .iter()
        .find(|o| o.name == "LAMBDA_ENVIRONMENT_VARIABLES")
        .unwrap();
    assert!(env_out.secret, "an environment holding secret parameters is secret");
    let tags: Value = serde_json::from_str(&ran.output("RESOURCE_TAGS")).unwrap();
    assert_eq!(tags["nullplatform:scope-id"], "11");
    assert_eq!(tags["nullplatform:namespace"], "my-namespace");
    assert!(!ran.journal_text().contains("s3cr3t-db-password"));
}

#[tokio::test]
async fn versions_are_found_by_deployment_description() {
    let mut data = sample();
    data.cloud["lambda"]["functions"][0]["versions"] = json!([
        {"version": "1", "description": "deploy-prev"}, {"version": "2", "description": "deploy-1", "memory_size": 300},
        {"version": "3", "description": "other", "memory_size": 301}, {"version": "4", "description": "deploy-1", "memory_size": 302}]);
    let ran = run_with("build-context", data).await;
    assert_eq!(
        ran.output("LAMBDA_GREEN_VERSION"),
        "4",
        "the last version described by the deployment"
    );
    assert_eq!(ran.output("LAMBDA_CURRENT_VERSION"), "4");
    assert_eq!(ran.output("LAMBDA_BLUE_VERSION"), "1");
}

#[tokio::test]
async fn asset_rules_and_errors() {
    let cases: Vec<(Value, Result<[&str; 4], &str>)> = vec![
        (
            json!({"type": "docker-image", "url": "repo/x:1"}),
            Ok(["Image", "repo/x:1", "", ""]),
        ),
        (
            json!({"type": "docker-image", "url": ""}),
            Err("asset URL is required for docker-image"),
        ),
        (
            json!({"type": "lambda-asset", "url": "s3://np-assets/my-app/v1.0.0.zip"}),
            Ok(["Zip", "", "np-assets", "my-app/v1.0.0.zip"]),
        ),
        (json!({"url": "s3://np-assets/k.zip"}), Ok(["Zip", "", "np-assets", "k.zip"])),
        (json!({"type": "lambda-asset", "url": ""}), Ok(["Zip", "", "", ""])),
        (
            json!({"type": "lambda-asset", "url": "https://example.com/x.zip"}),
            Err("expected s3://<bucket>/<key>"),
        ),
    ];
    for (asset, want) in cases {
        let mut data = sample();
        data.context["asset"] = asset.clone();
        let ran = run_with("build-context", data).await;
        match want {
            Ok([package, image, bucket, key]) => {
                assert!(ran.report.succeeded(), "{asset}: {:?}", ran.report.failure);
                assert_eq!(
                    [
                        ran.output("PACKAGE_TYPE"),
                        ran.output("IMAGE_URI"),
                        ran.output("S3_BUCKET"),
                        ran.output("S3_KEY")
                    ],
                    [package, image, bucket, key],
                    "{asset}"
                );
            }
            Err(words) => {
                assert_eq!(ran.failure_kind(), "invalid-input", "{asset}");
                assert!(ran.report.failure.unwrap().message.contains(words), "{asset}");
            }
        }
    }
    // An IMAGE_URI variable wins over the asset.
    let ran = run_with(
        "build-context",
        Data {
            vars: vec![("IMAGE_URI", "pinned:1".into())],
            ..sample()
        },
    )
    .await;
    assert_eq!(ran.output("IMAGE_URI"), "pinned:1");
}

#[tokio::test]
async fn context_edge_cases() {
    let mut data = sample();
    data.context["scope"]["capabilities"]["http_enabled"] = json!(false);
    data.context["scope"]["id"] = Value::Null;
    let ran = run_with("build-context", data).await;
    assert!(ran.report.failure.unwrap().message.contains("failed to extract scope ID"));

    let mut data = sample();
    data.context["scope"]["capabilities"]["http_enabled"] = json!(false);
    data.cloud["lambda"]["functions"] = json!([]);
    data.providers = vec![];
    data.vars = vec![("STATE_BUCKET", "kept-bucket".into()), ("AWS_REGION", "eu-west-1".into())];
    let ran = run_with("build-context", data).await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    assert_eq!(ran.output("VISIBILITY"), "event-driven");
    assert_eq!(ran.output("LAMBDA_FUNCTION_EXISTS"), "false", "no function: an initial deployment");
    assert_eq!(
        ran.output("STATE_BUCKET"),
        "kept-bucket",
        "an absent provider value keeps what the agent had"
    );
    assert_eq!(ran.output("AWS_REGION"), "eu-west-1");
}

#[tokio::test]
async fn secretsmanager_strategy_keeps_values_out_of_the_environment() {
    let data = Data {
        vars: vec![("PARAMETERS_STRATEGY", "secretsmanager".into())],
        ..sample()
    };
    let ran = run_with("build-context", data).await;
    assert_eq!(ran.output("NULLPLATFORM_PARAMETERS_SECRET"), "nullplatform/11/deploy-1/parameters");
    let env: Value = serde_json::from_str(&ran.output("LAMBDA_ENVIRONMENT_VARIABLES")).unwrap();
    assert_eq!(
        env,
        json!({"NULLPLATFORM_PARAMETERS_SECRET": "nullplatform/11/deploy-1/parameters"})
    );
    let params = ran.report.outputs.iter().find(|o| o.name == "PARAMETERS_JSON").unwrap();
    assert!(params.secret && params.value.contains("s3cr3t-db-password"));

    // sync-parameters creates, then updates, the secret; the value never shows.
    let vars = || {
        vec![
            ("PARAMETERS_STRATEGY", "secretsmanager".to_owned()),
            ("SCOPE_ID", "11".to_owned()),
            ("DEPLOYMENT_ID", "deploy-1".to_owned()),
            ("PARAMETERS_JSON", params.value.clone()),
            ("RESOURCE_TAGS", "{\"nullplatform:scope-id\": \"11\"}".to_owned()),
        ]
    };
    let ran = run_with("sync-parameters", Data { vars: vars(), ..sample() }).await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let ops: Vec<String> = ran.calls().into_iter().map(|(_, op, outcome)| format!("{op}:{outcome}")).collect();
    assert_eq!(ops, ["PutSecretValue:cloud_error", "CreateSecret:ok"]);
    assert!(!ran.journal_text().contains("s3cr3t-db-password"));
    let dump = ran.sim.dump_json();
    assert_eq!(dump["secrets"][0]["tags"]["nullplatform:scope-id"], "11");
}

// ---- update-code ---------------------------------------------------------------

fn code_vars(image: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".into()),
        ("PACKAGE_TYPE", "Image".into()),
        ("IMAGE_URI", image.into()),
    ]
}

#[tokio::test]
async fn the_ecr_pull_statement_is_merged_idempotently() {
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0";
    let ran = run_with(
        "update-code",
        Data {
            vars: code_vars(image),
            ..sample()
        },
    )
    .await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let state = ran.sim.dump_json();
    let policy = &state["ecr"]["repositories"][0]["policy"];
    let sids: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["CIPush", "LambdaECRImageRetrievalPolicy"], "existing statements are kept");
    assert_eq!(function(&state)["image_uri"], image);

    // Run again on the state it left: the policy is not written a second time.
    let again = run_with(
        "update-code",
        Data {
            vars: code_vars(image),
            cloud: state,
            ..sample()
        },
    )
    .await;
    assert!(again.report.succeeded());
    assert!(!again.calls().iter().any(|(_, op, _)| op == "SetRepositoryPolicy"));
    assert!(again.sink.text().contains("already lets Lambda pull"));
}

#[tokio::test]
async fn a_registry_in_another_account_is_asked_and_failures_only_warn() {
    let mut data = sample();
    data.cloud["ecr"]["repositories"] = json!([{"name": "shared", "registry_id": "210987654321", "images": [{"tags": ["v2"]}]}]);
    let image = "210987654321.dkr.ecr.us-east-1.amazonaws.com/shared:v2";
    let ran = run_with(
        "update-code",
        Data {
            vars: code_vars(image),
            ..data
        },
    )
    .await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let entries = ran.env.journal().entries();
    let set = entries
        .iter()
        .find(|e| e["operation"] == "SetRepositoryPolicy")
        .expect("policy set");
    assert_eq!(set["resource"], "arn:aws:ecr:us-east-1:210987654321:repository/shared");

    // A repository that cannot be read: a warning, and the code is still updated.
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/missing-repo:v1";
    let ran = run_with(
        "update-code",
        Data {
            vars: code_vars(image),
            ..sample()
        },
    )
    .await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    assert!(
        ran.sink
            .text()
            .contains("warn could not read the policy of ECR repository missing-repo"),
        "{}",
        ran.sink.text()
    );
    assert_eq!(function(&ran.sim.dump_json())["image_uri"], image);
}

#[tokio::test]
async fn the_update_waiter_reports_failure_with_the_architecture_hint_and_times_out() {
    let mut data = sample();
    data.cloud["lambda"]["functions"][0]["next_updates"] = json!([{"statuses": ["InProgress", "Failed"], "reason": "exec format error"}]);
    let ran = run_with(
        "update-code",
        Data {
            vars: code_vars("nginx:1"),
            ..data
        },
    )
    .await;
    let msg = ran.report.failure.expect("failure").message;
    assert!(msg.contains("exec format error") && msg.contains("architecture"), "{msg}");

    let mut data = sample();
    data.cloud["lambda"]["functions"][0]["next_updates"] =
        json!([{"statuses": ["InProgress", "InProgress", "InProgress", "InProgress", "InProgress", "Successful"]}]);
    let mut vars = code_vars("nginx:1");
    vars.push(("DEPLOYMENT_MAX_WAIT_IN_SECONDS", "10".into()));
    let ran = run_with("update-code", Data { vars, ..data }).await;
    let msg = ran.report.failure.expect("failure").message;
    assert!(msg.contains("still updating") && msg.contains("10 s"), "{msg}");
}

// ---- publish, alias, provisioned concurrency ------------------------------------

#[tokio::test]
async fn publish_then_alias_and_the_no_version_error() {
    let vars = vec![
        ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".to_owned()),
        ("DEPLOYMENT_ID", "deploy-1".to_owned()),
    ];
    let ran = run_with(
        "publish-version",
        Data {
            vars: vars.clone(),
            ..sample()
        },
    )
    .await;
    // Nothing changed since version 1: Lambda returns it, and the step says so.
    assert_eq!(ran.output("LAMBDA_GREEN_VERSION"), "1");
    assert!(ran.sink.text().contains("nothing changed since version 1"));

    let ran = run_with(
        "update-alias",
        Data {
            vars: vec![("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".into())],
            ..sample()
        },
    )
    .await;
    assert!(ran.report.failure.unwrap().message.contains("no version to update alias to"));

    let mut data = sample();
    data.cloud["lambda"]["functions"][0]["versions"] =
        json!([{"version": "1", "description": "deploy-prev"}, {"version": "2", "description": "deploy-1", "memory_size": 512}]);
    data.cloud["lambda"]["functions"][0]["aliases"] = json!([{"name": "main", "function_version": "1", "routing": {"2": 0.25}}]);
    let ran = run_with(
        "update-alias",
        Data {
            vars: vec![
                ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".into()),
                ("LAMBDA_GREEN_VERSION", "2".into()),
            ],
            ..data
        },
    )
    .await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let state = ran.sim.dump_json();
    let main = &function(&state)["aliases"][0];
    assert_eq!(main["function_version"], "2");
    assert!(
        main["routing"].is_null() || main["routing"] == json!({}),
        "weighted routing is cleared: {main}"
    );
}

#[tokio::test]
async fn provisioned_concurrency_is_waited_for_or_fails_with_its_reason() {
    let vars = |kind: &str| {
        vec![
            ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".to_owned()),
            ("LAMBDA_PROVISIONED_CONCURRENCY_TYPE", kind.to_owned()),
        ]
    };
    let ran = run_with(
        "wait-provisioned-concurrency",
        Data {
            vars: vars("unprovisioned"),
            ..sample()
        },
    )
    .await;
    assert!(ran.report.succeeded() && ran.calls().is_empty());

    let ran = run_with(
        "wait-provisioned-concurrency",
        Data {
            vars: vars("provisioned"),
            ..sample()
        },
    )
    .await;
    assert!(ran.report.succeeded(), "no configuration is a skip: {:?}", ran.report.failure);

    let mut data = sample();
    data.cloud["lambda"]["functions"][0]["provisioned_concurrency"] =
        json!([{"qualifier": "main", "requested": 5, "status_script": ["IN_PROGRESS", "IN_PROGRESS", "READY"]}]);
    let ran = run_with(
        "wait-provisioned-concurrency",
        Data {
            vars: vars("provisioned"),
            ..data
        },
    )
    .await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    assert!(
        ran.sink.text().contains("IN_PROGRESS (0 of 5 allocated)") && ran.sink.text().contains("READY (5 of 5 allocated)"),
        "{}",
        ran.sink.text()
    );

    let mut data = sample();
    data.cloud["lambda"]["functions"][0]["provisioned_concurrency"] = json!([{"qualifier": "main", "requested": 5, "status_script": ["IN_PROGRESS", "FAILED"], "status_reason": "not enough concurrency"}]);
    let ran = run_with(
        "wait-provisioned-concurrency",
        Data {
            vars: vars("provisioned"),
            ..data
        },
    )
    .await;
    assert!(ran.report.failure.unwrap().message.contains("not enough concurrency"));
}

// ---- the initial deployment end to end -------------------------------------------

#[test]
fn handle_runs_the_initial_deployment_of_the_sample_scope() {
    let svc = scope_host_tests::lambda_service();
    let ex = svc.join("examples");
    let out = tempfile::tempdir().unwrap();
    let dump = out.path().join("after.json");
    let journal = out.path().join("run.jsonl");
    let arg = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let result = scope_host_tests::scope_host_command()
        .args([
            "handle",
            &arg(&ex.join("notifications/start-initial.json")),
            "--service-path",
            &arg(&svc),
        ])
        .args([
            "--context",
            &arg(&ex.join("context.json")),
            "--providers",
            &arg(&ex.join("providers.json")),
        ])
        .args([
            "--cloud-state",
            &arg(&ex.join("cloud-state.json")),
            "--dump-state",
            &arg(&dump),
            "--journal",
            &arg(&journal),
        ])
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    let text = scope_host_tests::output_text(&result);
    assert!(result.status.success(), "{text}");
    assert!(text.contains("✔ run succeeded: 8 ok, 0 failed, 0 skipped"), "{text}");
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    let f = function(&state);
    assert_eq!(f["aliases"][0]["function_version"], "2");
    let v2 = f["versions"].as_array().unwrap().iter().find(|v| v["version"] == "2").unwrap();
    assert_eq!(v2["description"], "deploy-1");
    assert_eq!(f["image_uri"], "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0");
    for (what, body) in [
        ("stdout", text.clone()),
        ("journal", std::fs::read_to_string(&journal).unwrap()),
        ("state", state.to_string()),
    ] {
        assert!(!body.contains("s3cr3t-db-password"), "{what} leaks the secret parameter");
    }
    assert_eq!(f["environment"]["DB_HOST"], "db.example.com");
}

/// Runs `handle` for a sample notification on `state` (a cloud fixture file) and
/// returns the state it left.
fn handle(slug: &str, state: &std::path::Path, dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let svc = scope_host_tests::lambda_service();
    let after = dir.join(format!("after-{slug}.json"));
    let result = scope_host_tests::scope_host_command()
        .arg("handle")
        .arg(svc.join(format!("examples/notifications/{slug}.json")))
        .arg("--service-path")
        .arg(&svc)
        .arg("--providers")
        .arg(svc.join("examples/providers.json"))
        .arg("--cloud-state")
        .arg(state)
        .arg("--dump-state")
        .arg(&after)
        .arg("--journal")
        .arg(dir.join(format!("{slug}.jsonl")))
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    let text = scope_host_tests::output_text(&result);
    assert!(result.status.success(), "{slug}:\n{text}");
    (text, after)
}

fn alias_and_versions(state: &std::path::Path) -> (String, Value, Vec<String>) {
    let state: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    let f = function(&state);
    let main = &f["aliases"][0];
    let versions = f["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("{}:{}", v["version"].as_str().unwrap(), v["description"].as_str().unwrap_or("")))
        .collect();
    (
        main["function_version"].as_str().unwrap().to_owned(),
        main["routing"].clone(),
        versions,
    )
}

#[test]
fn blue_green_switch_rollback_and_finalize_chain_on_the_state_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let ex = scope_host_tests::lambda_service().join("examples/cloud-state.json");
    let (_, s1) = handle("start-initial", &ex, dir.path());
    let (_, s2) = handle("start-blue-green", &s1, dir.path());
    let (main, _, versions) = alias_and_versions(&s2);
    assert_eq!(main, "2", "blue_green does not move the alias");
    assert_eq!(versions.last().unwrap(), "3:deploy-2");

    let (text, s3) = handle("switch-traffic", &s2, dir.path());
    assert!(text.contains("25% on version 3"), "{text}");
    let (main, routing, _) = alias_and_versions(&s3);
    assert_eq!((main.as_str(), routing), ("2", json!({"3": 0.25})));

    let (_, s4) = handle("rollback-deployment", &s3, dir.path());
    let (main, routing, versions) = alias_and_versions(&s4);
    assert_eq!(main, "2");
    assert!(routing.is_null() || routing == json!({}));
    assert_eq!(versions, ["1:deploy-prev", "2:deploy-1"], "the rolled-back version is cleaned up");

    // From the blue-green state, delete the new deployment: its version goes.
    let (_, s6) = handle("delete-deployment", &s2, dir.path());
    let (main, _, versions) = alias_and_versions(&s6);
    assert_eq!(main, "2");
    assert_eq!(versions, ["1:deploy-prev", "2:deploy-1"]);

    // From the switched state, finalize instead: the alias moves to 3, the old version goes.
    let (_, s5) = handle("finalize-blue-green", &s3, dir.path());
    let (main, _, versions) = alias_and_versions(&s5);
    assert_eq!(main, "3");
    assert_eq!(versions, ["1:deploy-prev", "3:deploy-2"]);
}

// ---- diagnose ----------------------------------------------------------------------

fn check_vars() -> Vec<(&'static str, String)> {
    vec![
        ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".into()),
        ("LAMBDA_MAIN_ALIAS_NAME", "main".into()),
        ("VISIBILITY", "public".into()),
    ]
}

async fn verdict(check: &str, data: Data) -> scope_host::step::CheckVerdict {
    let ran = run_with(check, data).await;
    ran.report
        .check
        .clone()
        .unwrap_or_else(|| panic!("{check}: no verdict: {:?}", ran.report.failure))
}

#[tokio::test]
async fn diagnose_checks_on_a_healthy_scope_pass() {
    for check in [
        "check-function-exists",
        "check-function-active",
        "check-iam-role-valid",
        "check-provisioned-concurrency",
        "check-networking-health",
    ] {
        let v = verdict(
            check,
            Data {
                vars: check_vars(),
                ..sample()
            },
        )
        .await;
        assert_eq!(v.status, "pass", "{check}: {v:?}");
    }
}

#[tokio::test]
async fn diagnose_checks_find_each_fault() {
    // A missing function.
    let mut data = Data {
        vars: check_vars(),
        ..sample()
    };
    data.cloud["lambda"]["functions"] = json!([]);
    let v = verdict("check-function-exists", data).await;
    assert_eq!((v.status.as_str(), v.summary.contains("does not exist")), ("fail", true), "{v:?}");

    // An inactive function shows its last update status.
    let mut data = Data {
        vars: check_vars(),
        ..sample()
    };
    data.cloud["lambda"]["functions"][0]["state"] = json!("Failed");
    data.cloud["lambda"]["functions"][0]["state_reason"] = json!("The role could not be assumed");
    let v = verdict("check-function-active", data).await;
    assert_eq!(v.status, "fail");
    assert!(
        v.summary.contains("Failed, not Active")
            && v.evidence
                .iter()
                .any(|(k, val)| k == "state_reason" && val.contains("could not be assumed")),
        "{v:?}"
    );

    // A role that does not exist.
    let mut data = Data {
        vars: check_vars(),
        ..sample()
    };
    data.cloud["lambda"]["functions"][0]["role"] = json!("arn:aws:iam::123456789012:role/deleted-role");
    let v = verdict("check-iam-role-valid", data).await;
    assert_eq!(v.status, "fail");
    assert!(
        v.summary.contains("does not exist") && v.evidence[0].1.ends_with("role/deleted-role"),
        "{v:?}"
    );

    // Provisioned concurrency that FAILED.
    let mut data = Data {
        vars: check_vars(),
        ..sample()
    };
    data.cloud["lambda"]["functions"][0]["provisioned_concurrency"] =
        json!([{"qualifier": "main", "requested": 50, "status_script": ["FAILED"], "status_reason": "account limit"}]);
    let v = verdict("check-provisioned-concurrency", data).await;
    assert_eq!(v.status, "fail");
    assert!(v.summary.contains("account limit"), "{v:?}");

    // No invoke permission for a private scope: a warning only.
    let mut vars = check_vars();
    vars[2].1 = "private".into();
    let v = verdict("check-networking-health", Data { vars, ..sample() }).await;
    assert_eq!(v.status, "warning");
    assert!(v.summary.contains("elasticloadbalancing"), "{v:?}");
}

#[tokio::test]
async fn access_denied_is_its_own_result_naming_the_permission() {
    // The cloud refuses: the assumed role may not call lambda:GetFunction.
    let mut data = Data {
        vars: check_vars(),
        assume: Some("arn:aws:iam::123456789012:role/np-lambda-agent"),
        ..sample()
    };
    data.cloud["iam"]["roles"][0]["allowed_actions"] = json!(["sts:*", "iam:GetRole"]);
    let v = verdict("check-function-exists", data).await;
    assert_eq!(v.status, "fail");
    assert!(
        v.summary.starts_with("access denied") && !v.summary.contains("does not exist"),
        "{v:?}"
    );
    assert!(
        v.evidence
            .contains(&("missing_permission".to_owned(), "lambda:GetFunction".to_owned())),
        "{v:?}"
    );

    // The host refuses (operator policy): reported the same way.
    let mut data = Data {
        vars: check_vars(),
        ..sample()
    };
    data.cloud["lambda"]["functions"][0]["role"] = json!("arn:aws:iam::123456789012:role/lambda-exec");
    // iam:GetRole is outside this narrowed policy.
    let policy_denied = run_with_policy("check-iam-role-valid", data, &["lambda:GetFunctionConfiguration"]).await;
    assert_eq!(policy_denied.status, "fail");
    assert!(
        policy_denied
            .evidence
            .contains(&("missing_permission".to_owned(), "iam:GetRole".to_owned())),
        "{policy_denied:?}"
    );
}

async fn run_with_policy(check: &str, data: Data, grants: &[&str]) -> scope_host::step::CheckVerdict {
    // The same as run_with, under a narrowed operator policy.
    let ran = scope_host_tests::run_with_policy(check, data, scope_host::grants::Policy::from_flags(grants).unwrap()).await;
    ran.report
        .check
        .clone()
        .unwrap_or_else(|| panic!("no verdict: {:?}", ran.report.failure))
}

#[test]
fn diagnose_runs_every_check_through_handle() {
    let dir = tempfile::tempdir().unwrap();
    let ex = scope_host_tests::lambda_service().join("examples/cloud-state.json");
    let (text, _) = handle("diagnose-deployment", &ex, dir.path());
    let (scope_text, _) = handle("diagnose-scope", &ex, dir.path());
    assert!(scope_text.contains("notification → scope workflow `diagnose`"), "{scope_text}");
    for check in [
        "lambda-function-exists",
        "lambda-function-active",
        "iam-role-valid",
        "provisioned-concurrency",
        "networking-health",
    ] {
        assert!(text.contains(&format!("✔ pass     {check}")), "{check} missing from:\n{text}");
    }
}

#[tokio::test]
async fn config_precedence_provider_collisions_and_finding_the_function_by_tag() {
    // Context path, else variable, else default.
    let mut data = Data {
        vars: vec![("LAMBDA_TIMEOUT", "45".into()), ("LAMBDA_MEMORY", "1024".into())],
        ..sample()
    };
    data.context["scope"]["capabilities"].as_object_mut().unwrap().remove("timeout");
    let ran = run_with("build-context", data).await;
    assert_eq!(ran.output("LAMBDA_MEMORY"), "512", "the context wins over the variable");
    assert_eq!(ran.output("LAMBDA_TIMEOUT"), "45", "the variable when the context has none");
    assert_eq!(ran.output("LAMBDA_EPHEMERAL_STORAGE"), "512", "the default last");

    // Two providers of a category set the same key: the closest to the scope wins, with a warning.
    let mut providers = lambda_example("providers.json");
    providers.as_array_mut().unwrap().push(
        json!({"id": "ns-aws", "nrn": "organization=1:account=2:namespace=3", "category": "cloud-providers",
        "specification_slug": "aws-configuration", "attributes": {"account": {"region": "eu-west-1"}}}),
    );
    let ran = run_with(
        "build-context",
        Data {
            providers: providers_from(providers),
            ..sample()
        },
    )
    .await;
    assert_eq!(ran.output("AWS_REGION"), "eu-west-1");
    assert!(
        ran.sink
            .text()
            .contains("cloud-providers providers set `account.region` more than once"),
        "{}",
        ran.sink.text()
    );

    // Diagnose without slugs finds the function by its scope-id tag.
    let mut data = Data { vars: vec![], ..sample() };
    data.context["application"].as_object_mut().unwrap().remove("slug");
    let ran = run_with("diagnose-context", data).await;
    assert_eq!(ran.output("LAMBDA_FUNCTION_NAME"), "11-my-app-my-scope");
    assert_eq!(ran.output("LAMBDA_ROLE_ARN"), "arn:aws:iam::123456789012:role/lambda-exec");
}

#[tokio::test]
async fn zip_code_needs_the_s3_object_and_its_grant() {
    let vars = |key: &str| {
        vec![
            ("LAMBDA_FUNCTION_NAME", "zip-fn".to_owned()),
            ("PACKAGE_TYPE", "Zip".to_owned()),
            ("S3_BUCKET", "np-assets".to_owned()),
            ("S3_KEY", key.to_owned()),
        ]
    };
    let mut data = sample();
    data.cloud["lambda"]["functions"] = json!([{"name": "zip-fn", "package_type": "Zip", "runtime": "nodejs22.x", "handler": "index.handler", "role": "arn:aws:iam::123456789012:role/lambda-exec"}]);
    let ran = run_with(
        "update-code",
        Data {
            vars: vars("my-app/v1.0.0.zip"),
            cloud: data.cloud.clone(),
            ..sample()
        },
    )
    .await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let granted = ran
        .env
        .journal()
        .entries()
        .iter()
        .any(|e| e["operation"] == "UpdateFunctionCode" && e["outcome"] == "ok");
    assert!(granted);
    let ran = run_with(
        "update-code",
        Data {
            vars: vars("missing.zip"),
            cloud: data.cloud,
            ..sample()
        },
    )
    .await;
    assert_eq!(ran.failure_kind(), "cloud");
    assert!(ran.report.failure.unwrap().message.contains("NoSuchKey"));
}

#[tokio::test]
async fn cleanup_keeps_version_1_and_latest_and_ignores_what_is_gone() {
    let vars = |v: &str, keep: &str| {
        vec![
            ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".to_owned()),
            ("CLEANUP_VERSION", v.to_owned()),
            ("CLEANUP_KEEP_FIRST", keep.to_owned()),
        ]
    };
    let ran = run_with(
        "cleanup-version",
        Data {
            vars: vars("1", "true"),
            ..sample()
        },
    )
    .await;
    assert!(
        ran.report.succeeded() && ran.calls().is_empty(),
        "version 1 is kept when cleaning the old version"
    );
    let ran = run_with(
        "cleanup-version",
        Data {
            vars: vars("$LATEST", "false"),
            ..sample()
        },
    )
    .await;
    assert!(ran.report.succeeded() && ran.calls().is_empty());
    let ran = run_with(
        "cleanup-version",
        Data {
            vars: vars("7", "false"),
            ..sample()
        },
    )
    .await;
    assert!(ran.report.succeeded(), "a version already gone is fine: {:?}", ran.report.failure);
    assert!(ran.sink.text().contains("already gone"));
}

#[tokio::test]
async fn update_configuration_sends_zip_runtime_environment_layers_and_vpc() {
    let mut data = sample();
    data.cloud["lambda"]["functions"] = json!([{"name": "zip-fn", "package_type": "Zip", "runtime": "nodejs18.x", "handler": "old.handler",
        "role": "arn:aws:iam::123456789012:role/lambda-exec", "environment": {"OLD": "x"}, "layers": ["arn:aws:lambda:us-east-1:123456789012:layer:old:1"]}]);
    data.vars = vec![
        ("LAMBDA_FUNCTION_NAME", "zip-fn".into()),
        ("PACKAGE_TYPE", "Zip".into()),
        ("LAMBDA_MEMORY", "1024".into()),
        ("LAMBDA_ENVIRONMENT_VARIABLES", "{\"DB_HOST\": \"db\"}".into()),
        ("LAMBDA_LAYERS", "[]".into()),
        ("VPC_ENABLED", "true".into()),
        ("VPC_SUBNETS", "[\"subnet-1\", \"subnet-2\"]".into()),
        ("VPC_SECURITY_GROUPS", "[\"sg-1\"]".into()),
    ];
    let ran = run_with("update-configuration", data).await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let state = ran.sim.dump_json();
    let f = &state["lambda"]["functions"][0];
    assert_eq!(f["memory_size"], 1024);
    assert_eq!(f["runtime"], "nodejs22.x");
    assert_eq!(f["handler"], "index.handler");
    assert_eq!(f["environment"], json!({"DB_HOST": "db"}), "the environment is replaced");
    assert!(
        f["layers"].as_array().is_none_or(|l| l.is_empty()),
        "an empty list clears the layers: {}",
        f["layers"]
    );
    assert_eq!(f["subnet_ids"], json!(["subnet-1", "subnet-2"]));

    let bad = run_with(
        "update-configuration",
        Data {
            vars: vec![
                ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".into()),
                ("LAMBDA_LAYERS", "not json".into()),
            ],
            ..sample()
        },
    )
    .await;
    assert_eq!(bad.failure_kind(), "invalid-input");
}

#[tokio::test]
async fn switch_traffic_refuses_a_percentage_outside_0_to_100() {
    for bad in ["101", "-5", "half"] {
        let vars = vec![
            ("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope".to_owned()),
            ("DESIRED_TRAFFIC", bad.to_owned()),
            ("LAMBDA_GREEN_VERSION", "1".to_owned()),
        ];
        let ran = run_with("switch-traffic", Data { vars, ..sample() }).await;
        assert_eq!(ran.failure_kind(), "invalid-input", "{bad}");
        assert!(ran.report.failure.as_ref().unwrap().message.contains("from 0 to 100"));
        assert!(ran.calls().is_empty());
    }
}
