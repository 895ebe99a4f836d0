//! The Lambda scope's own lifecycle through `handle` on the simulated cloud: create
//! (zip with the built-in placeholder, image with a placeholder from private ECR),
//! update, invoke, the concurrency adjustments and delete — each reconciled, each
//! idempotent — and the whole life of a scope with its deployments in between,
//! ending with nothing of the scope left.

use scope_host_tests::{lambda_service, output_text, private_providers, scope_host_command};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FUNCTION: &str = "11-my-app-my-scope";
const ROLE: &str = "np-lambda-11-my-app-my-scope-role";

struct Run {
    ok: bool,
    text: String,
    after: PathBuf,
    journal: Vec<Value>,
}

/// `handle` of a notification file on `state`, with the example providers (unless
/// `extra` names others) and any extra arguments; the state it left is in `after`.
fn handle_file(notification: &Path, state: &Path, dir: &Path, extra: &[&str]) -> Run {
    let svc = lambda_service();
    let providers = svc.join("examples/providers.json");
    let providers = match extra.iter().position(|a| *a == "--providers") {
        Some(i) => PathBuf::from(extra[i + 1]),
        None => providers,
    };
    let extra: Vec<&str> = match extra.iter().position(|a| *a == "--providers") {
        Some(i) => extra
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i && *j != i + 1)
            .map(|(_, a)| *a)
            .collect(),
        None => extra.to_vec(),
    };
    let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    let after = dir.join(format!("after-{n}.json"));
    let journal = dir.join(format!("run-{n}.jsonl"));
    let out = scope_host_command()
        .arg("handle")
        .arg(notification)
        .arg("--service-path")
        .arg(&svc)
        .arg("--providers")
        .arg(&providers)
        .arg("--cloud-state")
        .arg(state)
        .arg("--dump-state")
        .arg(&after)
        .arg("--journal")
        .arg(&journal)
        .args(&extra)
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    let journal = std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Run {
        ok: out.status.success(),
        text: output_text(&out),
        after,
        journal,
    }
}

fn example(slug: &str) -> PathBuf {
    lambda_service().join(format!("examples/notifications/{slug}.json"))
}

fn handle(slug: &str, state: &Path, dir: &Path) -> Run {
    let run = handle_file(&example(slug), state, dir, &[]);
    assert!(run.ok, "{slug}:\n{}", run.text);
    run
}

/// A notification file edited by `edit`, written beside the runs.
fn edited(slug: &str, dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(example(slug)).unwrap()).unwrap();
    edit(&mut doc);
    let path = dir.join(format!("{slug}-edited-{}.json", std::fs::read_dir(dir).unwrap().count()));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn empty_cloud() -> PathBuf {
    lambda_service().join("examples/scope-cloud-state.json")
}

fn state(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Id counters move with every call; they are not the cloud's resources.
    v.as_object_mut().unwrap().remove("counters");
    v
}

fn function(state: &Value) -> Option<&Value> {
    state["lambda"]["functions"].as_array()?.iter().find(|f| f["name"] == FUNCTION)
}

fn role(state: &Value) -> Option<&Value> {
    state["iam"]["roles"].as_array()?.iter().find(|r| r["name"] == ROLE)
}

fn log_group(state: &Value) -> Option<&Value> {
    state["logs"]["log_groups"]
        .as_array()?
        .iter()
        .find(|g| g["name"] == format!("/aws/lambda/{FUNCTION}"))
}

