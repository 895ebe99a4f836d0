//! Record and replay: a run against AWS saved as a simulated-cloud fixture.
//!
//! [`RecordingCloud`] wraps any [`Cloud`]: it forwards every call unchanged and, from
//! each answer, learns how the cloud was before the run (see `seen.rs` for the
//! rule: the first read wins, and only before the run writes). Operations it does
//! not learn from yet (creating and deleting roles, functions and log groups, their
//! policies, permissions and concurrency, invocations, HTTP APIs, load balancer
//! target groups and rules, DNS records, and the reads that go with them) are only
//! forwarded: a run that used one gets a note per operation saying so. At the end of the run
//! [`Recorder::write`] turns that into a fixture of the state the run started from
//! (`assemble.rs`), adds a `recording` section — the calls the run made and the
//! inputs it was given — and scrubs the whole document:
//!
//! - secret values: every string passes through the run's redactor; Secrets Manager
//!   values are never kept at all, and Lambda environment values are written masked
//!   (they often hold secrets the run never learnt, such as an earlier deployment's);
//! - request ids: none is written (calls keep no request id or message), and any
//!   id AWS answered with is replaced wherever it might still appear;
//! - account ids: each real account becomes a placeholder, the same one everywhere
//!   (`scrub.rs`).
//!
//! The file loads with `--cloud-state` like any fixture, validated by the sim before
//! it is written. On replay (`replay.rs`) the placeholders are put back to the real
//! accounts the replaying run's own inputs name where the recorded inputs have a
//! placeholder, so the same command with `--cloud-state <recording>` instead of
//! `--cloud aws --record <recording>` runs against the same accounts and gives the
//! same outputs — while the file itself holds no real account id.

mod assemble;
mod replay;
mod scrub;
mod seen;

#[cfg(test)]
mod tests;

pub use replay::{load_sim, ReplayError};

use super::*;
use crate::journal::CallRecord;
use crate::providers::ProviderStore;
use crate::redact::Redactor;
use async_trait::async_trait;
use seen::Seen;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use thiserror::Error;

/// The version of the `recording` section's format.
const FORMAT: u32 = 1;

/// What replaces a request id that turns up in a recorded string.
const REQUEST_ID_MASK: &str = "[request id]";

/// What a run was given that may name accounts: its context, provider data and
/// variables. Kept (scrubbed) in the recording, so that a replay can tell which real
/// account each placeholder stands for from its own inputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inputs {
    pub context: Value,
    pub providers: Value,
    pub vars: BTreeMap<String, String>,
}

