//! The JSON fixture a simulated cloud is loaded from and dumped to.
//!
//! Every key is snake_case and every struct refuses unknown keys, so a typo is an
//! error with a line and column rather than a silently ignored setting. Everything
//! but names is optional; `load` fills in AWS's defaults. A dump writes the same
//! format with every setting explicit, except secret values (only their SHA-256).
//!
//! The types are the crate's, not only the sim's: `cloud::record` writes a run's
//! recording in this format so that the sim validates what it wrote.

use crate::cloud::PackageType;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A whole simulated cloud.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fixture {
    /// The account the agent, Lambda functions and secrets live in (default `123456789012`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The default region (default `us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentFixture>,
    #[serde(default)]
    pub iam: IamFixture,
    #[serde(default)]
    pub lambda: LambdaFixture,
    #[serde(default)]
    pub ecr: EcrFixture,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretFixture>,
    #[serde(default)]
    pub s3: S3Fixture,
    #[serde(default)]
    pub logs: LogsFixture,
    #[serde(default)]
    pub networking: NetworkingFixture,
    /// CloudWatch metrics, raw datapoints the sim aggregates per period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricFixture>,
    /// The sim's id counters, so that a reloaded dump goes on minting fresh ids.
    #[serde(default)]
    pub counters: CountersFixture,
    /// Errors the simulated AWS answers instead of doing the work: throttling and
    /// server errors, to rehearse what a caller does about them. Each answers the
    /// next `times` calls of its operation, then is spent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultFixture>,
    /// What `--record` adds about the run this state was recorded from (its calls,
    /// scrubbed inputs and account placeholders). The simulation ignores it; a replay
    /// reads it (see `cloud::record::replay`). Dumps do not carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentFixture {
    /// Default `arn:aws:iam::<account_id>:user/np-agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IamFixture {
    #[serde(default)]
    pub roles: Vec<RoleFixture>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleFixture {
    pub name: String,
    /// Default: the fixture's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Default `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The trust policy. Default: trusts the role's own account
    /// (`arn:aws:iam::<account>:root`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role_policy_document: Option<Value>,
    /// IAM action patterns the role's sessions may call (`lambda:*`, `ecr:Get*`).
    /// Absent: everything is allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
    /// Default 3600 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_session_duration: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The permissions boundary's policy ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Inline policies: name → document.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline_policies: BTreeMap<String, Value>,
    /// Attached managed policies' ARNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogsFixture {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_groups: Vec<LogGroupFixture>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogGroupFixture {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Absent: events are kept forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<u64>,
    /// Events, for FilterLogEvents: `{"timestamp": ms, "message": …, "log_stream_name": …}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<crate::cloud::LogEvent>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LambdaFixture {
    #[serde(default)]
    pub functions: Vec<FunctionFixture>,
}

/// The code and settings of `$LATEST` (on a function) or of a published version
/// (on a version, where every field overrides the function's).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FunctionFixture {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Default: `Image` when `image_uri` is given, else `Zip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_type: Option<PackageType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    /// Default: derived from the code location (see `lambda::code_sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Default `arn:aws:iam::<account>:role/service-role/<name>-role`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Default 128 (AWS's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<u32>,
    /// Default 3 (AWS's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Default 512.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<u32>,
    /// Default `["x86_64"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Pending`, `Active` (default), `Inactive` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// `Successful` (default), `InProgress` or `Failed`: the status before any call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    /// Default: minted from the revision counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionFixture>,
    /// The highest version number ever published, deleted ones included; version
    /// numbers are never reused. Default: the highest of `versions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_published_version: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<AliasFixture>,
    /// The resource-based policy, returned as given by GetPolicy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisioned_concurrency: Vec<ProvisionedFixture>,
    /// Statuses still to be shown by the next configuration reads, one per read, for
    /// the update under way when the fixture was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_update: Option<UpdateScriptFixture>,
    /// How the next code or configuration updates go, in order; an update with no
    /// scripted entry succeeds at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_updates: Vec<UpdateScriptFixture>,
    /// What Invoke answers: the sim runs no code. Default: `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_response: Option<Value>,
    /// Makes Invoke report a function error (`Unhandled`, `Handled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_error: Option<String>,
}

