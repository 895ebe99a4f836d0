//! `secrets`: Secrets Manager writes. A value written is registered with the
//! redactor once the cloud accepted it, so it cannot reach a log line, output,
//! error or the journal from then on (and the record is redacted when written, so
//! not before either). A denied or failed write registers nothing: otherwise a step
//! could make any text — an operation name, its own resources — a "secret" by
//! trying to write it, and censor its own record.

use super::view::CapsCtx;
use super::Answer;
use super::{arn, need, Op, StepHost};
use crate::bindings::secrets as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

const fn op(operation: &'static str) -> Op {
    Op {
        service: "secretsmanager",
        operation,
    }
}

fn to_wit(r: m::SecretRef) -> wit::SecretRef {
    wit::SecretRef {
        arn: r.arn,
        name: r.name,
        version_id: r.version_id,
    }
}

impl StepHost {
    /// Whether `value` is text the step was given in clear — its step or plugin
    /// name, a variable that is not secret — which masking would censor, not protect.
    pub(crate) fn is_clear_name(&self, value: &str) -> bool {
        value == self.step || value == self.plugin || self.vars.values().any(|v| v == value && !self.env.redactor.is_secret(v))
    }

    fn secret_resource(&mut self, o: Op, id: &str) -> Result<String, CallError> {
        if id.is_empty() || id.len() > 512 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-:".contains(c)) {
            return Err(self.invalid(o, id, format!("`{id}` is not a secret name or ARN")));
        }
        Ok(arn::secret_arn(self.region(), self.account(), id))
    }

    /// Registers a value the cloud accepted as a secret, then counts it against the
    /// step's quota of secrets (each one makes every later redaction a little
    /// longer): a value that reached the cloud is always masked, the one that runs
    /// the quota out included.
    fn register_secret(&mut self, o: Op, resource: &str, value: &str) -> Result<(), CallError> {
        if self.is_clear_name(value) {
            self.log(
                super::LogLevel::Warn,
                &format!("the secret value written to {resource} is the value of a name or variable given in clear; it is not registered as a secret"),
            );
            return self.admit(super::quota::Quota::Secrets, o, resource);
        }
        let refused = match self.env.redactor.try_add(value) {
            Ok(()) => return self.admit(super::quota::Quota::Secrets, o, resource),
            Err(crate::redact::Refused::TooShort) => "is shorter than 4 characters and cannot be redacted reliably",
            Err(crate::redact::Refused::Structural) => "is an ARN, account id or action name, which are never redacted",
        };
        self.log(super::LogLevel::Warn, &format!("the secret value written to {resource} {refused}"));
        Ok(())
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn put_secret_value(&mut self, secret_id: String, secret_string: String) -> Answer<wit::SecretRef> {
        const OP: Op = op("PutSecretValue");
        let h = &mut *self.host;
        let resource = match h.secret_resource(OP, &secret_id) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let value = secret_string.clone();
        let r = h
            .checked(OP, &[need(OP, resource.clone())], |c, ctx| async move {
                c.secrets.put_secret_value(&ctx, &secret_id, &secret_string).await
            })
            .await;
        if r.is_ok() {
            if let Err(limit) = h.register_secret(OP, &resource, &value) {
                return Ok(Err(limit));
            }
        }
        Ok(r.map(to_wit))
    }

    async fn create_secret(
        &mut self,
        name: String,
        description: String,
        secret_string: String,
        tags: Vec<(String, String)>,
    ) -> Answer<wit::SecretRef> {
        const OP: Op = op("CreateSecret");
        let h = &mut *self.host;
        let resource = match h.secret_resource(OP, &name) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let mut needs = vec![need(OP, resource.clone())];
        if !tags.is_empty() {
            needs.push(("secretsmanager:TagResource".into(), resource.clone()));
        }
        let value = secret_string.clone();
        let req = m::CreateSecret {
            name,
            description,
            secret_string,
            tags,
        };
        let r = h
            .checked(OP, &needs, |c, ctx| async move { c.secrets.create_secret(&ctx, &req).await })
            .await;
        if r.is_ok() {
            if let Err(limit) = h.register_secret(OP, &resource, &value) {
                return Ok(Err(limit));
            }
        }
        Ok(r.map(to_wit))
    }

    async fn delete_secret(&mut self, secret_id: String, force: bool) -> Answer<()> {
        const OP: Op = op("DeleteSecret");
        let h = &mut *self.host;
        let resource = match h.secret_resource(OP, &secret_id) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.secrets.delete_secret(&ctx, &secret_id, force).await
        })
        .await)
    }

    async fn list_secrets(&mut self, name_prefix: String) -> Answer<Vec<wit::SecretSummary>> {
        // ListSecrets has no resource-level permissions: IAM authorizes it on `*`.
        const OP: Op = op("ListSecrets");
        let h = &mut *self.host;
        if name_prefix.len() > 512 || !name_prefix.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)) {
            return Ok(Err(h.invalid(OP, "*", format!("`{name_prefix}` is not a secret name prefix"))));
        }
        let listed = h
            .checked(OP, &[need(OP, "*")], |c, ctx| async move {
                c.secrets.list_secrets(&ctx, &name_prefix).await
            })
            .await;
        Ok(listed.map(|v| v.into_iter().map(|s| wit::SecretSummary { arn: s.arn, name: s.name }).collect()))
    }
}