/// The cloud calls of a run that change something.
/// The cloud calls of a run that change something. Platform calls are left out: a
/// second create patches the scope's domain again when its notification does not
/// carry it yet (the platform's patch of an equal value changes nothing there),
/// and the simulated platform lives as long as its process.
fn writes(run: &Run) -> Vec<String> {
    run.journal
        .iter()
        .filter(|e| e["event"] == "call" && e["outcome"] == "ok" && e["service"] != "platform")
        .filter_map(|e| e["operation"].as_str())
        .filter(|op| !["Get", "List", "Describe", "AssumeRole"].iter().any(|p| op.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

#[test]
fn create_makes_every_resource_of_a_zip_scope_and_a_second_create_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let created = handle("create-scope", &empty_cloud(), dir.path());
    let s = state(&created.after);
    let f = function(&s).expect("the function");
    assert_eq!(f["package_type"], "Zip");
    assert_eq!(f["runtime"], "nodejs22.x", "the placeholder's runtime");
    assert_eq!(f["handler"], "index.handler");
    assert_eq!(f["architectures"], json!(["x86_64"]), "the capability's architecture");
    assert_eq!(f["memory_size"], 512);
    assert_eq!(f["state"], "Active");
    assert_eq!(f["role"], format!("arn:aws:iam::123456789012:role/{ROLE}"));
    assert_eq!(f["tags"]["nullplatform:scope-id"], "11");
    assert_eq!(f["environment"]["NP_SCOPE_ID"], "11");
    assert_eq!(f["aliases"][0]["name"], "main");
    assert_eq!(f["aliases"][0]["function_version"], "1");
    let r = role(&s).expect("the execution role");
    assert!(r["assume_role_policy_document"].to_string().contains("lambda.amazonaws.com"));
    let policies: Vec<&String> = r["inline_policies"].as_object().unwrap().keys().collect();
    assert_eq!(policies, ["cloudwatch-logs", "ecr-image-pull", "secrets-manager-parameters-read"]);
    assert_eq!(r["tags"]["ManagedBy"], "custom-scope-role");
    assert!(r["attached_policies"].is_null(), "no VPC: no VPC access policy");
    assert_eq!(log_group(&s).expect("the log group")["retention_in_days"], 30);
    // Every value a later step read was declared: the steps' inputs came from outputs.
    assert!(created.text.contains("✔ run succeeded: 11 ok"), "{}", created.text);
    // The platform learnt the scope's domain (a public scope has no rule priority
    // to store).
    let platform: Vec<(&str, &str)> = created
        .journal
        .iter()
        .filter(|e| e["event"] == "call" && e["service"] == "platform")
        .map(|e| (e["operation"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(platform, [("PatchScope", "ok")], "{}", created.text);
    // Public (the default visibility): an HTTP API invoking the main alias, with
    // API Gateway allowed to, and the scope's DNS name pointing at it.
    let api = &s["networking"]["apis"][0];
    assert_eq!(api["name"], "my-namespace-my-app-my-scope");
    assert_eq!(api["stages"], json!({"main": true}));
    let alias_arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:main");
    assert_eq!(api["integrations"].as_object().unwrap().values().next().unwrap(), &json!(alias_arn));
    assert!(api["routes"]["$default"].as_str().unwrap().starts_with("integrations/"));
    let policy = f["policy"].to_string();
    assert!(
        policy.contains("AllowAPIGatewayInvoke")
            && policy.contains(&format!("execute-api:us-east-1:123456789012:{}", api["id"].as_str().unwrap())),
        "{policy}"
    );
    let record = &s["networking"]["hosted_zones"][0]["records"][0];
    assert_eq!(record["name"], "my-namespace-my-app-my-scope.example.com.");
    assert_eq!(record["type"], "CNAME");
    assert_eq!(
        record["values"],
        json!([format!("{}.execute-api.us-east-1.amazonaws.com", api["id"].as_str().unwrap())])
    );

    let again = handle("create-scope", &created.after, dir.path());
    assert_eq!(writes(&again), Vec::<String>::new(), "{}", again.text);
    assert_eq!(state(&again.after), s, "a second create changes nothing");
}

#[test]
fn an_image_scope_starts_from_the_private_placeholder_and_public_or_missing_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let created = handle("create-scope-image", &empty_cloud(), dir.path());
    let s = state(&created.after);
    let f = function(&s).unwrap();
    assert_eq!(f["package_type"], "Image");
    assert_eq!(
        f["image_uri"], "123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:latest",
        "the scope configuration's placeholder, exactly as given"
    );
    assert!(
        s.to_string().contains("LambdaECRImageRetrievalPolicy"),
        "the placeholder's repository lets Lambda pull"
    );

    // No placeholder configured: the public default, which Lambda cannot use.
    let providers = dir.path().join("providers-without-placeholder.json");
    let mut p: Value = serde_json::from_str(&std::fs::read_to_string(lambda_service().join("examples/providers.json")).unwrap()).unwrap();
    for entry in p.as_array_mut().unwrap() {
        entry["attributes"].as_object_mut().unwrap().remove("deployment");
    }
    std::fs::write(&providers, p.to_string()).unwrap();
    let public = handle_file(
        &example("create-scope-image"),
        &empty_cloud(),
        dir.path(),
        &["--providers", providers.to_str().unwrap()],
    );
    assert!(!public.ok);
    assert!(
        public.text.contains("public.ecr.aws/nullplatform/aws-lambda/nullplatform-lambda-placeholder:latest is in public ECR, which Lambda does not take images from"),
        "{}",
        public.text
    );
    assert!(function(&state(&public.after)).is_none(), "nothing was created");

    // PLACEHOLDER_IMAGE_URI_DEFAULT naming a tag that does not exist.
    let missing = handle_file(
        &example("create-scope-image"),
        &empty_cloud(),
        dir.path(),
        &[
            "--providers",
            providers.to_str().unwrap(),
            "--var",
            "PLACEHOLDER_IMAGE_URI_DEFAULT=123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:v9",
        ],
    );
    assert!(!missing.ok);
    assert!(
        missing
            .text
            .contains("Placeholder image not found: 123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:v9"),
        "{}",
        missing.text
    );
}

#[test]
fn the_whole_life_of_a_scope_ends_with_nothing_of_it_left() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let created = handle("create-scope-image", &empty_cloud(), d);
    let initial = handle("start-initial", &created.after, d);
    let blue_green = handle("start-blue-green", &initial.after, d);
    let half = edited("switch-traffic", d, |n| {
        n["context"]["deployment"]["strategy_data"]["desired_switched_traffic"] = json!(50);
    });
    let switched = handle_file(&half, &blue_green.after, d, &[]);
    assert!(switched.ok && switched.text.contains("50% on version 3"), "{}", switched.text);
    let finalized = handle("finalize-blue-green", &switched.after, d);
    let f = state(&finalized.after);
    let f = function(&f).unwrap().clone();
    assert_eq!(f["aliases"][0]["function_version"], "3");

    // Create again after deployments: nothing rewinds (the incumbent restored the
    // placeholder and moved main).
    let recreated = handle("create-scope-image", &finalized.after, d);
    assert_eq!(writes(&recreated), Vec::<String>::new(), "{}", recreated.text);
    let again = state(&recreated.after);
    assert_eq!(function(&again).unwrap(), &f);

    // The deployment finalize replaced goes (its version went with finalize).
    let old = edited("delete-deployment", d, |n| n["context"]["deployment"]["id"] = json!("deploy-1"));
    let deleted_deployment = handle_file(&old, &recreated.after, d, &[]);
    assert!(deleted_deployment.ok, "{}", deleted_deployment.text);
    let deleted = handle("delete-scope", &deleted_deployment.after, d);
    let end = state(&deleted.after);
    assert!(function(&end).is_none(), "{end}");
    assert!(role(&end).is_none());
    assert!(log_group(&end).is_none());
    assert!(!end.to_string().contains("nullplatform/11/"), "no secret of the scope: {end}");
    assert!(end["networking"]["apis"].is_null(), "no HTTP API: {end}");
    assert!(end["networking"]["hosted_zones"][0]["records"].is_null(), "no DNS record: {end}");
    // What remains is what was there before the scope: the agent's role.
    let roles: Vec<&str> = end["iam"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["np-lambda-agent"]);

    let twice = handle("delete-scope", &deleted.after, d);
    assert_eq!(writes(&twice), Vec::<String>::new());
    assert!(twice.text.contains("nothing to delete"), "{}", twice.text);
}

#[test]
fn every_scope_workflow_run_twice_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let created = handle("create-scope", &empty_cloud(), d);
    let mut at = created.after;
    for slug in [
        "update-scope",
        "invoke",
        "adjust-provisioned-concurrency",
        "adjust-reserved-concurrency",
    ] {
        let first = handle(slug, &at, d);
        let second = handle(slug, &first.after, d);
        assert_eq!(
            state(&second.after),
            state(&first.after),
            "{slug} changed the cloud the second time"
        );
        at = second.after;
    }
    let f = state(&at);
    let f = function(&f).unwrap();
    assert_eq!(f["reserved_concurrency"], 10);
    assert_eq!(f["provisioned_concurrency"][0]["requested"], 3);
}

#[test]
fn update_reconciles_the_vpc_policy_and_concurrency_with_the_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let created = handle("create-scope", &empty_cloud(), d);
    let in_vpc = edited("update-scope", d, |n| {
        let caps = &mut n["context"]["scope"]["capabilities"];
        caps["vpc_enabled"] = json!(true);
        caps["reserved_concurrency"] = json!({"type": "reserved", "value": 7});
    });
    let updated = handle_file(&in_vpc, &created.after, d, &[]);
    assert!(updated.ok, "{}", updated.text);
    let s = state(&updated.after);
    assert_eq!(
        role(&s).unwrap()["attached_policies"],
        json!(["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"])
    );
    assert_eq!(function(&s).unwrap()["reserved_concurrency"], 7);
    // Back out of the VPC, unreserved: both undone.
    let back = handle("update-scope", &updated.after, d);
    let s = state(&back.after);
    assert!(role(&s).unwrap()["attached_policies"].is_null());
    assert!(function(&s).unwrap()["reserved_concurrency"].is_null());
}

#[test]
fn bad_inputs_are_named_and_a_half_made_scope_is_deleted_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An architecture Lambda does not offer: the role exists (the journal says it
    // was created), the function does not.
    let mips = edited("create-scope", d, |n| {
        n["context"]["scope"]["capabilities"]["architecture"] = json!("mips")
    });
    let failed = handle_file(&mips, &empty_cloud(), d, &[]);
    assert!(!failed.ok);
    assert!(
        failed.text.contains("LAMBDA_ARCHITECTURE is `mips`: Lambda offers arm64 or x86_64"),
        "{}",
        failed.text
    );
    assert!(writes(&failed).contains(&"CreateRole".to_owned()), "the journal says what exists");
    let half = state(&failed.after);
    assert!(role(&half).is_some() && function(&half).is_none());
    let cleaned = handle("delete-scope", &failed.after, d);
    assert!(role(&state(&cleaned.after)).is_none(), "{}", cleaned.text);

    // A role prefix that leaves no room for the name.
    let long = handle_file(
        &example("create-scope"),
        &empty_cloud(),
        d,
        &["--var", &format!("LAMBDA_EXECUTION_ROLE_PREFIX={}", "p".repeat(40))],
    );
    assert!(!long.ok);
    assert!(long.text.contains("use a prefix of at most 32 characters"), "{}", long.text);

    // A concurrency value that is not a non-negative whole number.
    let created = handle("create-scope", &empty_cloud(), d);
    for bad in ["five", "-1", "2.5"] {
        let n = edited("adjust-reserved-concurrency", d, |n| {
            n["notification"]["parameters"]["value"] = json!(bad)
        });
        let run = handle_file(&n, &created.after, d, &[]);
        assert!(!run.ok);
        assert!(
            run.text.contains(&format!("'value' must be a non-negative integer, got: {bad}")),
            "{}",
            run.text
        );
        assert_eq!(writes(&run), Vec::<String>::new());
    }
    let none = edited("adjust-provisioned-concurrency", d, |n| {
        n["notification"]["parameters"].as_object_mut().unwrap().remove("value");
    });
    let run = handle_file(&none, &created.after, d, &[]);
    assert!(!run.ok && run.text.contains("'value' parameter is required"), "{}", run.text);

    // A context without the scope's slug.
    let bare = edited("create-scope", d, |n| {
        n["context"]["scope"].as_object_mut().unwrap().remove("slug");
    });
    let run = handle_file(&bare, &empty_cloud(), d, &[]);
    assert!(!run.ok && run.text.contains("the context has no .scope.slug"), "{}", run.text);
}

#[test]
fn each_step_signs_with_a_session_narrowed_to_exactly_its_grant() {
    let dir = tempfile::tempdir().unwrap();
    let created = handle("create-scope", &empty_cloud(), dir.path());
    let sessions: Vec<&Value> = created
        .journal
        .iter()
        .filter(|e| e["operation"] == "AssumeRole" && e["session_policy"].is_string())
        .collect();
    let actions_of = |step: &str| -> std::collections::BTreeSet<String> {
        let e = sessions
            .iter()
            .find(|e| e["step"] == step)
            .unwrap_or_else(|| panic!("no session for {step}"));
        let policy: Value = serde_json::from_str(e["session_policy"].as_str().unwrap()).unwrap();
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()))
            .collect()
    };
    // Exactly the actions each plugin declares: the session can do no more.
    for (step, plugin) in [
        ("ensure_role", "ensure_role"),
        ("ensure_function", "ensure_function"),
        ("ensure_aliases", "ensure_aliases"),
        ("ensure_log_group", "ensure_log_group"),
        ("ensure_entry_point", "ensure_entry_point"),
        ("ensure_dns", "ensure_dns"),
    ] {
        // The platform's actions are the host's to check: never in an AWS policy.
        let inspect = scope_host_command()
            .args(["plugin", "inspect", "--json"])
            .arg(scope_host_tests::builtin_dir().join(format!("{plugin}.wasm")))
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&inspect.stdout).unwrap();
        let declared: std::collections::BTreeSet<String> = doc["manifest"]["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["action"].as_str().unwrap().to_owned())
            .filter(|a| !a.starts_with("platform:"))
            .collect();
        assert_eq!(actions_of(step), declared, "{step}'s session policy");
    }
    let role_actions = actions_of("ensure_role");
    assert!(role_actions.iter().all(|a| a.starts_with("iam:")), "{role_actions:?}");
    assert!(role_actions.contains("iam:CreateRole") && !role_actions.contains("iam:DeleteRole"));
    let function_actions = actions_of("ensure_function");
    assert!(function_actions.contains("lambda:CreateFunction") && function_actions.contains("iam:PassRole"));
    assert!(!function_actions.iter().any(|a| a.starts_with("iam:") && a != "iam:PassRole"));
    let logs_actions = actions_of("ensure_log_group");
    assert!(logs_actions.iter().all(|a| a.starts_with("logs:")), "{logs_actions:?}");
}

