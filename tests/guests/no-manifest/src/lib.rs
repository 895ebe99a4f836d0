//! Test guest: a valid step component without a manifest section, as any
//! toolchain but the Rust SDK produces one. `plugin pack` gives it a manifest;
//! then it reads FUNCTION, looks the function up, and returns its ARN.
use scope_step::{lambda, output, var, Output, StepError};

struct Bare;
impl scope_step::step_world::Guest for Bare {
    fn run() -> Result<Vec<Output>, StepError> {
        let Some(function) = var("FUNCTION") else {
            return Ok(vec![]);
        };
        let info = lambda::get_function(&function, None)?;
        Ok(vec![output("FUNCTION_ARN", info.configuration.function_arn)])
    }
}
scope_step::step_world::__export_step_world!(Bare with_types_in scope_step::step_world);
