//! `iam`: role reads.

use super::view::CapsCtx;
use super::{arn, need, Op};
use crate::bindings::iam as wit;
use crate::bindings::types::CallError;

impl wit::Host for CapsCtx<'_> {
    async fn get_role(&mut self, role_name: String) -> wasmtime::Result<Result<wit::Role, CallError>> {
        const OP: Op = Op {
            service: "iam",
            operation: "GetRole",
        };
        let h = &mut *self.host;
        // Accept a role ARN too: steps often hold the function's role ARN.
        let name = role_name.rsplit('/').next().unwrap_or_default().to_owned();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
            return Ok(Err(h.invalid(
                OP,
                &role_name,
                format!("`{role_name}` is not an IAM role name or ARN"),
            )));
        }
        let resource = arn::role_arn(h.account(), &name);
        let role = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move { c.iam.get_role(&ctx, &name).await })
            .await;
        Ok(role.map(|r| wit::Role {
            role_name: r.role_name,
            arn: r.arn,
            role_id: r.role_id,
            assume_role_policy_document: r.assume_role_policy_document,
            max_session_duration: r.max_session_duration,
        }))
    }
}
