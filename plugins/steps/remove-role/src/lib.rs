//! remove_role (delete): the execution role's inline policies, its attached
//! policies, then the role. Already gone is success at every stage.

use lambda_scope::lifecycle::is_absent;
use scope_step::iam;
use scope_step::prelude::*;

struct RemoveRole;

/// `Ok(None)` when the role is gone.
fn absent_is_none<T>(r: Result<T, scope_step::CallError>) -> Result<Option<T>, StepError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Step for RemoveRole {
    fn run() -> Result<Vec<Output>, StepError> {
        let name = require_var("LAMBDA_EXECUTION_ROLE_NAME")?;
        let Some(inline) = absent_is_none(iam::list_role_policies(&name))? else {
            log::info(&format!("role {name} does not exist: nothing to delete"));
            return Ok(vec![]);
        };
        for policy in inline {
            absent_is_none(iam::delete_role_policy(&name, &policy))?;
            log::info(&format!("role {name}: deleted inline policy {policy}"));
        }
        for attached in absent_is_none(iam::list_attached_role_policies(&name))?.unwrap_or_default() {
            absent_is_none(iam::detach_role_policy(&name, &attached.policy_arn))?;
            log::info(&format!("role {name}: detached {}", attached.policy_arn));
        }
        match absent_is_none(iam::delete_role(&name))? {
            Some(()) => log::info(&format!("deleted role {name}")),
            None => log::info(&format!("role {name}: already gone")),
        }
        Ok(vec![])
    }
}

const ROLE: &str = "arn:aws:iam::*:role/${LAMBDA_EXECUTION_ROLE_NAME}";

scope_step::step!(
    RemoveRole,
    Manifest {
        name: "remove-role",
        version: "0.1.0",
        description: "Deletes the execution role's policies and the role; absence is success",
        inputs: &[Input::required("LAMBDA_EXECUTION_ROLE_NAME")],
        capabilities: &[
            Capability::new("iam:ListRolePolicies", ROLE),
            Capability::new("iam:DeleteRolePolicy", ROLE),
            Capability::new("iam:ListAttachedRolePolicies", ROLE),
            Capability::new("iam:DetachRolePolicy", ROLE),
            Capability::new("iam:DeleteRole", ROLE),
        ],
        ..Manifest::EMPTY
    }
);
