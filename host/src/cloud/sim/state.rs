//! The simulated cloud's state, and what every operation shares: id counters and
//! the permission check.

use super::errors::{Api, Fault};
use super::policy::{self, Decision};
use crate::cloud::{CallCtx, PackageType};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};

/// Everything the sim knows. Maps are ordered so that dumps and listings are stable.
#[derive(Clone, Debug)]
pub(super) struct State {
    /// The account the agent, Lambda functions and secrets live in.
    pub account_id: String,
    pub region: String,
    pub agent_arn: String,
    /// Keyed by (account, role name).
    pub roles: BTreeMap<(String, String), RoleState>,
    /// Keyed by (region, function name).
    pub functions: BTreeMap<(String, String), Function>,
    /// Keyed by (registry id, region, repository name).
    pub repositories: BTreeMap<(String, String, String), Repository>,
    /// Keyed by (region, secret name).
    pub secrets: BTreeMap<(String, String), Secret>,
    /// Keyed by (bucket, key).
    pub s3_objects: BTreeMap<(String, String), S3Object>,
    /// Keyed by (region, log group name).
    pub log_groups: BTreeMap<(String, String), LogGroupState>,
    pub networking: super::networking::Networking,
    pub metrics: Vec<super::fixture::MetricFixture>,
    /// Sessions that carry a session policy, by access key id. Not dumped: a session
    /// lives as long as the run that made it.
    pub sessions: BTreeMap<String, Session>,
    pub counters: Counters,
    /// The virtual clock, seconds since the Unix epoch: it moves only when a test
    /// advances it, so sessions expire only when a test says so. Not dumped.
    pub clock: u64,
    /// Scripted errors still to answer (see [`super::fixture::FaultFixture`]).
    pub faults: Vec<super::fixture::FaultFixture>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Counters {
    /// Not dumped: request ids number one run's conversation, not the cloud's state.
    pub requests: u64,
    pub revisions: u64,
    pub secret_versions: u64,
    pub sessions: u64,
    pub resources: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct RoleState {
    pub name: String,
    pub account: String,
    pub path: String,
    pub trust_policy: Value,
    pub allowed_actions: Option<Vec<String>>,
    pub max_session_duration: u32,
    pub description: String,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Inline policies by name.
    pub inline_policies: BTreeMap<String, Value>,
    /// Attached managed policies' ARNs.
    pub attached_policies: std::collections::BTreeSet<String>,
}

impl RoleState {
    pub(super) fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role{}{}", self.account, self.path, self.name)
    }
}

/// A Lambda function: `$LATEST` plus its versions, aliases and scripts.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Function {
    pub name: String,
    pub region: String,
    /// The unqualified ARN, in the sim's account.
    pub arn: String,
    pub settings: Settings,
    pub description: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub last_update_status: String,
    pub last_update_status_reason: Option<String>,
    pub revision_id: String,
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<u32>,
    pub versions: BTreeMap<u64, Version>,
    /// The highest number ever published; numbers are never reused.
    pub highest_version: u64,
    pub aliases: BTreeMap<String, AliasState>,
    pub policy: Option<Value>,
    /// Keyed by qualifier (alias name or version number).
    pub provisioned: BTreeMap<String, Provisioned>,
    /// The rest of the running update's statuses, shown one per configuration read.
    pub current_update: Option<UpdateScript>,
    pub next_updates: VecDeque<UpdateScript>,
    /// A new function: `Pending` until the next configuration read shows `Active`.
    pub activating: bool,
    /// What Invoke answers (the sim runs no code): the response document, and the
    /// function error (`Unhandled`) when the function is scripted to fail.
    pub invoke_response: Option<Value>,
    pub invoke_error: Option<String>,
}

/// Code and configuration, as `$LATEST` has them and versions snapshot them.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Settings {
    pub package_type: PackageType,
    pub image_uri: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    pub code_sha256: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: String,
    pub memory_size: u32,
    pub timeout: u32,
    pub ephemeral_storage: u32,
    pub architectures: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub layers: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

