//! remove_log_group (delete): `/aws/lambda/<function>`; already gone is success.

use lambda_scope::lifecycle::is_absent;
use scope_step::logs;
use scope_step::prelude::*;

struct RemoveLogGroup;

impl Step for RemoveLogGroup {
    fn run() -> Result<Vec<Output>, StepError> {
        let name = format!("/aws/lambda/{}", require_var("LAMBDA_FUNCTION_NAME")?);
        match logs::delete_log_group(&name) {
            Ok(()) => log::info(&format!("deleted log group {name}")),
            Err(e) if is_absent(&e) => log::info(&format!("log group {name}: already gone")),
            Err(e) => return Err(e.into()),
        }
        Ok(vec![])
    }
}

scope_step::step!(
    RemoveLogGroup,
    Manifest {
        name: "remove-log-group",
        version: "0.1.0",
        description: "Deletes the function's log group; absence is success",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        capabilities: &[Capability::new(
            "logs:DeleteLogGroup",
            "arn:aws:logs:*:*:log-group:/aws/lambda/${LAMBDA_FUNCTION_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
