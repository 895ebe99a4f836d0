//! The simulated cloud: an in-memory, deterministic AWS behind the [`Cloud`] trait.
//!
//! A [`SimCloud`] is loaded from a JSON fixture (see `fixture.rs` for the format) and
//! answers as AWS would for the operations scope-host uses: same error codes, same
//! message shapes, request ids on every answer. Nothing depends on the wall clock or
//! on randomness: request ids (`sim-req-000001`…), revision ids, secret version ids
//! and credentials come from counters, time is virtual ([`Cloud::pause`] returns at
//! once), and things that take time in AWS — function updates, provisioned
//! concurrency — follow scripts in the fixture, one step per read.
//!
//! Scope of the simulation:
//! - Lambda functions and secrets live in the fixture's account; IAM roles and ECR
//!   repositories may live in any account (cross-account trust and registries).
//! - A role session is limited by its fixture role's `allowed_actions` (actions only)
//!   and by the session policy given to AssumeRole (actions and resources).
//! - [`SimCloud::dump_json`] writes the state back in the fixture format; secret
//!   values are written only as their SHA-256.

mod cloudwatch;
mod ecr;
mod errors;
pub(crate) mod fixture;
mod iam_roles;
mod iam_sts;
mod lambda;
mod lambda_lifecycle;
mod load;
mod logs;
mod networking;
mod policy;
mod secrets;
mod state;
mod tagging;

#[cfg(test)]
mod test_support;

pub use errors::FixtureError;

use super::*;
use async_trait::async_trait;
use errors::{Api, Fault, Service};
use state::State;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A fixture (the format of `fixture.rs`) as a value of its own, so that a larger
/// document can embed one: it deserializes from any serde format, refusing unknown
/// keys like a fixture file does. Load it with [`SimCloud::from_fixture`].
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(transparent)]
pub struct CloudFixture(fixture::Fixture);

/// An in-memory AWS. Cheap to share (`Arc<SimCloud>`); every call takes the state
/// lock for the duration of one synchronous operation, never across an await.
#[derive(Debug)]
pub struct SimCloud {
    state: Mutex<State>,
    /// Wall time every call takes before it is answered (zero by default).
    latency: Mutex<Duration>,
}

/// The label of a fixture given as text rather than as a file.
const INLINE_FIXTURE: &str = "<inline fixture>";

impl SimCloud {
    /// An empty cloud: account `123456789012`, region `us-east-1`, agent
    /// `arn:aws:iam::123456789012:user/np-agent`, no resources.
    pub fn new_empty() -> SimCloud {
        match load::load(fixture::Fixture::default()) {
            Ok(state) => SimCloud::from_state(state),
            // The empty fixture uses only built-in defaults, which are valid.
            Err(message) => unreachable!("the default fixture is invalid: {message}"),
        }
    }

    /// Loads a fixture from JSON text. Errors name the position of malformed JSON
    /// and unknown keys, and the offending item of a semantically invalid fixture.
    pub fn from_fixture_json(text: &str) -> Result<SimCloud, FixtureError> {
        SimCloud::from_named_json(text, INLINE_FIXTURE)
    }

