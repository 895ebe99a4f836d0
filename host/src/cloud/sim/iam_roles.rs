//! IAM role management in the sim: creating and deleting roles, as IAM answers
//! (EntityAlreadyExists, NoSuchEntity, DeleteConflict while policies remain).
//! Roles live in the caller's account.

use super::errors::{Api, Fault};
use super::iam_sts::parse_document;
use super::state::{RoleState, State};
use crate::cloud::{CallCtx, CreateRole, Role};
use std::collections::{BTreeMap, BTreeSet};

const NO_SUCH_ENTITY: &str = "NoSuchEntity";

impl State {
    /// The role `name` of the caller's account, authorized for `api`.
    pub(super) fn iam_role_mut(&mut self, ctx: &CallCtx, api: Api, name: &str) -> Result<&mut RoleState, Fault> {
        let account = ctx.identity.account.clone();
        self.authorize(ctx, api, &format!("arn:aws:iam::{account}:role/{name}"))?;
        self.roles
            .get_mut(&(account, name.to_string()))
            .ok_or_else(|| Fault::new(NO_SUCH_ENTITY, format!("The role with name {name} cannot be found.")))
    }

    pub(super) fn iam_create_role(&mut self, ctx: &CallCtx, api: Api, req: &CreateRole) -> Result<Role, Fault> {
        let account = ctx.identity.account.clone();
        let arn = format!("arn:aws:iam::{account}:role/{}", req.role_name);
        self.authorize(ctx, api, &arn)?;
        if !req.tags.is_empty() {
            self.authorize_action(ctx, api, &api.action_named("TagRole"), &arn)?;
        }
        if req.permissions_boundary.is_some() {
            self.authorize_action(ctx, api, &api.action_named("PutRolePermissionsBoundary"), &arn)?;
        }
        if req.role_name.is_empty() || req.role_name.len() > 64 {
            return Err(Fault::new(
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64",
                    req.role_name
                ),
            ));
        }
        let key = (account.clone(), req.role_name.clone());
        if self.roles.contains_key(&key) {
            return Err(Fault::new(
                "EntityAlreadyExists",
                format!("Role with name {} already exists.", req.role_name),
            ));
        }
        let trust_policy = parse_document(&req.assume_role_policy_document)?;
        let role = RoleState {
            name: req.role_name.clone(),
            account,
            path: "/".to_string(),
            trust_policy,
            // A role the run made: its sessions are limited only by session policies.
            allowed_actions: None,
            max_session_duration: 3600,
            description: req.description.clone(),
            permissions_boundary: req.permissions_boundary.clone(),
            tags: req.tags.iter().cloned().collect::<BTreeMap<_, _>>(),
            inline_policies: BTreeMap::new(),
            attached_policies: BTreeSet::new(),
        };
        let answer = role.answer();
        self.roles.insert(key, role);
        Ok(answer)
    }

    pub(super) fn iam_delete_role(&mut self, ctx: &CallCtx, api: Api, name: &str) -> Result<(), Fault> {
        let role = self.iam_role_mut(ctx, api, name)?;
        if !role.inline_policies.is_empty() {
            return Err(Fault::new("DeleteConflict", "Cannot delete entity, must delete policies first."));
        }
        if !role.attached_policies.is_empty() {
            return Err(Fault::new(
                "DeleteConflict",
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        let key = (role.account.clone(), role.name.clone());
        self.roles.remove(&key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, err, ok, sim};
    use crate::cloud::{CreateRole, IamApi};
    use serde_json::json;

    const VPC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole";

    fn create(name: &str) -> CreateRole {
        CreateRole {
            role_name: name.to_string(),
            assume_role_policy_document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
            description: "execution role of scope 11".into(),
            permissions_boundary: Some("arn:aws:iam::123456789012:policy/boundary".into()),
            tags: vec![("nullplatform:scope-id".into(), "11".into())],
        }
    }

    #[tokio::test]
    async fn a_role_lives_with_its_policies_and_goes_only_once_they_are_gone() {
        let cloud = sim(json!({}));
        let ctx = agent(&cloud).await;
        let role = ok(cloud.create_role(&ctx, &create("np-lambda-r")).await);
        assert_eq!(role.arn, "arn:aws:iam::123456789012:role/np-lambda-r");
        assert_eq!(
            err(cloud.create_role(&ctx, &create("np-lambda-r")).await).code,
            "EntityAlreadyExists"
        );
        let read = ok(cloud.get_role(&ctx, "np-lambda-r").await);
        assert_eq!(
            read.permissions_boundary.as_deref(),
            Some("arn:aws:iam::123456789012:policy/boundary")
        );
        assert_eq!(read.tags, [("nullplatform:scope-id".to_string(), "11".to_string())]);

        let logs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}]});
        ok(cloud
            .put_role_policy(&ctx, "np-lambda-r", "cloudwatch-logs", &logs.to_string())
            .await);
        assert_eq!(
            err(cloud.put_role_policy(&ctx, "np-lambda-r", "bad", "{not json").await).code,
            "MalformedPolicyDocument"
        );
        assert_eq!(ok(cloud.list_role_policies(&ctx, "np-lambda-r").await), ["cloudwatch-logs"]);
        let doc: serde_json::Value =
            serde_json::from_str(&ok(cloud.get_role_policy(&ctx, "np-lambda-r", "cloudwatch-logs").await)).unwrap();
        assert_eq!(doc, logs);
        ok(cloud.attach_role_policy(&ctx, "np-lambda-r", VPC).await);
        ok(cloud.attach_role_policy(&ctx, "np-lambda-r", VPC).await);
        let attached = ok(cloud.list_attached_role_policies(&ctx, "np-lambda-r").await);
        assert_eq!(attached.len(), 1);
        assert_eq!(attached[0].policy_name, "AWSLambdaVPCAccessExecutionRole");

        let conflict = err(cloud.delete_role(&ctx, "np-lambda-r").await);
        assert_eq!(conflict.code, "DeleteConflict");
        ok(cloud.delete_role_policy(&ctx, "np-lambda-r", "cloudwatch-logs").await);
        assert!(err(cloud.delete_role(&ctx, "np-lambda-r").await).message.contains("detach"));
        ok(cloud.detach_role_policy(&ctx, "np-lambda-r", VPC).await);
        assert_eq!(err(cloud.detach_role_policy(&ctx, "np-lambda-r", VPC).await).code, "NoSuchEntity");
        ok(cloud.delete_role(&ctx, "np-lambda-r").await);
        assert_eq!(err(cloud.delete_role(&ctx, "np-lambda-r").await).code, "NoSuchEntity");
        assert_eq!(err(cloud.get_role(&ctx, "np-lambda-r").await).code, "NoSuchEntity");
    }
}
