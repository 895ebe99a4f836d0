//! The host's own types for cloud requests and answers. Capability modules convert
//! the generated WIT types to these; backends (`sim`, `aws`) speak only these.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Who a call is made as, and where.
#[derive(Clone, Debug)]
pub struct CallCtx {
    /// The identity whose credentials sign the call.
    pub identity: Identity,
    /// The region the call goes to (unless the request names its own).
    pub region: String,
}

/// A cloud identity. The key material, when there is any, stays in [`Credentials`],
/// which never prints and never crosses into a guest.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// Its ARN (`arn:aws:iam::1:user/x`, `arn:aws:sts::1:assumed-role/r/s`).
    pub arn: String,
    /// Its account id.
    pub account: String,
    /// Session expiry, seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// Key material; `None` for the agent in the simulated cloud.
    pub credentials: Option<Credentials>,
}

/// Temporary credentials. `Debug` shows only the access key id's last four characters.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// The key material is wiped when the last copy goes: a host that ran many role
/// sessions leaves none of their keys behind in freed memory (a core dump, a swap
/// file, a later allocation). Copies the AWS SDK makes are its own.
impl Drop for Credentials {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.secret_access_key.zeroize();
        self.session_token.zeroize();
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail: String = self
            .access_key_id
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        write!(f, "Credentials(…{tail}, secret redacted)")
    }
}

impl Credentials {
    /// Every secret string in these credentials, for the redactor.
    pub fn secret_values(&self) -> Vec<String> {
        let mut v = vec![self.secret_access_key.clone()];
        v.extend(self.session_token.clone());
        v
    }
}

/// An AssumeRole request.
#[derive(Clone, Debug)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub session_name: String,
    /// An inline session policy (JSON) narrowing the session; AWS enforces it.
    pub session_policy: Option<String>,
    pub duration_seconds: u32,
}

/// An error answered by the cloud, with AWS's codes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloudError {
    pub service: String,
    pub operation: String,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub retryable: bool,
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}: {}", self.service, self.operation, self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for CloudError {}

/// What kind of failure a cloud error is, whatever the service: the contract's
/// `error-kind`, derived from AWS's code so both backends agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Throttled,
    AccessDenied,
    InvalidParameter,
    ExpiredCredentials,
    Other,
}

impl CloudError {
    /// The portable kind of this error's code.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of_code(&self.code)
    }
}

impl ErrorKind {
    /// Classifies an AWS error code. Codes are matched whole: services spell the
    /// same failure differently (`NoSuchEntity` in IAM, `ResourceNotFoundException`
    /// in Lambda), and a code this table does not know is `Other`.
    pub fn of_code(code: &str) -> Self {
        match code {
            "ResourceNotFoundException"
            | "NoSuchEntity"
            | "NoSuchEntityException"
            | "RepositoryNotFoundException"
            | "RepositoryPolicyNotFoundException"
            | "ImageNotFoundException"
            | "ProvisionedConcurrencyConfigNotFoundException"
            | "NotFoundException"
            | "TargetGroupNotFound"
            | "RuleNotFound"
            | "ListenerNotFound"
            | "LoadBalancerNotFound"
            | "NoSuchHostedZone"
            | "NoSuchChange" => Self::NotFound,
            "ResourceConflictException"
            | "ResourceInUseException"
            | "EntityAlreadyExists"
            | "EntityAlreadyExistsException"
            | "ResourceAlreadyExistsException"
            | "ResourceExistsException"
            | "PreconditionFailedException"
            | "DeleteConflict"
            | "ConflictException"
            | "DuplicateTargetGroupName"
            | "PriorityInUse"
            | "ConcurrentModification"
            | "PriorRequestNotComplete" => Self::Conflict,
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RateExceeded"
            | "SlowDown"
            | "ProvisionedThroughputExceededException"
            | "Throttled" => Self::Throttled,
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "NotAuthorized"
            | "AuthorizationError" => Self::AccessDenied,
            "InvalidParameterValueException"
            | "InvalidParameterException"
            | "InvalidParameterCombination"
            | "InvalidRequestException"
            | "InvalidInput"
            | "ValidationException"
            | "ValidationError"
            | "MalformedPolicyDocument"
            | "MalformedPolicyDocumentException"
            | "InvalidParameter"
            | "InvalidChangeBatch"
            | "BadRequestException"
            | "InvalidLayerVersionException" => Self::InvalidParameter,
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => Self::ExpiredCredentials,
            _ => Self::Other,
        }
    }
}

