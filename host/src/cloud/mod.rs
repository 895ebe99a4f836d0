//! The cloud seam. Capability modules call a [`Cloud`]: one backend per AWS service
//! (a trait per service: [`StsApi`], [`LambdaApi`], [`EcrApi`], [`IamApi`],
//! [`LogsApi`], [`SecretsApi`], [`TaggingApi`], [`ApiGatewayApi`], [`ElbApi`],
//! [`Route53Api`]) and the [`CloudBase`] they share. Two backends
//! implement every service: [`sim`] (in-memory AWS, the default) and [`aws`] (the
//! official SDK), each service in a file of its own; [`record`] decorates each
//! service of another backend to save what a run read as a `sim` fixture.
//!
//! Adding an operation touches the contract (`wit/`), the capability module of its
//! interface, its service's trait here, and one method per backend of that service.
//!
//! A backend performs calls; it does not decide whether a step may make them — the
//! call gate in `caps` has already run. It may still refuse, as AWS would (a role's
//! trust policy, a role's own permissions in the simulated cloud).

pub mod aws;
pub mod model;
pub mod plan;
pub mod record;
pub mod sim;

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

pub use model::*;

/// What a backend offers besides its services: its name, region and clock.
#[async_trait]
pub trait CloudBase: Send + Sync + 'static {
    /// `sim` or `aws`: shown in the run record.
    fn backend(&self) -> &'static str;

    /// The region calls go to when nothing else names one.
    fn default_region(&self) -> String;

    /// Waits `interval` between two polls of a host-side waiter. The simulated cloud
    /// does not wait (its clock is virtual), so waiters cost no wall time there.
    async fn pause(&self, interval: Duration);

    /// The cloud's clock, seconds since the Unix epoch: what session expiries are
    /// compared with. The simulated cloud's clock stands still.
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// AWS STS. Every method of every service answers with the request id the cloud
/// gave, or a [`CloudError`] carrying AWS's error code; listings return every page.
#[async_trait]
pub trait StsApi: Send + Sync + 'static {
    /// The identity the agent itself runs as (GetCallerIdentity).
    async fn agent_identity(&self) -> CloudResult<Identity>;
    /// AssumeRole as `ctx.identity`.
    async fn assume_role(&self, ctx: &CallCtx, req: &AssumeRoleRequest) -> CloudResult<Identity>;
}

/// AWS Lambda.
#[async_trait]
pub trait LambdaApi: Send + Sync + 'static {
    async fn get_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionInfo>;
    async fn get_function_configuration(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionConfiguration>;
    /// Every version, `$LATEST` first, then published versions in ascending order.
    async fn list_versions_by_function(&self, ctx: &CallCtx, name: &str) -> CloudResult<Vec<VersionInfo>>;
    async fn update_function_code(&self, ctx: &CallCtx, req: &UpdateCode) -> CloudResult<FunctionConfiguration>;
    async fn update_function_configuration(&self, ctx: &CallCtx, req: &UpdateConfiguration) -> CloudResult<FunctionConfiguration>;
    /// PublishVersion; with `revision_id`, only while `$LATEST` is at that revision.
    async fn publish_version(&self, ctx: &CallCtx, name: &str, description: &str, revision_id: Option<&str>) -> CloudResult<VersionInfo>;
    /// DeleteFunction; `qualifier: None` deletes the whole function.
    async fn delete_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<()>;
    async fn get_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<Alias>;
    async fn create_alias(&self, ctx: &CallCtx, req: &CreateAlias) -> CloudResult<Alias>;
    async fn update_alias(&self, ctx: &CallCtx, req: &UpdateAlias) -> CloudResult<Alias>;
    async fn get_policy(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<String>;
    async fn get_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<ProvisionedConcurrency>;
    async fn create_function(&self, ctx: &CallCtx, req: &CreateFunction) -> CloudResult<FunctionConfiguration>;
    async fn put_function_concurrency(&self, ctx: &CallCtx, name: &str, reserved: u32) -> CloudResult<()>;
    async fn delete_function_concurrency(&self, ctx: &CallCtx, name: &str) -> CloudResult<()>;
    async fn put_provisioned_concurrency_config(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: &str,
        requested: u32,
    ) -> CloudResult<ProvisionedConcurrency>;
    async fn delete_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<()>;
    async fn delete_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<()>;
    /// A synchronous (RequestResponse) invocation.
    async fn invoke(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, payload: &[u8]) -> CloudResult<Invocation>;
    async fn add_permission(&self, ctx: &CallCtx, req: &AddPermission) -> CloudResult<()>;
    async fn remove_permission(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, statement_id: &str) -> CloudResult<()>;
}

/// Amazon ECR.
#[async_trait]
pub trait EcrApi: Send + Sync + 'static {
    async fn get_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef) -> CloudResult<String>;
    async fn set_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef, policy: &str) -> CloudResult<()>;
    /// DescribeImages for the given tags (empty: every image).
    async fn describe_images(&self, ctx: &CallCtx, repo: &RepositoryRef, tags: &[String]) -> CloudResult<Vec<ImageDetail>>;
}

