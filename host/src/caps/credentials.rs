//! `credentials`: identities as opaque handles. The guest sees an identity's ARN,
//! account and expiry; its key material stays in the host, registered with the
//! redactor the moment it exists.

use super::sessions::{self, AssumedRole};
use super::view::CapsCtx;
use super::{arn, need, LogLevel, Op};
use crate::bindings::credentials::{Host, HostIdentity};
use crate::bindings::types::CallError;
use crate::cloud::{AssumeRoleRequest, Identity};
use wasmtime::component::Resource;

/// The host object behind a guest's `identity` handle.
pub struct IdentityHandle {
    identity: Identity,
}

const ASSUME_ROLE: Op = Op {
    service: "sts",
    operation: "AssumeRole",
};

/// AWS's session name rule: 2–64 of `[\w+=,.@-]`.
fn check_session_name(name: &str) -> Result<(), String> {
    if (2..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        Ok(())
    } else {
        Err(format!("`{name}` is not a role session name (2–64 letters, digits or `_+=,.@-`)"))
    }
}

impl CapsCtx<'_> {
    /// A new handle on `identity`; past the step's handle limit, the contract's
    /// `limit` error (the step may drop handles and go on).
    fn new_handle(&mut self, identity: Identity) -> wasmtime::Result<Result<Resource<IdentityHandle>, CallError>> {
        if self.host.handles >= self.host.limits.handles {
            return Ok(Err(CallError::Limit(format!(
                "the step holds {} identity handles, the most a step may hold; drop handles it no longer needs",
                self.host.handles
            ))));
        }
        self.host.handles += 1;
        Ok(Ok(self.table.push(IdentityHandle { identity })?))
    }
}

/// A refusal the contract has no error value for (`use-for-workflow` returns
/// nothing): it stops the step, which fails with kind `denied`.
#[derive(Debug)]
pub struct Refusal(pub crate::bindings::types::Denial);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "denied: {} on {}: {}", self.0.action, self.0.resource, self.0.reason)
    }
}

impl std::error::Error for Refusal {}

impl super::StepHost {
    /// Stops the step for a refused identity switch; the refusal is recorded (a
    /// grant check records its own).
    fn refuse_switch(&mut self, error: CallError) -> wasmtime::Error {
        let denial = match error {
            CallError::Denied(d) => d,
            CallError::Limit(why) => {
                return wasmtime::Error::msg(why);
            }
            CallError::InvalidInput(why) => crate::bindings::types::Denial {
                action: "sts:AssumeRole".into(),
                resource: String::new(),
                reason: why,
            },
            CallError::Cloud(c) => crate::bindings::types::Denial {
                action: "sts:AssumeRole".into(),
                resource: String::new(),
                reason: format!("{} {} failed: {}: {}", c.service, c.operation, c.code, c.message),
            },
        };
        if !self
            .denials
            .iter()
            .any(|d| d.resource == denial.resource && d.action == denial.action)
        {
            self.record(crate::journal::Event::Denied {
                step: self.step.clone(),
                action: denial.action.clone(),
                resource: denial.resource.clone(),
                reason: denial.reason.clone(),
            });
            self.show(
                LogLevel::Warn,
                &format!("denied: {} on {}: {}", denial.action, denial.resource, denial.reason),
            );
            self.denials.push(crate::grants::Denial {
                action: denial.action.clone(),
                resource: denial.resource.clone(),
                reason: denial.reason.clone(),
            });
        }
        wasmtime::Error::new(Refusal(denial))
    }
}