    /// Loads a fixture file; errors name the file.
    pub fn from_fixture_file(path: &Path) -> Result<SimCloud, FixtureError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            file: file.clone(),
            source,
        })?;
        SimCloud::from_named_json(&text, &file)
    }

    /// Loads fixture text read from `file` (named in errors).
    pub(crate) fn from_named_json(text: &str, file: &str) -> Result<SimCloud, FixtureError> {
        let fixture: fixture::Fixture = serde_json::from_str(text).map_err(|e| FixtureError::from_json(file, &e))?;
        SimCloud::from_fixture(CloudFixture(fixture), file)
    }

    /// Loads a fixture already parsed as part of another document (a scenario file,
    /// whose parser reported unknown keys where they are); `origin` names it in errors
    /// about its content.
    pub fn from_fixture(fixture: CloudFixture, origin: &str) -> Result<SimCloud, FixtureError> {
        let state = load::load(fixture.0).map_err(|message| FixtureError::Invalid {
            file: origin.to_string(),
            message,
        })?;
        Ok(SimCloud::from_state(state))
    }

    fn from_state(state: State) -> SimCloud {
        SimCloud {
            state: Mutex::new(state),
            latency: Mutex::new(Duration::ZERO),
        }
    }

    /// Makes every later call take `latency` of wall time before it is answered: a
    /// slow or hanging cloud, to rehearse deadlines and progress output.
    pub fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap_or_else(PoisonError::into_inner) = latency;
    }

    /// Moves the virtual clock on: sessions whose expiry it passes are refused from
    /// then on (ExpiredTokenException), as AWS refuses expired keys.
    pub fn advance_clock(&self, by: Duration) {
        self.lock().clock += by.as_secs();
    }

    /// Sets the virtual clock to `seconds` since the Unix epoch. A plan's overlay
    /// (`cloud::plan`) sets it to zero: it serves sessions the real cloud opened,
    /// whose expiry is for the real cloud to judge.
    pub(crate) fn set_clock(&self, seconds: u64) {
        self.lock().clock = seconds;
    }

    /// The current state in the fixture format, sorted and with every setting
    /// explicit: loading it gives back the same cloud. Secret values appear only as
    /// `value_sha256`.
    pub fn dump_json(&self) -> serde_json::Value {
        let fixture = load::dump(&self.lock());
        // Serializing plain structs, string-keyed maps and JSON values cannot fail.
        serde_json::to_value(fixture).unwrap_or_else(|e| unreachable!("a dump does not serialize: {e}"))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside an operation leaves the state as it was between steps of one
        // call at worst; the sim is a test double, so keep serving rather than cascade.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one API call: mints its request id and wraps the answer or refusal.
    async fn call<T>(&self, api: Api, op: impl FnOnce(&mut State, Api) -> Result<T, Fault>) -> CloudResult<T> {
        let latency = *self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = self.lock();
        let request_id = state.next_request_id();
        let service = api.service.name();
        let scripted = state
            .faults
            .iter_mut()
            .find(|f| f.times > 0 && f.operation == api.operation && f.service.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(service)));
        if let Some(fault) = scripted {
            fault.times -= 1;
            let code = errors::scripted_code(&fault.code).unwrap_or("InternalFailure");
            let message = format!("{code} (scripted by the fixture's faults)");
            return Err(Fault::new(code, message).into_cloud_error(api, request_id));
        }
        match op(&mut state, api) {
            Ok(value) => Ok(Reply {
                value,
                request_id: Some(request_id),
            }),
            Err(fault) => Err(fault.into_cloud_error(api, request_id)),
        }
    }
}

const fn lambda_api(operation: &'static str) -> Api {
    Api::new(Service::Lambda, operation)
}

const fn ecr_api(operation: &'static str) -> Api {
    Api::new(Service::Ecr, operation)
}

const fn secrets_api(operation: &'static str) -> Api {
    Api::new(Service::SecretsManager, operation)
}

