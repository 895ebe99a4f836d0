//! {{name}}: a diagnose check that the Lambda function named by LAMBDA_FUNCTION_NAME
//! exists and is Active.
//!
//! A check returns a verdict (pass, fail, warning or skipped) with the evidence it
//! rests on and what the operator could do; an error means it could not run at all.
//! It reaches the cloud only through the host: every call below is checked against
//! the manifest at the bottom (and the operator's policy) before it leaves.

use scope_step::lambda;
use scope_step::prelude::*;
use scope_step::{CallError, ErrorKind};

struct FunctionActive;

impl Check for FunctionActive {
    fn check() -> Result<CheckResult, StepError> {
        let name = require_var("LAMBDA_FUNCTION_NAME")?;
        let config = match lambda::get_function(&name, None) {
            Ok(function) => function.configuration,
            // A missing function is the check's answer, not a failure to check.
            Err(CallError::Cloud(e)) if e.kind == ErrorKind::NotFound => {
                return Ok(verdict(
                    CheckStatus::Fail,
                    format!("function {name} does not exist"),
                    vec![("function", name)],
                    &["deploy the scope again, or check LAMBDA_FUNCTION_NAME"],
                ))
            }
            // Denied, throttled …: the check could not run; the host says why.
            Err(e) => return Err(e.into()),
        };
        log::info(&format!("{name} is {}", config.state));
        if config.state == lambda::FunctionState::Active {
            return Ok(verdict(
                CheckStatus::Pass,
                format!("function {name} is Active"),
                vec![("state", config.state.to_string()), ("last_update_status", config.last_update_status.to_string())],
                &[],
            ));
        }
        Ok(verdict(
            CheckStatus::Fail,
            format!("function {name} is {}, not Active", config.state),
            vec![("state", config.state.to_string()), ("state_reason", config.state_reason.unwrap_or_default())],
            &["look at the state reason; deploy again once its cause is fixed"],
        ))
    }
}

fn verdict(status: CheckStatus, summary: String, evidence: Vec<(&str, String)>, actions: &[&str]) -> CheckResult {
    CheckResult {
        status,
        summary,
        evidence: evidence.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        suggested_actions: actions.iter().map(|a| a.to_string()).collect(),
    }
}

scope_step::check!(
    FunctionActive,
    Manifest {
        name: "{{name}}",
        version: "0.1.0",
        description: "The Lambda function exists and is Active",
        inputs: &[Input {
            description: "The function's name or ARN",
            ..Input::required("LAMBDA_FUNCTION_NAME")
        }],
        // Each call the check makes: an IAM action on a resource pattern (`${VAR}` is
        // resolved when the call is made). Anything not declared here is refused.
        capabilities: &[Capability::new(
            "lambda:GetFunction",
            "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
