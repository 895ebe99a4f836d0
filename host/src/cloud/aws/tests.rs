//! The AWS backend against moto, the local AWS emulator (and, for what moto cannot
//! show — paging of Lambda versions, answers without an error code, dead
//! endpoints — against small local stand-ins).
//!
//! moto must be installed in `target/moto-venv` (`scripts/moto` creates it;
//! `SCOPE_MOTO_VENV` names another venv). Each test starts its own `moto_server` on
//! a free loopback port and stops it when it ends.

use super::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

use moto_harness::Moto;

/// A loopback port nothing listens on (for the stand-ins of what moto cannot show).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn options(endpoint: String) -> AwsOptions {
    AwsOptions {
        endpoint_url: Some(endpoint),
        region: Some(REGION.to_string()),
        call_timeout: Duration::from_secs(20),
        max_attempts: 1,
        static_credentials: Some(("testing".to_string(), "testing".to_string())),
    }
}

async fn cloud_at(endpoint: String) -> AwsCloud {
    AwsCloud::new(options(endpoint)).await.expect("AwsCloud::new")
}

fn ok<T>(r: CloudResult<T>) -> T {
    match r {
        Ok(reply) => {
            assert!(reply.request_id.is_some(), "an answer without a request id");
            reply.value
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn err<T: std::fmt::Debug>(r: CloudResult<T>) -> CloudError {
    match r {
        Ok(reply) => panic!("expected an error, got {:?}", reply.value),
        Err(e) => e,
    }
}

async fn agent_ctx(cloud: &AwsCloud) -> CallCtx {
    CallCtx {
        identity: ok(cloud.agent_identity().await),
        region: REGION.to_string(),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[tokio::test]
async fn the_agent_and_an_assumed_role_sign_their_own_calls() {
    let moto = Moto::start();
    let cloud = cloud_at(moto.url()).await;
    assert_eq!((cloud.backend(), cloud.default_region()), ("aws", REGION.to_string()));

    let agent = ok(cloud.agent_identity().await);
    assert_eq!(agent.account, ACCOUNT);
    assert!(agent.arn.starts_with(&format!("arn:aws:sts::{ACCOUNT}:user/")), "{}", agent.arn);
    assert_eq!(
        (agent.expires_at, agent.credentials.clone()),
        (None, None),
        "the host never holds agent keys"
    );

    // Record what is sent, to see the session policy go out with AssumeRole.
    moto.start_recording();
    let ctx = CallCtx {
        identity: agent,
        region: REGION.to_string(),
    };
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#;
    let req = AssumeRoleRequest {
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
        session_name: "scope-11".to_string(),
        session_policy: Some(policy.to_string()),
        duration_seconds: 900,
    };
    let before = now_secs();
    let assumed = ok(cloud.assume_role(&ctx, &req).await);
    assert_eq!(assumed.arn, format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/scope-11"));
    assert_eq!(assumed.account, ACCOUNT);
    let expires = assumed.expires_at.expect("an expiry");
    assert!(
        (before + 800..=now_secs() + 1000).contains(&expires),
        "expiry {expires} is not ~900 s after {before}"
    );
    let creds = assumed.credentials.clone().expect("temporary credentials");
    assert!(creds.access_key_id.starts_with("ASIA"), "{creds:?}");
    assert!(!creds.secret_access_key.is_empty() && creds.session_token.as_deref().is_some_and(|t| !t.is_empty()));
    let sent = moto.recorded_bodies();
    let assume = sent
        .iter()
        .find(|b| b.contains("Action=AssumeRole"))
        .expect("AssumeRole was recorded");
    let fields: Vec<String> = assume.split('&').map(iam_sts::percent_decode).collect();
    for want in [
        format!("Policy={policy}"),
        "DurationSeconds=900".into(),
        "RoleSessionName=scope-11".into(),
    ] {
        assert!(fields.contains(&want), "{want} was not sent: {fields:?}");
    }

    // moto names the caller by the keys that signed the request.
    let as_assumed = cloud
        .clients(&assumed, REGION)
        .sts()
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as the session");
    assert_eq!(as_assumed.arn(), Some(assumed.arn.as_str()));

    // Trait calls as the session work, and reuse one client set per identity and region.
    let session = CallCtx {
        identity: assumed.clone(),
        region: REGION.to_string(),
    };
    let created = ok(cloud
        .create_secret(
            &session,
            &CreateSecret {
                name: "nullplatform/11/session".into(),
                description: "made by the session".into(),
                secret_string: "v1".into(),
                tags: vec![],
            },
        )
        .await);
    assert!(created.arn.contains("nullplatform/11/session"), "{}", created.arn);
    let sets = cloud.cached_client_sets();
    for _ in 0..3 {
        ok(cloud.put_secret_value(&session, "nullplatform/11/session", "v2").await);
        ok(cloud.agent_identity().await);
    }
    assert_eq!(cloud.cached_client_sets(), sets, "clients must be reused, not built per call");
    assert_eq!(sets, 2, "one set for the agent, one for the session");
}

const TRUST: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A role and an image function with tags and reserved concurrency, made with the SDK.
async fn seed_function(cloud: &AwsCloud, ctx: &CallCtx, name: &str, image: &str) -> String {
    let clients = cloud.for_ctx(ctx);
    let role = clients
        .iam()
        .create_role()
        .role_name("lambda-exec")
        .path("/np/")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("CreateRole");
    let role_arn = role.role().map(|r| r.arn().to_string()).expect("role arn");
    clients
        .lambda()
        .create_function()
        .function_name(name)
        .role(&role_arn)
        .package_type(aws_sdk_lambda::types::PackageType::Image)
        .code(aws_sdk_lambda::types::FunctionCode::builder().image_uri(image).build())
        .memory_size(256)
        .timeout(30)
        .tags("nullplatform:scope-id", "11")
        .send()
        .await
        .expect("CreateFunction");
    clients
        .lambda()
        .put_function_concurrency()
        .function_name(name)
        .reserved_concurrent_executions(4)
        .send()
        .await
        .expect("PutFunctionConcurrency");
    role_arn
}

#[tokio::test]
async fn a_function_is_read_updated_published_and_routed() {
    let moto = Moto::start();
    let cloud = cloud_at(moto.url()).await;
    let ctx = agent_ctx(&cloud).await;
    let f = "11-my-app-my-scope";
    let image = format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/my-app:v1");
    let role_arn = seed_function(&cloud, &ctx, f, &image).await;

    let info = ok(cloud.get_function(&ctx, f, None).await);
    let c = &info.configuration;
    assert_eq!(
        (c.function_name.as_str(), c.version.as_str(), c.package_type, c.image_uri.as_deref()),
        (f, "$LATEST", PackageType::Image, Some(image.as_str()))
    );
    assert_eq!((c.memory_size, c.timeout, c.role.as_str()), (256, 30, role_arn.as_str()));
    assert_eq!(c.function_arn, format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{f}"));
    assert!(!c.state.is_empty() && !c.code_sha256.is_empty(), "{c:?}");
    assert_eq!(info.tags, vec![("nullplatform:scope-id".to_string(), "11".to_string())]);
    assert_eq!(info.reserved_concurrency, Some(4));

    let role = ok(cloud.get_role(&ctx, "lambda-exec").await);
    assert_eq!((role.arn.as_str(), role.max_session_duration), (role_arn.as_str(), 3600));
    let trust: serde_json::Value = serde_json::from_str(&role.assume_role_policy_document).expect("trust policy is JSON");
    assert_eq!(trust["Statement"][0]["Principal"]["Service"], "lambda.amazonaws.com");

    let updated = ok(cloud
        .update_function_configuration(
            &ctx,
            &UpdateConfiguration {
                function_name: f.into(),
                memory_size: Some(512),
                environment: Some(vec![("B".into(), "2".into()), ("A".into(), "1".into())]),
                description: Some("scope 11".into()),
                ..Default::default()
            },
        )
        .await);
    assert_eq!(updated.memory_size, 512);
    assert_eq!(updated.environment, vec![("A".into(), "1".into()), ("B".into(), "2".into())]);
    let read_back = ok(cloud.get_function_configuration(&ctx, f, None).await);
    assert_eq!((read_back.memory_size, read_back.description.as_str()), (512, "scope 11"));
    assert_eq!(read_back.timeout, 30, "settings not named stay as they were");

    let v1 = ok(cloud.publish_version(&ctx, f, "deploy-1", None).await);
    assert_eq!((v1.version.as_str(), v1.description.as_str()), ("1", "deploy-1"));
    let image2 = format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/my-app:v2");
    let code = ok(cloud
        .update_function_code(
            &ctx,
            &UpdateCode {
                function_name: f.into(),
                code: CodeSource::Image(image2.clone()),
                architectures: None,
                revision_id: None,
            },
        )
        .await);
    assert_eq!(code.image_uri.as_deref(), Some(image2.as_str()));
    let v2 = ok(cloud.publish_version(&ctx, f, "deploy-2", None).await);
    assert_eq!((v2.version.as_str(), v2.description.as_str()), ("2", "deploy-2"));
    let at_v1 = ok(cloud.get_function_configuration(&ctx, f, Some("1")).await);
    assert_eq!(
        (at_v1.version.as_str(), at_v1.memory_size),
        ("1", 512),
        "the published version's settings"
    );

    let versions = ok(cloud.list_versions_by_function(&ctx, f).await);
    let listed: Vec<(&str, &str)> = versions.iter().map(|v| (v.version.as_str(), v.description.as_str())).collect();
    assert_eq!(listed[0].0, "$LATEST");
    assert_eq!(&listed[1..], [("1", "deploy-1"), ("2", "deploy-2")]);

    let weights = vec![VersionWeight {
        version: "2".into(),
        weight: 0.1,
    }];
    let alias = ok(cloud
        .create_alias(
            &ctx,
            &CreateAlias {
                function_name: f.into(),
                alias_name: "main".into(),
                function_version: "1".into(),
                description: "live traffic".into(),
                routing: weights.clone(),
            },
        )
        .await);
    assert_eq!((alias.function_version.as_str(), alias.routing.clone()), ("1", weights.clone()));
    assert_eq!(alias.alias_arn, format!("{}:main", c.function_arn));
    // Moving the alias without naming routing keeps the weights.
    let moved = ok(cloud
        .update_alias(
            &ctx,
            &UpdateAlias {
                function_name: f.into(),
                alias_name: "main".into(),
                function_version: Some("1".into()),
                routing: None,
                revision_id: None,
            },
        )
        .await);
    assert_eq!(moved.routing, weights);
    let cleared = ok(cloud
        .update_alias(
            &ctx,
            &UpdateAlias {
                function_name: f.into(),
                alias_name: "main".into(),
                function_version: Some("2".into()),
                routing: Some(vec![]),
                revision_id: None,
            },
        )
        .await);
    assert_eq!((cleared.function_version.as_str(), cleared.routing.len()), ("2", 0));
    let fetched = ok(cloud.get_alias(&ctx, f, "main").await);
    assert_eq!(
        (fetched.function_version.as_str(), fetched.routing.len()),
        ("2", 0),
        "routing stays cleared"
    );

    let no_policy = err(cloud.get_policy(&ctx, f, None).await);
    assert_eq!(
        (no_policy.service.as_str(), no_policy.operation.as_str(), no_policy.code.as_str()),
        ("lambda", "GetPolicy", "ResourceNotFoundException")
    );
    assert!(!no_policy.retryable && no_policy.request_id.is_some(), "{no_policy:?}");

    ok(cloud.delete_function(&ctx, f, None).await);
    let gone = err(cloud.get_function(&ctx, f, None).await);
    assert_eq!(
        (gone.code.as_str(), gone.operation.as_str()),
        ("ResourceNotFoundException", "GetFunction")
    );
    assert!(gone.message.contains(f), "the message names the function: {}", gone.message);
}

#[tokio::test]
async fn repositories_secrets_and_tags() {
    let moto = Moto::start();
    let mut cloud = cloud_at(moto.url()).await;
    // Small pages, so GetResources has to follow its pagination token.
    cloud.page_size = Some(1);
    let ctx = agent_ctx(&cloud).await;

    // ECR: the policy is missing, then set, then read back; another region is
    // another registry.
    cloud
        .for_ctx(&ctx)
        .ecr()
        .create_repository()
        .repository_name("my-app")
        .send()
        .await
        .expect("CreateRepository");
    let repo = RepositoryRef {
        registry_id: Some(ACCOUNT.into()),
        region: None,
        name: "my-app".into(),
    };
    let missing = err(cloud.get_repository_policy(&ctx, &repo).await);
    assert_eq!(
        (missing.service.as_str(), missing.code.as_str(), missing.retryable),
        ("ecr", "RepositoryPolicyNotFoundException", false)
    );
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["ecr:BatchGetImage"]}]});
    ok(cloud.set_repository_policy(&ctx, &repo, &policy.to_string()).await);
    let text = ok(cloud
        .get_repository_policy(
            &ctx,
            &RepositoryRef {
                registry_id: None,
                ..repo.clone()
            },
        )
        .await);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).expect("policy JSON"), policy);
    let elsewhere = RepositoryRef {
        region: Some("eu-west-1".into()),
        ..repo.clone()
    };
    let other_region = err(cloud.get_repository_policy(&ctx, &elsewhere).await);
    assert_eq!(other_region.code, "RepositoryNotFoundException", "{other_region}");
    // Images: by tag, and all of them over pages of one.
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
            "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"}, "layers": []});
    for tag in ["v1", "v2"] {
        cloud
            .for_ctx(&ctx)
            .ecr()
            .put_image()
            .repository_name("my-app")
            .image_manifest(manifest.to_string().replace("7023", if tag == "v1" { "7023" } else { "7024" }))
            .image_tag(tag)
            .send()
            .await
            .expect("PutImage");
    }
    let tagged = ok(cloud.describe_images(&ctx, &repo, &["v2".to_string()]).await);
    assert_eq!(tagged.len(), 1, "{tagged:?}");
    assert!(tagged[0].digest.starts_with("sha256:") && tagged[0].tags == ["v2"], "{tagged:?}");
    let all = ok(cloud.describe_images(&ctx, &repo, &[]).await);
    assert_eq!(all.len(), 2, "every page: {all:?}");
    let missing_tag = err(cloud.describe_images(&ctx, &repo, &["v9".to_string()]).await);
    assert_eq!(missing_tag.code, "ImageNotFoundException", "{missing_tag}");

    // Secrets: create, overwrite, refuse a duplicate, delete with and without recovery.
    let create = |name: &str, scope: &str| CreateSecret {
        name: name.to_string(),
        description: "deployment parameters".into(),
        secret_string: "first".into(),
        tags: vec![("nullplatform:scope-id".into(), scope.into())],
    };
    let first = ok(cloud.create_secret(&ctx, &create("np/12/a", "12")).await);
    assert!(
        first
            .arn
            .starts_with(&format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:np/12/a-")),
        "{}",
        first.arn
    );
    assert_eq!(first.name, "np/12/a");
    let put = ok(cloud.put_secret_value(&ctx, "np/12/a", "second").await);
    assert_eq!(put.arn, first.arn);
    assert!(put.version_id.is_some() && put.version_id != first.version_id, "a new version");
    let twice = err(cloud.create_secret(&ctx, &create("np/12/a", "12")).await);
    assert_eq!(
        (twice.service.as_str(), twice.code.as_str()),
        ("secretsmanager", "ResourceExistsException")
    );
    ok(cloud.create_secret(&ctx, &create("np/12/b", "12")).await);
    ok(cloud.create_secret(&ctx, &create("np/12/c", "12")).await);
    ok(cloud.create_secret(&ctx, &create("np/13/a", "13")).await);

    // Tagging: every page, only the matching scope, sorted by ARN.
    let filters = [TagFilter {
        key: "nullplatform:scope-id".into(),
        values: vec!["12".into()],
    }];
    let found = ok(cloud.get_resources(&ctx, &["secretsmanager:secret".to_string()], &filters).await);
    let names: Vec<&str> = found
        .iter()
        .map(|r| r.arn.split(":secret:").nth(1).unwrap_or_default())
        .map(|n| n.rsplit_once('-').map_or(n, |(name, _)| name))
        .collect();
    assert_eq!(names, ["np/12/a", "np/12/b", "np/12/c"], "{found:?}");
    assert!(found
        .iter()
        .all(|r| r.tags == vec![("nullplatform:scope-id".to_string(), "12".to_string())]));

    // Without force the secret is only scheduled for deletion (moto, unlike AWS, still
    // accepts values for it, so look at the schedule); with force it is gone at once.
    ok(cloud.delete_secret(&ctx, "np/12/b", false).await);
    let described = cloud
        .for_ctx(&ctx)
        .secrets()
        .describe_secret()
        .secret_id("np/12/b")
        .send()
        .await
        .expect("a scheduled secret still exists");
    assert!(described.deleted_date().is_some(), "np/12/b is scheduled for deletion");
    ok(cloud.delete_secret(&ctx, "np/12/c", true).await);
    let deleted = err(cloud.put_secret_value(&ctx, "np/12/c", "x").await);
    assert_eq!(
        (deleted.operation.as_str(), deleted.code.as_str()),
        ("PutSecretValue", "ResourceNotFoundException")
    );
}

