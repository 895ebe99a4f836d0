//! The IAM policy `scope-host policy` generates, proven against moto's IAM
//! enforcement: the role the agent assumes holds exactly that policy and every
//! deployment and scope workflow moto can run succeeds; with any one statement
//! removed, a named step fails with AWS's AccessDenied naming an action of that
//! statement.
//!
//! moto judges IAM its own way, and the policy is shown to it as it judges
//! ([`as_moto_judges`]), statement for statement:
//! - it authorizes `<signing name>:<operation>`: CloudWatch is `monitoring:`, the
//!   tagging API `tagging:`, and API Gateway by operation (`apigateway:CreateApi`)
//!   where IAM has HTTP verbs on paths (`apigateway:POST`);
//! - it judges every service but IAM and STS against the resource `*`, so outside
//!   those two a statement's resources become `*` (the resources are proven where
//!   they are enforced: by the host's call gate and the session policies, in
//!   `grants.rs` and `tests/tests/policy.rs`).
//!
//! What moto cannot show is listed in [`UNPROVEN`] with why, and the test asserts
//! that the workflows indeed succeed without those statements, so a moto that
//! learns to check them fails here and the list shrinks.
//!
//! Left out of the workflows, as in `aws_scope_lifecycle.rs`: provisioned
//! concurrency (moto 5.2.6 has no such API) and invoke (needs Docker in moto).

use scope_host_tests::aws_state::{env_signing_as, sdk_config, seed, Clients};
use scope_host_tests::{handle_json, lambda_example, lambda_service, scope_host_command, Moto};
use serde_json::{json, Value};
use std::path::PathBuf;

const ACCOUNT: &str = "123456789012";
const EXECUTION_ROLE: &str = "np-lambda-11-my-app-my-scope-role";

/// Every notification moto can run, in an order a scope lives them: each workflow
/// of the scope and deployment families, telemetry too.
const CHAIN: &[&str] = &[
    "create-scope-image",
    "start-initial",
    "start-blue-green",
    "switch-traffic",
    "rollback-deployment",
    "start-blue-green",
    "finalize-blue-green",
    "diagnose-deployment",
    "diagnose-scope",
    "update-scope",
    "adjust-reserved-concurrency",
    "log-read",
    "metric-data",
    "delete-deployment",
    "delete-scope",
];

/// Then the same scope made private (a target group on the load balancer's
/// listener instead of an HTTP API) and deleted.
const PRIVATE_CHAIN: &[&str] = &["create-scope", "delete-scope"];

/// Actions AWS authorizes inside another service's call, which moto does not, and
/// why: a statement holding only these cannot be shown needed on moto.
const UNPROVEN: &[(&str, &str)] = &[
    (
        "iam:PassRole",
        "AWS checks it in CreateFunction and UpdateFunctionConfiguration; moto never checks iam:PassRole",
    ),
    (
        "s3:GetObject",
        "Lambda reading a zip from S3 on the caller's behalf; moto's Lambda does not check the caller",
    ),
    (
        "lambda:GetLayerVersion",
        "Lambda checking the caller may use the layers a function names; moto's Lambda does not",
    ),
    (
        "elasticloadbalancing:AddTags",
        "AWS authorizes the tags given to CreateTargetGroup as AddTags; moto does not",
    ),
];

/// Why moto cannot show `statement` needed, when none of its actions can be.
fn unproven(statement: &Value) -> Option<String> {
    let why: Vec<&str> = actions_of(statement)
        .iter()
        .map(|a| UNPROVEN.iter().find(|(u, _)| u == a).map(|(_, why)| *why))
        .collect::<Option<_>>()?;
    Some(why.join("; "))
}

