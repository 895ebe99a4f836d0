//! `iam`: roles and their inline and attached policies. Every operation is
//! authorized on the role's ARN, as IAM does (attaching a managed policy is an
//! action on the role; the policy is a request field).

use super::view::CapsCtx;
use super::Answer;
use super::{arn, need, Op, StepHost};
use crate::bindings::iam as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

const fn op(operation: &'static str) -> Op {
    Op { service: "iam", operation }
}

/// IAM's name rule for roles (1–64) and policies (1–128): `[\w+=,.@-]`.
fn is_iam_name(name: &str, max: usize) -> bool {
    !name.is_empty() && name.len() <= max && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// `arn:aws:iam::aws:policy/…` or `arn:aws:iam::<account>:policy/…`.
fn is_policy_arn(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("arn:aws:iam::") else {
        return false;
    };
    let Some((account, path)) = rest.split_once(':') else {
        return false;
    };
    (account == "aws" || arn::is_account(account))
        && path
            .strip_prefix("policy/")
            .is_some_and(|p| !p.is_empty() && !p.contains(char::is_whitespace))
}

fn to_wit_role(r: m::Role) -> wit::Role {
    wit::Role {
        role_name: r.role_name,
        arn: r.arn,
        role_id: r.role_id,
        assume_role_policy_document: r.assume_role_policy_document,
        max_session_duration: r.max_session_duration,
        description: r.description,
        permissions_boundary: r.permissions_boundary,
        tags: r.tags,
    }
}

impl StepHost {
    /// The role a call names (a name, or a role ARN: steps often hold the
    /// function's role ARN) and its ARN in the step's account.
    fn role_resource(&mut self, o: Op, given: &str) -> Result<(String, String), CallError> {
        let name = given.rsplit('/').next().unwrap_or_default().to_owned();
        if !is_iam_name(&name, 64) {
            return Err(self.invalid(
                o,
                given,
                format!("`{given}` is not an IAM role name or ARN (1–64 letters, digits or `+=,.@_-`)"),
            ));
        }
        let resource = arn::role_arn(self.account(), &name);
        Ok((name, resource))
    }

    /// A policy document must be a JSON object; IAM would refuse anything else with
    /// MalformedPolicyDocument, after the call.
    fn check_document(&mut self, o: Op, resource: &str, what: &str, document: &str) -> Result<(), CallError> {
        match serde_json::from_str::<serde_json::Value>(document) {
            Ok(v) if v.is_object() => Ok(()),
            Ok(_) => Err(self.invalid(o, resource, format!("the {what} is JSON but not an object"))),
            Err(e) => Err(self.invalid(
                o,
                resource,
                format!(
                    "the {what} is not valid JSON at line {}, column {}: {}",
                    e.line(),
                    e.column(),
                    crate::json_error::message(&e)
                ),
            )),
        }
    }

    fn check_policy_arn(&mut self, o: Op, resource: &str, policy_arn: &str) -> Result<(), CallError> {
        if is_policy_arn(policy_arn) {
            Ok(())
        } else {
            Err(self.invalid(
                o,
                resource,
                format!("`{policy_arn}` is not a managed policy ARN (arn:aws:iam::aws:policy/… or arn:aws:iam::<account>:policy/…)"),
            ))
        }
    }

    fn check_policy_name(&mut self, o: Op, resource: &str, name: &str) -> Result<(), CallError> {
        if is_iam_name(name, 128) {
            Ok(())
        } else {
            Err(self.invalid(
                o,
                resource,
                format!("`{name}` is not an inline policy name (1–128 letters, digits or `+=,.@_-`)"),
            ))
        }
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn get_role(&mut self, role_name: String) -> Answer<wit::Role> {
        const OP: Op = op("GetRole");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        let role = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move { c.iam.get_role(&ctx, &name).await })
            .await;
        Ok(role.map(to_wit_role))
    }

    async fn create_role(&mut self, request: wit::CreateRoleRequest) -> Answer<wit::Role> {
        const OP: Op = op("CreateRole");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &request.role_name));
        try_call!(h.check_document(OP, &resource, "trust policy", &request.assume_role_policy_document));
        if let Some(boundary) = &request.permissions_boundary {
            try_call!(h.check_policy_arn(OP, &resource, boundary));
        }
        let mut needs = vec![need(OP, resource.clone())];
        if !request.tags.is_empty() {
            needs.push(("iam:TagRole".into(), resource.clone()));
        }
        if request.permissions_boundary.is_some() {
            needs.push(("iam:PutRolePermissionsBoundary".into(), resource));
        }
        let req = m::CreateRole {
            role_name: name,
            assume_role_policy_document: request.assume_role_policy_document,
            description: request.description,
            permissions_boundary: request.permissions_boundary,
            tags: request.tags,
        };
        let role = h
            .checked(OP, &needs, |c, ctx| async move { c.iam.create_role(&ctx, &req).await })
            .await;
        Ok(role.map(to_wit_role))
    }

    async fn update_assume_role_policy(&mut self, role_name: String, policy_document: String) -> Answer<()> {
        const OP: Op = op("UpdateAssumeRolePolicy");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        try_call!(h.check_document(OP, &resource, "trust policy", &policy_document));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.update_assume_role_policy(&ctx, &name, &policy_document).await
        })
        .await)
    }

    async fn tag_role(&mut self, role_name: String, tags: Vec<(String, String)>) -> Answer<()> {
        const OP: Op = op("TagRole");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        if let Some((k, _)) = tags.iter().find(|(k, _)| k.is_empty() || k.len() > 128) {
            return Ok(Err(h.invalid(OP, &resource, format!("tag key `{k}` must be 1–128 characters"))));
        }
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.tag_role(&ctx, &name, &tags).await
        })
        .await)
    }

    async fn put_role_permissions_boundary(&mut self, role_name: String, policy_arn: String) -> Answer<()> {
        const OP: Op = op("PutRolePermissionsBoundary");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        try_call!(h.check_policy_arn(OP, &resource, &policy_arn));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.put_role_permissions_boundary(&ctx, &name, &policy_arn).await
        })
        .await)
    }

    async fn delete_role(&mut self, role_name: String) -> Answer<()> {
        const OP: Op = op("DeleteRole");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        Ok(h.checked(
            OP,
            &[need(OP, resource)],
            |c, ctx| async move { c.iam.delete_role(&ctx, &name).await },
        )
        .await)
    }

    async fn put_role_policy(&mut self, role_name: String, policy_name: String, policy_document: String) -> Answer<()> {
        const OP: Op = op("PutRolePolicy");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        try_call!(h.check_policy_name(OP, &resource, &policy_name));
        try_call!(h.check_document(OP, &resource, "policy document", &policy_document));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.put_role_policy(&ctx, &name, &policy_name, &policy_document).await
        })
        .await)
    }

    async fn get_role_policy(&mut self, role_name: String, policy_name: String) -> Answer<String> {
        const OP: Op = op("GetRolePolicy");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        try_call!(h.check_policy_name(OP, &resource, &policy_name));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.get_role_policy(&ctx, &name, &policy_name).await
        })
        .await)
    }

    async fn list_role_policies(&mut self, role_name: String) -> Answer<Vec<String>> {
        const OP: Op = op("ListRolePolicies");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.list_role_policies(&ctx, &name).await
        })
        .await)
    }

    async fn delete_role_policy(&mut self, role_name: String, policy_name: String) -> Answer<()> {
        const OP: Op = op("DeleteRolePolicy");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        try_call!(h.check_policy_name(OP, &resource, &policy_name));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.delete_role_policy(&ctx, &name, &policy_name).await
        })
        .await)
    }

    async fn attach_role_policy(&mut self, role_name: String, policy_arn: String) -> Answer<()> {
        const OP: Op = op("AttachRolePolicy");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        try_call!(h.check_policy_arn(OP, &resource, &policy_arn));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.attach_role_policy(&ctx, &name, &policy_arn).await
        })
        .await)
    }

    async fn detach_role_policy(&mut self, role_name: String, policy_arn: String) -> Answer<()> {
        const OP: Op = op("DetachRolePolicy");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        try_call!(h.check_policy_arn(OP, &resource, &policy_arn));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.iam.detach_role_policy(&ctx, &name, &policy_arn).await
        })
        .await)
    }

    async fn list_attached_role_policies(&mut self, role_name: String) -> Answer<Vec<wit::AttachedPolicy>> {
        const OP: Op = op("ListAttachedRolePolicies");
        let h = &mut *self.host;
        let (name, resource) = try_call!(h.role_resource(OP, &role_name));
        let listed = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.iam.list_attached_role_policies(&ctx, &name).await
            })
            .await;
        Ok(listed.map(|v| {
            v.into_iter()
                .map(|p| wit::AttachedPolicy {
                    policy_name: p.policy_name,
                    policy_arn: p.policy_arn,
                })
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_and_names_are_checked_as_iam_does() {
        assert!(is_policy_arn(
            "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
        ));
        assert!(is_policy_arn("arn:aws:iam::123456789012:policy/boundary"));
        for bad in [
            "AWSLambdaVPCAccessExecutionRole",
            "arn:aws:iam::12345:policy/x",
            "arn:aws:iam::aws:role/x",
            "arn:aws:iam::aws:policy/",
        ] {
            assert!(!is_policy_arn(bad), "{bad}");
        }
        assert!(is_iam_name("np-lambda-11-my-app-my-scope-role", 64));
        assert!(!is_iam_name(&"r".repeat(65), 64));
        assert!(!is_iam_name("has space", 64));
    }
}
