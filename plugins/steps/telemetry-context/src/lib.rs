//! build_context (telemetry): the scope of a log or metric request and its
//! function. The scope id from `.scope.id`, else `.arguments.scope_id`, else
//! `.parameters.scope_id` (the incumbent needed `.scope.id`); the function's name
//! from the application and scope slugs, or — when either is missing — the Lambda
//! function tagged with the scope id (tag:GetResources).

use lambda_scope::{function_name, Context};
use scope_step::prelude::*;
use scope_step::tagging;

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
        let function = match (ctx.text("/application/slug"), ctx.text("/scope/slug")) {
            (Some(app), Some(scope)) => function_name(&scope_id, &app, &scope),
            _ => {
                let filter = tagging::TagFilter {
                    key: "nullplatform:scope-id".into(),
                    values: vec![scope_id.clone()],
                };
                let found = tagging::get_resources(&["lambda:function".to_owned()], &[filter])?;
                let arn = found.first().map(|r| r.arn.clone()).ok_or_else(|| {
                    StepError::Failed(format!(
                        "no Lambda function is tagged nullplatform:scope-id={scope_id}, and the request names no application and scope slugs to name it by"
                    ))
                })?;
                arn.rsplit_once(":function:").map(|(_, n)| n.to_owned()).unwrap_or(arn)
            }
        };
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