/// `scope-host policy` for the Lambda service in moto's account and region.
fn generated(whose: &str) -> Value {
    let out = scope_host_command()
        .args([
            "policy",
            "--for",
            whose,
            "--account",
            ACCOUNT,
            "--region",
            "us-east-1",
            "--service-path",
        ])
        .arg(lambda_service())
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// API Gateway's IAM verbs as the operations moto authorizes instead.
fn apigateway_operations(verb: &str) -> &'static [&'static str] {
    match verb {
        "POST" => &["apigateway:Create*", "apigateway:TagResource"],
        "GET" => &["apigateway:Get*"],
        "DELETE" => &["apigateway:Delete*"],
        "PATCH" => &["apigateway:Update*"],
        other => panic!("no moto operations for apigateway:{other}"),
    }
}

/// The policy as moto judges it, statement for statement (see the module's text).
fn as_moto_judges(policy: &Value) -> Value {
    let mut policy = policy.clone();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        let mut actions = Vec::new();
        let mut resource_checked = true;
        for action in statement["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            let (service, name) = action.split_once(':').unwrap();
            match service {
                "apigateway" => actions.extend(apigateway_operations(name).iter().map(|a| a.to_string())),
                "cloudwatch" => actions.push(format!("monitoring:{name}")),
                "tag" => actions.push(format!("tagging:{name}")),
                _ => actions.push(action.to_owned()),
            }
            resource_checked &= matches!(service, "iam" | "sts");
        }
        statement["Action"] = json!(actions);
        if !resource_checked {
            statement["Resource"] = json!("*");
        }
    }
    policy
}

