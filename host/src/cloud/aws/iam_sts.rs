//! STS (the agent's identity, AssumeRole) and IAM roles: read, create, change,
//! delete, and their inline and attached policies.

use super::{count, reply, AwsCloud, AGENT};
use crate::cloud::{AssumeRoleRequest, AttachedPolicy, CallCtx, CloudResult, CreateRole, Credentials, Identity, Reply, Role};
use aws_sdk_iam::types::Tag;

/// The account of an ARN (`arn:aws:sts::123456789012:assumed-role/r/s`).
pub(super) fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Decodes `%XX` escapes (IAM returns policy documents URL-encoded); text that is not
/// valid escaped UTF-8 is returned as it was.
pub(super) fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[async_trait::async_trait]
impl crate::cloud::StsApi for AwsCloud {
    /// GetCallerIdentity with the chain's credentials, in the default region.
    async fn agent_identity(&self) -> CloudResult<Identity> {
        let agent = Identity {
            arn: AGENT.to_string(),
            account: String::new(),
            expires_at: None,
            credentials: None,
        };
        let api = self.api("sts", "GetCallerIdentity", &agent, &self.region);
        let out = self
            .clients(&agent, &self.region)
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let arn = out.arn().unwrap_or_default().to_string();
        let account = out
            .account()
            .map(str::to_string)
            .or_else(|| arn_account(&arn).map(str::to_string))
            .unwrap_or_default();
        Ok(reply(
            Identity {
                arn,
                account,
                expires_at: None,
                credentials: None,
            },
            &out,
        ))
    }

    /// AssumeRole signed as `ctx.identity`; the answer carries the temporary keys.
    async fn assume_role(&self, ctx: &CallCtx, req: &AssumeRoleRequest) -> CloudResult<Identity> {
        let api = self.ctx_api("sts", "AssumeRole", ctx);
        let duration = i32::try_from(req.duration_seconds).unwrap_or(i32::MAX);
        let out = self
            .for_ctx(ctx)
            .sts()
            .assume_role()
            .role_arn(&req.role_arn)
            .role_session_name(&req.session_name)
            .duration_seconds(duration)
            .set_policy(req.session_policy.clone())
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(c) = out.credentials() else {
            return Err(api.client_error("AssumeRole answered without credentials".to_string()));
        };
        let arn = out.assumed_role_user().map(|u| u.arn().to_string()).unwrap_or_default();
        let account = arn_account(&arn)
            .or_else(|| arn_account(&req.role_arn))
            .unwrap_or_default()
            .to_string();
        let expires_at = u64::try_from(c.expiration().secs()).ok();
        let identity = Identity {
            arn,
            account,
            expires_at,
            credentials: Some(Credentials {
                access_key_id: c.access_key_id().to_string(),
                secret_access_key: c.secret_access_key().to_string(),
                session_token: Some(c.session_token().to_string()),
            }),
        };
        Ok(reply(identity, &out))
    }
}

/// The model's [`Role`] from IAM's: the trust policy as JSON text (IAM sends it
/// URL-encoded), tags sorted by key.
fn role_from(role: &aws_sdk_iam::types::Role) -> Role {
    let mut tags: Vec<(String, String)> = role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    tags.sort();
    Role {
        role_name: role.role_name().to_string(),
        arn: role.arn().to_string(),
        role_id: role.role_id().to_string(),
        assume_role_policy_document: role.assume_role_policy_document().map(percent_decode).unwrap_or_default(),
        max_session_duration: match role.max_session_duration() {
            Some(_) => count(role.max_session_duration()),
            None => 3600,
        },
        description: role.description().unwrap_or_default().to_string(),
        permissions_boundary: role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
        tags,
    }
}

/// IAM tags for a request (IAM requires both key and value, which the pairs have).
fn iam_tags(tags: &[(String, String)], api: &super::Api) -> Result<Vec<Tag>, crate::cloud::CloudError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| api.client_error(format!("invalid tag: {e}")))
        })
        .collect()
}