/// AWS IAM.
#[async_trait]
pub trait IamApi: Send + Sync + 'static {
    async fn get_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Role>;
    async fn create_role(&self, ctx: &CallCtx, req: &CreateRole) -> CloudResult<Role>;
    async fn update_assume_role_policy(&self, ctx: &CallCtx, role_name: &str, document: &str) -> CloudResult<()>;
    async fn tag_role(&self, ctx: &CallCtx, role_name: &str, tags: &[(String, String)]) -> CloudResult<()>;
    async fn put_role_permissions_boundary(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()>;
    async fn delete_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<()>;
    async fn put_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str, document: &str) -> CloudResult<()>;
    async fn get_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<String>;
    /// Every page.
    async fn list_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<String>>;
    async fn delete_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<()>;
    async fn attach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()>;
    async fn detach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()>;
    /// Every page.
    async fn list_attached_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<AttachedPolicy>>;
}

/// Amazon CloudWatch Logs.
#[async_trait]
pub trait LogsApi: Send + Sync + 'static {
    async fn create_log_group(&self, ctx: &CallCtx, name: &str, tags: &[(String, String)]) -> CloudResult<()>;
    async fn delete_log_group(&self, ctx: &CallCtx, name: &str) -> CloudResult<()>;
    async fn put_retention_policy(&self, ctx: &CallCtx, name: &str, days: u32) -> CloudResult<()>;
    async fn delete_retention_policy(&self, ctx: &CallCtx, name: &str) -> CloudResult<()>;
    /// Every page.
    async fn describe_log_groups(&self, ctx: &CallCtx, prefix: &str) -> CloudResult<Vec<LogGroup>>;
    /// One page.
    async fn filter_log_events(&self, ctx: &CallCtx, req: &FilterLogEvents) -> CloudResult<LogPage>;
}

/// AWS Secrets Manager.
#[async_trait]
pub trait SecretsApi: Send + Sync + 'static {
    async fn put_secret_value(&self, ctx: &CallCtx, secret_id: &str, value: &str) -> CloudResult<SecretRef>;
    async fn create_secret(&self, ctx: &CallCtx, req: &CreateSecret) -> CloudResult<SecretRef>;
    async fn delete_secret(&self, ctx: &CallCtx, secret_id: &str, force: bool) -> CloudResult<()>;
    /// Every page; secrets scheduled for deletion are left out.
    async fn list_secrets(&self, ctx: &CallCtx, name_prefix: &str) -> CloudResult<Vec<SecretSummary>>;
}

/// Amazon API Gateway v2 (HTTP APIs). Listings return every page.
#[async_trait]
pub trait ApiGatewayApi: Send + Sync + 'static {
    async fn get_apis(&self, ctx: &CallCtx) -> CloudResult<Vec<HttpApi>>;
    async fn create_api(&self, ctx: &CallCtx, name: &str, cors: Option<&Cors>, tags: &[(String, String)]) -> CloudResult<HttpApi>;
    async fn delete_api(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<()>;
    async fn get_stages(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Stage>>;
    async fn create_stage(&self, ctx: &CallCtx, req: &CreateStage) -> CloudResult<Stage>;
    async fn get_integrations(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Integration>>;
    async fn create_integration(
        &self,
        ctx: &CallCtx,
        api_id: &str,
        function_arn: &str,
        payload_format_version: &str,
    ) -> CloudResult<Integration>;
    async fn get_routes(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Route>>;
    async fn create_route(&self, ctx: &CallCtx, api_id: &str, route_key: &str, target: &str) -> CloudResult<Route>;
    async fn get_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<DomainName>;
    async fn create_domain_name(
        &self,
        ctx: &CallCtx,
        domain_name: &str,
        certificate_arn: &str,
        tags: &[(String, String)],
    ) -> CloudResult<DomainName>;
    async fn delete_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<()>;
    async fn get_api_mappings(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<Vec<ApiMapping>>;
    async fn create_api_mapping(&self, ctx: &CallCtx, domain_name: &str, api_id: &str, stage: &str) -> CloudResult<ApiMapping>;
}

/// Elastic Load Balancing v2. Listings return every page.
#[async_trait]
pub trait ElbApi: Send + Sync + 'static {
    async fn describe_target_groups(&self, ctx: &CallCtx, names: &[String]) -> CloudResult<Vec<TargetGroup>>;
    async fn create_target_group(&self, ctx: &CallCtx, req: &CreateTargetGroup) -> CloudResult<TargetGroup>;
    async fn delete_target_group(&self, ctx: &CallCtx, arn: &str) -> CloudResult<()>;
    async fn register_target(&self, ctx: &CallCtx, target_group_arn: &str, function_arn: &str) -> CloudResult<()>;
    /// DescribeTargetHealth: the registered targets' ids.
    async fn describe_targets(&self, ctx: &CallCtx, target_group_arn: &str) -> CloudResult<Vec<String>>;
    async fn describe_listener(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Listener>;
    async fn describe_rules(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Vec<ListenerRule>>;
    async fn create_rule(&self, ctx: &CallCtx, req: &CreateRule) -> CloudResult<ListenerRule>;
    async fn delete_rule(&self, ctx: &CallCtx, rule_arn: &str) -> CloudResult<()>;
}

/// Amazon Route 53.
#[async_trait]
pub trait Route53Api: Send + Sync + 'static {
    async fn get_hosted_zone(&self, ctx: &CallCtx, zone_id: &str) -> CloudResult<HostedZone>;
    /// Record sets starting at (`name`, `record_type`), at most `max_items`.
    async fn list_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        name: &str,
        record_type: &str,
        max_items: u32,
    ) -> CloudResult<Vec<RecordSet>>;
    /// One change; answers the change id.
    async fn change_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        action: ChangeAction,
        record: &RecordSet,
    ) -> CloudResult<String>;
}

/// Amazon CloudWatch metrics.
#[async_trait]
pub trait CloudWatchApi: Send + Sync + 'static {
    /// Datapoints oldest first.
    async fn get_metric_statistics(&self, ctx: &CallCtx, query: &MetricQuery) -> CloudResult<Vec<Datapoint>>;
}

/// The Resource Groups Tagging API.
#[async_trait]
pub trait TaggingApi: Send + Sync + 'static {
    async fn get_resources(&self, ctx: &CallCtx, resource_types: &[String], filters: &[TagFilter]) -> CloudResult<Vec<TaggedResource>>;
}

