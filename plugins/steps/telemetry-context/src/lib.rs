//! build_context (telemetry): the scope of a log or metric request and its
//! function. The scope id from `.scope.id`, else `.arguments.scope_id`, else
//! `.parameters.scope_id` (the incumbent needed `.scope.id`); the function's name
//! from the application and scope slugs, or — when either is missing — the Lambda
//! function tagged with the scope id (tag:GetResources).

use lambda_scope::Context;
use scope_step::prelude::*;

struct TelemetryContext;

impl Step for TelemetryContext {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        let scope_id = ["/scope/id", "/arguments/scope_id", "/parameters/scope_id"]
            .iter()
            .find_map(|p| ctx.text(p))
            .ok_or_else(|| {
                StepError::InvalidInput(
                    "Failed to extract scope ID: the request has no .scope.id, .arguments.scope_id or .parameters.scope_id".into(),
                )
            })?;
        let function = lambda_scope::scope_function(&ctx, &scope_id)?.ok_or_else(|| {
            StepError::Failed(format!(
                "no Lambda function is tagged nullplatform:scope-id={scope_id}, and the request names no application and scope slugs to name it by"
            ))
        })?;
        Ok(vec![
            output("SCOPE_ID", scope_id),
            output("LOG_GROUP_NAME", format!("/aws/lambda/{function}")),
            output("LAMBDA_FUNCTION_NAME", function),
        ])
    }
}

scope_step::step!(
    TelemetryContext,
    Manifest {
        name: "telemetry-context",
        version: "0.1.0",
        description: "Finds the scope and its function for a telemetry request",
        outputs: &[
            OutputDecl::plain("SCOPE_ID"),
            OutputDecl::plain("LOG_GROUP_NAME"),
            OutputDecl::plain("LAMBDA_FUNCTION_NAME"),
        ],
        capabilities: &[Capability::new("tag:GetResources", "*")],
        ..Manifest::EMPTY
    }
);
