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

mod ecr;
mod errors;
mod fixture;
mod iam_sts;
mod lambda;
mod load;
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

/// An in-memory AWS. Cheap to share (`Arc<SimCloud>`); every call takes the state
/// lock for the duration of one synchronous operation, never across an await.
#[derive(Debug)]
pub struct SimCloud {
    state: Mutex<State>,
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
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read { file: file.clone(), source })?;
        SimCloud::from_named_json(&text, &file)
    }

    fn from_named_json(text: &str, file: &str) -> Result<SimCloud, FixtureError> {
        let fixture: fixture::Fixture = serde_json::from_str(text).map_err(|e| FixtureError::from_json(file, &e))?;
        let state = load::load(fixture).map_err(|message| FixtureError::Invalid { file: file.to_string(), message })?;
        Ok(SimCloud::from_state(state))
    }

    fn from_state(state: State) -> SimCloud {
        SimCloud { state: Mutex::new(state) }
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
    fn call<T>(&self, api: Api, op: impl FnOnce(&mut State, Api) -> Result<T, Fault>) -> CloudResult<T> {
        let mut state = self.lock();
        let request_id = state.next_request_id();
        match op(&mut state, api) {
            Ok(value) => Ok(Reply { value, request_id: Some(request_id) }),
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
impl Cloud for SimCloud {
    fn backend(&self) -> &'static str {
        "sim"
    }

    fn default_region(&self) -> String {
        self.lock().region.clone()
    }

    async fn pause(&self, _interval: Duration) {
        // Virtual time: scripted statuses advance per read, not per second.
    }

    async fn agent_identity(&self) -> CloudResult<Identity> {
        self.call(Api::new(Service::Sts, "GetCallerIdentity"), |st, _| Ok(st.sts_agent_identity()))
    }

    async fn assume_role(&self, ctx: &CallCtx, req: &AssumeRoleRequest) -> CloudResult<Identity> {
        self.call(Api::new(Service::Sts, "AssumeRole"), |st, api| st.sts_assume_role(ctx, api, req))
    }

    async fn lambda_get_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionInfo> {
        self.call(lambda_api("GetFunction"), |st, api| st.lambda_get_function(ctx, api, name, qualifier))
    }

    async fn lambda_get_function_configuration(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: Option<&str>,
    ) -> CloudResult<FunctionConfiguration> {
        self.call(lambda_api("GetFunctionConfiguration"), |st, api| {
            st.lambda_get_function_configuration(ctx, api, name, qualifier)
        })
    }

    async fn lambda_list_versions_by_function(&self, ctx: &CallCtx, name: &str) -> CloudResult<Vec<VersionInfo>> {
        self.call(lambda_api("ListVersionsByFunction"), |st, api| st.lambda_list_versions(ctx, api, name))
    }

    async fn lambda_update_function_code(&self, ctx: &CallCtx, req: &UpdateCode) -> CloudResult<FunctionConfiguration> {
        self.call(lambda_api("UpdateFunctionCode"), |st, api| st.lambda_update_code(ctx, api, req))
    }

    async fn lambda_update_function_configuration(
        &self,
        ctx: &CallCtx,
        req: &UpdateConfiguration,
    ) -> CloudResult<FunctionConfiguration> {
        self.call(lambda_api("UpdateFunctionConfiguration"), |st, api| st.lambda_update_configuration(ctx, api, req))
    }

    async fn lambda_publish_version(&self, ctx: &CallCtx, name: &str, description: &str) -> CloudResult<VersionInfo> {
        self.call(lambda_api("PublishVersion"), |st, api| st.lambda_publish_version(ctx, api, name, description))
    }

    async fn lambda_delete_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<()> {
        self.call(lambda_api("DeleteFunction"), |st, api| st.lambda_delete_function(ctx, api, name, qualifier))
    }

    async fn lambda_get_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<Alias> {
        self.call(lambda_api("GetAlias"), |st, api| st.lambda_get_alias(ctx, api, name, alias))
    }

    async fn lambda_create_alias(&self, ctx: &CallCtx, req: &CreateAlias) -> CloudResult<Alias> {
        self.call(lambda_api("CreateAlias"), |st, api| st.lambda_create_alias(ctx, api, req))
    }

    async fn lambda_update_alias(&self, ctx: &CallCtx, req: &UpdateAlias) -> CloudResult<Alias> {
        self.call(lambda_api("UpdateAlias"), |st, api| st.lambda_update_alias(ctx, api, req))
    }

    async fn lambda_get_policy(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<String> {
        self.call(lambda_api("GetPolicy"), |st, api| st.lambda_get_policy(ctx, api, name, qualifier))
    }

    async fn lambda_get_provisioned_concurrency_config(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: &str,
    ) -> CloudResult<ProvisionedConcurrency> {
        self.call(lambda_api("GetProvisionedConcurrencyConfig"), |st, api| {
            st.lambda_get_provisioned_concurrency(ctx, api, name, qualifier)
        })
    }

    async fn ecr_get_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef) -> CloudResult<String> {
        self.call(ecr_api("GetRepositoryPolicy"), |st, api| st.ecr_get_repository_policy(ctx, api, repo))
    }

    async fn ecr_set_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef, policy: &str) -> CloudResult<()> {
        self.call(ecr_api("SetRepositoryPolicy"), |st, api| st.ecr_set_repository_policy(ctx, api, repo, policy))
    }

    async fn ecr_describe_images(&self, ctx: &CallCtx, repo: &RepositoryRef, tags: &[String]) -> CloudResult<Vec<ImageDetail>> {
        self.call(ecr_api("DescribeImages"), |st, api| st.ecr_describe_images(ctx, api, repo, tags))
    }

    async fn iam_get_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Role> {
        self.call(Api::new(Service::Iam, "GetRole"), |st, api| st.iam_get_role(ctx, api, role_name))
    }

    async fn secrets_put_secret_value(&self, ctx: &CallCtx, secret_id: &str, value: &str) -> CloudResult<SecretRef> {
        self.call(secrets_api("PutSecretValue"), |st, api| st.secrets_put_value(ctx, api, secret_id, value))
    }

    async fn secrets_create_secret(&self, ctx: &CallCtx, req: &CreateSecret) -> CloudResult<SecretRef> {
        self.call(secrets_api("CreateSecret"), |st, api| st.secrets_create(ctx, api, req))
    }

    async fn secrets_delete_secret(&self, ctx: &CallCtx, secret_id: &str, force: bool) -> CloudResult<()> {
        self.call(secrets_api("DeleteSecret"), |st, api| st.secrets_delete(ctx, api, secret_id, force))
    }

    async fn tagging_get_resources(
        &self,
        ctx: &CallCtx,
        resource_types: &[String],
        filters: &[TagFilter],
    ) -> CloudResult<Vec<TaggedResource>> {
        self.call(Api::new(Service::Tagging, "GetResources"), |st, api| {
            st.tagging_get_resources(ctx, api, resource_types, filters)
        })
    }
}
