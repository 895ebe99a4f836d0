//! The same cloud on both backends: seeds the moto emulator through the official SDK
//! from a simulated-cloud fixture (`--cloud-state` JSON), and reads a Lambda scope's
//! state back — from moto by independent SDK calls, from the simulator's dump — into
//! one comparable shape.

use aws_sdk_ecr::Client as Ecr;
use aws_sdk_iam::Client as Iam;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, Environment, FunctionCode, PackageType};
use aws_sdk_lambda::Client as Lambda;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// SDK clients pointed at an emulator, with fake keys (or the given ones).
pub struct Clients {
    pub iam: Iam,
    pub lambda: Lambda,
    pub ecr: Ecr,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Clients {
    pub async fn new(endpoint: &str) -> Clients {
        Self::with_keys(endpoint, "testing", "testing").await
    }

    pub async fn with_keys(endpoint: &str, key: &str, secret: &str) -> Clients {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(key, secret, None, None, "tests"))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        Clients {
            iam: Iam::new(&config),
            lambda: Lambda::new(&config),
            ecr: Ecr::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
        }
    }

    /// An IAM user holding `policy` inline, and an access key of it: (id, secret).
    pub async fn user_with_policy(&self, user: &str, policy: &Value) -> (String, String) {
        self.iam.create_user().user_name(user).send().await.unwrap();
        self.iam
            .put_user_policy()
            .user_name(user)
            .policy_name("granted")
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap();
        let key = self.iam.create_access_key().user_name(user).send().await.unwrap();
        let key = key.access_key().unwrap();
        (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
    }

    /// `policy` inline on `role`, as `name`.
    pub async fn put_role_policy(&self, role: &str, name: &str, policy: &Value) {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutRolePolicy {role}: {e:?}"));
    }

    /// A role Lambda may assume, with nothing else: a scope's execution role as a
    /// lost run would leave it.
    pub async fn bare_execution_role(&self, name: &str) {
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        self.create_role(name, &trust).await;
    }

    /// A role trusting as `trust` says.
    pub async fn create_role(&self, name: &str, trust: &Value) {
        self.iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
    }

    /// A log group with one stream holding `events` (milliseconds since the epoch,
    /// message). CloudWatch Logs (and moto) refuse events older than 14 days.
    pub async fn put_log_events(&self, group: &str, stream: &str, events: &[(u64, String)]) {
        self.logs
            .create_log_group()
            .log_group_name(group)
            .send()
            .await
            .expect("CreateLogGroup");
        self.logs
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .expect("CreateLogStream");
        let mut put = self.logs.put_log_events().log_group_name(group).log_stream_name(stream);
        for (t, m) in events {
            let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(*t as i64)
                .message(m)
                .build()
                .expect("a log event");
            put = put.log_events(event);
        }
        put.send().await.expect("PutLogEvents");
    }

    /// `AWS/Lambda` `Duration` datapoints of `function`: (seconds since the epoch,
    /// milliseconds).
    pub async fn put_durations(&self, function: &str, points: &[(u64, f64)]) {
        let dimension = aws_sdk_cloudwatch::types::Dimension::builder()
            .name("FunctionName")
            .value(function)
            .build();
        let mut put = self.cloudwatch.put_metric_data().namespace("AWS/Lambda");
        for (t, v) in points {
            put = put.metric_data(
                aws_sdk_cloudwatch::types::MetricDatum::builder()
                    .metric_name("Duration")
                    .dimensions(dimension.clone())
                    .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(*t as i64))
                    .value(*v)
                    .unit(aws_sdk_cloudwatch::types::StandardUnit::Milliseconds)
                    .build(),
            );
        }
        put.send().await.expect("PutMetricData");
    }
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// Creates the fixture's IAM roles, ECR repositories (policy, images) and Lambda
/// functions (configuration, tags, published versions, aliases with routing,
/// resource-policy statements) in the emulator.
pub async fn seed(clients: &Clients, fixture: &Value) {
    let account = fixture["account_id"].as_str().unwrap_or("123456789012");
    for role in fixture["iam"]["roles"].as_array().into_iter().flatten() {
        let name = role["name"].as_str().expect("role name");
        let trust = match &role["assume_role_policy_document"] {
            Value::Null => json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]}),
            doc => doc.clone(),
        };
        clients.create_role(name, &trust).await;
    }
    for repo in fixture["ecr"]["repositories"].as_array().into_iter().flatten() {
        let name = repo["name"].as_str().expect("repository name");
        clients
            .ecr
            .create_repository()
            .repository_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRepository {name}: {e:?}"));
        if let Some(policy) = repo.get("policy").filter(|p| !p.is_null()) {
            clients
                .ecr
                .set_repository_policy()
                .repository_name(name)
                .policy_text(policy.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("SetRepositoryPolicy {name}: {e:?}"));
        }
        for (i, image) in repo["images"].as_array().into_iter().flatten().enumerate() {
            // A manifest-only image; each gets its own digest.
            let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7000 + i,
                    "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"}, "layers": []});
            for tag in image["tags"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                clients
                    .ecr
                    .put_image()
                    .repository_name(name)
                    .image_manifest(manifest.to_string())
                    .image_tag(tag)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("PutImage {name}:{tag}: {e:?}"));
            }
        }
    }
    for f in fixture["lambda"]["functions"].as_array().into_iter().flatten() {
        seed_function(clients, f).await;
    }
}

