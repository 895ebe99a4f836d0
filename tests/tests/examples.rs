//! The example custom steps under plugins/examples, one per language, built from
//! source (Rust by build.rs, Python and JS by their SDKs' build commands) and run
//! on the simulated cloud as a third party would run them.

use scope_host::grants::Policy;
use scope_host_tests::polyglot::{component, Language};
use scope_host_tests::{run_file, run_with, Data, Ran};
use serde_json::json;

/// A simulated account holding `functions` (fixture entries) and the `my-app` repository.
fn account(functions: serde_json::Value) -> serde_json::Value {
    json!({
        "account_id": "123456789012",
        "region": "us-east-1",
        "agent": {"arn": "arn:aws:iam::123456789012:user/np-agent"},
        "iam": {"roles": [{"name": "lambda-exec"}]},
        "lambda": {"functions": functions},
        "ecr": {"repositories": [{"name": "my-app", "images": [
            {"tags": ["v1.0.0", "latest"], "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111"}
        ]}]}
    })
}

fn function(name: &str, tags: serde_json::Value) -> serde_json::Value {
    json!({"name": name, "package_type": "Zip", "runtime": "nodejs22.x", "handler": "index.handler",
           "role": "arn:aws:iam::123456789012:role/lambda-exec", "tags": tags})
}