/// The actions of a statement of the generated policy.
fn actions_of(statement: &Value) -> Vec<String> {
    statement["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// One moto, reset to the example scope's cloud for each attempt.
struct World {
    moto: Moto,
    _dir: tempfile::TempDir,
    overrides: PathBuf,
    providers: PathBuf,
    private_providers: PathBuf,
    values: PathBuf,
    private_notifications: Vec<(String, PathBuf)>,
    /// An IAM user allowed everything, for what the tests do while IAM is enforced.
    admin: std::sync::Mutex<Option<Clients>>,
}

impl World {
    fn new() -> World {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        let overrides = dir.path().join("overrides");
        for workflow in ["create", "update"] {
            let file = overrides.join(format!("scope/workflows/{workflow}.yaml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, "steps:\n  - name: ensure_concurrency\n    action: skip\n").unwrap();
        }
        let providers = dir.path().join("providers.json");
        let private_providers = dir.path().join("private-providers.json");
        // Parameters go to Secrets Manager, so the deployment writes secrets and the
        // scope's delete removes them.
        let values = dir.path().join("values.yaml");
        std::fs::write(&values, "configuration:\n  PARAMETERS_STRATEGY: secretsmanager\n").unwrap();
        let mut notifications = Vec::new();
        for slug in PRIVATE_CHAIN {
            let mut doc: Value = serde_json::from_str(
                &std::fs::read_to_string(lambda_service().join(format!("examples/notifications/{slug}.json"))).unwrap(),
            )
            .unwrap();
            doc["context"]["scope"]["capabilities"]["visibility"] = json!("private");
            let path = dir.path().join(format!("private-{slug}.json"));
            std::fs::write(&path, doc.to_string()).unwrap();
            notifications.push((format!("private {slug}"), path));
        }
        World {
            moto,
            _dir: dir,
            overrides,
            providers,
            private_providers,
            values,
            private_notifications: notifications,
            admin: std::sync::Mutex::new(None),
        }
    }

    /// moto emptied and seeded, the agent (user `np-agent`) holding `agent_policy`
    /// and the role it assumes `role_policy`, then IAM enforced; the environment
    /// that signs as the agent.
    async fn reset(&self, agent_policy: &Value, role_policy: &Value) -> Vec<(&'static str, String)> {
        assert_eq!(self.moto.api("POST", "/moto-api/reset", "").0, 200);
        assert_eq!(self.moto.api("POST", "/moto-api/reset-auth", "inf").0, 200);
        let clients = Clients::new(&self.moto.endpoint).await;
        seed(&clients, &lambda_example("scope-cloud-state.json")).await;
        // moto names hosted zones itself: the scope's zone, and the providers given its id.
        let dns = aws_sdk_route53::Client::new(&sdk_config(&self.moto.endpoint).await);
        let zone = dns
            .create_hosted_zone()
            .name("example.com")
            .caller_reference("policy-enforced")
            .send()
            .await
            .unwrap();
        let zone_id = zone.hosted_zone().unwrap().id().trim_start_matches("/hostedzone/").to_owned();
        let mut providers: Value =
            serde_json::from_str(&std::fs::read_to_string(lambda_service().join("examples/providers.json")).unwrap()).unwrap();
        for entry in providers.as_array_mut().unwrap() {
            if entry["attributes"]["networking"]["hosted_public_zone_id"].is_string() {
                entry["attributes"]["networking"]["hosted_public_zone_id"] = json!(zone_id);
            }
        }
        std::fs::write(&self.providers, providers.to_string()).unwrap();
        // A private scope's load balancer, and the VPC provider naming its listener.
        let listener = self.load_balancer_listener();
        providers.as_array_mut().unwrap().push(json!({
            "id": "vpc", "nrn": "organization=1:account=2", "category": "vpc", "specification_slug": "aws-vpc",
            "attributes": {"load_balancer": {"private": {"listener_arn": listener}}}
        }));
        std::fs::write(&self.private_providers, providers.to_string()).unwrap();

        let agent = clients.user_with_policy("np-agent", &as_moto_judges(agent_policy)).await;
        clients
            .put_role_policy("np-lambda-agent", "generated", &as_moto_judges(role_policy))
            .await;
        // The tests' own hand while IAM is enforced.
        let admin = clients
            .user_with_policy(
                "admin",
                &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            )
            .await;
        let admin = Clients::with_keys(&self.moto.endpoint, &admin.0, &admin.1).await;
        self.moto.enforce_iam();
        make_execution_role(&admin).await;
        *self.admin.lock().unwrap() = Some(admin);
        env_signing_as(&self.moto, &agent)
    }

    /// An internal application load balancer in moto's default VPC with a listener
    /// answering 404, made with boto3 from moto's own environment (the tests' SDK
    /// crates have no EC2 client to find the subnets); its listener's ARN.
    fn load_balancer_listener(&self) -> String {
        let script = r#"
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
subnets = [s["SubnetId"] for s in boto3.client("ec2", **kw).describe_subnets()["Subnets"]][:2]
elb = boto3.client("elbv2", **kw)
lb = elb.create_load_balancer(Name="scopes-internal", Scheme="internal", Type="application", Subnets=subnets)
arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
listener = elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80,
    DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])
print(listener["Listeners"][0]["ListenerArn"])
"#;
        let out = std::process::Command::new(self.moto.python())
            .args(["-c", script, &self.moto.endpoint])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Runs the chains until a notification fails: `None` when all succeed, else the
    /// notification and its report.
    async fn run_chain(&self, env: &[(&str, String)]) -> Option<(String, Value, String)> {
        let public = CHAIN.iter().map(|slug| {
            (
                slug.to_string(),
                lambda_service().join(format!("examples/notifications/{slug}.json")),
                &self.providers,
            )
        });
        let private = self
            .private_notifications
            .iter()
            .map(|(name, path)| (name.clone(), path.clone(), &self.private_providers));
        for (name, notification, providers) in public.chain(private) {
            if name == format!("private {}", PRIVATE_CHAIN[0]) {
                // The public scope's delete took its execution role.
                let admin = self.admin.lock().unwrap().take().unwrap();
                make_execution_role(&admin).await;
                *self.admin.lock().unwrap() = Some(admin);
            }
            let args: Vec<String> = [
                "--cloud",
                "aws",
                "--endpoint-url",
                &self.moto.endpoint,
                "--grant-declared",
                "--overrides-path",
                self.overrides.to_str().unwrap(),
                "--values",
                self.values.to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec();
            let (code, report, text) = handle_json(&notification, providers, &args, env);
            if code != Some(0) {
                return Some((name, report, text));
            }
        }
        None
    }
}

/// The scope's execution role, as a lost run would leave it, made by the tests:
/// moto, enforcing, judges CreateRole of a role that does not exist yet against
/// the resource `*` (AWS: the role's ARN), so a policy scoped to a role prefix
/// cannot create one there; and it refuses the signature of a Rust-SDK form body
/// with a space in it (CreateRole's Description), though AWS accepts it.
/// ensure_role then reconciles the role as it finds it.
async fn make_execution_role(admin: &Clients) {
    admin.bare_execution_role(EXECUTION_ROLE).await;
}

/// The steps AWS refused, as `(step, message)`, from the run's live lines (a
/// telemetry workflow's stdout is its answer, not the report).
fn denied_steps(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("✘ "))
        // `cloud` when the step passed AWS's error on; assume-role words it itself.
        .filter(|l| l.contains(" failed (") && l.contains("AccessDenied"))
        .map(|l| (l.split_whitespace().next().unwrap_or_default().to_owned(), l.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_policy_runs_every_workflow_and_each_statement_is_needed() {
    let agent = generated("agent");
    let role = generated("assumed-role");
    let world = World::new();

    let env = world.reset(&agent, &role).await;
    if let Some((slug, _, text)) = world.run_chain(&env).await {
        panic!("{slug} failed with exactly the generated policy:\n{text}");
    }

    // Each statement of either policy removed in turn.
    let mut attempts = Vec::new();
    for (whose, policy) in [("agent", &agent), ("role", &role)] {
        for (i, statement) in policy["Statement"].as_array().unwrap().iter().enumerate() {
            let mut without = policy.clone();
            without["Statement"].as_array_mut().unwrap().remove(i);
            let (agent, role) = if whose == "agent" {
                (without, role.clone())
            } else {
                (agent.clone(), without)
            };
            let sid = format!("{whose} {}", statement["Sid"].as_str().unwrap());
            attempts.push((sid, statement.clone(), agent, role));
        }
    }
    let mut proven = Vec::new();
    let mut unprovable = Vec::new();
    for (sid, statement, agent, role) in &attempts {
        let statement = &statement;
        let env = world.reset(agent, role).await;
        let failed = world.run_chain(&env).await;
        if let Some(why) = unproven(statement) {
            assert!(
                failed.is_none(),
                "moto now notices `{sid}` missing ({why} no longer holds): prove it and drop it from UNPROVEN\n{}",
                failed.unwrap().2
            );
            unprovable.push(format!("{sid} {:?}: {why}", actions_of(statement)));
            continue;
        }
        let Some((slug, _, text)) = failed else {
            panic!(
                "every workflow succeeds without statement `{sid}` ({:?}): it is not needed",
                actions_of(statement)
            );
        };
        let denied = denied_steps(&text);
        let moto_names: Vec<String> = as_moto_judges(&json!({"Statement": [statement]}))["Statement"][0]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().trim_end_matches('*').to_owned())
            .collect();
        assert!(
            denied.iter().any(|(_, m)| moto_names.iter().any(|a| m.contains(a.as_str()))),
            "without `{sid}` ({:?}), {slug} failed, but not with AccessDenied naming one of its actions:\n{text}",
            actions_of(statement)
        );
        proven.push(format!("{sid}: {slug} {}", denied[0].0));
    }
    assert_eq!(proven.len() + unprovable.len(), attempts.len());
    eprintln!(
        "each statement, and the first step that failed without it:\n{}\nwhat moto cannot show:\n{}",
        proven.join("\n"),
        unprovable.join("\n")
    );
}
