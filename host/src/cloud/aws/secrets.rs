//! Secrets Manager: create, put a new value, delete, list.

use super::{reply, AwsCloud};
use crate::cloud::{CallCtx, CloudResult, CreateSecret, Reply, SecretRef, SecretSummary};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};

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

    /// Every page of the secrets whose name starts with `name_prefix`, sorted by name;
    /// secrets scheduled for deletion are left out. AWS's `name` filter matches
    /// prefixes loosely (any case), so names are checked again here. The request id
    /// is the first page's.
    async fn list_secrets(&self, ctx: &CallCtx, name_prefix: &str) -> CloudResult<Vec<SecretSummary>> {
        let api = self.ctx_api("secretsmanager", "ListSecrets", ctx);
        let clients = self.for_ctx(ctx);
        let filters =
            (!name_prefix.is_empty()).then(|| vec![Filter::builder().key(FilterNameStringType::Name).values(name_prefix).build()]);
        let mut secrets = Vec::new();
        let mut request_id = None;
        let mut token: Option<String> = None;
        loop {
            let out = clients
                .secrets()
                .list_secrets()
                .set_filters(filters.clone())
                .set_max_results(self.page_size)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            secrets.extend(out.secret_list().iter().filter(|s| s.deleted_date().is_none()).filter_map(|s| {
                let name = s.name()?;
                name.starts_with(name_prefix).then(|| SecretSummary {
                    arn: s.arn().unwrap_or_default().to_string(),
                    name: name.to_string(),
                })
            }));
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        secrets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Reply {
            value: secrets,
            request_id,
        })
    }
}