async fn seed_function(clients: &Clients, f: &Value) {
    let name = f["name"].as_str().expect("function name");
    let image = f["package_type"].as_str() == Some("Image");
    let mut create = clients
        .lambda
        .create_function()
        .function_name(name)
        .role(f["role"].as_str().expect("function role"))
        .set_memory_size(f["memory_size"].as_i64().map(|m| m as i32))
        .set_timeout(f["timeout"].as_i64().map(|t| t as i32));
    create = if image {
        create
            .package_type(PackageType::Image)
            .code(FunctionCode::builder().image_uri(text(&f["image_uri"]).expect("image_uri")).build())
    } else {
        create
            .package_type(PackageType::Zip)
            .runtime(aws_sdk_lambda::types::Runtime::from(f["runtime"].as_str().unwrap_or("python3.12")))
            .handler(f["handler"].as_str().unwrap_or("app.handler"))
            .code(
                FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(empty_zip()))
                    .build(),
            )
    };
    if let Some(env) = f["environment"].as_object() {
        let vars: std::collections::HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        create = create.environment(Environment::builder().set_variables(Some(vars)).build());
    }
    for (k, v) in f["tags"].as_object().into_iter().flatten() {
        create = create.tags(k, v.as_str().unwrap_or_default());
    }
    create.send().await.unwrap_or_else(|e| panic!("CreateFunction {name}: {e:?}"));
    for v in f["versions"].as_array().into_iter().flatten() {
        let published = clients
            .lambda
            .publish_version()
            .function_name(name)
            .description(v["description"].as_str().unwrap_or_default())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PublishVersion {name}: {e:?}"));
        assert_eq!(published.version(), v["version"].as_str(), "versions are seeded in order, from 1");
    }
    for a in f["aliases"].as_array().into_iter().flatten() {
        let weights: std::collections::HashMap<String, f64> = a["routing"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, w)| (k.clone(), w.as_f64().unwrap_or_default()))
            .collect();
        clients
            .lambda
            .create_alias()
            .function_name(name)
            .name(a["name"].as_str().expect("alias name"))
            .function_version(a["function_version"].as_str().expect("alias version"))
            .set_routing_config((!weights.is_empty()).then(|| {
                AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(weights))
                    .build()
            }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateAlias {name}: {e:?}"));
    }
    for st in f["policy"]["Statement"].as_array().into_iter().flatten() {
        let principal = st["Principal"]["Service"]
            .as_str()
            .or(st["Principal"]["AWS"].as_str())
            .unwrap_or("*");
        clients
            .lambda
            .add_permission()
            .function_name(name)
            .statement_id(st["Sid"].as_str().unwrap_or("seeded"))
            .action(st["Action"].as_str().unwrap_or("lambda:InvokeFunction"))
            .principal(principal)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AddPermission {name}: {e:?}"));
    }
}

/// The smallest valid zip archive (an empty central directory).
fn empty_zip() -> Vec<u8> {
    let mut z = vec![0x50, 0x4b, 0x05, 0x06];
    z.extend([0u8; 18]);
    z
}