impl Settings {
    /// Whether publishing `self` over `other` would change nothing: Lambda compares
    /// the code's hash and the configuration, not where the code was uploaded from.
    pub(super) fn publishes_same_as(&self, other: &Settings) -> bool {
        let strip = |s: &Settings| Settings {
            s3_bucket: None,
            s3_key: None,
            ..s.clone()
        };
        strip(self) == strip(other)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Version {
    pub settings: Settings,
    pub description: String,
    pub revision_id: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct AliasState {
    /// A version number or `$LATEST`.
    pub function_version: String,
    pub description: String,
    /// Extra version → weight; at most one entry.
    pub routing: BTreeMap<String, f64>,
    pub revision_id: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Provisioned {
    pub requested: u32,
    /// Statuses still to be shown; never empty, the last one stays.
    pub script: VecDeque<String>,
    pub status_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct UpdateScript {
    pub statuses: VecDeque<String>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Repository {
    pub name: String,
    pub registry_id: String,
    pub region: String,
    pub policy: Option<Value>,
    pub images: Vec<Image>,
    pub tags: BTreeMap<String, String>,
}

impl Repository {
    pub(super) fn arn(&self) -> String {
        repository_arn(&self.region, &self.registry_id, &self.name)
    }
}

pub(super) fn repository_arn(region: &str, registry_id: &str, name: &str) -> String {
    format!("arn:aws:ecr:{region}:{registry_id}:repository/{name}")
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Image {
    pub tags: Vec<String>,
    pub digest: String,
    pub pushed_at: Option<u64>,
    pub size_bytes: Option<u64>,
}

/// A secret. Only the value's hash is kept: nothing reads a value back, and a value
/// that is never stored can never leak into a dump.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Secret {
    pub name: String,
    pub region: String,
    pub value_sha256: Option<String>,
    pub description: String,
    pub tags: BTreeMap<String, String>,
    pub version_id: Option<String>,
    pub pending_deletion: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct LogGroupState {
    pub name: String,
    pub region: String,
    pub retention_in_days: Option<u32>,
    pub tags: BTreeMap<String, String>,
    pub stored_bytes: u64,
    /// Its events, oldest first (a fixture seeds them; nothing writes more).
    pub events: Vec<crate::cloud::LogEvent>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct S3Object {
    pub size: u64,
    pub etag: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Session {
    /// The inline session policy given to AssumeRole.
    pub policy: Value,
}

/// Hex SHA-256 of `text`.
pub(super) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The account field of an ARN (`arn:aws:iam::<account>:…`), if it has one.
pub(super) fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(_service), Some(_region), Some(account), Some(_rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(account).filter(|a| is_account_id(a))
}

pub(super) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// For an assumed-role session ARN `arn:aws:sts::<acct>:assumed-role/<role>/<session>`,
/// the account and role name.
pub(super) fn assumed_role_of(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, resource) = rest.split_once(':')?;
    let (role, _session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    Some((account, role))
}

impl State {
    /// The next request id, `sim-req-000001` onwards.
    pub(super) fn next_request_id(&mut self) -> String {
        self.counters.requests += 1;
        format!("sim-req-{:06}", self.counters.requests)
    }

    /// A fresh revision id for a function, version or alias.
    pub(super) fn next_revision_id(&mut self) -> String {
        self.counters.revisions += 1;
        format!("sim-rev-{:06}", self.counters.revisions)
    }

    /// A fresh secret version id.
    pub(super) fn next_secret_version_id(&mut self) -> String {
        self.counters.secret_versions += 1;
        format!("sim-ver-{:06}", self.counters.secret_versions)
    }

    /// Refuses `api` on `resource` when the caller's own permissions do not cover it.
    ///
    /// The agent may do anything. A session of a fixture role with `allowed_actions`
    /// may call only matching actions; a session created with a session policy is
    /// further limited by that policy (its `Action` and `Resource`, as AWS evaluates them).
    pub(super) fn authorize(&self, ctx: &CallCtx, api: Api, resource: &str) -> Result<(), Fault> {
        self.authorize_action(ctx, api, &api.action(), resource)
    }

    /// [`State::authorize`] for an action other than the operation's own.
    pub(super) fn authorize_action(&self, ctx: &CallCtx, api: Api, action: &str, resource: &str) -> Result<(), Fault> {
        let caller = ctx.identity.arn.as_str();
        if ctx.identity.expires_at.is_some_and(|e| e <= self.clock) {
            return Err(Fault::new(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ));
        }
        let deny = |why: String| Fault::access_denied(api.service, caller, action, resource, Some(&why));
        if let Some((account, role_name)) = assumed_role_of(caller) {
            let role = self.roles.get(&(account.to_string(), role_name.to_string()));
            if let Some(allowed) = role.and_then(|r| r.allowed_actions.as_ref()) {
                if !allowed.iter().any(|pattern| policy::glob_match(pattern, action, true)) {
                    return Err(deny(format!("because no identity-based policy allows the {action} action")));
                }
            }
        }
        let session = ctx.identity.credentials.as_ref().and_then(|c| self.sessions.get(&c.access_key_id));
        if let Some(session) = session {
            match policy::evaluate(&session.policy, action, resource) {
                Decision::Allow => {}
                Decision::ExplicitDeny => return Err(deny("with an explicit deny in a session policy".to_string())),
                Decision::ImplicitDeny => {
                    return Err(deny(format!("because no session policy allows the {action} action")));
                }
            }
        }
        Ok(())
    }
}