/// A private scope's providers: the example's, plus the VPC provider naming the
/// internal load balancer's listener the example cloud holds.

#[test]
fn a_private_scope_gets_a_target_group_and_the_lowest_free_rule_and_delete_takes_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let providers = private_providers(d);
    let private = edited("create-scope", d, |n| {
        n["context"]["scope"]["capabilities"]["visibility"] = json!("private")
    });
    // Another scope's rule holds priority 1 already.
    let cloud = d.join("cloud-with-a-rule.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(empty_cloud()).unwrap()).unwrap();
    c["networking"]["listeners"][0]["rules"] = json!([{"priority": 1, "hosts": ["other.internal"]}]);
    std::fs::write(&cloud, c.to_string()).unwrap();

    let created = handle_file(&private, &cloud, d, &["--providers", providers.to_str().unwrap()]);
    assert!(created.ok, "{}", created.text);
    let s = state(&created.after);
    let group = &s["networking"]["target_groups"][0];
    assert_eq!(group["name"], "11-my-app-my-scope");
    assert_eq!(group["health_check_path"], "/health");
    assert_eq!(
        group["targets"],
        json!([format!("arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:main")])
    );
    let rules = s["networking"]["listeners"][0]["rules"].as_array().unwrap();
    let ours = rules.iter().find(|r| r["hosts"] == json!(["my-app-my-scope.internal"])).unwrap();
    assert_eq!(ours["priority"], 2, "the lowest free priority, not a fixed 100");
    assert!(function(&s).unwrap()["policy"].to_string().contains("AllowALBInvoke"));
    assert!(s["networking"]["apis"].is_null(), "no HTTP API for a private scope");
    let record = &s["networking"]["hosted_zones"][0]["records"][0];
    assert_eq!(
        record["values"],
        json!(["internal-scopes-internal-1234567890.us-east-1.elb.amazonaws.com"])
    );

    let again = handle_file(&private, &created.after, d, &["--providers", providers.to_str().unwrap()]);
    assert!(again.ok);
    assert_eq!(writes(&again), Vec::<String>::new(), "{}", again.text);

    let delete = edited("delete-scope", d, |n| {
        n["context"]["scope"]["capabilities"]["visibility"] = json!("private")
    });
    let deleted = handle_file(&delete, &again.after, d, &["--providers", providers.to_str().unwrap()]);
    assert!(deleted.ok, "{}", deleted.text);
    let end = state(&deleted.after);
    assert!(end["networking"]["target_groups"].is_null(), "{end}");
    let rules = end["networking"]["listeners"][0]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "only the other scope's rule is left: {rules:?}");

    // A listener at its rule capacity: a clear error naming it, nothing forwarded.
    let full = handle_file(
        &private,
        &cloud,
        d,
        &["--providers", providers.to_str().unwrap(), "--var", "ALB_LISTENER_RULE_CAPACITY=1"],
    );
    assert!(!full.ok);
    assert!(
        full.text.contains("has 1 rules, its capacity") && full.text.contains("there is no free priority for my-app-my-scope.internal"),
        "{}",
        full.text
    );
}