#[tokio::test]
async fn roles_and_their_policies_are_created_changed_and_deleted() {
    let moto = Moto::start();
    let mut cloud = cloud_at(moto.url()).await;
    // Small pages, so the policy listings have to follow their markers.
    cloud.page_size = Some(1);
    let ctx = agent_ctx(&cloud).await;
    let boundary = "arn:aws:iam::aws:policy/PowerUserAccess";
    let tag = |k: &str, v: &str| (k.to_string(), v.to_string());

    let created = ok(cloud
        .create_role(
            &ctx,
            &CreateRole {
                role_name: "np-11-exec".into(),
                assume_role_policy_document: TRUST.into(),
                description: "scope 11 functions".into(),
                permissions_boundary: Some(boundary.into()),
                tags: vec![tag("z", "last"), tag("nullplatform:scope-id", "11")],
            },
        )
        .await);
    assert_eq!(created.arn, format!("arn:aws:iam::{ACCOUNT}:role/np-11-exec"));
    assert_eq!(created.permissions_boundary.as_deref(), Some(boundary));
    let twice = err(cloud
        .create_role(
            &ctx,
            &CreateRole {
                role_name: "np-11-exec".into(),
                assume_role_policy_document: TRUST.into(),
                description: String::new(),
                permissions_boundary: None,
                tags: vec![],
            },
        )
        .await);
    assert_eq!(
        (twice.operation.as_str(), twice.code.as_str()),
        ("CreateRole", "EntityAlreadyExists")
    );

    let role = ok(cloud.get_role(&ctx, "np-11-exec").await);
    assert_eq!(
        (
            role.description.as_str(),
            role.permissions_boundary.as_deref(),
            role.role_id.as_str()
        ),
        ("scope 11 functions", Some(boundary), created.role_id.as_str())
    );
    assert_eq!(
        role.tags,
        vec![tag("nullplatform:scope-id", "11"), tag("z", "last")],
        "sorted by key"
    );

    // Changes to the role show in the next read.
    let other_boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    ok(cloud.tag_role(&ctx, "np-11-exec", &[tag("env", "dev")]).await);
    ok(cloud.put_role_permissions_boundary(&ctx, "np-11-exec", other_boundary).await);
    let trust = TRUST.replace("lambda.amazonaws.com", "edgelambda.amazonaws.com");
    ok(cloud.update_assume_role_policy(&ctx, "np-11-exec", &trust).await);
    let role = ok(cloud.get_role(&ctx, "np-11-exec").await);
    assert_eq!(role.permissions_boundary.as_deref(), Some(other_boundary));
    assert_eq!(
        role.tags,
        vec![tag("env", "dev"), tag("nullplatform:scope-id", "11"), tag("z", "last")]
    );
    let read_trust: serde_json::Value = serde_json::from_str(&role.assume_role_policy_document).expect("trust policy is JSON");
    assert_eq!(read_trust["Statement"][0]["Principal"]["Service"], "edgelambda.amazonaws.com");

    // Inline policies: put, read back as JSON, list over pages, delete.
    let logs_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/np-11-*:*"}]});
    let secrets_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]});
    ok(cloud.put_role_policy(&ctx, "np-11-exec", "logs", &logs_policy.to_string()).await);
    ok(cloud
        .put_role_policy(&ctx, "np-11-exec", "secrets", &secrets_policy.to_string())
        .await);
    let text = ok(cloud.get_role_policy(&ctx, "np-11-exec", "logs").await);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).expect("policy JSON"), logs_policy);
    let mut names = ok(cloud.list_role_policies(&ctx, "np-11-exec").await);
    names.sort();
    assert_eq!(names, ["logs", "secrets"]);
    ok(cloud.delete_role_policy(&ctx, "np-11-exec", "secrets").await);
    assert_eq!(ok(cloud.list_role_policies(&ctx, "np-11-exec").await), ["logs"]);
    let missing = err(cloud.get_role_policy(&ctx, "np-11-exec", "secrets").await);
    assert_eq!(
        (missing.operation.as_str(), missing.code.as_str()),
        ("GetRolePolicy", "NoSuchEntity")
    );

    // Managed policies: attach, list, detach. moto holds AWS's own managed policies
    // only when started with MOTO_IAM_LOAD_MANAGED_POLICIES=true, so an AWS policy
    // is not found here; customer managed ones stand in for them.
    let vpc = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole";
    let not_loaded = err(cloud.attach_role_policy(&ctx, "np-11-exec", vpc).await);
    assert_eq!(
        (not_loaded.operation.as_str(), not_loaded.code.as_str()),
        ("AttachRolePolicy", "NoSuchEntity")
    );
    let mut managed = Vec::new();
    for name in ["AWSLambdaVPCAccessExecutionRole", "AWSLambdaBasicExecutionRole"] {
        let policy = cloud
            .for_ctx(&ctx)
            .iam()
            .create_policy()
            .policy_name(name)
            .path("/service-role/")
            .policy_document(logs_policy.to_string())
            .send()
            .await
            .expect("CreatePolicy");
        managed.push(policy.policy().and_then(|p| p.arn()).expect("policy arn").to_string());
    }
    let (vpc, basic) = (managed[0].as_str(), managed[1].as_str());
    assert_eq!(
        vpc,
        format!("arn:aws:iam::{ACCOUNT}:policy/service-role/AWSLambdaVPCAccessExecutionRole")
    );
    ok(cloud.attach_role_policy(&ctx, "np-11-exec", vpc).await);
    ok(cloud.attach_role_policy(&ctx, "np-11-exec", basic).await);
    let mut attached = ok(cloud.list_attached_role_policies(&ctx, "np-11-exec").await);
    attached.sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
    assert_eq!(
        attached,
        vec![
            AttachedPolicy {
                policy_name: "AWSLambdaBasicExecutionRole".into(),
                policy_arn: basic.into(),
            },
            AttachedPolicy {
                policy_name: "AWSLambdaVPCAccessExecutionRole".into(),
                policy_arn: vpc.into(),
            },
        ]
    );
    ok(cloud.detach_role_policy(&ctx, "np-11-exec", basic).await);
    ok(cloud.detach_role_policy(&ctx, "np-11-exec", vpc).await);
    assert!(ok(cloud.list_attached_role_policies(&ctx, "np-11-exec").await).is_empty());
    ok(cloud.delete_role_policy(&ctx, "np-11-exec", "logs").await);

    ok(cloud.delete_role(&ctx, "np-11-exec").await);
    let gone = err(cloud.get_role(&ctx, "np-11-exec").await);
    assert_eq!(gone.code, "NoSuchEntity", "{gone}");
    let again = err(cloud.delete_role(&ctx, "np-11-exec").await);
    assert_eq!(
        (again.service.as_str(), again.operation.as_str(), again.code.as_str()),
        ("iam", "DeleteRole", "NoSuchEntity")
    );
    assert!(!again.retryable && again.request_id.is_some(), "{again:?}");
}

