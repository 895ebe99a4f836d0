//! Diagnose: Lambda Function Active (GetFunctionConfiguration): State must be Active.

use lambda_scope::diagnose::{access_denied, code, verdict};
use scope_step::lambda;
use scope_step::prelude::*;

struct FunctionActive;

impl Check for FunctionActive {
    fn check() -> Result<CheckResult, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        Ok(match lambda::get_function_configuration(&fname, None) {
            Ok(c) if c.state == lambda::FunctionState::Active => verdict(
                CheckStatus::Pass,
                format!("function {fname} is Active"),
                vec![
                    ("state", c.state.to_string()),
                    ("last_update_status", c.last_update_status.to_string()),
                ],
                vec![],
            ),
            Ok(c) => verdict(
                CheckStatus::Fail,
                format!("function {fname} is {}, not Active (last update {})", c.state, c.last_update_status),
                vec![
                    ("state", c.state.to_string()),
                    ("state_reason", c.state_reason.unwrap_or_default()),
                    ("last_update_status", c.last_update_status.to_string()),
                    ("last_update_status_reason", c.last_update_status_reason.unwrap_or_default()),
                ],
                vec!["look at the state reason; redeploy once the cause is fixed"],
            ),
            Err(e) => match access_denied(&e, "lambda:GetFunctionConfiguration") {
                Some(denied) => denied,
                None if code(&e) == Some("ResourceNotFoundException") => {
                    verdict(CheckStatus::Skipped, format!("function {fname} does not exist"), vec![], vec![])
                }
                None => return Err(e.into()),
            },
        })
    }
}

scope_step::check!(
    FunctionActive,
    Manifest {
        name: "lambda-function-active",
        version: "0.1.0",
        description: "Lambda Function Active",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        capabilities: &[Capability::new("lambda:GetFunctionConfiguration", lambda_scope::FUNCTION)],
        ..Manifest::EMPTY
    }
);
