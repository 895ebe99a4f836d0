//! Secrets Manager: create, put a new value, delete.

use super::{reply, AwsCloud};
use crate::cloud::{CallCtx, CloudResult, CreateSecret, SecretRef};
use aws_sdk_secretsmanager::types::Tag;

#[async_trait::async_trait]
impl crate::cloud::SecretsApi for AwsCloud {
    async fn put_secret_value(&self, ctx: &CallCtx, secret_id: &str, value: &str) -> CloudResult<SecretRef> {
        let api = self.ctx_api("secretsmanager", "PutSecretValue", ctx);
        let out = self
            .for_ctx(ctx)
            .secrets()
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(value)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let value = SecretRef {
            arn: out.arn().unwrap_or_default().to_string(),
            name: out.name().unwrap_or(secret_id).to_string(),
            version_id: out.version_id().map(str::to_string),
        };
        Ok(reply(value, &out))
    }

    async fn create_secret(&self, ctx: &CallCtx, req: &CreateSecret) -> CloudResult<SecretRef> {
        let api = self.ctx_api("secretsmanager", "CreateSecret", ctx);
        let tags: Vec<Tag> = req.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        let out = self
            .for_ctx(ctx)
            .secrets()
            .create_secret()
            .name(&req.name)
            .description(&req.description)
            .secret_string(&req.secret_string)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let value = SecretRef {
            arn: out.arn().unwrap_or_default().to_string(),
            name: out.name().unwrap_or(&req.name).to_string(),
            version_id: out.version_id().map(str::to_string),
        };
        Ok(reply(value, &out))
    }

    /// `force`: delete at once, without a recovery window; otherwise AWS's default
    /// window applies and the secret refuses writes until it ends.
    async fn delete_secret(&self, ctx: &CallCtx, secret_id: &str, force: bool) -> CloudResult<()> {
        let api = self.ctx_api("secretsmanager", "DeleteSecret", ctx);
        let out = self
            .for_ctx(ctx)
            .secrets()
            .delete_secret()
            .secret_id(secret_id)
            .set_force_delete_without_recovery(force.then_some(true))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }
}