impl Inputs {
    pub fn new(context: &Value, providers: &ProviderStore, vars: &BTreeMap<String, String>) -> Inputs {
        Inputs {
            context: context.clone(),
            // Serializing plain structs and JSON values cannot fail.
            providers: serde_json::to_value(providers.all()).unwrap_or(Value::Null),
            vars: vars.clone(),
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        serde_json::json!({"context": self.context, "providers": self.providers, "vars": self.vars})
    }
}

/// The `recording` member of a recorded fixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordingSection {
    /// The version of this format.
    pub format: u32,
    /// The cloud the run talked to (`aws`).
    pub backend: String,
    /// The workflow or plugin that ran.
    pub target: String,
    /// `ok` or `failed`.
    pub outcome: String,
    /// The account placeholders used; the first stands for the account the Lambda
    /// functions live in (the fixture's `account_id`).
    pub accounts: Vec<String>,
    /// The run's context, provider data and variables, scrubbed like the rest.
    pub inputs: Value,
    /// Every call the run made (or the host refused), in order.
    pub calls: Vec<RecordedCall>,
    /// What the simulated cloud could not hold and was left out, and the operations
    /// the run used whose effects the recording does not follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One call of the run, as the journal has it, without request id, message or timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordedCall {
    pub step: String,
    pub service: String,
    pub operation: String,
    pub resource: String,
    pub identity: String,
    /// `ok`, `cloud_error`, `denied` …
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl RecordedCall {
    /// From a journal call record.
    fn from_journal(call: &CallRecord) -> RecordedCall {
        RecordedCall {
            step: call.step.clone(),
            service: call.service.clone(),
            operation: call.operation.clone(),
            resource: call.resource.clone(),
            identity: call.identity.clone(),
            outcome: call.outcome.as_str().to_owned(),
            code: call.code.clone(),
        }
    }
}

/// Why a recording could not be written.
#[derive(Debug, Error)]
pub enum RecordError {
    #[error("writing the recording to {path}: {source}")]
    Write { path: String, source: std::io::Error },
    /// The assembled fixture does not load: a host bug, reported rather than written.
    #[error("the recording does not load as a simulated cloud ({0}); this is a scope-host bug, please report it")]
    Invalid(String),
}

/// A [`Cloud`] that forwards every call to another and learns from the answers.
pub struct RecordingCloud {
    inner: Cloud,
    seen: Arc<Mutex<Seen>>,
}

/// Writes what a [`RecordingCloud`] learnt, at the end of the run.
#[derive(Clone)]
pub struct Recorder {
    seen: Arc<Mutex<Seen>>,
    backend: &'static str,
    inputs: Inputs,
    target: String,
}

/// Wraps `inner` for recording a run of `target` given `inputs`.
pub fn record(inner: Cloud, inputs: Inputs, target: &str) -> (Cloud, Recorder) {
    let seen = Arc::new(Mutex::new(Seen::new(inner.default_region())));
    let recorder = Recorder {
        seen: seen.clone(),
        backend: inner.backend(),
        inputs,
        target: target.to_owned(),
    };
    (Cloud::of(Arc::new(RecordingCloud { inner, seen })), recorder)
}

fn lock(seen: &Mutex<Seen>) -> MutexGuard<'_, Seen> {
    // Observations are plain inserts; after a panic elsewhere keep what was learnt.
    seen.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Recorder {
    /// The recording as JSON text, and notes on what it leaves out. `calls` are the
    /// journal's call entries; every string passes through `redactor`.
    pub fn document(&self, ok: bool, calls: &[CallRecord], redactor: &Redactor) -> Result<(String, Vec<String>), RecordError> {
        let seen = lock(&self.seen);
        let (mut fixture, mut notes) = assemble::fixture(&seen);
        notes.extend(seen.untracked_notes());
        let section = RecordingSection {
            format: FORMAT,
            backend: self.backend.to_owned(),
            target: self.target.clone(),
            outcome: if ok { "ok" } else { "failed" }.to_owned(),
            accounts: Vec::new(),
            inputs: self.inputs.to_value(),
            calls: calls.iter().map(RecordedCall::from_journal).collect(),
            notes: notes.clone(),
        };
        let first_account = fixture.account_id.clone();
        fixture.recording = Some(serde_json::to_value(section).map_err(|e| RecordError::Invalid(e.to_string()))?);
        let doc = serde_json::to_value(&fixture).map_err(|e| RecordError::Invalid(e.to_string()))?;

        let doc = redactor.redact_json(&doc);
        let request_ids: Vec<String> = seen.request_ids.iter().filter(|id| id.len() >= 8).cloned().collect();
        let doc = scrub::map_strings(&doc, &|s| scrub::replace_all(s, &request_ids, REQUEST_ID_MASK));
        let accounts = scrub::placeholders(&doc, first_account.as_deref());
        let mut doc = scrub::scrub(&doc, &accounts);
        let mut placeholders: Vec<String> = accounts.into_values().collect();
        placeholders.sort();
        doc["recording"]["accounts"] = Value::from(placeholders);

        let text = serde_json::to_string_pretty(&doc).map_err(|e| RecordError::Invalid(e.to_string()))? + "\n";
        crate::cloud::sim::SimCloud::from_fixture_json(&text).map_err(|e| RecordError::Invalid(e.to_string()))?;
        Ok((text, notes))
    }

    /// The state the run has read so far, as a fixture for a plan's overlay (see
    /// `assemble::overlay_fixture`): unscrubbed, never written to a file.
    pub(crate) fn overlay_fixture(&self) -> crate::cloud::sim::fixture::Fixture {
        assemble::overlay_fixture(&lock(&self.seen))
    }

    /// Writes the recording to `path`; returns notes on what it leaves out.
    pub fn write(&self, path: &Path, ok: bool, calls: &[CallRecord], redactor: &Redactor) -> Result<Vec<String>, RecordError> {
        let (text, notes) = self.document(ok, calls, redactor)?;
        std::fs::write(path, text).map_err(|source| RecordError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(notes)
    }
}

impl RecordingCloud {
    /// Notes what every answer tells, and hands the state over for the rest.
    fn answered<T>(&self, ctx: Option<&CallCtx>, action: &str, answer: &CloudResult<T>) -> MutexGuard<'_, Seen> {
        let mut seen = lock(&self.seen);
        seen.answered(ctx, action, answer);
        seen
    }
}

/// The error code of a refused call.
fn code<T>(answer: &CloudResult<T>) -> Option<&str> {
    answer.as_ref().err().map(|e| e.code.as_str())
}

#[async_trait]
impl CloudBase for RecordingCloud {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn default_region(&self) -> String {
        self.inner.default_region()
    }

    async fn pause(&self, interval: Duration) {
        self.inner.pause(interval).await
    }

    fn now(&self) -> u64 {
        self.inner.now()
    }
}

#[async_trait]
impl StsApi for RecordingCloud {
    async fn agent_identity(&self) -> CloudResult<Identity> {
        let answer = self.inner.sts.agent_identity().await;
        let mut seen = self.answered(None, "sts:GetCallerIdentity", &answer);
        if let Ok(r) = &answer {
            seen.agent_identity(&r.value);
        }
        drop(seen);
        answer
    }

    async fn assume_role(&self, ctx: &CallCtx, req: &AssumeRoleRequest) -> CloudResult<Identity> {
        let answer = self.inner.sts.assume_role(ctx, req).await;
        let mut seen = self.answered(Some(ctx), "sts:AssumeRole", &answer);
        if answer.is_ok() {
            seen.assume_role(ctx, req);
        }
        drop(seen);
        answer
    }
}

#[async_trait]
impl LambdaApi for RecordingCloud {
    async fn get_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionInfo> {
        let answer = self.inner.lambda.get_function(ctx, name, qualifier).await;
        let mut seen = self.answered(Some(ctx), "lambda:GetFunction", &answer);
        if let Ok(r) = &answer {
            seen.lambda_configuration(ctx, name, qualifier, &r.value.configuration);
            seen.lambda_function_extras(ctx, name, &r.value);
        }
        drop(seen);
        answer
    }

