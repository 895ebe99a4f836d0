//! `scope-host policy`: the IAM policy the Lambda service's workflows need,
//! computed from the built-in plugins' manifests.

use scope_host_tests::{lambda_service, scope_host_command};
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
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