#[tokio::test]
async fn log_groups_are_created_kept_for_a_while_and_deleted() {
    let moto = Moto::start();
    let mut cloud = cloud_at(moto.url()).await;
    // Small pages, so DescribeLogGroups has to follow its token.
    cloud.page_size = Some(1);
    let ctx = agent_ctx(&cloud).await;
    let tags = [("nullplatform:scope-id".to_string(), "11".to_string())];
    for name in ["/aws/lambda/np-11-a", "/aws/lambda/np-11-b", "/aws/lambda/np-12-a"] {
        ok(cloud.create_log_group(&ctx, name, &tags).await);
    }
    let twice = err(cloud.create_log_group(&ctx, "/aws/lambda/np-11-a", &[]).await);
    assert_eq!(
        (twice.service.as_str(), twice.code.as_str()),
        ("logs", "ResourceAlreadyExistsException")
    );
    // Events, read back a page at a time within a window, by a filter term (recent
    // ones: CloudWatch Logs, and moto, refuse events older than 14 days).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let logs = cloud.for_ctx(&ctx).logs().clone();
    logs.create_log_stream()
        .log_group_name("/aws/lambda/np-11-a")
        .log_stream_name("2026/08/07/[3]a")
        .send()
        .await
        .expect("CreateLogStream");
    let event = |t: i64, m: &str| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(t)
            .message(m)
            .build()
            .unwrap()
    };
    logs.put_log_events()
        .log_group_name("/aws/lambda/np-11-a")
        .log_stream_name("2026/08/07/[3]a")
        .log_events(event(now - 600_000, "START RequestId: 6f1c2a"))
        .log_events(event(now - 599_000, "END RequestId: 6f1c2a"))
        .log_events(event(now - 60_000, "START RequestId: late"))
        .send()
        .await
        .expect("PutLogEvents");
    let window = FilterLogEvents {
        log_group_name: "/aws/lambda/np-11-a".into(),
        start_time: Some((now - 700_000) as u64),
        end_time: Some((now - 300_000) as u64),
        limit: Some(1),
        ..FilterLogEvents::default()
    };
    let first = ok(cloud.filter_log_events(&ctx, &window).await);
    assert_eq!(first.events.len(), 1);
    assert_eq!(first.events[0].message, "START RequestId: 6f1c2a");
    assert_eq!(first.events[0].log_stream_name, "2026/08/07/[3]a");
    let token = first.next_token.clone().expect("a next page");
    let second = ok(cloud
        .filter_log_events(
            &ctx,
            &FilterLogEvents {
                next_token: Some(token),
                ..window.clone()
            },
        )
        .await);
    assert_eq!(second.events[0].message, "END RequestId: 6f1c2a");
    let starts = ok(cloud
        .filter_log_events(
            &ctx,
            &FilterLogEvents {
                filter_pattern: Some("START".into()),
                start_time: None,
                end_time: None,
                limit: None,
                ..window.clone()
            },
        )
        .await);
    assert_eq!(starts.events.len(), 2, "{starts:?}");

    let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/np-11-a");
    let listed = cloud
        .for_ctx(&ctx)
        .logs()
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(
        listed.tags().and_then(|t| t.get("nullplatform:scope-id")).map(String::as_str),
        Some("11"),
        "{listed:?}"
    );

    ok(cloud.put_retention_policy(&ctx, "/aws/lambda/np-11-a", 30).await);
    let groups = ok(cloud.describe_log_groups(&ctx, "/aws/lambda/np-11-").await);
    let seen: Vec<(&str, Option<u32>)> = groups.iter().map(|g| (g.name.as_str(), g.retention_in_days)).collect();
    assert_eq!(
        seen,
        [("/aws/lambda/np-11-a", Some(30)), ("/aws/lambda/np-11-b", None)],
        "every page"
    );
    assert_eq!(groups[0].arn, arn, "no trailing :*");
    ok(cloud.delete_retention_policy(&ctx, "/aws/lambda/np-11-a").await);
    let groups = ok(cloud.describe_log_groups(&ctx, "/aws/lambda/np-11-a").await);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].retention_in_days, None, "retention removed");

    ok(cloud.delete_log_group(&ctx, "/aws/lambda/np-11-a").await);
    ok(cloud.delete_log_group(&ctx, "/aws/lambda/np-11-b").await);
    assert!(ok(cloud.describe_log_groups(&ctx, "/aws/lambda/np-11-").await).is_empty());
    assert_eq!(ok(cloud.describe_log_groups(&ctx, "").await).len(), 1, "np-12-a is left");
    let again = err(cloud.delete_log_group(&ctx, "/aws/lambda/np-11-a").await);
    assert_eq!(
        (again.operation.as_str(), again.code.as_str()),
        ("DeleteLogGroup", "ResourceNotFoundException")
    );
    assert!(again.request_id.is_some(), "{again:?}");
}