/// A backend that serves every service (the simulated cloud, the SDK backend, the
/// recorder around either).
pub trait Backend:
    CloudBase + StsApi + LambdaApi + EcrApi + IamApi + LogsApi + SecretsApi + TaggingApi + ApiGatewayApi + ElbApi + Route53Api + CloudWatchApi
{
}

impl<T> Backend for T where
    T: CloudBase
        + StsApi
        + LambdaApi
        + EcrApi
        + IamApi
        + LogsApi
        + SecretsApi
        + TaggingApi
        + ApiGatewayApi
        + ElbApi
        + Route53Api
        + CloudWatchApi
{
}

/// The cloud a run uses: one backend per service. Cloning shares the backends.
#[derive(Clone)]
pub struct Cloud {
    pub base: Arc<dyn CloudBase>,
    pub sts: Arc<dyn StsApi>,
    pub lambda: Arc<dyn LambdaApi>,
    pub ecr: Arc<dyn EcrApi>,
    pub iam: Arc<dyn IamApi>,
    pub logs: Arc<dyn LogsApi>,
    pub secrets: Arc<dyn SecretsApi>,
    pub tagging: Arc<dyn TaggingApi>,
    pub apigateway: Arc<dyn ApiGatewayApi>,
    pub elb: Arc<dyn ElbApi>,
    pub route53: Arc<dyn Route53Api>,
    pub cloudwatch: Arc<dyn CloudWatchApi>,
}

impl Cloud {
    /// Every service served by `backend`.
    pub fn of<B: Backend>(backend: Arc<B>) -> Cloud {
        Cloud {
            base: backend.clone(),
            sts: backend.clone(),
            lambda: backend.clone(),
            ecr: backend.clone(),
            iam: backend.clone(),
            logs: backend.clone(),
            secrets: backend.clone(),
            tagging: backend.clone(),
            apigateway: backend.clone(),
            elb: backend.clone(),
            route53: backend.clone(),
            cloudwatch: backend,
        }
    }

    /// `sim` or `aws`.
    pub fn backend(&self) -> &'static str {
        self.base.backend()
    }

    /// The region calls go to when nothing else names one.
    pub fn default_region(&self) -> String {
        self.base.default_region()
    }

    /// Waits between two polls of a waiter (see [`CloudBase::pause`]).
    pub async fn pause(&self, interval: Duration) {
        self.base.pause(interval).await
    }

    /// The cloud's clock (see [`CloudBase::now`]).
    pub fn now(&self) -> u64 {
        self.base.now()
    }

    /// The identity the agent itself runs as.
    pub async fn agent_identity(&self) -> CloudResult<Identity> {
        self.sts.agent_identity().await
    }
}

impl<B: Backend> From<Arc<B>> for Cloud {
    fn from(backend: Arc<B>) -> Cloud {
        Cloud::of(backend)
    }
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cloud").field("backend", &self.backend()).finish_non_exhaustive()
    }
}
