//! adjust_reserved_concurrency: the action's `.parameters.value` as the function's
//! reserved concurrency: 0 removes the reservation (never "throttle to zero"),
//! more sets it.

use lambda_scope::lifecycle::parse_value;
use lambda_scope::Context;
use scope_step::lambda;
use scope_step::prelude::*;

struct AdjustReserved;

impl Step for AdjustReserved {
    fn run() -> Result<Vec<Output>, StepError> {
        let value = parse_value(Context::load()?.text("/parameters/value"))?;
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        if value == 0 {
            lambda::delete_function_concurrency(&fname)?;
            log::info(&format!("reserved concurrency of {fname} removed"));
        } else {
            lambda::put_function_concurrency(&fname, value)?;
            log::info(&format!("reserved concurrency of {fname} set to {value}"));
        }
        Ok(vec![])
    }
}

scope_step::step!(
    AdjustReserved,
    Manifest {
        name: "adjust-reserved-concurrency",
        version: "0.1.0",
        description: "Sets or removes the function's reserved concurrency from the action's value",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        capabilities: &[
            Capability::new("lambda:PutFunctionConcurrency", lambda_scope::FUNCTION),
            Capability::new("lambda:DeleteFunctionConcurrency", lambda_scope::FUNCTION),
        ],
        ..Manifest::EMPTY
    }
);