/// CRC-32 (IEEE), as zip archives use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A zip archive holding one uncompressed file: a local header and the data, one
/// central directory entry, the end record.
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let u16le = |n: usize| u16::try_from(n).expect("fits in u16").to_le_bytes();
    let u32le = |n: usize| u32::try_from(n).expect("fits in u32").to_le_bytes();
    let crc = crc32(data).to_le_bytes();
    // Version needed 2.0, no flags, stored, 1980-01-01 00:00.
    let common = [&u16le(20)[..], &u16le(0), &u16le(0), &u16le(0), &u16le(0x21)].concat();
    let sizes = [&crc[..], &u32le(data.len()), &u32le(data.len()), &u16le(name.len()), &u16le(0)].concat();
    let mut zip = [&0x0403_4b50u32.to_le_bytes()[..], &common, &sizes, name.as_bytes(), data].concat();
    let central_at = zip.len();
    let central = [
        &0x0201_4b50u32.to_le_bytes()[..],
        &u16le(20), // made by
        &common,
        &sizes,
        &u16le(0), // comment length
        &u16le(0), // disk number
        &u16le(0), // internal attributes
        &u32le(0), // external attributes
        &u32le(0), // local header offset
        name.as_bytes(),
    ]
    .concat();
    zip.extend_from_slice(&central);
    let end = [
        &0x0605_4b50u32.to_le_bytes()[..],
        &u16le(0),
        &u16le(0),
        &u16le(1),
        &u16le(1),
        &u32le(central.len()),
        &u32le(central_at),
        &u16le(0),
    ]
    .concat();
    zip.extend_from_slice(&end);
    zip
}

#[test]
fn the_hand_made_zip_is_well_formed() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "the CRC-32 check value");
    let zip = stored_zip("index.js", b"hi");
    // 30 + 8 + 2 local, 46 + 8 central, 22 end.
    assert_eq!(zip.len(), 116);
    assert_eq!(&zip[zip.len() - 22..zip.len() - 18], &0x0605_4b50u32.to_le_bytes());
    assert_eq!(
        &zip[40..44],
        &0x0201_4b50u32.to_le_bytes(),
        "the central directory follows the data"
    );
}