#[test]
fn without_an_iam_provider_the_agent_itself_creates_and_deletes_and_the_default_placeholder_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // No aws-iam-configuration provider and no placeholder in the scope
    // configuration: the agent's own identity, and PLACEHOLDER_IMAGE_URI_DEFAULT.
    let providers = d.join("agent-providers.json");
    let mut p: Value = serde_json::from_str(&std::fs::read_to_string(lambda_service().join("examples/providers.json")).unwrap()).unwrap();
    p.as_array_mut()
        .unwrap()
        .retain(|e| e["specification_slug"] != "aws-iam-configuration");
    for entry in p.as_array_mut().unwrap() {
        entry["attributes"].as_object_mut().unwrap().remove("deployment");
    }
    std::fs::write(&providers, p.to_string()).unwrap();
    let args = [
        "--providers",
        providers.to_str().unwrap(),
        "--var",
        "PLACEHOLDER_IMAGE_URI_DEFAULT=123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder",
    ];
    let created = handle_file(&example("create-scope-image"), &empty_cloud(), d, &args);
    assert!(created.ok, "{}", created.text);
    assert!(
        created
            .text
            .contains("no role to assume: the workflow runs as the agent's own identity"),
        "the agent's own identity: {}",
        created.text
    );
    let s = state(&created.after);
    assert_eq!(
        function(&s).unwrap()["image_uri"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:latest",
        "the default, with `:latest` added to an untagged URI"
    );
    let deleted = handle_file(&example("delete-scope"), &created.after, d, &args);
    assert!(deleted.ok, "{}", deleted.text);
    assert!(function(&state(&deleted.after)).is_none());
}

