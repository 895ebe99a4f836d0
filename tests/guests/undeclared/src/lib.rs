//! Test guest: Calls an action it does not declare.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let f = require_var("LAMBDA_FUNCTION_NAME")?;
        lambda::get_function(&f, None)?;
        lambda::delete_function_version(&f, "1")?;
        Ok(vec![])
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "undeclared",
        version: "0.1.0",
        description: "Calls an action it does not declare",
        capabilities: &[Capability::new(
            "lambda:GetFunction",
            "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