#[async_trait]
impl CloudBase for SimCloud {
    fn backend(&self) -> &'static str {
        "sim"
    }

    fn default_region(&self) -> String {
        self.lock().region.clone()
    }

    async fn pause(&self, _interval: Duration) {
        // Virtual time: scripted statuses advance per read, not per second. The
        // waiter still yields to the executor here, so a step's deadline can fire
        // while it polls (each simulated answer is ready at once).
        tokio::task::yield_now().await;
    }

    fn now(&self) -> u64 {
        self.lock().clock
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{agent, err, ok, sim};
    use super::*;
    #[allow(unused_imports)]
    use crate::cloud::{CloudBase, EcrApi, IamApi, LambdaApi, SecretsApi, StsApi, TaggingApi};
    use serde_json::{json, Value};
    use std::sync::Arc;

    #[test]
    fn sim_cloud_is_a_shareable_cloud() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<SimCloud>();
        let cloud = Cloud::of(Arc::new(SimCloud::new_empty()));
        assert_eq!((cloud.backend(), cloud.default_region()), ("sim", "us-east-1".to_string()));
    }

    #[tokio::test]
    async fn an_empty_cloud_has_the_default_account_and_agent() {
        let sim = SimCloud::new_empty();
        let reply = sim.agent_identity().await.expect("agent identity");
        assert_eq!(reply.request_id.as_deref(), Some("sim-req-000001"));
        let id = reply.value;
        assert_eq!(
            (id.arn.as_str(), id.account.as_str()),
            ("arn:aws:iam::123456789012:user/np-agent", "123456789012")
        );
        assert_eq!((id.expires_at, id.credentials), (None, None));
        let dump = sim.dump_json();
        assert_eq!(
            (dump["account_id"].as_str(), dump["region"].as_str()),
            (Some("123456789012"), Some("us-east-1"))
        );
        // Virtual time: an hour's pause takes no time at all.
        let paused = tokio::time::timeout(Duration::from_secs(5), sim.pause(Duration::from_secs(3600))).await;
        assert!(paused.is_ok(), "pause must return at once");
    }

    #[tokio::test]
    async fn request_ids_count_every_call_including_refusals() {
        let sim = SimCloud::new_empty();
        let ctx = agent(&sim).await;
        let missing = sim.get_function(&ctx, "nope", None).await.expect_err("no such function");
        assert_eq!(missing.request_id.as_deref(), Some("sim-req-000002"));
        let listed = sim.get_resources(&ctx, &[], &[]).await.expect("tagging");
        assert_eq!(listed.request_id.as_deref(), Some("sim-req-000003"));
        // A fresh sim starts over: ids depend on the calls, never on time.
        let again = SimCloud::new_empty();
        assert_eq!(
            again.agent_identity().await.expect("agent").request_id.as_deref(),
            Some("sim-req-000001")
        );
    }

    fn syntax_error(text: &str) -> (usize, usize, String) {
        match SimCloud::from_fixture_json(text) {
            Err(FixtureError::Syntax {
                file,
                line,
                column,
                message,
            }) => {
                assert_eq!(file, INLINE_FIXTURE);
                (line, column, message)
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_and_unknown_keys_report_line_and_column() {
        let (line, column, message) = syntax_error("{\n  \"region\": \"us-east-1\"\n  \"account_id\": \"123456789012\"\n}");
        assert_eq!((line, column), (3, 3), "{message}");
        assert!(message.contains("expected `,` or `}`") && !message.contains("at line"), "{message}");

        let unknown = "{\"lambda\": {\"functions\": [\n  {\"name\": \"f\",\n   \"image_uri\": \"i\",\n   \"memory\": 512}\n]}}";
        let (line, column, message) = syntax_error(unknown);
        assert_eq!((line, column), (4, 11), "{message}");
        assert!(message.starts_with("unknown field `memory`, expected one of"), "{message}");

        let (line, _, message) = syntax_error("{\"counters\": {},\n \"agnet\": {}}");
        assert_eq!(line, 2);
        assert!(message.contains("unknown field `agnet`"), "{message}");
        let (_, _, message) = syntax_error(r#"{"lambda": {"functions": [{"name": "f", "memory_size": "big"}]}}"#);
        assert!(message.contains("invalid type"), "{message}");
        let (_, _, message) = syntax_error(r#"{"lambda": {"functions": [{"image_uri": "i"}]}}"#);
        assert!(message.contains("missing field `name`"), "{message}");
        let (_, _, message) = syntax_error(r#"{"lambda": {"functions": [{"name": "f", "package_type": "Docker"}]}}"#);
        assert!(message.contains("unknown variant `Docker`"), "{message}");

        let shown = SimCloud::from_fixture_json("{\n  \"region\": 1}")
            .expect_err("bad region")
            .to_string();
        assert!(shown.starts_with("<inline fixture>:2:"), "{shown}");
    }

    #[test]
    fn semantic_errors_name_the_offending_item() {
        let function = |extra: Value| {
            let mut f = json!({"name": "f", "image_uri": "img", "versions": [{"version": "1"}]});
            if let (Some(f), Value::Object(extra)) = (f.as_object_mut(), extra) {
                f.extend(extra);
            }
            json!({"lambda": {"functions": [f]}})
        };
        let cases = [
            (
                function(json!({"aliases": [{"name": "main", "function_version": "3"}]})),
                r#"lambda function "f" (us-east-1): alias "main" points at version "3", which does not exist"#,
            ),
            (
                json!({"lambda": {"functions": [{"name": "f", "image_uri": "a"}, {"name": "f", "image_uri": "b"}]}}),
                r#"lambda function "f" (us-east-1) is listed twice"#,
            ),
            (
                function(json!({"aliases": [{"name": "main", "function_version": "1", "routing": {"1": 0.5}}]})),
                r#"alias "main": Invalid function version 1"#,
            ),
            (function(json!({"aliases": [{"name": "7"}]})), r#"alias "7": 1 validation error"#),
            (
                function(json!({"provisioned_concurrency": [{"qualifier": "live", "requested": 1}]})),
                r#"provisioned_concurrency "live": the qualifier is neither an alias nor a version"#,
            ),
            (
                function(json!({"provisioned_concurrency": [{"qualifier": "1", "requested": 1, "status_script": ["DONE"]}]})),
                r#"status "DONE" is not one of"#,
            ),
            (
                function(json!({"next_updates": [{"statuses": ["InProgress", "Done"]}]})),
                r#"lambda function "f" (us-east-1): next_updates[0] "Done" is not one of"#,
            ),
            (
                function(json!({"next_updates": [{"statuses": []}]})),
                "next_updates[0] has no statuses",
            ),
            (function(json!({"state": "Ready"})), r#"state "Ready" is not one of"#),
            (function(json!({"memory_size": 100})), "MemorySize 100 is out of range"),
            (
                function(json!({"versions": [{"version": "01"}]})),
                r#"version "01" is not a positive version number"#,
            ),
            (
                function(json!({"versions": [{"version": "1"}, {"version": "1"}]})),
                "version 1 is listed twice",
            ),
            (
                function(json!({"highest_published_version": 0, "versions": [{"version": "2"}]})),
                "highest_published_version 0 is below its version 2",
            ),
            (
                json!({"lambda": {"functions": [{"name": "f", "package_type": "Image"}]}}),
                "package_type Image needs image_uri",
            ),
            (
                json!({"lambda": {"functions": [{"name": "f", "image_uri": "i", "runtime": "nodejs22.x"}]}}),
                "takes no runtime",
            ),
            (
                json!({"lambda": {"functions": [{"name": "f", "s3_bucket": "b"}]}}),
                "s3_bucket and s3_key go together",
            ),
            (
                json!({"lambda": {"functions": [{"name": "bad name", "image_uri": "i"}]}}),
                r#"lambda function "bad name""#,
            ),
            (json!({"account_id": "12345"}), r#"account_id "12345" is not a 12-digit account id"#),
            (json!({"agent": {"arn": "np-agent"}}), r#"agent.arn "np-agent""#),
            (
                json!({"iam": {"roles": [{"name": "r"}, {"name": "r"}]}}),
                r#"iam role "r" in account 123456789012 is listed twice"#,
            ),
            (
                json!({"iam": {"roles": [{"name": "r", "path": "svc"}]}}),
                r#"iam role "r": path "svc" must start and end with /"#,
            ),
            (
                json!({"iam": {"roles": [{"name": "r", "assume_role_policy_document": {"Version": "2012-10-17"}}]}}),
                "has no Statement",
            ),
            (
                json!({"ecr": {"repositories": [{"name": "r", "policy": {"Statement": {}}}]}}),
                r#"ecr repository "r" (registry 123456789012, us-east-1): policy has no Statement list"#,
            ),
            (
                json!({"ecr": {"repositories": [{"name": "r", "images": [{"tags": ["v1"]}, {"tags": ["v1"]}]}]}}),
                r#"tag "v1" names two images"#,
            ),
            (
                json!({"secrets": [{"name": "s", "value": "v", "value_sha256": "ab"}]}),
                r#"secret "s" (us-east-1): give either value or value_sha256"#,
            ),
            (
                json!({"secrets": [{"name": "s", "value_sha256": "xyz"}]}),
                "value_sha256 is not 64 hex digits",
            ),
            (
                json!({"s3": {"objects": [{"bucket": "b", "key": "k"}, {"bucket": "b", "key": "k"}]}}),
                "s3 object s3://b/k is listed twice",
            ),
        ];
        for (fixture, want) in cases {
            match SimCloud::from_fixture_json(&fixture.to_string()) {
                Err(FixtureError::Invalid { file, message }) => {
                    assert_eq!(file, INLINE_FIXTURE);
                    assert!(message.contains(want), "want {want:?} in {message:?}");
                }
                other => panic!("{fixture}: expected an invalid-fixture error, got {other:?}"),
            }
        }
        // The same name in two regions is two functions.
        let two_regions =
            json!({"lambda": {"functions": [{"name": "f", "image_uri": "a"}, {"name": "f", "region": "eu-west-1", "image_uri": "b"}]}});
        assert!(SimCloud::from_fixture_json(&two_regions.to_string()).is_ok());
    }

    #[test]
    fn fixture_files_are_named_in_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.json");
        match SimCloud::from_fixture_file(&missing) {
            Err(e @ FixtureError::Read { .. }) => {
                assert!(e.to_string().contains("missing.json"), "{e}")
            }
            other => panic!("expected a read error, got {other:?}"),
        }
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{\n\n  \"lambda\": {\"functions\": 3}}").expect("write fixture");
        match SimCloud::from_fixture_file(&bad) {
            Err(FixtureError::Syntax { file, line, .. }) => {
                assert_eq!((file, line), (bad.display().to_string(), 3));
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"region": "eu-west-1"}"#).expect("write fixture");
        let sim = SimCloud::from_fixture_file(&good).expect("fixture loads");
        assert_eq!(sim.default_region(), "eu-west-1");
    }

    const FIRST_SECRET: &str = "first-secret-value-7a1f";
    const CREATED_SECRET: &str = "created-secret-value-93bd";
    const PUT_SECRET: &str = "put-secret-value-c2e4";

    fn rich_fixture() -> Value {
        json!({
            "account_id": "123456789012", "region": "us-east-1",
            "agent": {"arn": "arn:aws:iam::123456789012:user/np-agent"},
            "iam": {"roles": [
                {"name": "np-lambda-agent", "path": "/np/", "allowed_actions": ["lambda:*"], "max_session_duration": 7200},
                {"name": "x-account", "account_id": "999999999999"}]},
            "lambda": {"functions": [{
                "name": "11-my-app-my-scope", "image_uri": "repo:v1", "memory_size": 256, "timeout": 30,
                "architectures": ["arm64"], "environment": {"K": "V"}, "description": "scope 11",
                "tags": {"nullplatform:scope-id": "11"}, "reserved_concurrency": 4,
                "versions": [{"version": "1", "description": "deploy-prev", "image_uri": "repo:v0"}, {"version": "2", "memory_size": 512}],
                "aliases": [{"name": "main", "function_version": "1", "routing": {"2": 0.1}}],
                "policy": {"Version": "2012-10-17", "Id": "default", "Statement": []},
                "provisioned_concurrency": [{"qualifier": "main", "requested": 5, "status_script": ["IN_PROGRESS", "IN_PROGRESS", "READY"]}],
                "next_updates": [{"statuses": ["InProgress", "InProgress", "Successful"]}, {"statuses": ["InProgress", "Failed"], "reason": "arch"}]
            }, {"name": "zip-fn", "region": "eu-west-1", "s3_bucket": "assets", "s3_key": "app.zip", "runtime": "python3.13", "handler": "app.main"}]},
            "ecr": {"repositories": [
                {"name": "my-app", "images": [{"tags": ["v1"], "pushed_at": 1700000000}], "tags": {"team": "a"}},
                {"name": "shared", "registry_id": "999999999999", "policy": {"Statement": []}}]},
            "secrets": [{"name": "nullplatform/11/deploy-prev/parameters", "value": FIRST_SECRET, "tags": {"nullplatform:scope-id": "11"}}],
            "s3": {"objects": [{"bucket": "assets", "key": "app.zip", "size": 10}]}
        })
    }

    #[tokio::test]
    async fn a_dump_loads_back_to_the_same_cloud_without_secret_values() {
        let sim1 = sim(rich_fixture());
        let ctx = agent(&sim1).await;
        let f = "11-my-app-my-scope";
        // Drive every kind of state, leaving the update script and the provisioned
        // concurrency script half-way and a deleted version behind.
        let update = UpdateCode {
            function_name: f.into(),
            code: CodeSource::Image("repo:v2".into()),
            architectures: None,
            revision_id: None,
        };
        ok(sim1.update_function_code(&ctx, &update).await);
        ok(sim1.get_function_configuration(&ctx, f, None).await);
        ok(sim1.get_provisioned_concurrency_config(&ctx, f, "main").await);
        ok(sim1
            .update_alias(
                &ctx,
                &UpdateAlias {
                    function_name: f.into(),
                    alias_name: "main".into(),
                    function_version: None,
                    routing: Some(vec![]),
                    revision_id: None,
                },
            )
            .await);
        ok(sim1.delete_function(&ctx, f, Some("2")).await);
        let create = CreateSecret {
            name: "nullplatform/11/deploy-1/parameters".into(),
            description: "p".into(),
            secret_string: CREATED_SECRET.into(),
            tags: vec![],
        };
        ok(sim1.create_secret(&ctx, &create).await);
        ok(sim1.put_secret_value(&ctx, "nullplatform/11/deploy-1/parameters", PUT_SECRET).await);
        ok(sim1.delete_secret(&ctx, "nullplatform/11/deploy-prev/parameters", false).await);
        ok(sim1
            .set_repository_policy(
                &ctx,
                &RepositoryRef {
                    registry_id: None,
                    region: None,
                    name: "my-app".into(),
                },
                r#"{"Statement": [{"Sid": "s"}]}"#,
            )
            .await);

        let dump1 = sim1.dump_json();
        let text = serde_json::to_string_pretty(&dump1).expect("dump serializes");
        for value in [FIRST_SECRET, CREATED_SECRET, PUT_SECRET] {
            assert!(!text.contains(value), "a secret value leaked into the dump");
        }
        let secrets = dump1["secrets"].as_array().expect("secrets");
        let names: Vec<&str> = secrets.iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(
            names,
            ["nullplatform/11/deploy-1/parameters", "nullplatform/11/deploy-prev/parameters"],
            "sorted"
        );
        assert_eq!(secrets[0]["value_sha256"], state::sha256_hex(PUT_SECRET));
        assert_eq!(secrets[1]["value_sha256"], state::sha256_hex(FIRST_SECRET));
        assert_eq!(secrets[1]["pending_deletion"], true);
        let function = &dump1["lambda"]["functions"][1];
        assert_eq!(function["name"], f);
        assert_eq!(function["current_update"]["statuses"], json!(["Successful"]));
        assert_eq!(function["highest_published_version"], 2);
        assert_eq!(
            function["provisioned_concurrency"][0]["status_script"],
            json!(["IN_PROGRESS", "READY"])
        );

        let sim2 = SimCloud::from_fixture_json(&text).expect("a dump loads");
        assert_eq!(sim2.dump_json(), dump1, "dump → load → dump is stable");

        // Both clouds go on the same way: scripts, counters and numbering carried over.
        let ctx2 = agent(&sim2).await;
        for (sim, ctx) in [(&sim1, &ctx), (&sim2, &ctx2)] {
            let config = ok(sim.get_function_configuration(ctx, f, None).await);
            assert_eq!(
                (config.last_update_status.as_str(), config.image_uri.as_deref()),
                ("Successful", Some("repo:v2"))
            );
        }
        let mut answers = Vec::new();
        for (sim, ctx) in [(&sim1, &ctx), (&sim2, &ctx2)] {
            let published = ok(sim.publish_version(ctx, f, "deploy-1", None).await);
            let pc = ok(sim.get_provisioned_concurrency_config(ctx, f, "main").await);
            let updated = ok(sim
                .update_function_configuration(
                    ctx,
                    &UpdateConfiguration {
                        function_name: f.into(),
                        memory_size: Some(1024),
                        ..Default::default()
                    },
                )
                .await);
            let secret = ok(sim.put_secret_value(ctx, "nullplatform/11/deploy-1/parameters", "x").await);
            let e = err(sim.put_secret_value(ctx, "nullplatform/11/deploy-prev/parameters", "x").await);
            let zip = ok(sim
                .get_function(
                    &CallCtx {
                        region: "eu-west-1".into(),
                        ..ctx.clone()
                    },
                    "zip-fn",
                    None,
                )
                .await);
            let role = ok(sim.get_role(ctx, "np-lambda-agent").await);
            answers.push(format!("{published:?}|{pc:?}|{updated:?}|{secret:?}|{}|{zip:?}|{role:?}", e.code));
        }
        assert_eq!(answers[0], answers[1]);
        assert!(
            answers[0].contains("version: \"3\""),
            "version 2 was deleted, so the next is 3: {}",
            answers[0]
        );
        assert_eq!(sim1.dump_json(), sim2.dump_json());
    }

    #[tokio::test]
    async fn a_plain_fixture_round_trips_too() {
        let first = sim(rich_fixture()).dump_json();
        let again = SimCloud::from_fixture_json(&first.to_string()).expect("dump loads").dump_json();
        assert_eq!(first, again);
        // Defaults are written out explicitly.
        // Functions are sorted by (region, name): eu-west-1's zip-fn comes first.
        let zip = &first["lambda"]["functions"][0];
        assert_eq!(zip["name"], "zip-fn");
        assert_eq!(
            (zip["package_type"].as_str(), zip["memory_size"].as_u64(), zip["timeout"].as_u64()),
            (Some("Zip"), Some(128), Some(3))
        );
        assert_eq!(first["iam"]["roles"][0]["name"], "np-lambda-agent");
        assert_eq!(
            first["iam"]["roles"][1]["assume_role_policy_document"]["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::999999999999:root"
        );
    }
}