#[tokio::test]
async fn a_zip_function_is_created_limited_aliased_and_deleted() {
    let moto = Moto::start();
    let cloud = cloud_at(moto.url()).await;
    let ctx = agent_ctx(&cloud).await;
    let role = ok(cloud
        .create_role(
            &ctx,
            &CreateRole {
                role_name: "np-12-exec".into(),
                assume_role_policy_document: TRUST.into(),
                description: String::new(),
                permissions_boundary: None,
                tags: vec![],
            },
        )
        .await);
    let f = "np-12-api";
    let zip = stored_zip("index.js", b"exports.handler = async () => ({ statusCode: 200 });\n");
    let req = CreateFunction {
        function_name: f.into(),
        role: role.arn.clone(),
        package_type: PackageType::Zip,
        code: FunctionCode::ZipFile(zip),
        runtime: Some("nodejs20.x".into()),
        handler: Some("index.handler".into()),
        architectures: vec!["arm64".into()],
        memory_size: Some(256),
        timeout: Some(15),
        ephemeral_storage: None,
        environment: vec![("B".into(), "2".into()), ("A".into(), "1".into())],
        layers: vec![],
        vpc: None,
        description: "scope 12".into(),
        publish: true,
        tags: vec![("nullplatform:scope-id".into(), "12".into())],
    };
    let created = ok(cloud.create_function(&ctx, &req).await);
    assert_eq!(created.function_arn, format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{f}"));
    assert_eq!(
        (created.runtime.as_deref(), created.handler.as_deref(), created.package_type),
        (Some("nodejs20.x"), Some("index.handler"), PackageType::Zip)
    );
    assert_eq!(
        (created.memory_size, created.timeout, created.role.as_str()),
        (256, 15, role.arn.as_str())
    );
    assert_eq!(created.architectures, ["arm64"]);
    assert_eq!(created.environment, vec![("A".into(), "1".into()), ("B".into(), "2".into())]);
    assert!(!created.code_sha256.is_empty(), "{created:?}");
    let twice = err(cloud.create_function(&ctx, &req).await);
    assert_eq!(
        (twice.operation.as_str(), twice.code.as_str()),
        ("CreateFunction", "ResourceConflictException")
    );

    let info = ok(cloud.get_function(&ctx, f, None).await);
    assert_eq!(info.configuration.code_sha256, created.code_sha256);
    assert_eq!(info.configuration.description, "scope 12");
    assert_eq!(info.tags, vec![("nullplatform:scope-id".to_string(), "12".to_string())]);
    assert_eq!(info.reserved_concurrency, None);
    let versions = ok(cloud.list_versions_by_function(&ctx, f).await);
    assert!(
        versions.iter().any(|v| v.version == "1"),
        "publish: true made version 1: {versions:?}"
    );

    ok(cloud.put_function_concurrency(&ctx, f, 5).await);
    assert_eq!(ok(cloud.get_function(&ctx, f, None).await).reserved_concurrency, Some(5));
    ok(cloud.delete_function_concurrency(&ctx, f).await);
    assert_eq!(ok(cloud.get_function(&ctx, f, None).await).reserved_concurrency, None);

    ok(cloud
        .create_alias(
            &ctx,
            &CreateAlias {
                function_name: f.into(),
                alias_name: "live".into(),
                function_version: "1".into(),
                description: String::new(),
                routing: vec![],
            },
        )
        .await);
    assert_eq!(ok(cloud.get_alias(&ctx, f, "live").await).function_version, "1");
    ok(cloud.delete_alias(&ctx, f, "live").await);
    let no_alias = err(cloud.get_alias(&ctx, f, "live").await);
    assert_eq!(no_alias.code, "ResourceNotFoundException", "{no_alias}");

    ok(cloud.delete_function(&ctx, f, None).await);
    let gone = err(cloud.get_function(&ctx, f, None).await);
    assert_eq!(
        (gone.operation.as_str(), gone.code.as_str()),
        ("GetFunction", "ResourceNotFoundException")
    );
}

#[tokio::test]
async fn secrets_are_listed_by_name_prefix() {
    let moto = Moto::start();
    let mut cloud = cloud_at(moto.url()).await;
    // Small pages, so ListSecrets has to follow its token.
    cloud.page_size = Some(1);
    let ctx = agent_ctx(&cloud).await;
    let mut arns = BTreeMap::new();
    for name in ["np/20/b", "np/20/a", "np/20/c", "np/21/a", "other/np/20/a", "NP/20/upper"] {
        let created = ok(cloud
            .create_secret(
                &ctx,
                &CreateSecret {
                    name: name.into(),
                    description: String::new(),
                    secret_string: "v".into(),
                    tags: vec![],
                },
            )
            .await);
        arns.insert(name, created.arn);
    }
    // Scheduled for deletion: left out.
    ok(cloud.delete_secret(&ctx, "np/20/c", false).await);

    let listed = ok(cloud.list_secrets(&ctx, "np/20/").await);
    let want: Vec<SecretSummary> = ["np/20/a", "np/20/b"]
        .iter()
        .map(|n| SecretSummary {
            arn: arns[n].clone(),
            name: (*n).to_string(),
        })
        .collect();
    assert_eq!(listed, want);
    assert!(ok(cloud.list_secrets(&ctx, "np/22/").await).is_empty());
}

#[tokio::test]
async fn unreachable_and_silent_endpoints_fail_fast_and_retryable() {
    // Nothing listens on this port.
    let port = free_port();
    let cloud = AwsCloud::new(AwsOptions {
        call_timeout: Duration::from_secs(5),
        ..options(format!("http://127.0.0.1:{port}"))
    })
    .await
    .expect("AwsCloud::new");
    let started = Instant::now();
    let e = err(cloud.agent_identity().await);
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert_eq!(
        (e.service.as_str(), e.operation.as_str(), e.code.as_str()),
        ("sts", "GetCallerIdentity", "NetworkError")
    );
    assert!(e.retryable && e.request_id.is_none(), "{e:?}");
    assert!(
        e.message.contains(&format!("127.0.0.1:{port}")),
        "the message names the endpoint: {}",
        e.message
    );
    assert!(!e.message.contains("testing"), "no key material in messages: {}", e.message);

    // This one accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let cloud = AwsCloud::new(AwsOptions {
        call_timeout: Duration::from_millis(500),
        ..options(format!("http://127.0.0.1:{silent_port}"))
    })
    .await
    .expect("AwsCloud::new");
    let ctx = CallCtx {
        identity: Identity {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/np-agent"),
            account: ACCOUNT.into(),
            expires_at: None,
            credentials: None,
        },
        region: REGION.into(),
    };
    let started = Instant::now();
    let e = err(cloud.get_function(&ctx, "f", None).await);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(
        (e.service.as_str(), e.code.as_str(), e.retryable),
        ("lambda", "RequestTimeout", true),
        "{e:?}"
    );
    drop(silent);
}

/// Reads one HTTP/1.1 request from `reader`: the request line, then the headers,
/// then the body by its Content-Length (body-less GETs have none). Returns the
/// request line, or `None` when the connection ends first.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(request_line)
}