impl HostIdentity for CapsCtx<'_> {
    async fn arn(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(&id)?.identity.arn.clone())
    }

    async fn account(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(&id)?.identity.account.clone())
    }

    async fn expires_at(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<Option<u64>> {
        Ok(self.table.get(&id)?.identity.expires_at)
    }

    async fn drop(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<()> {
        self.table.delete(id)?;
        self.host.handles = self.host.handles.saturating_sub(1);
        Ok(())
    }
}

impl Host for CapsCtx<'_> {
    async fn agent_identity(&mut self) -> wasmtime::Result<Result<Resource<IdentityHandle>, CallError>> {
        let agent = self.host.env.agent.clone();
        self.new_handle(agent)
    }

    async fn current_identity(&mut self) -> wasmtime::Result<Result<Resource<IdentityHandle>, CallError>> {
        let current = self.host.identity.clone();
        self.new_handle(current)
    }

    async fn assume_role(
        &mut self,
        role_arn: String,
        session_name: String,
    ) -> wasmtime::Result<Result<Resource<IdentityHandle>, CallError>> {
        let host = &mut *self.host;
        let checked = arn::check_role_arn(&role_arn)
            .map_err(|e| e.to_string())
            .and_then(|()| check_session_name(&session_name));
        if let Err(m) = checked {
            return Ok(Err(host.invalid(ASSUME_ROLE, &role_arn, m)));
        }
        // The session a step assumes is narrowed to that step's grant, and lasts
        // as long as its deadline needs; later steps using the role get sessions
        // of their own (see `sessions`).
        let vars = host.vars.clone();
        let session_policy = match host.session_policy(&vars) {
            Ok(policy) => policy,
            Err(m) => return Ok(Err(host.invalid(ASSUME_ROLE, &role_arn, m))),
        };
        let remaining = host.deadline_at.saturating_duration_since(std::time::Instant::now());
        let request = AssumeRoleRequest {
            role_arn: role_arn.clone(),
            session_name: session_name.clone(),
            session_policy,
            duration_seconds: sessions::session_duration(remaining),
        };
        if let Err(denied) = host.authorize(ASSUME_ROLE, &[need(ASSUME_ROLE, role_arn.clone())]) {
            return Ok(Err(denied));
        }
        // Signed by whatever signs this step's calls (its own session, when the
        // step runs as a role the host assumed: a role chain).
        let source = match host.call_ctx().await {
            Ok(ctx) => ctx.identity,
            Err(e) => return Ok(Err(CallError::Cloud(host.to_wit_error(e)))),
        };
        let identity = match host.assume_recorded(source.clone(), &request).await {
            Ok(reply) => reply.value,
            Err(e) => return Ok(Err(CallError::Cloud(host.to_wit_error(e)))),
        };
        host.env.sessions.remember(
            &identity,
            AssumedRole {
                source,
                role_arn: role_arn.clone(),
                session_name,
            },
        );
        host.log(LogLevel::Debug, &format!("assumed {role_arn} as {}", identity.arn));
        self.new_handle(identity)
    }

    async fn use_for_workflow(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<()> {
        let identity = self.table.get(&id)?.identity.clone();
        if identity.arn == self.host.env.workflow_identity().arn {
            return Ok(());
        }
        // Only a role the host assumed may become the workflow's identity: later
        // steps then sign with sessions of it narrowed to their own grants (the
        // AWS-side bound). The agent's own identity, or any other, never may: every
        // later step would sign outside any session policy. And switching needs the
        // grant that assuming the role needs, so a step without it cannot redirect
        // the steps after it.
        let Some(how) = self.host.env.sessions.how_assumed(&identity.arn) else {
            let denial = CallError::Denied(crate::bindings::types::Denial {
                action: "sts:AssumeRole".into(),
                resource: identity.arn.clone(),
                reason: format!(
                    "`{}` is not a role the host assumed in this run: only an assumed role (narrowed per step by a session policy) can become the workflow's identity",
                    identity.arn
                ),
            });
            return Err(self.host.refuse_switch(denial));
        };
        if let Err(denial) = self.host.authorize(ASSUME_ROLE, &[need(ASSUME_ROLE, how.role_arn.clone())]) {
            return Err(self.host.refuse_switch(denial));
        }
        self.host.log(LogLevel::Info, &format!("workflow identity is now {}", identity.arn));
        *self.host.env.workflow_identity.lock().unwrap_or_else(|e| e.into_inner()) = identity.clone();
        self.host.identity = identity;
        Ok(())
    }
}
