//! The recorder around the simulated cloud: what a sequence of calls leaves in the
//! recording, and that a replay answers as the recorded cloud did.

use super::*;
use crate::cloud::sim::SimCloud;
#[allow(unused_imports)]
use crate::cloud::{CloudBase, EcrApi, IamApi, LambdaApi, SecretsApi, StsApi, TaggingApi};
use crate::redact::Redactor;
use serde_json::json;

const ACCOUNT: &str = "999988887777";
const FUNCTION: &str = "fn-1";
const ROLE_ARN: &str = "arn:aws:iam::999988887777:role/deployer";

/// A sim in [`ACCOUNT`]: a function with version 1 and alias `main` → 1, a
/// repository with a policy and an image, a deployer role limited to reads and
/// code updates, and a secret.
fn cloud(next_updates: Value) -> Arc<SimCloud> {
    let fixture = json!({
        "account_id": ACCOUNT,
        "iam": {"roles": [{"name": "deployer",
            "allowed_actions": ["lambda:Get*", "lambda:List*", "lambda:UpdateFunctionCode"]}]},
        "lambda": {"functions": [{
            "name": FUNCTION, "image_uri": format!("{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:v1"),
            "environment": {"TOKEN": "an-old-token-value"},
            "versions": [{"version": "1", "description": "first"}],
            "aliases": [{"name": "main", "function_version": "1"}],
            "next_updates": next_updates}]},
        "ecr": {"repositories": [{"name": "app",
            "policy": {"Version": "2012-10-17", "Statement": [{"Sid": "CI", "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444455556666:role/ci"}, "Action": "ecr:PutImage"}]},
            "images": [{"tags": ["v1"]}]}]},
        "secrets": [{"name": "app/params", "value": "the-old-secret-value"}],
    });
    Arc::new(SimCloud::from_fixture_json(&fixture.to_string()).expect("test fixture"))
}

async fn agent(cloud: &Cloud) -> CallCtx {
    CallCtx {
        identity: cloud.agent_identity().await.expect("agent").value,
        region: cloud.default_region(),
    }
}

async fn deployer(cloud: &Cloud, role_arn: &str) -> CallCtx {
    let agent = agent(cloud).await;
    let req = AssumeRoleRequest {
        role_arn: role_arn.into(),
        session_name: "np-test".into(),
        session_policy: None,
        duration_seconds: 3600,
    };
    CallCtx {
        identity: cloud.sts.assume_role(&agent, &req).await.expect("assume role").value,
        region: agent.region,
    }
}

fn recording(inner: Arc<SimCloud>) -> (Cloud, Recorder) {
    recording_with(inner, Value::Null)
}

fn recording_with(inner: Arc<SimCloud>, context: Value) -> (Cloud, Recorder) {
    let inputs = Inputs {
        context,
        ..Inputs::default()
    };
    record(Cloud::of(inner), inputs, "test")
}

/// The recording as text and as JSON, with the run's notes.
fn document(recorder: &Recorder, redactor: &Redactor) -> (String, Value, Vec<String>) {
    let (text, notes) = recorder.document(true, &[], redactor).expect("recording");
    let doc = serde_json::from_str(&text).unwrap();
    (text, doc, notes)
}

fn repo() -> RepositoryRef {
    RepositoryRef {
        registry_id: None,
        region: None,
        name: "app".into(),
    }
}

fn image(tag: &str) -> UpdateCode {
    UpdateCode {
        function_name: FUNCTION.into(),
        code: CodeSource::Image(format!("{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:{tag}")),
        architectures: None,
        revision_id: None,
    }
}