fn data(cloud: serde_json::Value, vars: &[(&'static str, &str)]) -> Data {
    Data {
        assume: None,
        context: json!({}),
        providers: vec![],
        cloud,
        vars: vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

fn explain(ran: &Ran) -> String {
    format!("{:#?}\nlog:\n{}", ran.report, ran.sink.text())
}

// Rust: image-digest, a crate of its own using the scope-step SDK.

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app";

#[tokio::test]
async fn rust_image_digest_pins_a_tag_to_its_digest() {
    let tag = format!("{IMAGE}:v1.0.0");
    let ran = run_with("image-digest", data(account(json!([])), &[("IMAGE_URI", &tag)])).await;
    assert!(ran.report.succeeded(), "{}", explain(&ran));
    let digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    assert_eq!(ran.output("IMAGE_DIGEST"), digest);
    assert_eq!(ran.output("IMAGE_URI_PINNED"), format!("{IMAGE}@{digest}"));
    assert_eq!(ran.calls(), vec![("ecr".into(), "DescribeImages".into(), "ok".into())]);
}

#[tokio::test]
async fn rust_image_digest_says_what_to_do_about_a_missing_tag_or_a_bad_uri() {
    let missing = format!("{IMAGE}:v9.9.9");
    let ran = run_with("image-digest", data(account(json!([])), &[("IMAGE_URI", &missing)])).await;
    assert_eq!(ran.failure_kind(), "failed", "{}", explain(&ran));
    let message = &ran.report.failure.as_ref().unwrap().message;
    assert!(message.contains("image my-app:v9.9.9 is not in the ECR repository my-app") && message.contains("push it before deploying"));

    let ran = run_with(
        "image-digest",
        data(account(json!([])), &[("IMAGE_URI", "docker.io/library/nginx:1")]),
    )
    .await;
    assert_eq!(ran.failure_kind(), "invalid-input", "{}", explain(&ran));
    assert!(ran.report.failure.as_ref().unwrap().message.contains("is not an ECR registry"));
    assert!(ran.calls().is_empty(), "nothing is sent for a bad URI");
}

// Python: tag-compliance, a diagnose check.

const TAG_COMPLIANCE: &str = "plugins/examples/python/tag-compliance";

async fn tag_compliance(functions: serde_json::Value, policy: Policy) -> Ran {
    let plugin = component(Language::Python, TAG_COMPLIANCE);
    let vars = [("SCOPE_ID", "11"), ("REQUIRED_TAGS", "owner, cost-center")];
    run_file(&plugin, "tag_compliance", data(account(functions), &vars), policy).await
}

#[tokio::test]
async fn python_tag_compliance_names_each_function_missing_a_tag() {
    let ran = tag_compliance(
        json!([
            function(
                "11-api",
                json!({"nullplatform:scope-id": "11", "owner": "payments", "cost-center": "cc-7"})
            ),
            function("11-worker", json!({"nullplatform:scope-id": "11", "owner": "payments"})),
            function(
                "11-cron",
                json!({"nullplatform:scope-id": "11", "owner": " ", "cost-center": "cc-7"})
            ),
            function("12-other-scope", json!({"nullplatform:scope-id": "12"})),
        ]),
        Policy::allow_all(),
    )
    .await;
    let check = ran.report.check.clone().unwrap_or_else(|| panic!("a verdict: {}", explain(&ran)));
    assert_eq!(check.status, "fail");
    assert_eq!(check.summary, "2 of 3 function(s) of scope 11 miss required tags");
    assert_eq!(
        check.evidence,
        vec![
            ("11-cron".to_owned(), "missing owner".to_owned()),
            ("11-worker".to_owned(), "missing cost-center".to_owned()),
        ],
        "another scope's functions are not this check's business; a blank value counts as missing"
    );
    assert_eq!(
        check.suggested_actions,
        vec!["tag 11-cron with owner", "tag 11-worker with cost-center"]
    );
    assert_eq!(ran.calls(), vec![("tag".into(), "GetResources".into(), "ok".into())]);
}

#[tokio::test]
async fn python_tag_compliance_passes_skips_and_reports_a_denial() {
    let tagged = json!({"nullplatform:scope-id": "11", "owner": "payments", "cost-center": "cc-7"});
    let ran = tag_compliance(json!([function("11-api", tagged)]), Policy::allow_all()).await;
    let check = ran.report.check.clone().unwrap_or_else(|| panic!("{}", explain(&ran)));
    assert_eq!(
        (check.status.as_str(), check.summary.as_str()),
        ("pass", "all 1 function(s) of scope 11 carry owner, cost-center")
    );

    let ran = tag_compliance(json!([]), Policy::allow_all()).await;
    assert_eq!(
        ran.report.check.as_ref().map(|c| c.status.as_str()),
        Some("skipped"),
        "{}",
        explain(&ran)
    );

    // An operator policy without the tagging grant: the check cannot run, and says why.
    let ran = tag_compliance(json!([]), Policy::from_flags(&["lambda:*".to_owned()]).unwrap()).await;
    assert_eq!(ran.failure_kind(), "denied", "{}", explain(&ran));
    assert!(ran.report.failure.as_ref().unwrap().message.contains("tag:GetResources"));
}

// JavaScript: deployed-version, a step.

const DEPLOYED_VERSION: &str = "plugins/examples/js/deployed-version";

async fn deployed_version(functions: serde_json::Value) -> Ran {
    let plugin = component(Language::Js, DEPLOYED_VERSION);
    let vars = [("LAMBDA_FUNCTION_NAME", "11-api")];
    run_file(&plugin, "deployed_version", data(account(functions), &vars), Policy::allow_all()).await
}

#[tokio::test]
async fn js_deployed_version_records_what_the_alias_serves() {
    let mut api = function("11-api", json!({}));
    api["versions"] = json!([{"version": "1", "description": "deploy-41"}, {"version": "2", "description": "deploy-42"}]);
    api["aliases"] = json!([{"name": "main", "function_version": "1", "routing": {"2": 0.25}}]);
    let ran = deployed_version(json!([api])).await;
    assert!(ran.report.succeeded(), "{}", explain(&ran));
    assert_eq!(ran.output("DEPLOYED_VERSION"), "1");
    assert_eq!(ran.output("DEPLOYED_DEPLOYMENT_ID"), "deploy-41");
    assert_eq!(ran.output("DEPLOYED_ROUTING"), "2=0.25");
    assert!(
        ran.sink.text().contains("11-api:main serves version 1 (deploy-41), routing 2=0.25"),
        "{}",
        ran.sink.text()
    );
}

#[tokio::test]
async fn js_deployed_version_treats_a_first_deployment_as_nothing_deployed() {
    let ran = deployed_version(json!([function("11-api", json!({}))])).await;
    assert!(ran.report.succeeded(), "{}", explain(&ran));
    assert_eq!(ran.output("DEPLOYED_VERSION"), "");
    assert!(ran.sink.text().contains("warn 11-api has no alias main yet: nothing is deployed"));

    // A function that does not exist is a real failure, with the cloud's words.
    let ran = deployed_version(json!([])).await;
    assert_eq!(ran.failure_kind(), "cloud", "{}", explain(&ran));
    assert!(ran
        .report
        .failure
        .as_ref()
        .unwrap()
        .message
        .contains("ListVersionsByFunction failed: ResourceNotFoundException"));
}
