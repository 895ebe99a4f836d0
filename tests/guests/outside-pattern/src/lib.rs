//! Test guest: Calls a declared action on a resource outside its pattern.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        lambda::get_function("someone-elses-function", None)?;
        Ok(vec![])
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "outside-pattern",
        version: "0.1.0",
        description: "Calls a declared action on a resource outside its pattern",
        capabilities: &[Capability::new(
            "lambda:GetFunction",
            "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