#[tokio::test]
async fn the_first_reads_before_a_write_make_the_state_and_reads_after_it_do_not() {
    let (cloud, recorder) = recording(cloud(json!([])));
    let ctx = agent(&cloud).await;
    let c = &cloud;
    c.lambda.get_function(&ctx, FUNCTION, None).await.unwrap();
    c.lambda.list_versions_by_function(&ctx, FUNCTION).await.unwrap();
    c.lambda.get_alias(&ctx, FUNCTION, "main").await.unwrap();
    c.ecr.get_repository_policy(&ctx, &repo()).await.unwrap();
    c.ecr.describe_images(&ctx, &repo(), &["v1".into()]).await.unwrap();
    c.lambda.update_function_code(&ctx, &image("v2")).await.unwrap();
    c.lambda.get_function_configuration(&ctx, FUNCTION, None).await.unwrap();
    let published = c.lambda.publish_version(&ctx, FUNCTION, "second", None).await.unwrap().value;
    assert_eq!(published.version, "2");
    let update = UpdateAlias {
        function_name: FUNCTION.into(),
        alias_name: "main".into(),
        function_version: Some("2".into()),
        routing: None,
        revision_id: None,
    };
    c.lambda.update_alias(&ctx, &update).await.unwrap();
    c.lambda.get_alias(&ctx, FUNCTION, "main").await.unwrap();
    c.lambda.get_function(&ctx, FUNCTION, Some("2")).await.unwrap();
    c.lambda.list_versions_by_function(&ctx, FUNCTION).await.unwrap();
    c.ecr
        .set_repository_policy(&ctx, &repo(), r#"{"Version": "2012-10-17", "Statement": []}"#)
        .await
        .unwrap();
    c.ecr.get_repository_policy(&ctx, &repo()).await.unwrap();

    let (_, doc, notes) = document(&recorder, &Redactor::new());
    assert!(notes.is_empty(), "{notes:?}");
    let f = &doc["lambda"]["functions"][0];
    assert_eq!(f["image_uri"], "000000000001.dkr.ecr.us-east-1.amazonaws.com/app:v1", "{f}");
    assert_eq!(
        f["versions"].as_array().unwrap().len(),
        1,
        "the run's version 2 is not in the state before: {f}"
    );
    assert_eq!(f["aliases"][0]["function_version"], "1", "{f}");
    let statements = &doc["ecr"]["repositories"][0]["policy"]["Statement"];
    assert_eq!(statements[0]["Sid"], "CI", "the policy as read before it was set: {doc}");
    assert_eq!(doc["ecr"]["repositories"][0]["images"][0]["tags"], json!(["v1"]));
    assert!(doc["secrets"].is_null(), "a secret the run never touched is not recorded: {doc}");
}

#[tokio::test]
async fn a_write_the_run_made_without_reading_first_records_what_the_write_needed() {
    let (cloud, recorder) = recording(cloud(json!([])));
    let ctx = agent(&cloud).await;
    let c = &cloud;
    let update = UpdateAlias {
        function_name: FUNCTION.into(),
        alias_name: "main".into(),
        function_version: Some("1".into()),
        routing: None,
        revision_id: None,
    };
    c.lambda.update_alias(&ctx, &update).await.unwrap();
    c.secrets.put_secret_value(&ctx, "app/params", "a-new-secret-value").await.unwrap();
    let create = CreateSecret {
        name: "app/new".into(),
        description: String::new(),
        secret_string: "a-created-secret-value".into(),
        tags: vec![],
    };
    c.secrets.create_secret(&ctx, &create).await.unwrap();

    let (text, doc, notes) = document(&recorder, &Redactor::new());
    let f = &doc["lambda"]["functions"][0];
    assert_eq!(f["aliases"][0]["name"], "main", "{f}");
    assert_eq!(f["aliases"][0]["function_version"], "1", "as the update left it: {f}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("alias `main` was changed before the run read it; recorded as the change left it")),
        "{notes:?}"
    );
    assert_eq!(doc["secrets"].as_array().unwrap().len(), 1, "only the secret that existed: {doc}");
    assert_eq!(doc["secrets"][0]["name"], "app/params");
    for value in ["a-new-secret-value", "a-created-secret-value", "the-old-secret-value"] {
        assert!(!text.contains(value), "{value} is in the recording:\n{text}");
    }
    assert!(doc["secrets"][0].get("value_sha256").is_none(), "not even a hash: {doc}");
}

#[tokio::test]
async fn an_alias_moved_to_a_version_the_run_published_is_recorded_on_latest_with_a_note() {
    let (cloud, recorder) = recording(cloud(json!([])));
    let ctx = agent(&cloud).await;
    let c = &cloud;
    c.lambda.update_function_code(&ctx, &image("v2")).await.unwrap();
    c.lambda.publish_version(&ctx, FUNCTION, "second", None).await.unwrap();
    let update = UpdateAlias {
        function_name: FUNCTION.into(),
        alias_name: "main".into(),
        function_version: Some("2".into()),
        routing: None,
        revision_id: None,
    };
    c.lambda.update_alias(&ctx, &update).await.unwrap();

    let (_, doc, notes) = document(&recorder, &Redactor::new());
    let f = &doc["lambda"]["functions"][0];
    assert_eq!(f["aliases"][0]["function_version"], "$LATEST", "{f}");
    assert_eq!(f["highest_published_version"], 1, "version 2 is the run's: {f}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("alias `main` was changed before the run read it, to a version of the run's")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("changed before the run read its configuration")),
        "{notes:?}"
    );

    // The replay publishes the same version number and moves the alias the same way.
    let replay = Cloud::of(Arc::new(SimCloud::from_fixture_json(&doc.to_string()).unwrap()));
    let ctx = agent(&replay).await;
    replay.lambda.update_function_code(&ctx, &image("v2")).await.unwrap();
    let published = replay.lambda.publish_version(&ctx, FUNCTION, "second", None).await.unwrap().value;
    assert_eq!(published.version, "2");
    let alias = replay.lambda.update_alias(&ctx, &update).await.unwrap().value;
    assert_eq!(alias.function_version, "2");
}

/// Every status `$LATEST` shows, from an update through `reads` configuration reads.
async fn update_statuses(cloud: &Cloud, reads: usize) -> Vec<String> {
    let ctx = agent(cloud).await;
    let mut statuses = vec![
        cloud
            .lambda
            .update_function_code(&ctx, &image("v2"))
            .await
            .unwrap()
            .value
            .last_update_status,
    ];
    for _ in 0..reads {
        let config = cloud.lambda.get_function_configuration(&ctx, FUNCTION, None).await.unwrap().value;
        statuses.push(config.last_update_status);
    }
    statuses
}

#[tokio::test]
async fn an_update_replays_with_the_statuses_each_read_showed() {
    let (cloud, recorder) = recording(cloud(json!([{"statuses": ["InProgress", "InProgress", "Successful"]}])));
    let seen = update_statuses(&cloud, 3).await;
    assert_eq!(seen, ["InProgress", "InProgress", "Successful", "Successful"]);

    let (_, doc, _) = document(&recorder, &Redactor::new());
    let replay = Cloud::of(Arc::new(SimCloud::from_fixture_json(&doc.to_string()).unwrap()));
    assert_eq!(update_statuses(&replay, 3).await, seen);
}

#[tokio::test]
async fn a_refusal_by_the_cloud_replays_as_a_refusal() {
    let (cloud, recorder) = recording(cloud(json!([])));
    let ctx = deployer(&cloud, ROLE_ARN).await;
    let c = &cloud;
    c.lambda.get_function(&ctx, FUNCTION, None).await.unwrap();
    let refused = c.lambda.publish_version(&ctx, FUNCTION, "second", None).await.unwrap_err();
    assert_eq!(refused.code, "AccessDeniedException");

    let (_, doc, _) = document(&recorder, &Redactor::new());
    let role = &doc["iam"]["roles"][0];
    assert_eq!(role["allowed_actions"], json!(["lambda:GetFunction"]), "{role}");
    let replay = Cloud::of(Arc::new(SimCloud::from_fixture_json(&doc.to_string()).unwrap()));
    let ctx = deployer(&replay, "arn:aws:iam::000000000001:role/deployer").await;
    assert_eq!(
        ctx.identity.arn, "arn:aws:sts::000000000001:assumed-role/deployer/np-test",
        "assumable as AWS let the agent"
    );
    replay.lambda.get_function(&ctx, FUNCTION, None).await.unwrap();
    let again = replay.lambda.publish_version(&ctx, FUNCTION, "second", None).await.unwrap_err();
    assert_eq!(again.code, "AccessDeniedException");
}

#[tokio::test]
async fn secrets_request_ids_and_accounts_never_reach_the_file() {
    let context = json!({"password": "registered-secret", "account": ACCOUNT});
    let (cloud, recorder) = recording_with(cloud(json!([])), context);
    let ctx = agent(&cloud).await;
    let c = &cloud;
    c.lambda.get_function(&ctx, FUNCTION, None).await.unwrap();
    c.ecr.get_repository_policy(&ctx, &repo()).await.unwrap();
    let redactor = Redactor::new();
    redactor.add("registered-secret");

    let (text, doc, _) = document(&recorder, &redactor);
    for real in [ACCOUNT, "444455556666", "an-old-token-value", "registered-secret", "sim-req-"] {
        assert!(!text.contains(real), "{real} is in the recording:\n{text}");
    }
    assert_eq!(doc["lambda"]["functions"][0]["environment"]["TOKEN"], crate::redact::MASK);
    assert_eq!(doc["recording"]["inputs"]["context"]["account"], "000000000001");
    assert_eq!(doc["recording"]["accounts"], json!(["000000000001", "000000000002"]));
}

#[test]
fn what_the_sim_cannot_hold_is_left_out_with_a_note_that_is_scrubbed_too() {
    let mut seen = Seen::new("us-east-1".into());
    seen.agent = Some(("arn:aws:iam::999988887777:user/agent".into(), ACCOUNT.into()));
    for account in [ACCOUNT, "444455556666"] {
        let f = seen
            .functions
            .entry((account.into(), "us-east-1".into(), FUNCTION.into()))
            .or_default();
        f.exists = true;
    }
    let recorder = Recorder {
        seen: Arc::new(Mutex::new(seen)),
        backend: "aws",
        inputs: Inputs::default(),
        target: "test".into(),
    };
    let (text, doc, notes) = document(&recorder, &Redactor::new());
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("444455556666") && notes[0].contains("left out"), "{notes:?}");
    assert!(!text.contains("444455556666") && !text.contains(ACCOUNT), "{text}");
    assert_eq!(doc["lambda"]["functions"].as_array().unwrap().len(), 1, "{doc}");
    assert!(
        doc["recording"]["notes"][0]
            .as_str()
            .unwrap()
            .contains(":000000000002:function:fn-1"),
        "{doc}"
    );
}
