//! `scope-host policy`: the IAM policy the Lambda service's workflows need,
//! computed from the built-in plugins' manifests.

use scope_host_tests::{lambda_service, scope_host_command, target_dir};
use serde_json::Value;

fn policy(args: &[&str]) -> (Option<i32>, String, String) {
    let out = scope_host_command()
        .arg("policy")
        .arg("--service-path")
        .arg(lambda_service())
        .args(args)
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    scope_host_tests::outcome(&out)
}

/// The statements granting `action` (exactly, or by a wildcard of the service).
fn granting<'a>(doc: &'a Value, action: &str) -> Vec<&'a Value> {
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
        .collect()
}

#[test]
fn every_workflow_of_the_lambda_service_gets_a_least_privilege_policy() {
    let (code, stdout, stderr) = policy(&["--account", "123456789012", "--region", "us-east-1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    // PassRole only on the execution roles' prefix, only to Lambda.
    let pass = granting(&doc, "iam:PassRole");
    assert_eq!(pass.len(), 1, "{doc:#}");
    assert_eq!(
        pass[0]["Resource"],
        serde_json::json!(["arn:aws:iam::123456789012:role/np-lambda-*"])
    );
    assert_eq!(pass[0]["Condition"]["StringEquals"]["iam:PassedToService"], "lambda.amazonaws.com");
    // What the incumbent's hand-written policies lacked or got wrong.
    assert_eq!(
        granting(&doc, "secretsmanager:ListSecrets")[0]["Resource"],
        serde_json::json!(["*"])
    );
    assert!(!granting(&doc, "lambda:GetLayerVersion").is_empty());
    for ec2 in ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"] {
        assert!(!granting(&doc, ec2).is_empty(), "{ec2}: Lambda checks it for a VPC configuration");
    }
    // Functions by the naming rule, in the account and region given.
    let update = granting(&doc, "lambda:UpdateFunctionCode");
    assert_eq!(
        update[0]["Resource"],
        serde_json::json!(["arn:aws:lambda:us-east-1:123456789012:function:*-*-*"])
    );
    // No action of the platform (the host's own), no statement id twice.
    assert!(!stdout.contains("platform:"), "{stdout}");
    let sids: Vec<&str> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    let mut unique = sids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), sids.len(), "{sids:?}");
    // What no rule can narrow is said, once per plugin and variable.
    assert!(stderr.contains("names ${S3_BUCKET}, which no naming rule"), "{stderr}");
    assert_eq!(stderr.matches("names ${S3_BUCKET}").count(), 1, "{stderr}");
}

#[test]
fn one_workflow_as_terraform_with_the_configured_role_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, "configuration:\n  LAMBDA_EXECUTION_ROLE_PREFIX: acme-fn-\n").unwrap();
    let (code, stdout, stderr) = policy(&[
        "--workflow",
        "scope/create",
        "--format",
        "terraform",
        "--values",
        values.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("data \"aws_iam_policy_document\" \"scope_host\" {"), "{stdout}");
    assert!(stdout.contains("\"arn:aws:iam::*:role/acme-fn-*\""), "{stdout}");
    assert!(stdout.contains("variable = \"iam:PassedToService\""), "{stdout}");
    assert!(!stdout.contains("lambda:InvokeFunction"), "create invokes nothing: {stdout}");
}

