//! The call gate: the one path every cloud-facing capability takes. For each call,
//! in order: the step's quotas (calls, refusals), the grant check (declaration ∩
//! operator policy, variables resolved), the step's own role session (narrowed to its
//! grant by an STS session policy), the backend, the journal record (counted against
//! the step's record quota), and the error mapped to the contract with secrets
//! redacted — inside a `tracing` span naming the step, service, operation and
//! resource. A capability module only checks its arguments and says which
//! (action, resource) pairs a call needs; nothing cloud-facing bypasses this file.
//! Platform calls ([`StepHost::platform_call`]) take the same path but for the
//! role session: the platform's key is the host's.

use super::sessions::{self, AssumedRole, SessionKey};
use super::{quota, LogLevel, Op, StepHost};
use crate::bindings::types::{CallError, CloudError as WitCloudError, Denial as WitDenial};
use crate::cloud::{AssumeRoleRequest, CallCtx, Cloud, CloudError, CloudResult, Identity};
use crate::journal::{CallOutcome, CallRecord, Event};
use std::future::Future;
use std::time::Instant;
use tracing::Instrument as _;

impl StepHost {
    /// The context of the next call. When the step's identity is a role the host
    /// assumed, the call goes out under the step's own narrowed session, opened (or
    /// refreshed, shortly before it expires) here.
    pub(super) async fn call_ctx(&mut self) -> Result<CallCtx, CloudError> {
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
    pub(super) async fn open_session(&mut self, how: AssumedRole, now: u64) -> Result<Identity, CloudError> {
        let vars = self.vars.clone();
        let policy = self.session_policy(&vars).map_err(|m| CloudError {
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

    /// The session policy of the step's role sessions: its grant; in a plan, only
    /// the grant's read actions, so that AWS refuses any change.
    pub(super) fn session_policy(&self, vars: &std::collections::BTreeMap<String, String>) -> Result<Option<String>, String> {
        let var = |n: &str| vars.get(n).cloned();
        match self.env.plan {
            Some(_) => self.grant.read_only_session_policy(&var).map(Some),
            None => self.grant.session_policy(&var),
        }
    }

    /// sts AssumeRole signed by `source`, journaled with the session policy it
    /// carried; the new keys are registered with the redactor before anything else
    /// sees them.
    pub(super) async fn assume_recorded(&mut self, source: Identity, request: &AssumeRoleRequest) -> CloudResult<Identity> {
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
    pub(super) fn note_exhausted(&mut self, was_exhausted: bool) {
        if was_exhausted {
            return;
        }
        if let Some(why) = self.usage.exhausted.as_ref().map(ToString::to_string) {
            tracing::warn!(step = %self.step, "{why}");
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
    pub(super) fn admit(&mut self, quota: quota::Quota, op: Op, resource: &str) -> Result<(), CallError> {
        let was_exhausted = self.usage.exhausted.is_some();
        match self.usage.count(quota, &self.limits) {
            Ok(()) => Ok(()),
            Err(exceeded) => {
                let why = exceeded.to_string();
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
                        planned: false,
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
            return Err(CallError::Limit(why.to_string()));
        }
        let vars = self.vars.clone();
        let lookup = |name: &str| vars.get(name).cloned();
        for (action, resource) in needs {
            if let Err(denial) = self.grant.check(action, resource, &lookup) {
                self.admit(quota::Quota::Denials, op, &needs[0].1)?;
                return Err(self.deny(op, &needs[0].1, "HostDenied", denial));
            }
        }
        Ok(())
    }

    /// Records `denial` of a call that was not sent (as a denial, and as the call,
    /// on `recorded`, with `code`), shows it, and returns the contract's answer.
    fn deny(&mut self, op: Op, recorded: &str, code: &str, denial: crate::grants::Denial) -> CallError {
        self.record(Event::Denied {
            step: self.step.clone(),
            action: denial.action.clone(),
            resource: denial.resource.clone(),
            reason: denial.reason.clone(),
        });
        self.record_unsent(op, recorded, CallOutcome::Denied, Some(code.into()), denial.reason.clone());
        tracing::warn!(step = %self.step, action = %denial.action, resource = %denial.resource, code, "denied");
        // Shown live like a log line: redacted, and under the step's log cap.
        self.show(
            LogLevel::Warn,
            &format!("denied: {} on {}: {}", denial.action, denial.resource, denial.reason),
        );
        self.denials.push(denial.clone());
        CallError::Denied(WitDenial {
            action: denial.action,
            resource: denial.resource,
            reason: denial.reason,
        })
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
        self.before_send(op, resource)?;
        let span = call_span(&self.step, op, resource);
        async {
            // Opening the step's session is journaled as its own call: time only this one.
            let ctx = self.call_ctx().await;
            let started = Instant::now();
            let result = match ctx {
                Ok(ctx) => call(self.env.cloud.clone(), ctx).await,
                Err(e) => Err(e),
            };
            let identity = self.signing_identity().arn.clone();
            self.after_send(op, resource, &identity, result, started)
        }
        .instrument(span)
        .await
    }

    /// A call to the platform (see [`crate::platform`]) after its grant check:
    /// the same quotas, stop switch, record and error mapping as a cloud call, but
    /// no role session — the platform's key is the host's own, recorded as the
    /// identity `platform:<backend>`.
    pub async fn platform_call<T, F, Fut>(&mut self, op: Op, needs: &[(String, String)], call: F) -> Result<T, CallError>
    where
        F: FnOnce(std::sync::Arc<dyn crate::platform::PlatformApi>) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        self.authorize(op, needs)?;
        let resource = &needs[0].1;
        self.before_send(op, resource)?;
        let span = call_span(&self.step, op, resource);
        async {
            let platform = self.env.platform.clone();
            let identity = format!("platform:{}", platform.name());
            let started = Instant::now();
            let result = call(platform).await;
            self.after_send(op, resource, &identity, result, started)
        }
        .instrument(span)
        .await
    }

    /// What every call passes before it is sent: the stop switch, then the quota.
    fn before_send(&mut self, op: Op, resource: &str) -> Result<(), CallError> {
        if let Some(why) = self.env.cancel.stopped() {
            // Nothing more leaves a stopped run; the guest ends at its next tick.
            return Err(CallError::Limit(format!("the run was {}: nothing more is sent", why.describe())));
        }
        self.admit(quota::Quota::Calls, op, resource)
    }

    /// What every call answered passes: the record, then the contract's error.
    fn after_send<T>(&mut self, op: Op, resource: &str, identity: &str, result: CloudResult<T>, started: Instant) -> Result<T, CallError> {
        let micros = started.elapsed().as_micros() as u64;
        let planned = self.env.plan.as_ref().is_some_and(|plan| plan.claim(&self.step, resource));
        let record = CallRecord {
            planned,
            ..CallRecord::answered(&self.step, (op.service, op.operation), resource, identity, &result, micros)
        };
        // The span (exported as a trace) carries the outcome and AWS's request id.
        let span = tracing::Span::current();
        span.record("outcome", record.outcome.as_str());
        if let Some(id) = &record.request_id {
            span.record("request_id", id.as_str());
        }
        // The code only: a cloud's message may quote what the call carried.
        match &result {
            Ok(_) => tracing::info!(duration_us = micros, "ok"),
            Err(e) => tracing::info!(duration_us = micros, code = %e.code, "cloud error"),
        }
        // Applying a plan, a change that is not the plan's was never sent: a denial.
        if let Err(e) = &result {
            if e.code == crate::cloud::plan::NOT_IN_PLAN {
                let denial = crate::grants::Denial {
                    action: op.action(),
                    resource: resource.to_owned(),
                    reason: self.env.redactor.redact(&e.message),
                };
                return Err(self.deny(op, resource, crate::cloud::plan::NOT_IN_PLAN, denial));
            }
        }
        self.record(Event::Call(record));
        result.map(|reply| reply.value).map_err(|e| CallError::Cloud(self.to_wit_error(e)))
    }

    /// Records a call the host stopped before it was sent (a denial, a malformed
    /// argument): no duration, no request id.
    pub(super) fn record_unsent(&mut self, op: Op, resource: &str, outcome: CallOutcome, code: Option<String>, message: String) {
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
            planned: false,
        }));
    }

    pub(super) fn to_wit_error(&self, e: CloudError) -> WitCloudError {
        let kind = to_wit_kind(e.kind());
        WitCloudError {
            service: e.service,
            operation: e.operation,
            kind,
            code: e.code,
            message: self.env.redactor.redact(&e.message),
            request_id: e.request_id,
            retryable: e.retryable,
        }
    }
}

fn call_span(step: &str, op: Op, resource: &str) -> tracing::Span {
    tracing::info_span!(
        "call",
        step = %step,
        service = op.service,
        operation = op.operation,
        resource = %resource,
        outcome = tracing::field::Empty,
        request_id = tracing::field::Empty,
    )
}

pub(crate) fn to_wit_kind(kind: crate::cloud::ErrorKind) -> crate::bindings::types::ErrorKind {
    use crate::bindings::types::ErrorKind as W;
    use crate::cloud::ErrorKind as K;
    match kind {
        K::NotFound => W::NotFound,
        K::Conflict => W::Conflict,
        K::Throttled => W::Throttled,
        K::AccessDenied => W::AccessDenied,
        K::InvalidParameter => W::InvalidParameter,
        K::ExpiredCredentials => W::ExpiredCredentials,
        K::Other => W::Other,
    }
}
