//! Capabilities: one module per WIT interface. Every cloud operation follows the
//! same order: argument checks → grant check → cloud call → error mapping, and each
//! call, allowed or not, is written to the journal.

pub mod arn;
pub mod context;
pub mod credentials;
pub mod ecr;
pub mod iam;
pub mod lambda;
pub mod log;
pub mod providers;
pub mod quota;
pub mod secrets;
pub mod sessions;
pub mod tagging;
pub mod view;

pub use view::{add_to_linker, CapsCtx, CapsView, HasCaps};

use crate::bindings::types::{CallError, CloudError as WitCloudError, Denial as WitDenial};
use crate::cloud::{CallCtx, Cloud, CloudError, CloudResult, Identity};
use crate::grants::{Denial, Grant, Policy};
use crate::journal::{CallOutcome, CallRecord, Event, Journal};
use crate::limits::Limits;
use crate::providers::ProviderStore;
use crate::redact::Redactor;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use self::log::{LogLevel, LogSink};
use self::sessions::{AssumedRole, SessionKey, Sessions};
use crate::cloud::AssumeRoleRequest;

/// What every step of a run shares: the cloud, the operator policy, provider data,
/// the redactor, the journal, and the workflow's identity.
pub struct RunEnv {
    pub cloud: Cloud,
    pub policy: Arc<Policy>,
    pub providers: Arc<ProviderStore>,
    pub redactor: Redactor,
    pub journal: Arc<Journal>,
    /// The agent's own identity.
    pub agent: Identity,
    /// The identity later steps' calls use; set by `use-for-workflow`.
    pub workflow_identity: Mutex<Identity>,
    /// The region calls go to.
    pub region: String,
    /// Where live log lines go (the CLI prints them).
    pub sink: Arc<dyn LogSink>,
    /// Assumed roles and the per-step sessions opened from them.
    pub sessions: Arc<Sessions>,
}

