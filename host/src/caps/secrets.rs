//! `secrets`: Secrets Manager writes. Every value written is registered with the
//! redactor before the call, so it cannot reach a log line, output, error or the
//! journal afterwards.

use super::{arn, need, Op, StepHost};
use crate::bindings::secrets as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;
use crate::sandbox::StepState;

const fn op(operation: &'static str) -> Op {
    Op {
        service: "secretsmanager",
        operation,
    }
}

type Answer<T> = wasmtime::Result<Result<T, CallError>>;

fn to_wit(r: m::SecretRef) -> wit::SecretRef {
    wit::SecretRef {
        arn: r.arn,
        name: r.name,
        version_id: r.version_id,
    }
}

impl StepHost {
    fn secret_resource(&mut self, o: Op, id: &str) -> Result<String, CallError> {
        if id.is_empty() || id.len() > 512 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-:".contains(c)) {
            return Err(self.invalid(o, id, format!("`{id}` is not a secret name or ARN")));
        }
        Ok(arn::secret_arn(self.region(), self.account(), id))
    }

    fn register_secret(&mut self, value: &str) {
        if !self.env.redactor.add(value) {
            self.log(
                super::LogLevel::Warn,
                "a secret value shorter than 4 characters cannot be redacted reliably",
            );
        }
    }
}

impl wit::Host for StepState {
    async fn put_secret_value(&mut self, secret_id: String, secret_string: String) -> Answer<wit::SecretRef> {
        const OP: Op = op("PutSecretValue");
        let h = &mut self.host;
        h.register_secret(&secret_string);
        let resource = match h.secret_resource(OP, &secret_id) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let r = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.secrets_put_secret_value(&ctx, &secret_id, &secret_string).await
            })
            .await;
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
        let h = &mut self.host;
        h.register_secret(&secret_string);
        let resource = match h.secret_resource(OP, &name) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let mut needs = vec![need(OP, resource.clone())];
        if !tags.is_empty() {
            needs.push(("secretsmanager:TagResource".into(), resource));
        }
        let req = m::CreateSecret {
            name,
            description,
            secret_string,
            tags,
        };
        let r = h
            .checked(OP, &needs, |c, ctx| async move { c.secrets_create_secret(&ctx, &req).await })
            .await;
        Ok(r.map(to_wit))
    }

    async fn delete_secret(&mut self, secret_id: String, force: bool) -> Answer<()> {
        const OP: Op = op("DeleteSecret");
        let h = &mut self.host;
        let resource = match h.secret_resource(OP, &secret_id) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.secrets_delete_secret(&ctx, &secret_id, force).await
        })
        .await)
    }
}
