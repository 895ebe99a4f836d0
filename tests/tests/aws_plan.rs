//! `--plan` and `apply` on the AWS backend against moto: a scope's life (create
//! from an image, the initial deployment, blue-green, switch, finalize, rollback,
//! delete of a deployment, update, delete) each planned first — moto
//! left exactly as it was, read back by independent SDK calls — then run for real:
//! the plan's changes are the run's, entry by entry. Then a plan applied with
//! `scope-host apply`, and a plan made stale by a change on moto refused.
//!
//! As in `aws_scope_lifecycle.rs`, `ensure_concurrency` is skipped (moto 5.2.6 has
//! no provisioned-concurrency API). moto ignores session policies (its IAM
//! enforcement judges a role's own policies only), so that AWS itself refuses a
//! plan's writes is shown on the simulated cloud, which evaluates them
//! (`tests/tests/plan.rs`); here the journal shows every session's policy read-only.

use scope_host_tests::aws_state::{sdk_config, seed, Clients};
use scope_host_tests::plan::Entry;
use scope_host_tests::{handle_json, lambda_example, lambda_service, output_text, scope_host_command, Moto};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FUNCTION: &str = "11-my-app-my-scope";

struct World {
    moto: Moto,
    clients: Clients,
    apis: aws_sdk_apigatewayv2::Client,
    dns: aws_sdk_route53::Client,
    zone: String,
    providers: PathBuf,
    overrides: PathBuf,
    dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let moto = Moto::start();
        let clients = Clients::new(&moto.endpoint).await;
        seed(&clients, &lambda_example("scope-cloud-state.json")).await;
        let config = sdk_config(&moto.endpoint).await;
        let (apis, dns) = (aws_sdk_apigatewayv2::Client::new(&config), aws_sdk_route53::Client::new(&config));
        let zone = dns
            .create_hosted_zone()
            .name("example.com")
            .caller_reference("plan-test")
            .send()
            .await
            .unwrap();
        let zone = zone.hosted_zone().unwrap().id().trim_start_matches("/hostedzone/").to_owned();
        let dir = tempfile::tempdir().unwrap();
        let overrides = dir.path().join("overrides");
        for workflow in ["create", "update"] {
            let file = overrides.join(format!("scope/workflows/{workflow}.yaml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, "steps:\n  - name: ensure_concurrency\n    action: skip\n").unwrap();
        }
        let providers = dir.path().join("providers.json");
        let mut p: Value =
            serde_json::from_str(&std::fs::read_to_string(lambda_service().join("examples/providers.json")).unwrap()).unwrap();
        for entry in p.as_array_mut().unwrap() {
            if entry["attributes"]["networking"]["hosted_public_zone_id"].is_string() {
                entry["attributes"]["networking"]["hosted_public_zone_id"] = json!(zone);
            }
        }
        std::fs::write(&providers, p.to_string()).unwrap();
        World {
            moto,
            clients,
            apis,
            dns,
            zone,
            providers,
            overrides,
            dir,
        }
    }

    fn args(&self, slug: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "--cloud",
            "aws",
            "--endpoint-url",
            &self.moto.endpoint,
            "--grant-declared",
            "--overrides-path",
            self.overrides.to_str().unwrap(),
            "--journal",
        ]
        .map(String::from)
        .to_vec();
        let n = std::fs::read_dir(self.dir.path()).unwrap().count();
        args.push(self.dir.path().join(format!("{slug}-{n}.jsonl")).display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    fn handle(&self, slug: &str, extra: &[&str]) -> (bool, Value, String, Vec<Value>) {
        self.handle_as(slug, extra, &self.moto.env())
    }

    /// [`World::handle`] signed by the keys `env` holds.
    fn handle_as(&self, slug: &str, extra: &[&str], env: &[(&str, String)]) -> (bool, Value, String, Vec<Value>) {
        let args = self.args(slug, extra);
        let journal = PathBuf::from(&args[args.iter().position(|a| a == "--journal").unwrap() + 1]);
        let notification = lambda_service().join(format!("examples/notifications/{slug}.json"));
        let (code, report, text) = handle_json(&notification, &self.providers, &args, env);
        (code == Some(0), report, text, journal_of(&journal))
    }

    /// Everything of the scope on moto, by independent SDK calls.
    async fn snapshot(&self) -> Value {
        let function = match self.clients.lambda.get_function().function_name(FUNCTION).send().await {
            Ok(f) => {
                let c = f.configuration().unwrap();
                let aliases = self.clients.lambda.list_aliases().function_name(FUNCTION).send().await.unwrap();
                let versions = self
                    .clients
                    .lambda
                    .list_versions_by_function()
                    .function_name(FUNCTION)
                    .send()
                    .await
                    .unwrap();
                json!({
                    "memory": c.memory_size(), "timeout": c.timeout(), "image": f.code().and_then(|c| c.image_uri()),
                    "env": c.environment().and_then(|e| e.variables()).map(|v| v.keys().cloned().collect::<std::collections::BTreeSet<_>>()),
                    "aliases": aliases.aliases().iter().map(|a| (a.name().unwrap().to_owned(), a.function_version().unwrap().to_owned())).collect::<Vec<_>>(),
                    "versions": versions.versions().len(),
                })
            }
            Err(_) => Value::Null,
        };
        let roles: Vec<String> = self
            .clients
            .iam
            .list_roles()
            .send()
            .await
            .unwrap()
            .roles()
            .iter()
            .map(|r| r.role_name().to_owned())
            .collect();
        let mut policies = Vec::new();
        for role in &roles {
            let names = self.clients.iam.list_role_policies().role_name(role).send().await.unwrap();
            policies.push((role.clone(), names.policy_names().to_vec()));
        }
        let groups: Vec<(String, Option<i32>)> = self
            .clients
            .logs
            .describe_log_groups()
            .send()
            .await
            .unwrap()
            .log_groups()
            .iter()
            .map(|g| (g.log_group_name().unwrap().to_owned(), g.retention_in_days()))
            .collect();
        let apis: Vec<String> = self
            .apis
            .get_apis()
            .send()
            .await
            .unwrap()
            .items()
            .iter()
            .map(|a| a.name().unwrap().to_owned())
            .collect();
        let records: Vec<String> = self
            .dns
            .list_resource_record_sets()
            .hosted_zone_id(&self.zone)
            .send()
            .await
            .unwrap()
            .resource_record_sets()
            .iter()
            .map(|r| format!("{} {}", r.name(), r.r#type().as_str()))
            .collect();
        json!({"function": function, "roles": policies, "log_groups": groups, "apis": apis, "records": records})
    }
}

fn journal_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A resource with the HTTP API's id masked: each cloud names its APIs itself.
fn masked(resource: &str) -> String {
    match resource.split_once("/apis/") {
        Some((head, tail)) => {
            let rest = tail.split_once('/').map_or(String::new(), |(_, r)| format!("/{r}"));
            format!("{head}/apis/<id>{rest}")
        }
        None => resource.to_owned(),
    }
}

/// A run's changes, as the plan's are compared with them: API ids masked, and moto's
/// answer where it has no API put as AWS's.
fn changes_made(journal: &[Value]) -> Vec<Entry> {
    scope_host_tests::plan::changes_made(journal)
        .into_iter()
        .map(|(step, service, operation, resource, mut outcome)| {
            // moto 5.2.6 has no provisioned-concurrency API: its router's 404 comes
            // back as ResourceNotFoundException where AWS (and the plan's simulated
            // copy) answer ProvisionedConcurrencyConfigNotFoundException.
            if operation.contains("ProvisionedConcurrency") && outcome == "ResourceNotFoundException" {
                outcome = "ProvisionedConcurrencyConfigNotFoundException".to_owned();
            }
            (step, service, operation, masked(&resource), outcome)
        })
        .collect()
}

fn changes_planned(plan: &Value) -> Vec<Entry> {
    scope_host_tests::plan::changes_planned(plan)
        .into_iter()
        .map(|(step, service, operation, resource, outcome)| (step, service, operation, masked(&resource), outcome))
        .collect()
}

/// Plans `slug` on moto (which it leaves as it was), then runs it: the same changes.
async fn plan_then_run(world: &World, slug: &str) -> Value {
    let before = world.snapshot().await;
    let plan_file = world.dir.path().join(format!("{slug}-plan.json"));
    let (ok, _, text, journal) = world.handle(slug, &["--plan-out", plan_file.to_str().unwrap()]);
    assert!(ok, "{slug} planned on moto:\n{text}");
    assert_eq!(world.snapshot().await, before, "{slug}: the plan changed moto\n{text}");
    for call in journal.iter().filter(|e| e["operation"] == "AssumeRole") {
        let policy: Value = serde_json::from_str(call["session_policy"].as_str().unwrap()).unwrap();
        for statement in policy["Statement"].as_array().unwrap().iter().filter(|s| s["Effect"] == "Allow") {
            for action in statement["Action"].as_array().unwrap() {
                let operation = s(action).split(':').nth(1).unwrap().to_ascii_lowercase();
                assert!(
                    ["get", "list", "describe", "batchget", "filter"]
                        .iter()
                        .any(|p| operation.starts_with(p)),
                    "{slug}: a plan's session allows {action}"
                );
            }
        }
    }
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    let (ok, _, text, journal) = world.handle(slug, &[]);
    assert!(ok, "{slug} on moto:\n{text}");
    assert_eq!(
        changes_planned(&plan),
        changes_made(&journal),
        "{slug}: the plan's changes (left) are not the run's (right)"
    );
    plan
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_s_life_on_moto_is_planned_change_for_change_and_planning_changes_nothing() {
    let world = World::new().await;
    let created = plan_then_run(&world, "create-scope-image").await;
    assert!(created["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["operation"] == "CreateRole"));
    let initial = plan_then_run(&world, "start-initial").await;
    let after = world.snapshot().await;
    // What the plan predicted for the function is what the run left on moto.
    let predicted = |path: &str| {
        initial["changes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["changes"].as_array().into_iter().flatten())
            .rfind(|f| f["path"] == path)
            .map(|f| f["after"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(predicted("image_uri"), after["function"]["image"]);
    assert!(!predicted("aliases.main.function_version").is_null(), "the alias moves");
    for (path, field) in [("memory_size", "memory"), ("timeout", "timeout")] {
        if !predicted(path).is_null() {
            assert_eq!(predicted(path), after["function"][field], "{path}");
        }
    }
    // A scope already as its notification says: nothing to change, nothing planned.
    let updated = plan_then_run(&world, "update-scope").await;
    assert_eq!(updated["changes"], json!([]));
    for slug in [
        "start-blue-green",
        "switch-traffic",
        "rollback-deployment",
        "start-blue-green",
        "finalize-blue-green",
        "delete-deployment",
    ] {
        plan_then_run(&world, slug).await;
    }
    let deleted = plan_then_run(&world, "delete-scope").await;
    assert!(deleted["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["operation"] == "DeleteFunction"));
    assert_eq!(world.snapshot().await["function"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_on_moto_is_applied_and_a_stale_one_is_refused_naming_what_changed() {
    let world = World::new().await;
    let (ok, _, text, _) = world.handle("create-scope-image", &[]);
    assert!(ok, "{text}");
    let plan = world.dir.path().join("initial-plan.json");
    let (ok, _, text, _) = world.handle("start-initial", &["--plan-out", plan.to_str().unwrap()]);
    assert!(ok, "{text}");

    // Someone changes the function's memory after the plan: apply refuses.
    let before = world.snapshot().await;
    world
        .clients
        .lambda
        .update_function_configuration()
        .function_name(FUNCTION)
        .memory_size(1536)
        .send()
        .await
        .unwrap();
    let apply = |plan: &Path| {
        let out = scope_host_command()
            .arg("apply")
            .arg(plan)
            .envs(world.moto.env())
            .env_remove("SCOPE_HOST_PLUGINS")
            .output()
            .unwrap();
        (out.status.code(), output_text(&out))
    };
    let (code, text) = apply(&plan);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("lambda GetFunction of lambda function 11-my-app-my-scope (us-east-1): configuration.memory_size")
            || text.contains("memory_size was "),
        "names the function and the field: {text}"
    );
    let mut expected = before.clone();
    expected["function"]["memory"] = json!(1536);
    assert_eq!(world.snapshot().await, expected, "nothing was changed by the refused apply");

    // Planned again, the plan is applied: moto holds what the plan predicted.
    let (ok, _, text, _) = world.handle("start-initial", &["--plan-out", plan.to_str().unwrap()]);
    assert!(ok, "{text}");
    let (code, text) = apply(&plan);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("applied: 5 of the plan's 5 changes made") || text.contains("applied: "),
        "{text}"
    );
    let after = world.snapshot().await;
    assert_eq!(
        after["function"]["image"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0"
    );
}

/// With moto's IAM enforcement on — the agent may only assume its role, the role may
/// do anything — a plan succeeds under its read-only sessions and changes nothing.
/// (moto does not evaluate session policies, so this cannot show AWS refusing a
/// plan's write: `tests/tests/plan.rs` shows it on the simulated cloud.)
#[tokio::test(flavor = "multi_thread")]
async fn under_iam_enforcement_a_plan_succeeds_with_read_only_sessions_and_changes_nothing() {
    let world = World::new().await;
    let (ok, _, text, _) = world.handle("create-scope-image", &[]);
    assert!(ok, "{text}");
    let agent = world
        .clients
        .user_with_policy(
            "np-agent",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}),
        )
        .await;
    let everything = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    world.clients.put_role_policy("np-lambda-agent", "everything", &everything).await;
    // The tests read moto with enforcement off again (moto, enforcing, refuses the
    // signature of some of the Rust SDK's requests that AWS accepts).
    let relax = || assert_eq!(world.moto.api("POST", "/moto-api/reset-auth", "inf").0, 200);
    let function = || async {
        let f = world.clients.lambda.get_function().function_name(FUNCTION).send().await.unwrap();
        let c = f.configuration().unwrap();
        (
            c.memory_size(),
            c.revision_id().map(str::to_owned),
            f.code().and_then(|c| c.image_uri()).map(str::to_owned),
        )
    };
    let before = function().await;
    world.moto.enforce_iam();
    let env = scope_host_tests::aws_state::env_signing_as(&world.moto, &agent);
    let (ok, report, text, journal) = world.handle_as("start-initial", &["--plan"], &env);
    assert!(ok, "{text}");
    assert_eq!(report["plan"].as_array().map(Vec::len), Some(5), "{text}");
    relax();
    assert_eq!(function().await, before, "the plan changed nothing");
    let sessions: Vec<&Value> = journal.iter().filter(|e| e["operation"] == "AssumeRole").collect();
    assert!(sessions.iter().all(|e| e["outcome"] == "ok" && e["session_policy"].is_string()));
    // The same run for real, as the agent: moto lets the role make the changes.
    world.moto.enforce_iam();
    let (ok, _, text, _) = world.handle_as("start-initial", &[], &env);
    assert!(ok, "{text}");
    relax();
    assert_ne!(function().await, before);
}