impl RunEnv {
    /// The identity a new step starts with.
    pub fn workflow_identity(&self) -> Identity {
        self.workflow_identity.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The host side of one running step: what its capability calls may use.
pub struct StepHost {
    pub env: Arc<RunEnv>,
    /// The step's name in the workflow.
    pub step: String,
    /// The plugin's manifest name.
    pub plugin: String,
    pub grant: Grant,
    pub vars: Arc<BTreeMap<String, String>>,
    /// The built context, JSON text.
    pub context: Arc<str>,
    pub limits: Limits,
    /// The identity this step's calls use now.
    pub identity: Identity,
    /// Log bytes kept so far and lines dropped past the cap.
    pub log_bytes: usize,
    pub log_dropped: u64,
    /// Live identity handles.
    pub handles: usize,
    /// Denials met during the step, for its summary.
    pub denials: Vec<Denial>,
    /// The step's own session of `identity` (when the host assumed that identity):
    /// the ARN it was opened for, and the session.
    pub session: Option<(String, Identity)>,
    /// When the step's deadline passes.
    pub deadline_at: Instant,
    /// What the step has used of its quotas.
    pub usage: quota::Usage,
}

/// Service and operation of a call, as AWS names them (`lambda`, `PublishVersion`).
#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub service: &'static str,
    pub operation: &'static str,
}

impl Op {
    /// The IAM action, `service:Operation`.
    pub fn action(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

impl StepHost {
    /// The host side of step `name` running a plugin with `manifest`: its grant
    /// (the manifest's declaration ∩ the run's policy), variables, the workflow's
    /// identity, and the deadline `limits` give it from `started`.
    pub fn new(
        env: &Arc<RunEnv>,
        name: &str,
        manifest: &crate::manifest::Manifest,
        vars: BTreeMap<String, String>,
        context: Arc<str>,
        limits: &Limits,
        started: Instant,
    ) -> StepHost {
        StepHost {
            env: env.clone(),
            step: name.to_owned(),
            plugin: manifest.name.clone(),
            grant: Grant::new(&manifest.name, &manifest.capabilities, env.policy.clone()),
            vars: Arc::new(vars),
            context,
            limits: limits.clone(),
            identity: env.workflow_identity(),
            log_bytes: 0,
            log_dropped: 0,
            handles: 0,
            denials: Vec::new(),
            session: None,
            deadline_at: started + limits.deadline,
            usage: quota::Usage::default(),
        }
    }

    /// The identity the step's calls are signed with now: its own session when one
    /// is open for the current identity, else the identity itself.
    pub fn signing_identity(&self) -> &Identity {
        match &self.session {
            Some((for_arn, session)) if *for_arn == self.identity.arn => session,
            _ => &self.identity,
        }
    }

    /// The context of the next call. When the step's identity is a role the host
    /// assumed, the call goes out under the step's own narrowed session, opened (or
    /// refreshed, shortly before it expires) here.
    async fn call_ctx(&mut self) -> Result<CallCtx, CloudError> {
        if let Some(how) = self.env.sessions.how_assumed(&self.identity.arn) {
            let now = self.env.cloud.now();
            let fresh = matches!(&self.session, Some((for_arn, s))
                if *for_arn == self.identity.arn && s.expires_at.is_none_or(|e| e > now + sessions::REFRESH_MARGIN_SECONDS));
            if !fresh {
                let session = self.open_session(how, now).await?;
                self.session = Some((self.identity.arn.clone(), session));
            }
        }
        Ok(CallCtx {
            identity: self.signing_identity().clone(),
            region: self.env.region.clone(),
        })
    }

    /// The step's session of an assumed role: cached when one outlives the step's
    /// deadline, else AssumeRole from the role's source identity with the step's
    /// grant as session policy. The AssumeRole is journaled like any call.
    async fn open_session(&mut self, how: AssumedRole, now: u64) -> Result<Identity, CloudError> {
        let vars = self.vars.clone();
        let policy = self.grant.session_policy(&|n| vars.get(n).cloned()).map_err(|m| CloudError {
            service: "sts".into(),
            operation: "AssumeRole".into(),
            code: "SessionPolicyTooLarge".into(),
            message: m,
            request_id: None,
            retryable: false,
        })?;
        let remaining = self.deadline_at.saturating_duration_since(Instant::now());
        let key = SessionKey {
            source: how.source.arn.clone(),
            role_arn: how.role_arn.clone(),
            session_name: sessions::step_session_name(&how.session_name, &self.step),
            policy,
        };
        let needed_until = now + remaining.as_secs() + sessions::REFRESH_MARGIN_SECONDS;
        if let Some(session) = self.env.sessions.reuse(&key, needed_until) {
            return Ok(session);
        }
        let request = AssumeRoleRequest {
            role_arn: how.role_arn.clone(),
            session_name: key.session_name.clone(),
            session_policy: key.policy.clone(),
            duration_seconds: sessions::session_duration(remaining),
        };
        let session = self
            .assume_recorded(how.source.clone(), &request)
            .await
            .map_err(|mut e| {
                e.message = format!("opening step `{}`'s session of {}: {}", self.step, how.role_arn, e.message);
                e
            })?
            .value;
        self.log(
            LogLevel::Debug,
            &format!("calls now signed by {} (narrowed to this step's grant)", session.arn),
        );
        self.env.sessions.keep(key, session.clone(), now);
        Ok(session)
    }

    /// The account and region resources of this step's calls live in.
    pub fn account(&self) -> &str {
        &self.identity.account
    }

    pub fn region(&self) -> &str {
        &self.env.region
    }

    /// sts AssumeRole signed by `source`, journaled with the session policy it
    /// carried; the new keys are registered with the redactor before anything else
    /// sees them.
    async fn assume_recorded(&mut self, source: Identity, request: &AssumeRoleRequest) -> CloudResult<Identity> {
        let ctx = CallCtx {
            identity: source,
            region: self.env.region.clone(),
        };
        let started = Instant::now();
        let result = self.env.cloud.sts.assume_role(&ctx, request).await;
        let duration_us = started.elapsed().as_micros() as u64;
        if let Ok(reply) = &result {
            for secret in reply.value.credentials.iter().flat_map(|c| c.secret_values()) {
                self.env.redactor.add(&secret);
            }
        }
        let record = CallRecord {
            session_policy: request.session_policy.clone(),
            ..CallRecord::answered(
                &self.step,
                ("sts", "AssumeRole"),
                &request.role_arn,
                &ctx.identity.arn,
                &result,
                duration_us,
            )
        };
        self.record(Event::Call(record));
        result
    }

    /// Adds one entry to the run record, counted against the step's record quota.
    /// Past the quota nothing more is recorded, and nothing more is sent either
    /// ([`StepHost::admit`] refuses every later call), so what the step did in the
    /// cloud is always in the record.
    pub(crate) fn record(&mut self, event: Event) {
        let size = event.approximate_size();
        let was_exhausted = self.usage.exhausted.is_some();
        if self.usage.count_journal(size, &self.limits) || !was_exhausted {
            self.env.journal.record(event);
        }
        self.note_exhausted(was_exhausted);
    }

    /// The first time a quota runs out: says so in the record and on the terminal.
    fn note_exhausted(&mut self, was_exhausted: bool) {
        if was_exhausted {
            return;
        }
        if let Some(why) = self.usage.exhausted.clone() {
            self.env.journal.record(Event::Log {
                step: self.step.clone(),
                level: LogLevel::Error.as_str().into(),
                message: why.clone(),
            });
            self.env.sink.line(&self.step, LogLevel::Error, &why);
        }
    }

    /// Counts a call against the step's quotas before anything else is done for it;
    /// once a quota ran out every call is refused with `limit`, unsent and unrecorded
    /// (the one record saying the quota ran out is written when it does).
    fn admit(&mut self, quota: quota::Quota, op: Op, resource: &str) -> Result<(), CallError> {
        let was_exhausted = self.usage.exhausted.is_some();
        match self.usage.count(quota, &self.limits) {
            Ok(()) => Ok(()),
            Err(why) => {
                if !was_exhausted {
                    self.env.journal.record(Event::Call(CallRecord {
                        step: self.step.clone(),
                        service: op.service.to_owned(),
                        operation: op.operation.to_owned(),
                        resource: resource.to_owned(),
                        identity: self.signing_identity().arn.clone(),
                        outcome: CallOutcome::Limit,
                        code: Some("StepQuotaExceeded".into()),
                        message: Some(why.clone()),
                        duration_us: 0,
                        request_id: None,
                        session_policy: None,
                    }));
                    self.note_exhausted(false);
                }
                Err(CallError::Limit(why))
            }
        }
    }

    /// Records a call refused before it was sent (malformed argument).
    pub fn invalid(&mut self, op: Op, resource: &str, message: String) -> CallError {
        if let Err(limit) = self.admit(quota::Quota::Denials, op, resource) {
            return limit;
        }
        self.record_unsent(op, resource, CallOutcome::InvalidInput, None, message.clone());
        CallError::InvalidInput(self.env.redactor.redact(&message))
    }

    /// Grant check of every (action, resource) the call needs; the first refusal
    /// is recorded (as a denial and as a call) and returned.
    pub fn authorize(&mut self, op: Op, needs: &[(String, String)]) -> Result<(), CallError> {
        if let Some(why) = &self.usage.exhausted {
            return Err(CallError::Limit(why.clone()));
        }
        let vars = self.vars.clone();
        let lookup = |name: &str| vars.get(name).cloned();
        for (action, resource) in needs {
            if let Err(denial) = self.grant.check(action, resource, &lookup) {
                self.admit(quota::Quota::Denials, op, &needs[0].1)?;
                self.record(Event::Denied {
                    step: self.step.clone(),
                    action: denial.action.clone(),
                    resource: denial.resource.clone(),
                    reason: denial.reason.clone(),
                });
                self.record_unsent(
                    op,
                    &needs[0].1,
                    CallOutcome::Denied,
                    Some("HostDenied".into()),
                    denial.reason.clone(),
                );
                // Shown live like a log line: redacted, and under the step's log cap.
                self.show(
                    LogLevel::Warn,
                    &format!("denied: {} on {}: {}", denial.action, denial.resource, denial.reason),
                );
                self.denials.push(denial.clone());
                return Err(CallError::Denied(WitDenial {
                    action: denial.action,
                    resource: denial.resource,
                    reason: denial.reason,
                }));
            }
        }
        Ok(())
    }

    /// Grant check, then the call, timed and recorded; cloud errors mapped to the
    /// contract with secrets redacted. `needs[0]` is the resource recorded.
    pub async fn checked<T, F, Fut>(&mut self, op: Op, needs: &[(String, String)], call: F) -> Result<T, CallError>
    where
        F: FnOnce(Cloud, CallCtx) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        self.authorize(op, needs)?;
        self.send(op, &needs[0].1, call).await
    }

    /// The call without a grant check (for operations whose grant was checked
    /// already, e.g. the polls of a waiter), timed and recorded.
    pub async fn send<T, F, Fut>(&mut self, op: Op, resource: &str, call: F) -> Result<T, CallError>
    where
        F: FnOnce(Cloud, CallCtx) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        self.admit(quota::Quota::Calls, op, resource)?;
        // Opening the step's session is journaled as its own call: time only this one.
        let ctx = self.call_ctx().await;
        let started = Instant::now();
        let result = match ctx {
            Ok(ctx) => call(self.env.cloud.clone(), ctx).await,
            Err(e) => Err(e),
        };
        let micros = started.elapsed().as_micros() as u64;
        let record = CallRecord::answered(
            &self.step,
            (op.service, op.operation),
            resource,
            &self.signing_identity().arn,
            &result,
            micros,
        );
        self.record(Event::Call(record));
        result.map(|reply| reply.value).map_err(|e| CallError::Cloud(self.to_wit_error(e)))
    }