/// A successful answer and the request id the cloud gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply<T> {
    pub value: T,
    pub request_id: Option<String>,
}

/// The result of every cloud call.
pub type CloudResult<T> = Result<Reply<T>, CloudError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PackageType {
    #[default]
    Zip,
    Image,
}

/// A function's (or a version's) configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionConfiguration {
    pub function_name: String,
    pub function_arn: String,
    pub version: String,
    pub description: String,
    pub package_type: PackageType,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: String,
    pub memory_size: u32,
    pub timeout: u32,
    pub ephemeral_storage: u32,
    pub architectures: Vec<String>,
    pub environment: Vec<(String, String)>,
    pub layers: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub image_uri: Option<String>,
    pub code_sha256: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub last_update_status: String,
    pub last_update_status_reason: Option<String>,
    pub revision_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunctionInfo {
    pub configuration: FunctionConfiguration,
    pub tags: Vec<(String, String)>,
    pub reserved_concurrency: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionInfo {
    pub version: String,
    pub description: String,
    pub function_arn: String,
    pub code_sha256: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
    pub object_version: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CodeSource {
    S3(S3Location),
    Image(String),
}

/// Code for a new function.
#[derive(Clone, Debug, PartialEq)]
pub enum FunctionCode {
    /// A zip archive's bytes, sent inline.
    ZipFile(Vec<u8>),
    S3(S3Location),
    Image(String),
}

/// CreateFunction; `None` settings take Lambda's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateFunction {
    pub function_name: String,
    pub role: String,
    pub package_type: PackageType,
    pub code: FunctionCode,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub architectures: Vec<String>,
    pub memory_size: Option<u32>,
    pub timeout: Option<u32>,
    pub ephemeral_storage: Option<u32>,
    pub environment: Vec<(String, String)>,
    pub layers: Vec<String>,
    pub vpc: Option<VpcConfig>,
    pub description: String,
    pub publish: bool,
    pub tags: Vec<(String, String)>,
}

/// What a synchronous Invoke answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub status_code: u32,
    /// `Handled`/`Unhandled` when the function failed.
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
    pub executed_version: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UpdateCode {
    pub function_name: String,
    pub code: CodeSource,
    pub architectures: Option<Vec<String>>,
    /// Optimistic locking: update only while the function is at this revision.
    pub revision_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

/// UpdateFunctionConfiguration; `None` leaves a setting unchanged.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct UpdateConfiguration {
    pub function_name: String,
    pub memory_size: Option<u32>,
    pub timeout: Option<u32>,
    pub ephemeral_storage: Option<u32>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub environment: Option<Vec<(String, String)>>,
    pub layers: Option<Vec<String>>,
    pub vpc: Option<VpcConfig>,
    pub description: Option<String>,
    /// Optimistic locking: update only while the function is at this revision.
    pub revision_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionWeight {
    pub version: String,
    pub weight: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alias {
    pub name: String,
    pub alias_arn: String,
    pub function_version: String,
    pub description: String,
    pub routing: Vec<VersionWeight>,
    pub revision_id: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateAlias {
    pub function_name: String,
    pub alias_name: String,
    pub function_version: String,
    pub description: String,
    pub routing: Vec<VersionWeight>,
}

/// UpdateAlias; `routing: Some(vec![])` clears weighted routing.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateAlias {
    pub function_name: String,
    pub alias_name: String,
    pub function_version: Option<String>,
    pub routing: Option<Vec<VersionWeight>>,
    /// Optimistic locking: update only while the alias is at this revision.
    pub revision_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProvisionedConcurrency {
    pub requested: u32,
    pub allocated: u32,
    pub available: u32,
    pub status: String,
    pub status_reason: Option<String>,
}

/// An ECR repository, possibly in another registry (account) or region.
#[derive(Clone, Debug, PartialEq)]
pub struct RepositoryRef {
    /// `None`: the caller's account.
    pub registry_id: Option<String>,
    /// `None`: the call's region.
    pub region: Option<String>,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImageDetail {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: Option<u64>,
    pub size_bytes: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Role {
    pub role_name: String,
    pub arn: String,
    pub role_id: String,
    pub assume_role_policy_document: String,
    pub max_session_duration: u32,
    pub description: String,
    /// The permissions boundary's policy ARN.
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// CreateRole.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateRole {
    pub role_name: String,
    pub assume_role_policy_document: String,
    pub description: String,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A managed policy attached to a role.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub policy_arn: String,
}

/// A CloudWatch Logs log group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogGroup {
    pub name: String,
    /// Without the trailing `:*`.
    pub arn: String,
    pub retention_in_days: Option<u32>,
    pub stored_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEvent {
    pub timestamp: u64,
    pub message: String,
    pub log_stream_name: String,
}

/// FilterLogEvents, one page.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FilterLogEvents {
    pub log_group_name: String,
    pub start_time: Option<u64>,
    pub end_time: Option<u64>,
    pub filter_pattern: Option<String>,
    pub limit: Option<u32>,
    pub next_token: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogPage {
    pub events: Vec<LogEvent>,
    pub next_token: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    Sum,
    Average,
    Maximum,
    Minimum,
    SampleCount,
}

/// GetMetricStatistics of one statistic.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<(String, String)>,
    /// Seconds since the epoch.
    pub start_time: u64,
    pub end_time: u64,
    pub period: u32,
    pub statistic: Statistic,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Datapoint {
    /// Seconds since the epoch.
    pub timestamp: u64,
    pub value: f64,
    pub unit: String,
}

/// A secret in a listing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecretSummary {
    pub arn: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SecretRef {
    pub arn: String,
    pub name: String,
    pub version_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateSecret {
    pub name: String,
    pub description: String,
    pub secret_string: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TagFilter {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TaggedResource {
    pub arn: String,
    pub tags: Vec<(String, String)>,
}

/// An API Gateway v2 HTTP API.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpApi {
    pub api_id: String,
    pub name: String,
    pub api_endpoint: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub max_age: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stage {
    pub stage_name: String,
    pub auto_deploy: bool,
}

/// CreateStage with throttling.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateStage {
    pub api_id: String,
    pub stage_name: String,
    pub auto_deploy: bool,
    pub rate_limit: f64,
    pub burst_limit: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Integration {
    pub integration_id: String,
    pub integration_type: String,
    pub integration_uri: String,
    pub payload_format_version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    pub target: Option<String>,
}

/// AddPermission on a function.
#[derive(Clone, Debug, PartialEq)]
pub struct AddPermission {
    pub function_name: String,
    pub qualifier: Option<String>,
    pub statement_id: String,
    pub action: String,
    pub principal: String,
    pub source_arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub target_type: String,
    pub health_check_path: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheck {
    pub path: String,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub matcher: String,
}

/// CreateTargetGroup of type lambda.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateTargetGroup {
    pub name: String,
    pub health_check: HealthCheck,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListenerRule {
    pub arn: String,
    /// A number, or `default`.
    pub priority: String,
    pub hosts: Vec<String>,
    pub target_group_arns: Vec<String>,
}

/// CreateRule forwarding `hosts` to a target group.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateRule {
    pub listener_arn: String,
    pub priority: u32,
    pub hosts: Vec<String>,
    pub target_group_arn: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub dns_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostedZone {
    /// Without the `/hostedzone/` prefix.
    pub id: String,
    /// With the trailing dot.
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordSet {
    /// With the trailing dot.
    pub name: String,
    pub record_type: String,
    pub ttl: Option<u32>,
    /// Empty for an alias record.
    pub values: Vec<String>,
    pub alias_target: Option<AliasTarget>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct AliasTarget {
    pub hosted_zone_id: String,
    pub dns_name: String,
}

/// An API Gateway custom domain name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainName {
    pub domain_name: String,
    pub target_domain_name: String,
    pub target_hosted_zone_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiMapping {
    pub api_mapping_id: String,
    pub api_id: String,
    pub stage: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAction {
    Upsert,
    Delete,
}
