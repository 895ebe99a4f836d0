//! Diagnose: Lambda Function Exists (GetFunction).

use lambda_scope::diagnose::{access_denied, code, verdict};
use scope_step::lambda;
use scope_step::prelude::*;

struct FunctionExists;

impl Check for FunctionExists {
    fn check() -> Result<CheckResult, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        Ok(match lambda::get_function(&fname, None) {
            Ok(f) => verdict(
                CheckStatus::Pass,
                format!("function {fname} exists"),
                vec![("function_arn", f.configuration.function_arn)],
                vec![],
            ),
            Err(e) => match access_denied(&e, "lambda:GetFunction") {
                Some(denied) => denied,
                None if code(&e) == Some("ResourceNotFoundException") => verdict(
                    CheckStatus::Fail,
                    format!("function {fname} does not exist"),
                    vec![("function_name", fname)],
                    vec!["deploy the scope again, or check that the scope's function was not deleted by hand"],
                ),
                None => return Err(e.into()),
            },
        })
    }
}

scope_step::check!(
    FunctionExists,
    Manifest {
        name: "lambda-function-exists",
        version: "0.1.0",
        description: "Lambda Function Exists",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        capabilities: &[Capability::new("lambda:GetFunction", lambda_scope::FUNCTION)],
        ..Manifest::EMPTY
    }
);