#[test]
fn an_unknown_workflow_is_bad_input_naming_the_ones_there_are() {
    let (code, stdout, stderr) = policy(&["--workflow", "scope/creat"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("no workflow `scope/creat`") && stderr.contains("scope/create"),
        "{stderr}"
    );
}

#[test]
fn the_generated_policy_lacks_nothing_and_a_hand_written_one_is_told_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let (code, generated, stderr) = policy(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    let own = dir.path().join("generated.json");
    std::fs::write(&own, &generated).unwrap();
    let diff = |file: &std::path::Path| {
        let out = scope_host_command()
            .args(["policy", "diff", "--service-path"])
            .arg(lambda_service())
            .arg("--against")
            .arg(file)
            .env_remove("SCOPE_HOST_PLUGINS")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, text) = diff(&own);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.ends_with("0 missing, 0 beyond need\n"), "{text}");

    // The incumbent's mistakes: ListSecrets scoped to a secret ARN, no ec2:Describe*
    // for VPC scopes, no lambda:GetLayerVersion; and a grant nothing uses.
    let mut doc: Value = serde_json::from_str(&generated).unwrap();
    let statements = doc["Statement"].as_array_mut().unwrap();
    for s in statements.iter_mut() {
        let actions = s["Action"].as_array_mut().unwrap();
        actions.retain(|a| {
            let a = a.as_str().unwrap();
            !a.starts_with("ec2:") && a != "lambda:GetLayerVersion" && a != "secretsmanager:ListSecrets"
        });
    }
    statements.retain(|s| !s["Action"].as_array().unwrap().is_empty());
    statements.push(
        serde_json::json!({"Sid": "Lists", "Effect": "Allow", "Action": "secretsmanager:ListSecrets",
        "Resource": "arn:aws:secretsmanager:*:*:secret:nullplatform/*"}),
    );
    statements.push(serde_json::json!({"Sid": "State", "Effect": "Allow", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::nullplatform-lambda-tfstate-*/*"}));
    let theirs = dir.path().join("theirs.json");
    std::fs::write(&theirs, doc.to_string()).unwrap();
    let (code, text) = diff(&theirs);
    assert_eq!(code, Some(1), "{text}");
    let missing: Vec<&str> = text.lines().filter(|l| l.starts_with("missing: ")).collect();
    let actions: Vec<&str> = missing.iter().map(|l| l.split_whitespace().nth(1).unwrap()).collect();
    assert_eq!(
        actions,
        [
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "lambda:GetLayerVersion",
            "secretsmanager:ListSecrets"
        ],
        "{text}"
    );
    assert!(
        text.contains("missing: secretsmanager:ListSecrets on * — needed by scope/delete remove_secrets (remove-secrets)"),
        "{text}"
    );
    assert!(text.contains("beyond need: `State` grants s3:PutObject"), "{text}");
}

/// The incumbent's four hand-written policies (a reconstruction from its
/// specification: tests/fixtures/incumbent-iam/README.md), judged together as the
/// role that holds them: the diff names exactly the gaps the specification lists.
#[test]
fn the_incumbents_four_policies_lack_what_their_specification_says() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incumbent-iam");
    let dir = tempfile::tempdir().unwrap();
    // The assets bucket the incumbent's storage policy names.
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, "configuration:\n  S3_BUCKET: nullplatform-lambda-assets\n").unwrap();
    let mut cmd = scope_host_command();
    cmd.args(["policy", "diff", "--for", "assumed-role", "--service-path"])
        .arg(lambda_service())
        .arg("--values")
        .arg(&values)
        .env_remove("SCOPE_HOST_PLUGINS");
    for name in [
        "lambda_policy",
        "lambda_iam_policy",
        "lambda_networking_policy",
        "lambda_storage_policy",
    ] {
        cmd.arg("--against").arg(fixtures.join(format!("{name}.json")));
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let missing: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("missing: "))
        .map(|l| {
            let mut words = l.split_whitespace();
            let action = words.next().unwrap();
            (action, words.nth(1).unwrap())
        })
        .collect();
    assert_eq!(
        missing,
        [
            ("ec2:DescribeSecurityGroups", "*"),
            ("ec2:DescribeSubnets", "*"),
            ("ec2:DescribeVpcs", "*"),
            ("iam:GetRole", "arn:aws:iam::*:role/*"),
            ("lambda:GetLayerVersion", "arn:aws:lambda:*:*:layer:*"),
            ("secretsmanager:ListSecrets", "*"),
        ],
        "{text}"
    );
    assert!(text.contains("needed by scope/delete remove_secrets (remove-secrets)"), "{text}");
    assert!(text.contains("scope/create ensure_function (ensure-function)"), "{text}");
    assert!(text.contains("diagnose/iam-role-valid"), "{text}");
    // Which of the four grants what no step uses: the OpenTofu state bucket.
    assert!(
        text.contains("beyond need: `lambda_storage_policy:TofuStateBucket` grants s3:ListBucket"),
        "{text}"
    );
    assert!(text.lines().last().unwrap().contains(": 6 missing, "), "{text}");
}

/// parliament (PyPI), the IAM policy linter: no finding on the generated policy —
/// and it does find what it should (an action IAM does not know), so the check is
/// not empty.
#[test]
fn the_generated_policy_passes_the_parliament_linter() {
    let parliament = target_dir().join("parliament-venv/bin/parliament");
    assert!(
        parliament.exists(),
        "{} is missing: scripts/linters installs it (scripts/test runs it)",
        parliament.display()
    );
    let lint = |policy: &str| {
        let out = std::process::Command::new(&parliament)
            .args(["--json", "--string", policy])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        // parliament exits 1 when it has findings: any other code means it did not run.
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (code, generated, stderr) = policy(&["--account", "123456789012", "--region", "us-east-1"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lint(&generated), "", "parliament's findings on the generated policy");
    let wrong = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "apigateway:TagResource", "Resource": "*"}]}"#;
    assert!(
        lint(wrong).contains("UNKNOWN_ACTION"),
        "the linter flags an action IAM does not know"
    );
}

/// A service of the test's own: `scope/workflows/create.yaml` running `plugin`.
fn own_service(dir: &std::path::Path, plugin: &str) -> std::path::PathBuf {
    let wf = dir.join("svc/scope/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("create.yaml"),
        format!("steps:\n  - name: wide\n    type: wasm\n    plugin: {plugin}\n"),
    )
    .unwrap();
    dir.join("svc")
}

#[test]
fn a_wide_grant_is_warned_about_and_an_unreadable_plugin_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    // The exercise guest declares `ecr:*` and `iam:GetRole` on `*`.
    let svc = own_service(dir.path(), "exercise");
    let out = scope_host_command()
        .args(["policy", "--service-path"])
        .arg(&svc)
        .arg("--plugins")
        .arg(scope_host_tests::guest_dir())
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("plugin `exercise` (step `wide`) declares `ecr:*`") && stderr.contains("every action of the service"),
        "{stderr}"
    );
    assert!(stderr.contains("`iam:GetRole` on `*`: every resource"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"ecr:*\""),
        "the policy is still produced"
    );

    // A plugin file that is not a component: the error `plugin inspect` gives.
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"not a component").unwrap();
    let svc = own_service(&dir.path().join("b"), broken.to_str().unwrap());
    let out = scope_host_command()
        .args(["policy", "--service-path"])
        .arg(&svc)
        .env_remove("SCOPE_HOST_PLUGINS")
        .output()
        .unwrap();
    let inspect = scope_host_command().args(["plugin", "inspect"]).arg(&broken).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    let inspect_said = String::from_utf8_lossy(&inspect.stderr);
    // The reason after the path: `… is not a WebAssembly file (…)`.
    let reason = inspect_said.split_once(" is not ").map(|(_, r)| r.trim()).unwrap_or_default();
    assert!(reason.contains("WebAssembly"), "{inspect_said}");
    assert!(
        said.contains("scope/create: step `wide`") && said.contains(reason),
        "policy said:\n{said}\nplugin inspect said:\n{inspect_said}"
    );
}

/// The generated policy, given to the host as its operator policy (with the
/// platform's actions, which are the host's and not IAM's): the run's preflight
/// accepts it, every call passes the host's grant check and the simulated AWS's
/// evaluation of each step's session policy, and the workflows succeed.
#[test]
fn the_generated_policy_as_the_operator_policy_runs_create_and_a_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let (code, generated, stderr) = policy(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: Value = serde_json::from_str(&generated).unwrap();
    let mut allow: Vec<Value> = Vec::new();
    for s in doc["Statement"].as_array().unwrap() {
        for a in s["Action"].as_array().unwrap() {
            for r in s["Resource"].as_array().unwrap() {
                allow.push(serde_json::json!({"action": a, "resource": r}));
            }
        }
    }
    allow.push(serde_json::json!({"action": "platform:*", "resource": "*"}));
    let operator = dir.path().join("operator-policy.json");
    std::fs::write(&operator, serde_json::json!({ "allow": allow }).to_string()).unwrap();
    let svc = lambda_service();
    for (notification, state) in [("create-scope", "scope-cloud-state.json"), ("start-initial", "cloud-state.json")] {
        let out = scope_host_command()
            .arg("handle")
            .arg(svc.join(format!("examples/notifications/{notification}.json")))
            .arg("--service-path")
            .arg(&svc)
            .arg("--providers")
            .arg(svc.join("examples/providers.json"))
            .arg("--cloud-state")
            .arg(svc.join("examples").join(state))
            .arg("--policy")
            .arg(&operator)
            .arg("--journal")
            .arg(dir.path().join(format!("{notification}.jsonl")))
            .env_remove("SCOPE_HOST_PLUGINS")
            .output()
            .unwrap();
        let text = scope_host_tests::output_text(&out);
        assert_eq!(out.status.code(), Some(0), "{notification}:\n{text}");
        assert!(!text.contains("denied"), "{notification}:\n{text}");
    }
}

#[test]
fn the_agent_and_the_role_it_assumes_get_their_own_policies() {
    let (code, agent, stderr) = policy(&["--for", "agent"]);
    assert_eq!(code, Some(0), "{stderr}");
    let agent: Value = serde_json::from_str(&agent).unwrap();
    let actions: Vec<&str> = agent["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .collect();
    // Assuming the role, and the telemetry workflows: their notifications name no
    // account, so they find no role to assume and run as the agent.
    assert_eq!(
        actions,
        [
            "cloudwatch:GetMetricStatistics",
            "tag:GetResources",
            "logs:FilterLogEvents",
            "sts:AssumeRole"
        ]
    );
    let (_, assumed, _) = policy(&["--for", "assumed-role"]);
    let assumed: Value = serde_json::from_str(&assumed).unwrap();
    assert!(granting(&assumed, "sts:AssumeRole").is_empty());
    assert!(granting(&assumed, "logs:FilterLogEvents").is_empty());
    assert!(!granting(&assumed, "lambda:UpdateFunctionCode").is_empty());

    // With a default role configured, telemetry assumes it too.
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        "configuration:\n  ASSUME_ROLE_ARN_DEFAULT: arn:aws:iam::123456789012:role/np-lambda-agent\n",
    )
    .unwrap();
    let (_, agent, _) = policy(&["--for", "agent", "--values", values.to_str().unwrap()]);
    let agent: Value = serde_json::from_str(&agent).unwrap();
    assert_eq!(agent["Statement"].as_array().unwrap().len(), 1, "{agent:#}");
    assert!(!granting(&agent, "sts:AssumeRole").is_empty());
}
