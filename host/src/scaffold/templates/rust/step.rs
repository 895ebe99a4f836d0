//! {{name}}: looks up the Lambda function named by LAMBDA_FUNCTION_NAME and returns
//! its ARN and state for later steps.
//!
//! A step reaches the cloud only through the host: every call below is checked
//! against the manifest at the bottom (and the operator's policy) before it leaves.
//! Change `run`, declare what it reads, returns and calls in the manifest, and say
//! in tests/{{name}}.yaml what must come of it.

use scope_step::lambda;
use scope_step::prelude::*;
use scope_step::{CallError, ErrorKind};

struct DescribeFunction;

impl Step for DescribeFunction {
    fn run() -> Result<Vec<Output>, StepError> {
        // Variables come from the workflow's configuration, earlier steps' outputs, or `--var`.
        let name = require_var("LAMBDA_FUNCTION_NAME")?;
        let function = match lambda::get_function(&name, None) {
            Ok(function) => function,
            // Say what is wrong and what to do about it, rather than pass the cloud's code on.
            Err(CallError::Cloud(e)) if e.kind == ErrorKind::NotFound => {
                return Err(StepError::Failed(format!(
                    "function {name} does not exist; deploy it first, or check LAMBDA_FUNCTION_NAME"
                )))
            }
            // Denied, throttled …: the step fails with the host's own message.
            Err(e) => return Err(e.into()),
        };
        let config = function.configuration;
        log::info(&format!("{name} is {} (last update {})", config.state, config.last_update_status));
        Ok(vec![
            output("FUNCTION_ARN", config.function_arn),
            output("FUNCTION_STATE", config.state.to_string()),
        ])
    }
}

scope_step::step!(
    DescribeFunction,
    Manifest {
        name: "{{name}}",
        version: "0.1.0",
        description: "Looks up a Lambda function and returns its ARN and state",
        inputs: &[Input {
            description: "The function's name or ARN",
            ..Input::required("LAMBDA_FUNCTION_NAME")
        }],
        outputs: &[OutputDecl::plain("FUNCTION_ARN"), OutputDecl::plain("FUNCTION_STATE")],
        // Each call the step makes: an IAM action on a resource pattern (`${VAR}` is
        // resolved when the call is made). Anything not declared here is refused.
        capabilities: &[Capability::new(
            "lambda:GetFunction",
            "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