    /// Records a call the host stopped before it was sent (a denial, a malformed
    /// argument): no duration, no request id.
    fn record_unsent(&mut self, op: Op, resource: &str, outcome: CallOutcome, code: Option<String>, message: String) {
        let identity = self.signing_identity().arn.clone();
        self.record(Event::Call(CallRecord {
            step: self.step.clone(),
            service: op.service.to_owned(),
            operation: op.operation.to_owned(),
            resource: resource.to_owned(),
            identity,
            outcome,
            code,
            message: Some(message),
            duration_us: 0,
            request_id: None,
            session_policy: None,
        }));
    }

    fn to_wit_error(&self, e: CloudError) -> WitCloudError {
        WitCloudError {
            service: e.service,
            operation: e.operation,
            code: e.code,
            message: self.env.redactor.redact(&e.message),
            request_id: e.request_id,
            retryable: e.retryable,
        }
    }
}

/// Every interface of the contract is implemented on the capabilities' view.
impl crate::bindings::types::Host for CapsCtx<'_> {}

/// A `(action, resource)` pair for [`StepHost::authorize`].
pub fn need(op: Op, resource: impl Into<String>) -> (String, String) {
    (op.action(), resource.into())
}

impl RunEnv {
    /// An environment with the defaults: the cloud's agent identity and default
    /// region, a policy granting whatever plugins declare, no provider data, an
    /// in-memory journal and no live log output. Adjust the public fields after.
    pub async fn with_defaults(cloud: impl Into<Cloud>) -> Result<RunEnv, CloudError> {
        let cloud = cloud.into();
        let agent = cloud.agent_identity().await?.value;
        Ok(RunEnv::with_agent(cloud, agent))
    }

    /// [`RunEnv::with_defaults`] for an agent identity already known.
    pub fn with_agent(cloud: impl Into<Cloud>, agent: Identity) -> RunEnv {
        let cloud = cloud.into();
        let redactor = Redactor::new();
        RunEnv {
            region: cloud.default_region(),
            cloud,
            policy: Arc::new(Policy::allow_all()),
            providers: Arc::new(ProviderStore::default()),
            journal: Arc::new(Journal::in_memory(redactor.clone())),
            redactor,
            workflow_identity: Mutex::new(agent.clone()),
            agent,
            sink: Arc::new(log::NullSink),
            sessions: Arc::new(Sessions::default()),
        }
    }
}