/// A published version: its number, description, and whatever differs from `$LATEST`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VersionFixture {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AliasFixture {
    pub name: String,
    /// A published version number or `$LATEST` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Weighted routing: version → share of traffic (0.0–1.0), at most one entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routing: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProvisionedFixture {
    /// An alias name or a version number.
    pub qualifier: String,
    pub requested: u32,
    /// Statuses (`IN_PROGRESS`, `READY`, `FAILED`) shown by successive reads; the last
    /// one stays. Default `["READY"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_script: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

/// The statuses one update goes through (`InProgress`, `Successful`, `Failed`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateScriptFixture {
    pub statuses: Vec<String>,
    /// Becomes `LastUpdateStatusReason` when the update ends `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EcrFixture {
    #[serde(default)]
    pub repositories: Vec<RepositoryFixture>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepositoryFixture {
    pub name: String,
    /// The owning account; default the fixture's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The repository policy; must hold a `Statement` array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageFixture>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImageFixture {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Default: `sha256:` and a hash of the repository and the image's tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

/// A Secrets Manager secret. Give its value, or only the value's SHA-256 (as dumps do).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretFixture {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The current version's id; default minted from the counter when there is a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Deleted without `force`: scheduled for deletion, refusing writes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending_deletion: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3Fixture {
    #[serde(default)]
    pub objects: Vec<S3ObjectFixture>,
}

/// An S3 object a Zip function's code may come from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3ObjectFixture {
    pub bucket: String,
    pub key: String,
    #[serde(default)]
    pub size: u64,
    /// Default: derived from bucket, key and size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// Counters the sim mints ids from (revision ids, secret version ids, sessions).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountersFixture {
    #[serde(default)]
    pub revisions: u64,
    #[serde(default)]
    pub secret_versions: u64,
    #[serde(default)]
    pub sessions: u64,
    /// Ids of networking resources (APIs, integrations, routes, rules, changes).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resources: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One metric's raw datapoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricFixture {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// The unit CloudWatch reports (`Milliseconds`, `Count` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// (seconds since the epoch, value) pairs.
    pub datapoints: Vec<(u64, f64)>,
}

/// The scope's networking: API Gateway HTTP APIs, load balancer listeners and
/// target groups, Route 53 zones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NetworkingFixture {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<ApiFixture>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain_names: Vec<DomainNameFixture>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerFixture>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_groups: Vec<TargetGroupFixture>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosted_zones: Vec<HostedZoneFixture>,
}

/// An HTTP API with its stages, integrations and routes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApiFixture {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Stage name → auto-deploy.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stages: BTreeMap<String, bool>,
    /// Integration id → the function ARN it invokes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integrations: BTreeMap<String, String>,
    /// Route key → target.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, String>,
}

/// A load balancer's listener and its rules (the default rule is implicit).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListenerFixture {
    /// `arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<lb>/<id>/<id>`.
    pub arn: String,
    /// The load balancer's DNS name.
    pub dns_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleFixture>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFixture {
    pub priority: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub target_group_arns: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetGroupFixture {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostedZoneFixture {
    pub id: String,
    /// The domain, with or without the trailing dot.
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordFixture>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordFixture {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<crate::cloud::AliasTarget>,
}

/// An API Gateway custom domain name and the APIs it serves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DomainNameFixture {
    pub name: String,
    pub certificate_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// API id → stage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mappings: BTreeMap<String, String>,
}

/// A scripted error: `code` for the next `times` calls of `operation` (of `service`,
/// when given: `lambda`, `iam` … as in the journal).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultFixture {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub operation: String,
    pub code: String,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}
