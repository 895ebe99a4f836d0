//! Diagnose: IAM Role Valid: the function has an execution role, and it exists.

use lambda_scope::diagnose::{access_denied, code, verdict};
use scope_step::prelude::*;
use scope_step::{iam, lambda};

struct RoleValid;

impl Check for RoleValid {
    fn check() -> Result<CheckResult, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let config = match lambda::get_function_configuration(&fname, None) {
            Ok(c) => c,
            Err(e) => {
                return Ok(match access_denied(&e, "lambda:GetFunctionConfiguration") {
                    Some(denied) => denied,
                    None if code(&e) == Some("ResourceNotFoundException") => {
                        verdict(CheckStatus::Skipped, format!("function {fname} does not exist"), vec![], vec![])
                    }
                    None => return Err(e.into()),
                })
            }
        };
        if config.role.is_empty() {
            return Ok(verdict(
                CheckStatus::Fail,
                format!("function {fname} has no execution role"),
                vec![],
                vec!["redeploy the scope so its role is set"],
            ));
        }
        Ok(match iam::get_role(&config.role) {
            Ok(r) => verdict(
                CheckStatus::Pass,
                format!("role {} exists", r.role_name),
                vec![("role_arn", r.arn)],
                vec![],
            ),
            Err(e) => match access_denied(&e, "iam:GetRole") {
                Some(denied) => denied,
                None if code(&e) == Some("NoSuchEntity") => verdict(
                    CheckStatus::Fail,
                    format!("the execution role of {fname} does not exist"),
                    vec![("role_arn", config.role)],
                    vec!["recreate the role, or redeploy the scope's infrastructure"],
                ),
                None => return Err(e.into()),
            },
        })
    }
}

scope_step::check!(
    RoleValid,
    Manifest {
        name: "iam-role-valid",
        version: "0.1.0",
        description: "IAM Role Valid",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        capabilities: &[
            Capability::new("lambda:GetFunctionConfiguration", lambda_scope::FUNCTION),
            Capability::new("iam:GetRole", "arn:aws:iam::*:role/*")
        ],
        ..Manifest::EMPTY
    }
);
