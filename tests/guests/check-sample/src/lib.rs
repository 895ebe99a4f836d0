//! Test guest: A diagnose check: does the function exist.
use scope_step::prelude::*;
use scope_step::{lambda, CallError};

struct FunctionExists;

impl Check for FunctionExists {
    fn check() -> Result<CheckResult, StepError> {
        let name = require_var("LAMBDA_FUNCTION_NAME")?;
        Ok(match lambda::get_function(&name, None) {
            Ok(f) => CheckResult {
                status: CheckStatus::Pass,
                summary: format!("function {name} exists"),
                evidence: vec![("function_arn".into(), f.configuration.function_arn)],
                suggested_actions: vec![],
            },
            Err(CallError::Cloud(c)) if c.code == "ResourceNotFoundException" => CheckResult {
                status: CheckStatus::Fail,
                summary: format!("function {name} does not exist"),
                evidence: vec![("error".into(), c.message)],
                suggested_actions: vec!["deploy the scope again".into()],
            },
            Err(e) => return Err(e.into()),
        })
    }
}

scope_step::check!(
    FunctionExists,
    Manifest {
        name: "check-sample",
        version: "0.1.0",
        description: "Checks the function exists",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        capabilities: &[Capability::new(
            "lambda:GetFunction",
            "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