#[test]
fn a_custom_domain_serves_the_api_under_an_alias_record_and_goes_with_the_scope() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let domain = ["--var", "API_GATEWAY_CUSTOM_DOMAIN=api.example.com"];
    let no_certificate = handle_file(&example("create-scope"), &empty_cloud(), d, &domain);
    assert!(!no_certificate.ok);
    assert!(
        no_certificate
            .text
            .contains("API_GATEWAY_CUSTOM_DOMAIN is api.example.com, but API_GATEWAY_CERTIFICATE_ARN"),
        "{}",
        no_certificate.text
    );

    let args = [
        "--var",
        "API_GATEWAY_CUSTOM_DOMAIN=api.example.com",
        "--var",
        "API_GATEWAY_CERTIFICATE_ARN=arn:aws:acm:us-east-1:123456789012:certificate/4d3c2b1a",
    ];
    let created = handle_file(&example("create-scope"), &empty_cloud(), d, &args);
    assert!(created.ok, "{}", created.text);
    let s = state(&created.after);
    let api_id = s["networking"]["apis"][0]["id"].as_str().unwrap().to_owned();
    let custom = &s["networking"]["domain_names"][0];
    assert_eq!(custom["name"], "api.example.com");
    assert_eq!(custom["mappings"], json!({api_id.clone(): "main"}));
    let records = s["networking"]["hosted_zones"][0]["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "the custom domain is the scope's one name: {records:?}");
    assert_eq!(records[0]["name"], "api.example.com.");
    assert_eq!(records[0]["type"], "A");
    assert!(records[0]["alias_target"]["dns_name"]
        .as_str()
        .unwrap()
        .ends_with(".execute-api.us-east-1.amazonaws.com"));

    let again = handle_file(&example("create-scope"), &created.after, d, &args);
    assert!(again.ok);
    assert_eq!(writes(&again), Vec::<String>::new(), "{}", again.text);

    let deleted = handle_file(&example("delete-scope"), &again.after, d, &args);
    assert!(deleted.ok, "{}", deleted.text);
    let end = state(&deleted.after);
    assert!(end["networking"]["domain_names"].is_null(), "{end}");
    assert!(end["networking"]["hosted_zones"][0]["records"].is_null(), "{end}");
    assert!(end["networking"]["apis"].is_null(), "{end}");
}