    async fn get_function_configuration(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionConfiguration> {
        let answer = self.inner.lambda.get_function_configuration(ctx, name, qualifier).await;
        let mut seen = self.answered(Some(ctx), "lambda:GetFunctionConfiguration", &answer);
        if let Ok(r) = &answer {
            seen.lambda_configuration(ctx, name, qualifier, &r.value);
        }
        drop(seen);
        answer
    }

    async fn list_versions_by_function(&self, ctx: &CallCtx, name: &str) -> CloudResult<Vec<VersionInfo>> {
        let answer = self.inner.lambda.list_versions_by_function(ctx, name).await;
        let mut seen = self.answered(Some(ctx), "lambda:ListVersionsByFunction", &answer);
        if let Ok(r) = &answer {
            seen.lambda_list_versions(ctx, name, &r.value);
        }
        drop(seen);
        answer
    }

    async fn update_function_code(&self, ctx: &CallCtx, req: &UpdateCode) -> CloudResult<FunctionConfiguration> {
        let answer = self.inner.lambda.update_function_code(ctx, req).await;
        let mut seen = self.answered(Some(ctx), "lambda:UpdateFunctionCode", &answer);
        if let Ok(r) = &answer {
            seen.lambda_updated(ctx, &req.function_name, &r.value);
            seen.s3_code_used(&req.code);
        }
        drop(seen);
        answer
    }

    async fn update_function_configuration(&self, ctx: &CallCtx, req: &UpdateConfiguration) -> CloudResult<FunctionConfiguration> {
        let answer = self.inner.lambda.update_function_configuration(ctx, req).await;
        let mut seen = self.answered(Some(ctx), "lambda:UpdateFunctionConfiguration", &answer);
        if let Ok(r) = &answer {
            seen.lambda_updated(ctx, &req.function_name, &r.value);
        }
        drop(seen);
        answer
    }

    async fn publish_version(&self, ctx: &CallCtx, name: &str, description: &str, revision_id: Option<&str>) -> CloudResult<VersionInfo> {
        let answer = self.inner.lambda.publish_version(ctx, name, description, revision_id).await;
        let mut seen = self.answered(Some(ctx), "lambda:PublishVersion", &answer);
        if let Ok(r) = &answer {
            seen.lambda_published(ctx, name, &r.value);
        }
        drop(seen);
        answer
    }

    async fn delete_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<()> {
        let answer = self.inner.lambda.delete_function(ctx, name, qualifier).await;
        let mut seen = self.answered(Some(ctx), "lambda:DeleteFunction", &answer);
        if answer.is_ok() {
            seen.lambda_deleted(ctx, name, qualifier);
        }
        drop(seen);
        answer
    }

    async fn get_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<Alias> {
        let answer = self.inner.lambda.get_alias(ctx, name, alias).await;
        let mut seen = self.answered(Some(ctx), "lambda:GetAlias", &answer);
        if let Ok(r) = &answer {
            seen.lambda_alias_read(ctx, name, &r.value);
        }
        drop(seen);
        answer
    }

    async fn create_alias(&self, ctx: &CallCtx, req: &CreateAlias) -> CloudResult<Alias> {
        let answer = self.inner.lambda.create_alias(ctx, req).await;
        let mut seen = self.answered(Some(ctx), "lambda:CreateAlias", &answer);
        match code(&answer) {
            None => seen.lambda_alias_created(ctx, req),
            Some("ResourceConflictException") => seen.lambda_alias_exists(ctx, req),
            Some(_) => {}
        }
        drop(seen);
        answer
    }

    async fn update_alias(&self, ctx: &CallCtx, req: &UpdateAlias) -> CloudResult<Alias> {
        let answer = self.inner.lambda.update_alias(ctx, req).await;
        let mut seen = self.answered(Some(ctx), "lambda:UpdateAlias", &answer);
        if let Ok(r) = &answer {
            seen.lambda_alias_updated(ctx, req, &r.value);
        }
        drop(seen);
        answer
    }

    async fn get_policy(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<String> {
        let answer = self.inner.lambda.get_policy(ctx, name, qualifier).await;
        let mut seen = self.answered(Some(ctx), "lambda:GetPolicy", &answer);
        match &answer {
            Ok(r) => {
                if let Ok(policy) = serde_json::from_str::<Value>(&r.value) {
                    seen.lambda_policy(ctx, name, qualifier, Some(policy));
                }
            }
            Err(e) if e.code == "ResourceNotFoundException" => seen.lambda_policy(ctx, name, qualifier, None),
            Err(_) => {}
        }
        drop(seen);
        answer
    }

    async fn get_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<ProvisionedConcurrency> {
        let answer = self.inner.lambda.get_provisioned_concurrency_config(ctx, name, qualifier).await;
        let mut seen = self.answered(Some(ctx), "lambda:GetProvisionedConcurrencyConfig", &answer);
        if let Ok(r) = &answer {
            seen.lambda_provisioned(ctx, name, qualifier, &r.value);
        }
        drop(seen);
        answer
    }

    async fn create_function(&self, ctx: &CallCtx, req: &CreateFunction) -> CloudResult<FunctionConfiguration> {
        let answer = self.inner.lambda.create_function(ctx, req).await;
        let action = "lambda:CreateFunction";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn put_function_concurrency(&self, ctx: &CallCtx, name: &str, reserved: u32) -> CloudResult<()> {
        let answer = self.inner.lambda.put_function_concurrency(ctx, name, reserved).await;
        let action = "lambda:PutFunctionConcurrency";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_function_concurrency(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let answer = self.inner.lambda.delete_function_concurrency(ctx, name).await;
        let action = "lambda:DeleteFunctionConcurrency";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn put_provisioned_concurrency_config(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: &str,
        requested: u32,
    ) -> CloudResult<ProvisionedConcurrency> {
        let answer = self
            .inner
            .lambda
            .put_provisioned_concurrency_config(ctx, name, qualifier, requested)
            .await;
        let action = "lambda:PutProvisionedConcurrencyConfig";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<()> {
        let answer = self.inner.lambda.delete_provisioned_concurrency_config(ctx, name, qualifier).await;
        let action = "lambda:DeleteProvisionedConcurrencyConfig";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<()> {
        let answer = self.inner.lambda.delete_alias(ctx, name, alias).await;
        let action = "lambda:DeleteAlias";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn invoke(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, payload: &[u8]) -> CloudResult<Invocation> {
        let answer = self.inner.lambda.invoke(ctx, name, qualifier, payload).await;
        let action = "lambda:Invoke";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn add_permission(&self, ctx: &CallCtx, req: &AddPermission) -> CloudResult<()> {
        let answer = self.inner.lambda.add_permission(ctx, req).await;
        let action = "lambda:AddPermission";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn remove_permission(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, statement_id: &str) -> CloudResult<()> {
        let answer = self.inner.lambda.remove_permission(ctx, name, qualifier, statement_id).await;
        let action = "lambda:RemovePermission";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }
}

#[async_trait]
impl EcrApi for RecordingCloud {
    async fn get_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef) -> CloudResult<String> {
        let answer = self.inner.ecr.get_repository_policy(ctx, repo).await;
        let mut seen = self.answered(Some(ctx), "ecr:GetRepositoryPolicy", &answer);
        match &answer {
            Ok(r) => {
                if let Ok(policy) = serde_json::from_str::<Value>(&r.value) {
                    seen.ecr_policy(ctx, repo, Some(policy));
                }
            }
            Err(e) if e.code == "RepositoryPolicyNotFoundException" => seen.ecr_policy(ctx, repo, None),
            Err(_) => {}
        }
        drop(seen);
        answer
    }

    async fn set_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef, policy: &str) -> CloudResult<()> {
        let answer = self.inner.ecr.set_repository_policy(ctx, repo, policy).await;
        let mut seen = self.answered(Some(ctx), "ecr:SetRepositoryPolicy", &answer);
        if answer.is_ok() {
            seen.ecr_policy_set(ctx, repo);
        }
        drop(seen);
        answer
    }

    async fn describe_images(&self, ctx: &CallCtx, repo: &RepositoryRef, tags: &[String]) -> CloudResult<Vec<ImageDetail>> {
        let answer = self.inner.ecr.describe_images(ctx, repo, tags).await;
        let mut seen = self.answered(Some(ctx), "ecr:DescribeImages", &answer);
        match &answer {
            Ok(r) => seen.ecr_images(ctx, repo, &r.value),
            // The repository is there; the tags asked for are not.
            Err(e) if e.code == "ImageNotFoundException" => seen.ecr_exists(ctx, repo),
            Err(_) => {}
        }
        drop(seen);
        answer
    }
}

#[async_trait]
impl IamApi for RecordingCloud {
    async fn get_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Role> {
        let answer = self.inner.iam.get_role(ctx, role_name).await;
        let mut seen = self.answered(Some(ctx), "iam:GetRole", &answer);
        if let Ok(r) = &answer {
            seen.iam_get_role(&r.value);
        }
        drop(seen);
        answer
    }

    async fn create_role(&self, ctx: &CallCtx, req: &CreateRole) -> CloudResult<Role> {
        let answer = self.inner.iam.create_role(ctx, req).await;
        let action = "iam:CreateRole";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn update_assume_role_policy(&self, ctx: &CallCtx, role_name: &str, document: &str) -> CloudResult<()> {
        let answer = self.inner.iam.update_assume_role_policy(ctx, role_name, document).await;
        let action = "iam:UpdateAssumeRolePolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn tag_role(&self, ctx: &CallCtx, role_name: &str, tags: &[(String, String)]) -> CloudResult<()> {
        let answer = self.inner.iam.tag_role(ctx, role_name, tags).await;
        let action = "iam:TagRole";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn put_role_permissions_boundary(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let answer = self.inner.iam.put_role_permissions_boundary(ctx, role_name, policy_arn).await;
        let action = "iam:PutRolePermissionsBoundary";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<()> {
        let answer = self.inner.iam.delete_role(ctx, role_name).await;
        let action = "iam:DeleteRole";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn put_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str, document: &str) -> CloudResult<()> {
        let answer = self.inner.iam.put_role_policy(ctx, role_name, policy_name, document).await;
        let action = "iam:PutRolePolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn get_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<String> {
        let answer = self.inner.iam.get_role_policy(ctx, role_name, policy_name).await;
        let action = "iam:GetRolePolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn list_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<String>> {
        let answer = self.inner.iam.list_role_policies(ctx, role_name).await;
        let action = "iam:ListRolePolicies";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<()> {
        let answer = self.inner.iam.delete_role_policy(ctx, role_name, policy_name).await;
        let action = "iam:DeleteRolePolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn attach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let answer = self.inner.iam.attach_role_policy(ctx, role_name, policy_arn).await;
        let action = "iam:AttachRolePolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn detach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let answer = self.inner.iam.detach_role_policy(ctx, role_name, policy_arn).await;
        let action = "iam:DetachRolePolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn list_attached_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<AttachedPolicy>> {
        let answer = self.inner.iam.list_attached_role_policies(ctx, role_name).await;
        let action = "iam:ListAttachedRolePolicies";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }
}

#[async_trait]
impl LogsApi for RecordingCloud {
    async fn create_log_group(&self, ctx: &CallCtx, name: &str, tags: &[(String, String)]) -> CloudResult<()> {
        let answer = self.inner.logs.create_log_group(ctx, name, tags).await;
        let action = "logs:CreateLogGroup";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_log_group(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let answer = self.inner.logs.delete_log_group(ctx, name).await;
        let action = "logs:DeleteLogGroup";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn put_retention_policy(&self, ctx: &CallCtx, name: &str, days: u32) -> CloudResult<()> {
        let answer = self.inner.logs.put_retention_policy(ctx, name, days).await;
        let action = "logs:PutRetentionPolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_retention_policy(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let answer = self.inner.logs.delete_retention_policy(ctx, name).await;
        let action = "logs:DeleteRetentionPolicy";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn describe_log_groups(&self, ctx: &CallCtx, prefix: &str) -> CloudResult<Vec<LogGroup>> {
        let answer = self.inner.logs.describe_log_groups(ctx, prefix).await;
        let action = "logs:DescribeLogGroups";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn filter_log_events(&self, ctx: &CallCtx, req: &FilterLogEvents) -> CloudResult<LogPage> {
        let answer = self.inner.logs.filter_log_events(ctx, req).await;
        let action = "logs:FilterLogEvents";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }
}

#[async_trait]
impl SecretsApi for RecordingCloud {
    async fn put_secret_value(&self, ctx: &CallCtx, secret_id: &str, value: &str) -> CloudResult<SecretRef> {
        let answer = self.inner.secrets.put_secret_value(ctx, secret_id, value).await;
        let mut seen = self.answered(Some(ctx), "secretsmanager:PutSecretValue", &answer);
        if let Ok(r) = &answer {
            seen.secret_existed(secret_key(ctx, &r.value));
        }
        drop(seen);
        answer
    }

    async fn create_secret(&self, ctx: &CallCtx, req: &CreateSecret) -> CloudResult<SecretRef> {
        let answer = self.inner.secrets.create_secret(ctx, req).await;
        let mut seen = self.answered(Some(ctx), "secretsmanager:CreateSecret", &answer);
        match &answer {
            Ok(r) => seen.secret_created(secret_key(ctx, &r.value)),
            Err(e) if e.code == "ResourceExistsException" => seen.secret_existed(seen::secret_ref(ctx, &req.name)),
            Err(_) => {}
        }
        drop(seen);
        answer
    }

    async fn delete_secret(&self, ctx: &CallCtx, secret_id: &str, force: bool) -> CloudResult<()> {
        let answer = self.inner.secrets.delete_secret(ctx, secret_id, force).await;
        let mut seen = self.answered(Some(ctx), "secretsmanager:DeleteSecret", &answer);
        if answer.is_ok() {
            seen.secret_existed(seen::secret_ref(ctx, secret_id));
        }
        drop(seen);
        answer
    }

    async fn list_secrets(&self, ctx: &CallCtx, name_prefix: &str) -> CloudResult<Vec<SecretSummary>> {
        let answer = self.inner.secrets.list_secrets(ctx, name_prefix).await;
        let action = "secretsmanager:ListSecrets";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }
}

#[async_trait]
impl CloudWatchApi for RecordingCloud {
    async fn get_metric_statistics(&self, ctx: &CallCtx, query: &MetricQuery) -> CloudResult<Vec<Datapoint>> {
        let answer = self.inner.cloudwatch.get_metric_statistics(ctx, query).await;
        let action = "cloudwatch:GetMetricStatistics";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }
}

#[async_trait]
impl TaggingApi for RecordingCloud {
    async fn get_resources(&self, ctx: &CallCtx, resource_types: &[String], filters: &[TagFilter]) -> CloudResult<Vec<TaggedResource>> {
        let answer = self.inner.tagging.get_resources(ctx, resource_types, filters).await;
        let mut seen = self.answered(Some(ctx), "tag:GetResources", &answer);
        if let Ok(r) = &answer {
            seen.tagged_resources(&r.value);
        }
        drop(seen);
        answer
    }
}

/// API Gateway v2's IAM actions are HTTP verbs (`apigateway:GET` …), so each call is
/// answered under its verb and noted under its operation (`apigateway:GetApis` …): a
/// note per operation the run used.
#[async_trait]
impl ApiGatewayApi for RecordingCloud {
    async fn get_apis(&self, ctx: &CallCtx) -> CloudResult<Vec<HttpApi>> {
        let answer = self.inner.apigateway.get_apis(ctx).await;
        self.answered(Some(ctx), "apigateway:GET", &answer).untracked("apigateway:GetApis");
        answer
    }

    async fn create_api(&self, ctx: &CallCtx, name: &str, cors: Option<&Cors>, tags: &[(String, String)]) -> CloudResult<HttpApi> {
        let answer = self.inner.apigateway.create_api(ctx, name, cors, tags).await;
        self.answered(Some(ctx), "apigateway:POST", &answer)
            .untracked("apigateway:CreateApi");
        answer
    }

    async fn delete_api(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<()> {
        let answer = self.inner.apigateway.delete_api(ctx, api_id).await;
        self.answered(Some(ctx), "apigateway:DELETE", &answer)
            .untracked("apigateway:DeleteApi");
        answer
    }

    async fn get_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<DomainName> {
        let answer = self.inner.apigateway.get_domain_name(ctx, domain_name).await;
        self.answered(Some(ctx), "apigateway:GET", &answer)
            .untracked("apigateway:GetDomainName");
        answer
    }

    async fn create_domain_name(
        &self,
        ctx: &CallCtx,
        domain_name: &str,
        certificate_arn: &str,
        tags: &[(String, String)],
    ) -> CloudResult<DomainName> {
        let answer = self
            .inner
            .apigateway
            .create_domain_name(ctx, domain_name, certificate_arn, tags)
            .await;
        self.answered(Some(ctx), "apigateway:POST", &answer)
            .untracked("apigateway:CreateDomainName");
        answer
    }

    async fn delete_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<()> {
        let answer = self.inner.apigateway.delete_domain_name(ctx, domain_name).await;
        self.answered(Some(ctx), "apigateway:DELETE", &answer)
            .untracked("apigateway:DeleteDomainName");
        answer
    }

    async fn get_api_mappings(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<Vec<ApiMapping>> {
        let answer = self.inner.apigateway.get_api_mappings(ctx, domain_name).await;
        self.answered(Some(ctx), "apigateway:GET", &answer)
            .untracked("apigateway:GetApiMappings");
        answer
    }

    async fn create_api_mapping(&self, ctx: &CallCtx, domain_name: &str, api_id: &str, stage: &str) -> CloudResult<ApiMapping> {
        let answer = self.inner.apigateway.create_api_mapping(ctx, domain_name, api_id, stage).await;
        self.answered(Some(ctx), "apigateway:POST", &answer)
            .untracked("apigateway:CreateApiMapping");
        answer
    }

    async fn get_stages(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Stage>> {
        let answer = self.inner.apigateway.get_stages(ctx, api_id).await;
        self.answered(Some(ctx), "apigateway:GET", &answer)
            .untracked("apigateway:GetStages");
        answer
    }

    async fn create_stage(&self, ctx: &CallCtx, req: &CreateStage) -> CloudResult<Stage> {
        let answer = self.inner.apigateway.create_stage(ctx, req).await;
        self.answered(Some(ctx), "apigateway:POST", &answer)
            .untracked("apigateway:CreateStage");
        answer
    }

    async fn get_integrations(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Integration>> {
        let answer = self.inner.apigateway.get_integrations(ctx, api_id).await;
        self.answered(Some(ctx), "apigateway:GET", &answer)
            .untracked("apigateway:GetIntegrations");
        answer
    }

    async fn create_integration(
        &self,
        ctx: &CallCtx,
        api_id: &str,
        function_arn: &str,
        payload_format_version: &str,
    ) -> CloudResult<Integration> {
        let answer = self
            .inner
            .apigateway
            .create_integration(ctx, api_id, function_arn, payload_format_version)
            .await;
        self.answered(Some(ctx), "apigateway:POST", &answer)
            .untracked("apigateway:CreateIntegration");
        answer
    }

    async fn get_routes(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Route>> {
        let answer = self.inner.apigateway.get_routes(ctx, api_id).await;
        self.answered(Some(ctx), "apigateway:GET", &answer)
            .untracked("apigateway:GetRoutes");
        answer
    }

    async fn create_route(&self, ctx: &CallCtx, api_id: &str, route_key: &str, target: &str) -> CloudResult<Route> {
        let answer = self.inner.apigateway.create_route(ctx, api_id, route_key, target).await;
        self.answered(Some(ctx), "apigateway:POST", &answer)
            .untracked("apigateway:CreateRoute");
        answer
    }
}

#[async_trait]
impl ElbApi for RecordingCloud {
    async fn describe_target_groups(&self, ctx: &CallCtx, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        let answer = self.inner.elb.describe_target_groups(ctx, names).await;
        let action = "elasticloadbalancing:DescribeTargetGroups";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn create_target_group(&self, ctx: &CallCtx, req: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        let answer = self.inner.elb.create_target_group(ctx, req).await;
        let action = "elasticloadbalancing:CreateTargetGroup";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_target_group(&self, ctx: &CallCtx, arn: &str) -> CloudResult<()> {
        let answer = self.inner.elb.delete_target_group(ctx, arn).await;
        let action = "elasticloadbalancing:DeleteTargetGroup";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn register_target(&self, ctx: &CallCtx, target_group_arn: &str, function_arn: &str) -> CloudResult<()> {
        let answer = self.inner.elb.register_target(ctx, target_group_arn, function_arn).await;
        let action = "elasticloadbalancing:RegisterTargets";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn describe_targets(&self, ctx: &CallCtx, target_group_arn: &str) -> CloudResult<Vec<String>> {
        let answer = self.inner.elb.describe_targets(ctx, target_group_arn).await;
        let action = "elasticloadbalancing:DescribeTargetHealth";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn describe_listener(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Listener> {
        let answer = self.inner.elb.describe_listener(ctx, listener_arn).await;
        let action = "elasticloadbalancing:DescribeListeners";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn describe_rules(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Vec<ListenerRule>> {
        let answer = self.inner.elb.describe_rules(ctx, listener_arn).await;
        let action = "elasticloadbalancing:DescribeRules";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn create_rule(&self, ctx: &CallCtx, req: &CreateRule) -> CloudResult<ListenerRule> {
        let answer = self.inner.elb.create_rule(ctx, req).await;
        let action = "elasticloadbalancing:CreateRule";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn delete_rule(&self, ctx: &CallCtx, rule_arn: &str) -> CloudResult<()> {
        let answer = self.inner.elb.delete_rule(ctx, rule_arn).await;
        let action = "elasticloadbalancing:DeleteRule";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }
}

#[async_trait]
impl Route53Api for RecordingCloud {
    async fn get_hosted_zone(&self, ctx: &CallCtx, zone_id: &str) -> CloudResult<HostedZone> {
        let answer = self.inner.route53.get_hosted_zone(ctx, zone_id).await;
        let action = "route53:GetHostedZone";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn list_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        name: &str,
        record_type: &str,
        max_items: u32,
    ) -> CloudResult<Vec<RecordSet>> {
        let answer = self
            .inner
            .route53
            .list_resource_record_sets(ctx, zone_id, name, record_type, max_items)
            .await;
        let action = "route53:ListResourceRecordSets";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }

    async fn change_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        change: ChangeAction,
        record: &RecordSet,
    ) -> CloudResult<String> {
        let answer = self.inner.route53.change_resource_record_sets(ctx, zone_id, change, record).await;
        let action = "route53:ChangeResourceRecordSets";
        self.answered(Some(ctx), action, &answer).untracked(action);
        answer
    }
}

/// A secret's key from an answer: account and region from its ARN, its plain name.
fn secret_key(ctx: &CallCtx, r: &SecretRef) -> seen::RegionalKey {
    let (account, region, _) = seen::secret_ref(ctx, &r.arn);
    (account, region, r.name.clone())
}

#[cfg(test)]
mod untracked_tests {
    use super::*;
    use crate::cloud::sim::SimCloud;
    use std::collections::BTreeSet;

    #[tokio::test]
    async fn a_run_that_used_operations_the_recording_does_not_follow_says_so_once_each() {
        let (cloud, recorder) = record(Cloud::of(Arc::new(SimCloud::new_empty())), Inputs::default(), "test");
        let ctx = CallCtx {
            identity: cloud.agent_identity().await.expect("agent").value,
            region: cloud.default_region(),
        };
        cloud.logs.create_log_group(&ctx, "/aws/lambda/f", &[]).await.expect("created");
        // Refused the second time: used all the same, and noted once.
        assert!(cloud.logs.create_log_group(&ctx, "/aws/lambda/f", &[]).await.is_err());
        cloud.logs.describe_log_groups(&ctx, "/aws/lambda/").await.expect("described");
        let (text, notes) = recorder.document(true, &[], &Redactor::new()).expect("recording");
        assert_eq!(
            notes,
            [
                seen::untracked_note("logs:CreateLogGroup"),
                seen::untracked_note("logs:DescribeLogGroups")
            ]
        );
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(doc["recording"]["notes"], serde_json::json!(notes));
    }

    #[tokio::test]
    async fn apis_load_balancers_dns_and_permissions_are_forwarded_and_noted_per_operation() {
        let (cloud, recorder) = record(Cloud::of(Arc::new(SimCloud::new_empty())), Inputs::default(), "test");
        let agent = cloud.agent_identity().await.expect("agent").value;
        // A session of a role: what each call is answered as shows in the role's use.
        let ctx = CallCtx {
            identity: Identity {
                arn: format!("arn:aws:sts::{}:assumed-role/deployer/step-1", agent.account),
                ..agent
            },
            region: cloud.default_region(),
        };
        // Whatever the cloud answers, each call is forwarded and used.
        let _ = cloud.apigateway.get_apis(&ctx).await;
        let _ = cloud.apigateway.get_apis(&ctx).await;
        let _ = cloud.apigateway.get_stages(&ctx, "a1").await;
        let _ = cloud.apigateway.get_integrations(&ctx, "a1").await;
        let _ = cloud.apigateway.get_routes(&ctx, "a1").await;
        let _ = cloud.apigateway.create_api(&ctx, "np-11", None, &[]).await;
        let stage = CreateStage {
            api_id: "a1".into(),
            stage_name: "main".into(),
            auto_deploy: true,
            rate_limit: 10.0,
            burst_limit: 20,
        };
        let _ = cloud.apigateway.create_stage(&ctx, &stage).await;
        let _ = cloud
            .apigateway
            .create_integration(&ctx, "a1", "arn:aws:lambda:us-east-1:1:function:f", "2.0")
            .await;
        let _ = cloud.apigateway.create_route(&ctx, "a1", "$default", "integrations/i1").await;
        let _ = cloud.apigateway.delete_api(&ctx, "a1").await;
        let _ = cloud.elb.describe_target_groups(&ctx, &["np-11".to_string()]).await;
        let group = CreateTargetGroup {
            name: "np-11".into(),
            health_check: HealthCheck {
                path: "/health".into(),
                interval_seconds: 35,
                timeout_seconds: 30,
                healthy_threshold: 2,
                unhealthy_threshold: 3,
                matcher: "200".into(),
            },
            tags: vec![],
        };
        let _ = cloud.elb.create_target_group(&ctx, &group).await;
        let _ = cloud.elb.register_target(&ctx, "tg", "arn:aws:lambda:us-east-1:1:function:f").await;
        let _ = cloud.elb.describe_targets(&ctx, "tg").await;
        let _ = cloud.elb.describe_listener(&ctx, "listener").await;
        let _ = cloud.elb.describe_rules(&ctx, "listener").await;
        let rule = CreateRule {
            listener_arn: "listener".into(),
            priority: 10,
            hosts: vec!["a.example.com".into()],
            target_group_arn: "tg".into(),
            tags: vec![],
        };
        let _ = cloud.elb.create_rule(&ctx, &rule).await;
        let _ = cloud.elb.delete_rule(&ctx, "rule").await;
        let _ = cloud.elb.delete_target_group(&ctx, "tg").await;
        let record_set = RecordSet {
            name: "a.example.com.".into(),
            record_type: "CNAME".into(),
            ttl: Some(60),
            values: vec!["lb.example.com".into()],
            alias_target: None,
        };
        let _ = cloud.route53.get_hosted_zone(&ctx, "Z1").await;
        let _ = cloud
            .route53
            .list_resource_record_sets(&ctx, "Z1", "a.example.com.", "CNAME", 1)
            .await;
        let _ = cloud
            .route53
            .change_resource_record_sets(&ctx, "Z1", ChangeAction::Upsert, &record_set)
            .await;
        let permission = AddPermission {
            function_name: "f".into(),
            qualifier: None,
            statement_id: "apigw".into(),
            action: "lambda:InvokeFunction".into(),
            principal: "apigateway.amazonaws.com".into(),
            source_arn: None,
        };
        let _ = cloud.lambda.add_permission(&ctx, &permission).await;
        let _ = cloud.lambda.remove_permission(&ctx, "f", None, "apigw").await;

        // The role's use names IAM actions: API Gateway's by HTTP verb.
        let used: BTreeSet<String> = {
            let seen = lock(&recorder.seen);
            let usage = seen
                .role_use
                .get(&(ctx.identity.account.clone(), "deployer".to_string()))
                .expect("the role's use");
            usage.allowed.union(&usage.denied).cloned().collect()
        };
        let want: BTreeSet<String> = [
            "apigateway:DELETE",
            "apigateway:GET",
            "apigateway:POST",
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:DeleteRule",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:RegisterTargets",
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "route53:ChangeResourceRecordSets",
            "route53:GetHostedZone",
            "route53:ListResourceRecordSets",
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        assert_eq!(used, want);

        // The notes name operations, one each (GetApis twice: one note).
        let untracked = lock(&recorder.seen).untracked_notes();
        let noted: Vec<&str> = untracked
            .iter()
            .filter_map(|n| n.split_once(": ").map(|(action, _)| action))
            .collect();
        assert_eq!(
            noted,
            [
                "apigateway:CreateApi",
                "apigateway:CreateIntegration",
                "apigateway:CreateRoute",
                "apigateway:CreateStage",
                "apigateway:DeleteApi",
                "apigateway:GetApis",
                "apigateway:GetIntegrations",
                "apigateway:GetRoutes",
                "apigateway:GetStages",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:RegisterTargets",
                "lambda:AddPermission",
                "lambda:RemovePermission",
                "route53:ChangeResourceRecordSets",
                "route53:GetHostedZone",
                "route53:ListResourceRecordSets",
            ]
        );
        let (_, notes) = recorder.document(true, &[], &Redactor::new()).expect("recording");
        assert!(untracked.iter().all(|n| notes.contains(n)), "{notes:?}");
    }
}