/// A stand-in Lambda endpoint: versions in two pages, and error answers moto cannot
/// be made to give. Each connection gets one answer.
fn fake_lambda() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let Some(request_line) = read_request(&mut reader) else { continue };
            let path = request_line.split(' ').nth(1).unwrap_or_default().to_string();
            let version = |v: &str| {
                format!(
                    r#"{{"Version":"{v}","Description":"d{v}","FunctionArn":"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f:{v}","CodeSha256":"sha{v}"}}"#
                )
            };
            let (status, content_type, body) = if path.contains("/versions") && !path.contains("Marker=") {
                (
                    200,
                    "application/json",
                    format!(r#"{{"Versions":[{},{}],"NextMarker":"page-2"}}"#, version("$LATEST"), version("1")),
                )
            } else if path.contains("/versions") {
                (200, "application/json", format!(r#"{{"Versions":[{}]}}"#, version("2")))
            } else if path.contains("/policy") {
                // An XML refusal, as moto's auth layer answers JSON services.
                (
                    403,
                    "text/xml",
                    "<ErrorResponse><Error><Message>User: x is not authorized to perform: lambda:GetPolicy</Message></Error></ErrorResponse>".to_string(),
                )
            } else {
                (503, "application/json", r#"{"message":"slow down"}"#.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nx-amzn-RequestId: fake-{status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[tokio::test]
async fn listings_follow_every_page_and_codeless_errors_are_named_by_status() {
    let port = fake_lambda();
    let cloud = cloud_at(format!("http://127.0.0.1:{port}")).await;
    let ctx = CallCtx {
        identity: session_identity("ASIAFAKESESSIONKEY01"),
        region: REGION.into(),
    };
    let reply = cloud.list_versions_by_function(&ctx, "f").await.expect("versions");
    let versions: Vec<&str> = reply.value.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["$LATEST", "1", "2"], "both pages");
    assert_eq!(reply.value[2].description, "d2");
    assert_eq!(reply.request_id.as_deref(), Some("fake-200"));

    let denied = err(cloud.get_policy(&ctx, "f", None).await);
    assert_eq!((denied.code.as_str(), denied.retryable), ("AccessDenied", false), "{denied:?}");
    assert!(denied.message.contains("not authorized"), "{}", denied.message);
    assert_eq!(denied.request_id.as_deref(), Some("fake-403"));

    let busy = err(cloud.get_alias(&ctx, "f", "main").await);
    assert!(busy.retryable, "a 5xx is worth retrying: {busy:?}");
    assert_eq!(busy.request_id.as_deref(), Some("fake-503"));
}

/// A stand-in Lambda endpoint that keeps connections open (HTTP/1.1 keep-alive) and
/// counts the connections it accepted; every request gets one function configuration.
fn keep_alive_lambda() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                while read_request(&mut reader).is_some() {
                    let answer = format!(
                        r#"{{"FunctionName":"f","FunctionArn":"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f","Version":"$LATEST","State":"Active"}}"#
                    );
                    let written = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-amzn-RequestId: kept\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if written.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, accepted)
}

fn session_identity(key: &str) -> Identity {
    Identity {
        arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/r/{key}"),
        account: ACCOUNT.into(),
        expires_at: Some(now_secs() + 900),
        credentials: Some(Credentials {
            access_key_id: key.into(),
            secret_access_key: format!("{key}-secret"),
            session_token: Some(format!("{key}-token")),
        }),
    }
}

#[tokio::test]
async fn every_identity_shares_one_connection_pool() {
    // Each step signs as a session of its own, so each has its own SDK clients; they
    // must still share connections (and the TLS set-up), not open one pool apiece.
    let (port, accepted) = keep_alive_lambda();
    let cloud = cloud_at(format!("http://127.0.0.1:{port}")).await;
    let agent = Identity {
        arn: format!("arn:aws:iam::{ACCOUNT}:user/agent"),
        account: ACCOUNT.into(),
        expires_at: None,
        credentials: None,
    };
    let identities = [
        agent,
        session_identity("ASIASTEPONE000000001"),
        session_identity("ASIASTEPTWO000000002"),
    ];
    for round in 0..2 {
        for identity in &identities {
            let ctx = CallCtx {
                identity: identity.clone(),
                region: REGION.into(),
            };
            let reply = cloud
                .get_function_configuration(&ctx, "f", None)
                .await
                .unwrap_or_else(|e| panic!("round {round} as {}: {e}", identity.arn));
            assert_eq!(reply.value.function_name, "f");
        }
    }
    assert_eq!(cloud.cached_client_sets(), 3, "one client set per identity");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "six calls as three identities, one after the other, should share one connection"
    );
}

#[tokio::test]
async fn an_https_endpoint_is_reached_over_tls() {
    // A plain-HTTP server behind an https:// URL: the request must attempt a TLS
    // handshake (and fail on the plain answer), never fall back to plain HTTP.
    let (port, _) = keep_alive_lambda();
    let cloud = cloud_at(format!("https://127.0.0.1:{port}")).await;
    let ctx = CallCtx {
        identity: session_identity("ASIATLSPROBE00000001"),
        region: REGION.into(),
    };
    let e = err(cloud.get_function_configuration(&ctx, "f", None).await);
    assert_eq!(e.code, "NetworkError", "{e:?}");
    let message = e.message.to_ascii_lowercase();
    assert!(
        message.contains("tls") || message.contains("handshake") || message.contains("corrupt"),
        "{}",
        e.message
    );
}

/// The function ARN `seed_function` made `name` with.
fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
}

#[tokio::test]
async fn an_http_api_fronts_a_function_through_an_integration_and_a_route() {
    let moto = Moto::start();
    let mut cloud = cloud_at(moto.url()).await;
    // Small pages, so the listings would have to follow their tokens (moto answers
    // every item at once all the same).
    cloud.page_size = Some(1);
    let ctx = agent_ctx(&cloud).await;
    let f = "np-11-api";
    seed_function(&cloud, &ctx, f, &format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/my-app:v1")).await;
    let v1 = ok(cloud.publish_version(&ctx, f, "deploy-1", None).await);
    ok(cloud
        .create_alias(
            &ctx,
            &CreateAlias {
                function_name: f.into(),
                alias_name: "main".into(),
                function_version: v1.version.clone(),
                description: String::new(),
                routing: vec![],
            },
        )
        .await);
    let alias_arn = format!("{}:main", function_arn(f));

    // The API, with CORS and tags.
    let cors = Cors {
        allow_origins: vec!["https://app.example.com".into()],
        allow_methods: vec!["GET".into(), "POST".into()],
        allow_headers: vec!["content-type".into()],
        max_age: 300,
    };
    let tags = vec![
        ("nullplatform:scope-id".to_string(), "11".to_string()),
        ("env".to_string(), "dev".to_string()),
    ];
    let created = ok(cloud.create_api(&ctx, "np-11", Some(&cors), &tags).await);
    assert_eq!(created.name, "np-11");
    assert!(!created.api_id.is_empty(), "{created:?}");
    assert_eq!(
        created.api_endpoint,
        format!("https://{}.execute-api.{REGION}.amazonaws.com", created.api_id)
    );
    assert_eq!(
        created.tags,
        vec![
            ("env".to_string(), "dev".to_string()),
            ("nullplatform:scope-id".to_string(), "11".to_string())
        ],
        "sorted by key"
    );
    let other = ok(cloud.create_api(&ctx, "np-12", None, &[]).await);
    let described = cloud
        .for_ctx(&ctx)
        .apigateway()
        .get_api()
        .api_id(&created.api_id)
        .send()
        .await
        .expect("GetApi");
    let sent = described.cors_configuration().expect("CORS was set");
    assert_eq!(
        (sent.allow_origins(), sent.allow_methods(), sent.allow_headers(), sent.max_age()),
        (&cors.allow_origins[..], &cors.allow_methods[..], &cors.allow_headers[..], Some(300))
    );
    assert_eq!(described.protocol_type().map(|p| p.as_str()), Some("HTTP"));
    let apis = ok(cloud.get_apis(&ctx).await);
    assert_eq!(apis.len(), 2, "{apis:?}");
    assert!(apis.contains(&created) && apis.contains(&other), "{apis:?}");

    // A throttled stage.
    let stage = ok(cloud
        .create_stage(
            &ctx,
            &CreateStage {
                api_id: created.api_id.clone(),
                stage_name: "main".into(),
                auto_deploy: true,
                rate_limit: 50.5,
                burst_limit: 100,
            },
        )
        .await);
    assert_eq!(
        stage,
        Stage {
            stage_name: "main".into(),
            auto_deploy: true
        }
    );
    let stored = cloud
        .for_ctx(&ctx)
        .apigateway()
        .get_stage()
        .api_id(&created.api_id)
        .stage_name("main")
        .send()
        .await
        .expect("GetStage");
    let throttling = stored.default_route_settings().expect("default route settings");
    assert_eq!(
        (throttling.throttling_rate_limit(), throttling.throttling_burst_limit()),
        (Some(50.5), Some(100))
    );
    assert_eq!(ok(cloud.get_stages(&ctx, &created.api_id).await), vec![stage]);

    // The integration invokes the alias; the route sends everything to it.
    let integration = ok(cloud.create_integration(&ctx, &created.api_id, &alias_arn, "2.0").await);
    assert_eq!(
        (
            integration.integration_type.as_str(),
            integration.integration_uri.as_str(),
            integration.payload_format_version.as_str()
        ),
        ("AWS_PROXY", alias_arn.as_str(), "2.0")
    );
    assert!(!integration.integration_id.is_empty(), "{integration:?}");
    assert_eq!(ok(cloud.get_integrations(&ctx, &created.api_id).await), vec![integration.clone()]);
    let target = format!("integrations/{}", integration.integration_id);
    let route = ok(cloud.create_route(&ctx, &created.api_id, "$default", &target).await);
    assert_eq!(
        (route.route_key.as_str(), route.target.as_deref()),
        ("$default", Some(target.as_str()))
    );
    assert_eq!(ok(cloud.get_routes(&ctx, &created.api_id).await), vec![route]);
    assert!(ok(cloud.get_routes(&ctx, &other.api_id).await).is_empty());

    // API Gateway may invoke the alias, from this API only.
    let source_arn = format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{}/*", created.api_id);
    ok(cloud
        .add_permission(
            &ctx,
            &AddPermission {
                function_name: f.into(),
                qualifier: Some("main".into()),
                statement_id: "np-11-apigateway".into(),
                action: "lambda:InvokeFunction".into(),
                principal: "apigateway.amazonaws.com".into(),
                source_arn: Some(source_arn.clone()),
            },
        )
        .await);
    let policy: serde_json::Value = serde_json::from_str(&ok(cloud.get_policy(&ctx, f, Some("main")).await)).expect("the policy is JSON");
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Sid"], "np-11-apigateway");
    assert_eq!(statement["Action"], "lambda:InvokeFunction");
    assert_eq!(statement["Principal"]["Service"], "apigateway.amazonaws.com");
    assert_eq!(statement["Resource"], alias_arn.as_str());
    assert_eq!(statement["Condition"]["ArnLike"]["AWS:SourceArn"], source_arn.as_str());
    ok(cloud.remove_permission(&ctx, f, Some("main"), "np-11-apigateway").await);
    let no_policy = err(cloud.get_policy(&ctx, f, Some("main")).await);
    assert_eq!(no_policy.code, "ResourceNotFoundException", "{no_policy}");
    let again = err(cloud.remove_permission(&ctx, f, Some("main"), "np-11-apigateway").await);
    assert_eq!(
        (again.service.as_str(), again.operation.as_str(), again.code.as_str()),
        ("lambda", "RemovePermission", "ResourceNotFoundException")
    );

    // A custom domain serving the API's stage, through its regional endpoint.
    let missing = err(cloud.get_domain_name(&ctx, "api.np-11.example.com").await);
    assert_eq!(missing.code, "NotFoundException", "{missing}");
    let certificate = format!("arn:aws:acm:{REGION}:{ACCOUNT}:certificate/4d3c2b1a");
    let domain = ok(cloud
        .create_domain_name(
            &ctx,
            "api.np-11.example.com",
            &certificate,
            &[("nullplatform:scope-id".into(), "11".into())],
        )
        .await);
    assert_eq!(domain.domain_name, "api.np-11.example.com");
    // (moto 5.2.6 answers no regional endpoint name or zone in the domain's
    // configuration, where AWS gives both: the alias record is tested on the sim.)
    assert_eq!(ok(cloud.get_domain_name(&ctx, "api.np-11.example.com").await), domain);
    let mapping = ok(cloud
        .create_api_mapping(&ctx, "api.np-11.example.com", &created.api_id, "main")
        .await);
    assert_eq!((mapping.api_id.as_str(), mapping.stage.as_str()), (created.api_id.as_str(), "main"));
    let mappings = ok(cloud.get_api_mappings(&ctx, "api.np-11.example.com").await);
    assert_eq!(mappings, vec![mapping]);
    // (moto 5.2.6 fails DeleteDomainName of a mapped domain with a 500 of its own;
    // deleting is tested on the sim.)

    // Deleting the API takes its stage, integration and route with it.
    ok(cloud.delete_api(&ctx, &created.api_id).await);
    assert_eq!(ok(cloud.get_apis(&ctx).await), vec![other]);
    // (moto accepts deleting it again, where AWS answers NotFoundException.)
    let gone = err(cloud.get_routes(&ctx, &created.api_id).await);
    assert_eq!(
        (gone.service.as_str(), gone.operation.as_str(), gone.code.as_str()),
        ("apigateway", "GetRoutes", "NotFoundException")
    );
    assert!(!gone.retryable && gone.request_id.is_some(), "{gone:?}");
}

/// The default VPC's subnets moto made in [`REGION`], read with a plain EC2 query
/// (moto checks no signature; the credential scope names the service): the host has
/// no EC2 client, and the SDK's is too big a build for one test's set-up.
fn default_subnets(moto: &Moto) -> Vec<String> {
    let body = "Action=DescribeSubnets&Version=2016-11-15";
    let mut stream = TcpStream::connect(("127.0.0.1", moto.port())).expect("connect to moto");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        moto.port(),
        body.len()
    )
    .expect("send DescribeSubnets");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read DescribeSubnets");
    let subnets: Vec<String> = answer
        .split("<subnetId>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</subnetId>").map(|(id, _)| id.to_string()))
        .collect();
    assert!(subnets.len() >= 2, "moto's default subnets: {answer}");
    subnets
}

#[tokio::test]
async fn a_function_behind_a_load_balancer_rule() {
    let moto = Moto::start();
    let mut cloud = cloud_at(moto.url()).await;
    // Pages of one, so DescribeRules has to follow its marker.
    cloud.page_size = Some(1);
    let ctx = agent_ctx(&cloud).await;
    let f = "np-11-alb";
    seed_function(&cloud, &ctx, f, &format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/my-app:v1")).await;

    // The load balancer and its listener exist before the scope: made with the SDK.
    let subnets = default_subnets(&moto);
    let elb = cloud.for_ctx(&ctx).elb().clone();
    let balancer = elb
        .create_load_balancer()
        .name("np-shared")
        .set_subnets(Some(subnets[..2].to_vec()))
        .send()
        .await
        .expect("CreateLoadBalancer");
    let balancer = balancer.load_balancers().first().expect("a load balancer").clone();
    let balancer_arn = balancer.load_balancer_arn().expect("its ARN").to_string();
    let not_found = aws_sdk_elasticloadbalancingv2::types::Action::builder()
        .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            aws_sdk_elasticloadbalancingv2::types::FixedResponseActionConfig::builder()
                .status_code("404")
                .build(),
        )
        .build();
    let listener = elb
        .create_listener()
        .load_balancer_arn(&balancer_arn)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(not_found)
        .send()
        .await
        .expect("CreateListener");
    let listener_arn = listener
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .expect("a listener ARN")
        .to_string();

    let described = ok(cloud.describe_listener(&ctx, &listener_arn).await);
    assert_eq!(
        described,
        Listener {
            arn: listener_arn.clone(),
            load_balancer_arn: balancer_arn.clone(),
            dns_name: balancer.dns_name().expect("a DNS name").to_string(),
        }
    );
    assert!(described.dns_name.contains("elb.amazonaws.com"), "{described:?}");

    // A lambda target group, found by name, with the function registered.
    let group = ok(cloud
        .create_target_group(
            &ctx,
            &CreateTargetGroup {
                name: "np-11-tg".into(),
                health_check: HealthCheck {
                    path: "/health".into(),
                    interval_seconds: 35,
                    timeout_seconds: 30,
                    healthy_threshold: 2,
                    unhealthy_threshold: 3,
                    matcher: "200-299".into(),
                },
                tags: vec![("nullplatform:scope-id".into(), "11".into())],
            },
        )
        .await);
    assert_eq!(
        (group.name.as_str(), group.target_type.as_str(), group.health_check_path.as_deref()),
        ("np-11-tg", "lambda", Some("/health"))
    );
    assert!(group.arn.contains(":targetgroup/np-11-tg/"), "{group:?}");
    let stored = elb
        .describe_target_groups()
        .target_group_arns(&group.arn)
        .send()
        .await
        .expect("DescribeTargetGroups");
    let stored = stored.target_groups().first().expect("the group").clone();
    assert_eq!(
        (
            stored.health_check_enabled(),
            stored.health_check_interval_seconds(),
            stored.health_check_timeout_seconds(),
            stored.healthy_threshold_count(),
            stored.unhealthy_threshold_count(),
            stored.matcher().and_then(|m| m.http_code()),
        ),
        (Some(true), Some(35), Some(30), Some(2), Some(3), Some("200-299"))
    );
    let tags = elb.describe_tags().resource_arns(&group.arn).send().await.expect("DescribeTags");
    let tag_pairs: Vec<(&str, &str)> = tags
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tag_pairs, [("nullplatform:scope-id", "11")]);
    assert_eq!(
        ok(cloud.describe_target_groups(&ctx, &["np-11-tg".to_string()]).await),
        vec![group.clone()]
    );
    assert!(
        ok(cloud.describe_target_groups(&ctx, &[]).await).contains(&group),
        "every group when none is named"
    );
    assert!(ok(cloud.describe_targets(&ctx, &group.arn).await).is_empty());
    ok(cloud.register_target(&ctx, &group.arn, &function_arn(f)).await);
    assert_eq!(ok(cloud.describe_targets(&ctx, &group.arn).await), [function_arn(f)]);

    // A rule for the scope's host, beside the listener's default rule.
    let host = "api.np-11.example.com";
    let rule_request = CreateRule {
        listener_arn: listener_arn.clone(),
        priority: 10,
        hosts: vec![host.into()],
        target_group_arn: group.arn.clone(),
        tags: vec![("nullplatform:scope-id".into(), "11".into())],
    };
    let rule = ok(cloud.create_rule(&ctx, &rule_request).await);
    assert_eq!(
        (rule.priority.as_str(), rule.hosts.clone(), rule.target_group_arns.clone()),
        ("10", vec![host.to_string()], vec![group.arn.clone()])
    );
    let rules = ok(cloud.describe_rules(&ctx, &listener_arn).await);
    assert_eq!(rules.len(), 2, "both pages: {rules:?}");
    assert_eq!(rules[0], rule);
    assert_eq!(
        (rules[1].priority.as_str(), rules[1].hosts.len(), rules[1].target_group_arns.len()),
        ("default", 0, 0),
        "the default rule answers 404 itself"
    );
    let taken = err(cloud
        .create_rule(
            &ctx,
            &CreateRule {
                hosts: vec!["other.example.com".into()],
                ..rule_request.clone()
            },
        )
        .await);
    assert_eq!(
        (taken.service.as_str(), taken.operation.as_str(), taken.code.as_str()),
        ("elasticloadbalancing", "CreateRule", "PriorityInUse")
    );
    assert!(!taken.retryable && taken.request_id.is_some(), "{taken:?}");

    ok(cloud.delete_rule(&ctx, &rule.arn).await);
    let left: Vec<String> = ok(cloud.describe_rules(&ctx, &listener_arn).await)
        .into_iter()
        .map(|r| r.priority)
        .collect();
    assert_eq!(left, ["default"]);
    ok(cloud.delete_target_group(&ctx, &group.arn).await);
    let gone = err(cloud.describe_target_groups(&ctx, &["np-11-tg".to_string()]).await);
    assert_eq!(
        (gone.operation.as_str(), gone.code.as_str()),
        ("DescribeTargetGroups", "TargetGroupNotFound")
    );
}

#[tokio::test]
async fn a_dns_record_is_upserted_listed_and_deleted() {
    let moto = Moto::start();
    let cloud = cloud_at(moto.url()).await;
    // Route 53 is global: a call made for another region still signs for us-east-1.
    let ctx = CallCtx {
        region: "eu-west-1".into(),
        ..agent_ctx(&cloud).await
    };
    let zone = cloud
        .for_ctx(&ctx)
        .route53()
        .create_hosted_zone()
        .name("example.com")
        .caller_reference("np-11")
        .send()
        .await
        .expect("CreateHostedZone");
    let zone_id = zone
        .hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .expect("a zone id");

    let found = ok(cloud.get_hosted_zone(&ctx, &zone_id).await);
    assert_eq!(
        found,
        HostedZone {
            id: zone_id.clone(),
            name: "example.com.".into()
        }
    );
    let missing = err(cloud.get_hosted_zone(&ctx, "ZNOSUCHZONE").await);
    assert_eq!((missing.service.as_str(), missing.code.as_str()), ("route53", "NoSuchHostedZone"));

    moto.start_recording();
    let record = RecordSet {
        name: "api.np-11.example.com.".into(),
        record_type: "CNAME".into(),
        ttl: Some(60),
        values: vec!["np-shared-1.us-east-1.elb.amazonaws.com".into()],
        alias_target: None,
    };
    let change = ok(cloud
        .change_resource_record_sets(&ctx, &zone_id, ChangeAction::Upsert, &record)
        .await);
    assert!(!change.is_empty() && !change.contains('/'), "the bare change id: {change}");
    let (_, recording) = moto.api("GET", "/moto-api/recorder/download-recording", "");
    let scopes: Vec<String> = recording
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|entry| entry["headers"]["Authorization"].as_str().map(str::to_string))
        .collect();
    assert!(
        !scopes.is_empty() && scopes.iter().all(|a| a.contains("/us-east-1/route53/aws4_request")),
        "signed for us-east-1: {scopes:?}"
    );

    let listed = ok(cloud.list_resource_record_sets(&ctx, &zone_id, &record.name, "CNAME", 1).await);
    assert_eq!(listed, vec![record.clone()]);
    // Upserting again replaces it.
    let moved = RecordSet {
        values: vec!["np-other-1.us-east-1.elb.amazonaws.com".into()],
        ..record.clone()
    };
    ok(cloud
        .change_resource_record_sets(&ctx, &zone_id, ChangeAction::Upsert, &moved)
        .await);
    assert_eq!(
        ok(cloud.list_resource_record_sets(&ctx, &zone_id, &record.name, "CNAME", 1).await),
        vec![moved.clone()]
    );
    // The zone's own records come first from its start.
    let all = ok(cloud.list_resource_record_sets(&ctx, &zone_id, "", "", 0).await);
    let kinds: Vec<(&str, &str)> = all.iter().map(|r| (r.name.as_str(), r.record_type.as_str())).collect();
    assert!(
        kinds.contains(&("example.com.", "NS")) && kinds.contains(&("example.com.", "SOA")),
        "{kinds:?}"
    );
    assert!(all.contains(&moved), "{all:?}");

    ok(cloud
        .change_resource_record_sets(&ctx, &zone_id, ChangeAction::Delete, &moved)
        .await);
    let after = ok(cloud.list_resource_record_sets(&ctx, &zone_id, &record.name, "CNAME", 1).await);
    assert!(after.iter().all(|r| r.name != record.name), "{after:?}");
    // (moto accepts deleting it again, where AWS answers InvalidChangeBatch.)
}

#[tokio::test]
async fn metric_statistics_are_aggregated_per_period_oldest_first() {
    let moto = Moto::start();
    let cloud = cloud_at(moto.url()).await;
    let ctx = agent_ctx(&cloud).await;
    // Seeded through the SDK, a little in the past, on whole minutes.
    let start = (now_secs() - 3600) / 60 * 60;
    let cw = cloud.for_ctx(&ctx).cloudwatch().clone();
    let dimension = aws_sdk_cloudwatch::types::Dimension::builder()
        .name("FunctionName")
        .value("11-my-app-my-scope")
        .build();
    let datum = |offset: u64, value: f64| {
        aws_sdk_cloudwatch::types::MetricDatum::builder()
            .metric_name("Duration")
            .dimensions(dimension.clone())
            .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs((start + offset) as i64))
            .value(value)
            .unit(aws_sdk_cloudwatch::types::StandardUnit::Milliseconds)
            .build()
    };
    cw.put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(datum(70, 4.8))
        .metric_data(datum(10, 5.0))
        .metric_data(datum(40, 5.5))
        .send()
        .await
        .expect("PutMetricData");
    let query = |statistic| MetricQuery {
        namespace: "AWS/Lambda".into(),
        metric_name: "Duration".into(),
        dimensions: vec![("FunctionName".into(), "11-my-app-my-scope".into())],
        start_time: start,
        end_time: start + 600,
        period: 60,
        statistic,
    };
    let average = ok(cloud.get_metric_statistics(&ctx, &query(Statistic::Average)).await);
    // By the minute: moto 5.2.6 stamps a statistic with its period's first datapoint,
    // CloudWatch with the period's start.
    let points: Vec<(u64, f64)> = average.iter().map(|p| ((p.timestamp - start) / 60 * 60, p.value)).collect();
    assert_eq!(points, [(0, 5.25), (60, 4.8)], "{average:?}");
    assert_eq!(average[0].unit, "Milliseconds");
    let max = ok(cloud.get_metric_statistics(&ctx, &query(Statistic::Maximum)).await);
    assert_eq!(max[0].value, 5.5);
    // Another function's metric: no datapoints, not an error.
    let other = MetricQuery {
        dimensions: vec![("FunctionName".into(), "12-other".into())],
        ..query(Statistic::Sum)
    };
    assert!(ok(cloud.get_metric_statistics(&ctx, &other).await).is_empty());
}
