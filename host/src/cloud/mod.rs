//! The cloud seam. Capability modules call a [`Cloud`]; two backends implement it:
//! [`sim`] (in-memory AWS, the default) and, later, `aws` (the official SDK).
//!
//! A backend performs calls; it does not decide whether a step may make them — the
//! grant check in `caps` has already run. It may still refuse, as AWS would
//! (a role's trust policy, a role's own permissions in the simulated cloud).
//!
//! [`record`] wraps a backend to save what a run read as a `sim` fixture, to replay.

pub mod aws;
pub mod model;
pub mod record;
pub mod sim;

use async_trait::async_trait;
use std::time::Duration;

pub use model::*;

/// One cloud account's worth of AWS operations, as scope-host's steps need them.
///
/// Every method answers with the request id the cloud gave, or a [`CloudError`]
/// carrying AWS's error code. Listing methods return every page.
#[async_trait]
pub trait Cloud: Send + Sync + 'static {
    /// `sim` or `aws`: shown in the run record.
    fn backend(&self) -> &'static str;

    /// The region calls go to when nothing else names one.
    fn default_region(&self) -> String;

    /// Waits `interval` between two polls of a host-side waiter. The simulated cloud
    /// returns at once (its clock is virtual), so waiters cost no wall time there.
    async fn pause(&self, interval: Duration);

    /// The cloud's clock, seconds since the Unix epoch: what session expiries are
    /// compared with. The simulated cloud's clock stands still.
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// The identity the agent itself runs as (sts GetCallerIdentity).
    async fn agent_identity(&self) -> CloudResult<Identity>;

    /// sts AssumeRole as `ctx.identity`.
    async fn assume_role(&self, ctx: &CallCtx, req: &AssumeRoleRequest) -> CloudResult<Identity>;

    async fn lambda_get_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionInfo>;
    async fn lambda_get_function_configuration(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: Option<&str>,
    ) -> CloudResult<FunctionConfiguration>;
    /// Every version, `$LATEST` first, then published versions in ascending order.
    async fn lambda_list_versions_by_function(&self, ctx: &CallCtx, name: &str) -> CloudResult<Vec<VersionInfo>>;
    async fn lambda_update_function_code(&self, ctx: &CallCtx, req: &UpdateCode) -> CloudResult<FunctionConfiguration>;
    async fn lambda_update_function_configuration(&self, ctx: &CallCtx, req: &UpdateConfiguration) -> CloudResult<FunctionConfiguration>;
    async fn lambda_publish_version(&self, ctx: &CallCtx, name: &str, description: &str) -> CloudResult<VersionInfo>;
    /// DeleteFunction; `qualifier: None` deletes the whole function.
    async fn lambda_delete_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<()>;
    async fn lambda_get_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<Alias>;
    async fn lambda_create_alias(&self, ctx: &CallCtx, req: &CreateAlias) -> CloudResult<Alias>;
    async fn lambda_update_alias(&self, ctx: &CallCtx, req: &UpdateAlias) -> CloudResult<Alias>;
    async fn lambda_get_policy(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<String>;
    async fn lambda_get_provisioned_concurrency_config(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: &str,
    ) -> CloudResult<ProvisionedConcurrency>;

    async fn ecr_get_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef) -> CloudResult<String>;
    async fn ecr_set_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef, policy: &str) -> CloudResult<()>;
    /// DescribeImages for the given tags (empty: every image).
    async fn ecr_describe_images(&self, ctx: &CallCtx, repo: &RepositoryRef, tags: &[String]) -> CloudResult<Vec<ImageDetail>>;

    async fn iam_get_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Role>;

    async fn secrets_put_secret_value(&self, ctx: &CallCtx, secret_id: &str, value: &str) -> CloudResult<SecretRef>;
    async fn secrets_create_secret(&self, ctx: &CallCtx, req: &CreateSecret) -> CloudResult<SecretRef>;
    async fn secrets_delete_secret(&self, ctx: &CallCtx, secret_id: &str, force: bool) -> CloudResult<()>;

    async fn tagging_get_resources(
        &self,
        ctx: &CallCtx,
        resource_types: &[String],
        filters: &[TagFilter],
    ) -> CloudResult<Vec<TaggedResource>>;
}