#[async_trait::async_trait]
impl crate::cloud::IamApi for AwsCloud {
    /// GetRole; the trust policy comes back as JSON text (IAM sends it URL-encoded).
    async fn get_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Role> {
        let api = self.ctx_api("iam", "GetRole", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .get_role()
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(role) = out.role() else {
            return Err(api.client_error("GetRole answered without a role".to_string()));
        };
        Ok(reply(role_from(role), &out))
    }

    /// CreateRole; no description, boundary or tags are sent when none is given.
    async fn create_role(&self, ctx: &CallCtx, req: &CreateRole) -> CloudResult<Role> {
        let api = self.ctx_api("iam", "CreateRole", ctx);
        let tags = iam_tags(&req.tags, &api)?;
        let out = self
            .for_ctx(ctx)
            .iam()
            .create_role()
            .role_name(&req.role_name)
            .assume_role_policy_document(&req.assume_role_policy_document)
            .set_description((!req.description.is_empty()).then(|| req.description.clone()))
            .set_permissions_boundary(req.permissions_boundary.clone())
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(role) = out.role() else {
            return Err(api.client_error("CreateRole answered without a role".to_string()));
        };
        Ok(reply(role_from(role), &out))
    }

    async fn update_assume_role_policy(&self, ctx: &CallCtx, role_name: &str, document: &str) -> CloudResult<()> {
        let api = self.ctx_api("iam", "UpdateAssumeRolePolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .update_assume_role_policy()
            .role_name(role_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn tag_role(&self, ctx: &CallCtx, role_name: &str, tags: &[(String, String)]) -> CloudResult<()> {
        let api = self.ctx_api("iam", "TagRole", ctx);
        let tags = iam_tags(tags, &api)?;
        let out = self
            .for_ctx(ctx)
            .iam()
            .tag_role()
            .role_name(role_name)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn put_role_permissions_boundary(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let api = self.ctx_api("iam", "PutRolePermissionsBoundary", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .put_role_permissions_boundary()
            .role_name(role_name)
            .permissions_boundary(policy_arn)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn delete_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<()> {
        let api = self.ctx_api("iam", "DeleteRole", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .delete_role()
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn put_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str, document: &str) -> CloudResult<()> {
        let api = self.ctx_api("iam", "PutRolePolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .put_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    /// GetRolePolicy; the document comes back as JSON text (IAM sends it URL-encoded).
    async fn get_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<String> {
        let api = self.ctx_api("iam", "GetRolePolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .get_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(percent_decode(out.policy_document()), &out))
    }

    /// Every page, in IAM's order. The request id is the first page's.
    async fn list_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<String>> {
        let api = self.ctx_api("iam", "ListRolePolicies", ctx);
        let clients = self.for_ctx(ctx);
        let mut names = Vec::new();
        let mut request_id = None;
        let mut marker: Option<String> = None;
        loop {
            let out = clients
                .iam()
                .list_role_policies()
                .role_name(role_name)
                .set_max_items(self.page_size)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            names.extend(out.policy_names().iter().cloned());
            match out.marker() {
                Some(next) if out.is_truncated() && !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(Reply { value: names, request_id })
    }

    async fn delete_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<()> {
        let api = self.ctx_api("iam", "DeleteRolePolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .delete_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn attach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let api = self.ctx_api("iam", "AttachRolePolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .attach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn detach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let api = self.ctx_api("iam", "DetachRolePolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .iam()
            .detach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    /// Every page, in IAM's order. The request id is the first page's.
    async fn list_attached_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<AttachedPolicy>> {
        let api = self.ctx_api("iam", "ListAttachedRolePolicies", ctx);
        let clients = self.for_ctx(ctx);
        let mut policies = Vec::new();
        let mut request_id = None;
        let mut marker: Option<String> = None;
        loop {
            let out = clients
                .iam()
                .list_attached_role_policies()
                .role_name(role_name)
                .set_max_items(self.page_size)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            policies.extend(out.attached_policies().iter().map(|p| AttachedPolicy {
                policy_name: p.policy_name().unwrap_or_default().to_string(),
                policy_arn: p.policy_arn().unwrap_or_default().to_string(),
            }));
            match out.marker() {
                Some(next) if out.is_truncated() && !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(Reply {
            value: policies,
            request_id,
        })
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn policies_are_decoded_and_accounts_parsed() {
        assert_eq!(
            percent_decode("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(percent_decode(r#"{"a": "100%"}"#), r#"{"a": "100%"}"#);
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(arn_account("arn:aws:sts::123456789012:assumed-role/r/s"), Some("123456789012"));
        assert_eq!(arn_account("nope"), None);
    }
}