/// A Lambda scope's state in one shape for both backends: the function's image,
/// memory, timeout and environment names; its aliases (version and weights); its
/// published versions (`number:description`); the repository policy's statement ids.
pub async fn read_moto(clients: &Clients, function: &str, repository: &str) -> Value {
    let f = clients
        .lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetFunction {function}: {e:?}"));
    let config = f.configuration().expect("configuration");
    let env: Vec<String> = config
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default();
    let versions = clients
        .lambda
        .list_versions_by_function()
        .function_name(function)
        .send()
        .await
        .expect("ListVersionsByFunction");
    let versions: Vec<String> = versions
        .versions()
        .iter()
        .filter(|v| v.version() != Some("$LATEST"))
        .map(|v| format!("{}:{}", v.version().unwrap_or_default(), v.description().unwrap_or_default()))
        .collect();
    let aliases = clients
        .lambda
        .list_aliases()
        .function_name(function)
        .send()
        .await
        .expect("ListAliases");
    let mut alias_map = BTreeMap::new();
    for a in aliases.aliases() {
        let routing: BTreeMap<String, f64> = a
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .map(|w| w.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        alias_map.insert(
            a.name().unwrap_or_default().to_owned(),
            json!({"version": a.function_version(), "routing": routing}),
        );
    }
    let policy = clients.ecr.get_repository_policy().repository_name(repository).send().await;
    let sids = statement_ids(policy.ok().and_then(|p| p.policy_text().map(str::to_owned)).as_deref());
    normal(json!({
        "image_uri": f.code().and_then(|c| c.image_uri()),
        "memory_size": config.memory_size(),
        "timeout": config.timeout(),
        "environment": env,
        "aliases": alias_map,
        "versions": versions,
        "ecr_policy_statements": sids,
    }))
}

/// [`read_moto`]'s shape from the simulator's `--dump-state` file.
pub fn read_sim_dump(dump: &Value, function: &str, repository: &str) -> Value {
    let f = dump["lambda"]["functions"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == function))
        .unwrap_or_else(|| panic!("function {function} is not in the dump"));
    let env: Vec<String> = f["environment"]
        .as_object()
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default();
    let versions: Vec<String> = f["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            format!(
                "{}:{}",
                v["version"].as_str().unwrap_or_default(),
                v["description"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let mut alias_map = BTreeMap::new();
    for a in f["aliases"].as_array().into_iter().flatten() {
        let routing = match &a["routing"] {
            Value::Object(m) => Value::Object(m.clone()),
            _ => json!({}),
        };
        alias_map.insert(
            a["name"].as_str().unwrap_or_default().to_owned(),
            json!({"version": a["function_version"], "routing": routing}),
        );
    }
    let policy = dump["ecr"]["repositories"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == repository))
        .map(|r| r["policy"].to_string());
    normal(json!({
        "image_uri": f["image_uri"],
        "memory_size": f["memory_size"],
        "timeout": f["timeout"],
        "environment": env,
        "aliases": alias_map,
        "versions": versions,
        "ecr_policy_statements": statement_ids(policy.as_deref()),
    }))
}

/// Sorted `Sid`s of a policy document's statements.
fn statement_ids(policy: Option<&str>) -> Vec<String> {
    let doc: Value = policy.and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null);
    let mut sids: Vec<String> = doc["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["Sid"].as_str().unwrap_or("<no sid>").to_owned())
        .collect();
    sids.sort();
    sids
}

/// Environment names sorted, so the two sides compare as sets.
fn normal(mut v: Value) -> Value {
    if let Some(env) = v["environment"].as_array_mut() {
        env.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    v
}

/// The emulator's environment, signing as `key` (an access key id and secret)
/// instead of its fake keys.
pub fn env_signing_as(moto: &moto_harness::Moto, key: &(String, String)) -> Vec<(&'static str, String)> {
    let mut env = moto.env();
    env.retain(|(k, _)| *k != "AWS_ACCESS_KEY_ID" && *k != "AWS_SECRET_ACCESS_KEY");
    env.push(("AWS_ACCESS_KEY_ID", key.0.clone()));
    env.push(("AWS_SECRET_ACCESS_KEY", key.1.clone()));
    env
}

/// SDK configuration for an emulator at `endpoint`, with its fake keys.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}
