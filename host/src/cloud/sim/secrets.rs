//! Secrets Manager in the sim: secrets keyed by (region, name), found by name or ARN.
//! Values are kept only as hashes (see [`Secret`]).

use super::errors::{Api, Fault};
use super::state::{sha256_hex, Secret, State};
use super::{secrets_api, SimCloud};
use crate::cloud::{CallCtx, CreateSecret, SecretRef, SecretSummary};
use crate::cloud::{CloudResult, SecretsApi};
use sha2::{Digest, Sha256};

const NOT_FOUND: &str = "ResourceNotFoundException";
const SUFFIX_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>`; the suffix
/// is derived from the secret's place, so it is the same in every run.
pub(super) fn secret_arn(region: &str, account: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{region}/{account}/{name}").as_bytes());
    let suffix: String = digest
        .iter()
        .take(6)
        .map(|b| char::from(SUFFIX_ALPHABET[usize::from(*b) % SUFFIX_ALPHABET.len()]))
        .collect();
    format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}")
}

fn marked_for_deletion() -> Fault {
    Fault::new(
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}

fn not_found() -> Fault {
    Fault::new(NOT_FOUND, "Secrets Manager can't find the specified secret.")
}

impl State {
    fn secret_arn_of(&self, s: &Secret) -> String {
        secret_arn(&s.region, &self.account_id, &s.name)
    }

    /// The key of the secret a name or ARN names, if it exists.
    fn find_secret(&self, ctx: &CallCtx, secret_id: &str) -> Option<(String, String)> {
        if secret_id.starts_with("arn:") {
            self.secrets
                .iter()
                .find(|(_, s)| self.secret_arn_of(s) == secret_id)
                .map(|(k, _)| k.clone())
        } else {
            let key = (ctx.region.clone(), secret_id.to_string());
            self.secrets.contains_key(&key).then_some(key)
        }
    }

    /// The ARN the caller is authorized against: the secret's own when it exists.
    fn secret_resource(&self, ctx: &CallCtx, secret_id: &str) -> String {
        match self.find_secret(ctx, secret_id).and_then(|k| self.secrets.get(&k)) {
            Some(s) => self.secret_arn_of(s),
            None if secret_id.starts_with("arn:") => secret_id.to_string(),
            None => secret_arn(&ctx.region, &self.account_id, secret_id),
        }
    }

    fn secret_ref(&self, s: &Secret) -> SecretRef {
        SecretRef {
            arn: self.secret_arn_of(s),
            name: s.name.clone(),
            version_id: s.version_id.clone(),
        }
    }

    /// CreateSecret: a new secret with its first version. Tags also need
    /// `secretsmanager:TagResource`, as in AWS.
    pub(super) fn secrets_create(&mut self, ctx: &CallCtx, api: Api, req: &CreateSecret) -> Result<SecretRef, Fault> {
        let resource = self.secret_resource(ctx, &req.name);
        self.authorize(ctx, api, &resource)?;
        if !req.tags.is_empty() {
            self.authorize_action(ctx, api, &api.action_named("TagResource"), &resource)?;
        }
        let key = (ctx.region.clone(), req.name.clone());
        if let Some(existing) = self.secrets.get(&key) {
            if existing.pending_deletion {
                return Err(marked_for_deletion());
            }
            return Err(Fault::new(
                "ResourceExistsException",
                format!("The operation failed because the secret {} already exists.", req.name),
            ));
        }
        let version_id = self.next_secret_version_id();
        let secret = Secret {
            name: req.name.clone(),
            region: ctx.region.clone(),
            value_sha256: Some(sha256_hex(&req.secret_string)),
            description: req.description.clone(),
            tags: req.tags.iter().cloned().collect(),
            version_id: Some(version_id),
            pending_deletion: false,
        };
        let answer = self.secret_ref(&secret);
        self.secrets.insert(key, secret);
        Ok(answer)
    }

    /// PutSecretValue: a new current version.
    pub(super) fn secrets_put_value(&mut self, ctx: &CallCtx, api: Api, secret_id: &str, value: &str) -> Result<SecretRef, Fault> {
        let resource = self.secret_resource(ctx, secret_id);
        self.authorize(ctx, api, &resource)?;
        let key = self.find_secret(ctx, secret_id).ok_or_else(not_found)?;
        if self.secrets.get(&key).is_some_and(|s| s.pending_deletion) {
            return Err(marked_for_deletion());
        }
        let version_id = self.next_secret_version_id();
        let secret = self.secrets.get_mut(&key).ok_or_else(not_found)?;
        secret.value_sha256 = Some(sha256_hex(value));
        secret.version_id = Some(version_id);
        let secret = secret.clone();
        Ok(self.secret_ref(&secret))
    }

    /// DeleteSecret: `force` removes the secret at once; otherwise it is scheduled for
    /// deletion and refuses writes (the recovery window never ends in virtual time).
    pub(super) fn secrets_delete(&mut self, ctx: &CallCtx, api: Api, secret_id: &str, force: bool) -> Result<(), Fault> {
        let resource = self.secret_resource(ctx, secret_id);
        self.authorize(ctx, api, &resource)?;
        let key = self.find_secret(ctx, secret_id).ok_or_else(not_found)?;
        if force {
            self.secrets.remove(&key);
            return Ok(());
        }
        let secret = self.secrets.get_mut(&key).ok_or_else(not_found)?;
        if secret.pending_deletion {
            return Err(marked_for_deletion());
        }
        secret.pending_deletion = true;
        Ok(())
    }
}

// The service as the simulated cloud serves it: each call runs on the state
// under the cloud's lock (see `SimCloud::call`).

#[async_trait::async_trait]
impl SecretsApi for SimCloud {
    async fn put_secret_value(&self, ctx: &CallCtx, secret_id: &str, value: &str) -> CloudResult<SecretRef> {
        self.call(secrets_api("PutSecretValue"), |st, api| {
            st.secrets_put_value(ctx, api, secret_id, value)
        })
        .await
    }

    async fn create_secret(&self, ctx: &CallCtx, req: &CreateSecret) -> CloudResult<SecretRef> {
        self.call(secrets_api("CreateSecret"), |st, api| st.secrets_create(ctx, api, req))
            .await
    }

    async fn delete_secret(&self, ctx: &CallCtx, secret_id: &str, force: bool) -> CloudResult<()> {
        self.call(secrets_api("DeleteSecret"), |st, api| st.secrets_delete(ctx, api, secret_id, force))
            .await
    }

    async fn list_secrets(&self, ctx: &CallCtx, name_prefix: &str) -> CloudResult<Vec<SecretSummary>> {
        self.call(secrets_api("ListSecrets"), |st, api| {
            // ListSecrets has no resource-level permissions.
            st.authorize(ctx, api, "*")?;
            Ok(st
                .secrets
                .values()
                .filter(|s| s.region == ctx.region && !s.pending_deletion && s.name.starts_with(name_prefix))
                .map(|s| SecretSummary {
                    arn: st.secret_arn_of(s),
                    name: s.name.clone(),
                })
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, err, ok, sim};
    use super::*;
    #[allow(unused_imports)]
    use crate::cloud::{CloudBase, EcrApi, IamApi, LambdaApi, SecretsApi, StsApi, TaggingApi};
    use serde_json::json;

    const NAME: &str = "nullplatform/11/deploy-1/parameters";
    const DELETED: &str = "You can't perform this operation on the secret because it was marked for deletion.";

    fn create(name: &str, value: &str) -> CreateSecret {
        CreateSecret {
            name: name.to_string(),
            description: "parameters of scope 11".to_string(),
            secret_string: value.to_string(),
            tags: vec![("nullplatform:scope-id".to_string(), "11".to_string())],
        }
    }

    #[test]
    fn secret_arns_have_a_stable_six_character_suffix() {
        let arn = secret_arn("us-east-1", "123456789012", NAME);
        let prefix = format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{NAME}-");
        let suffix = arn.strip_prefix(&prefix).expect("ARN prefix");
        assert!(suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()), "{arn}");
        assert_eq!(arn, secret_arn("us-east-1", "123456789012", NAME));
        assert_ne!(arn, secret_arn("us-east-1", "123456789012", "other"));
    }

    #[tokio::test]
    async fn secrets_go_through_create_put_and_delete() {
        let sim = sim(json!({}));
        let ctx = agent(&sim).await;
        let e = err(sim.put_secret_value(&ctx, NAME, "{}").await);
        assert_eq!(
            (e.service.as_str(), e.code.as_str()),
            ("secretsmanager", "ResourceNotFoundException")
        );
        assert_eq!(e.message, "Secrets Manager can't find the specified secret.");

        let created = ok(sim.create_secret(&ctx, &create(NAME, r#"{"DB_PASSWORD":"s3cr3t"}"#)).await);
        assert_eq!(
            (created.name.as_str(), created.arn.clone()),
            (NAME, secret_arn("us-east-1", "123456789012", NAME))
        );
        let e = err(sim.create_secret(&ctx, &create(NAME, "{}")).await);
        assert_eq!(
            (e.code.as_str(), e.message),
            (
                "ResourceExistsException",
                format!("The operation failed because the secret {NAME} already exists.")
            )
        );

        let by_name = ok(sim.put_secret_value(&ctx, NAME, r#"{"DB_PASSWORD":"n3w"}"#).await);
        let by_arn = ok(sim.put_secret_value(&ctx, &created.arn, "{}").await);
        assert_eq!(by_arn.arn, created.arn);
        let versions = [&created.version_id, &by_name.version_id, &by_arn.version_id];
        assert!(versions.iter().all(|v| v.is_some()));
        assert!(
            versions[0] != versions[1] && versions[1] != versions[2],
            "each write is a new version: {versions:?}"
        );
        let e = err(sim.put_secret_value(&ctx, &format!("{}X", created.arn), "{}").await);
        assert_eq!(e.code, "ResourceNotFoundException", "an ARN must match exactly");

        // Without force: scheduled for deletion, refusing writes and re-creation.
        ok(sim.delete_secret(&ctx, NAME, false).await);
        for e in [
            err(sim.put_secret_value(&ctx, NAME, "{}").await),
            err(sim.create_secret(&ctx, &create(NAME, "{}")).await),
            err(sim.delete_secret(&ctx, NAME, false).await),
        ] {
            assert_eq!((e.code.as_str(), e.message.as_str()), ("InvalidRequestException", DELETED));
        }
        // Force deletes at once, even a scheduled secret; then the name is free.
        ok(sim.delete_secret(&ctx, &created.arn, true).await);
        assert_eq!(err(sim.put_secret_value(&ctx, NAME, "{}").await).code, "ResourceNotFoundException");
        assert_eq!(err(sim.delete_secret(&ctx, NAME, true).await).code, "ResourceNotFoundException");
        ok(sim.create_secret(&ctx, &create(NAME, "{}")).await);
    }

    #[tokio::test]
    async fn secrets_are_regional() {
        let sim = sim(json!({"secrets": [{"name": "s", "region": "eu-west-1", "value": "v"}]}));
        let mut ctx = agent(&sim).await;
        assert_eq!(err(sim.put_secret_value(&ctx, "s", "w").await).code, "ResourceNotFoundException");
        ok(sim.put_secret_value(&ctx, &secret_arn("eu-west-1", "123456789012", "s"), "w").await);
        ctx.region = "eu-west-1".to_string();
        ok(sim.put_secret_value(&ctx, "s", "w").await);
    }
}
