//! build_context for diagnose: the function name (by the naming rule, or found by
//! the `nullplatform:scope-id` tag when the context lacks slugs), its ARN and role
//! (empty when the function is absent: the checks report that).

use lambda_scope::{function_name, Context};
use scope_step::prelude::*;
use scope_step::{lambda, tagging, CallError};

struct DiagnoseContext;

impl Step for DiagnoseContext {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        let scope_id = ctx
            .text("/scope/id")
            .ok_or_else(|| StepError::InvalidInput("failed to extract scope ID from the context (.scope.id)".into()))?;
        let fname = match (ctx.text("/application/slug"), ctx.text("/scope/slug")) {
            (Some(app), Some(scope)) => function_name(&scope_id, &app, &scope),
            _ => {
                let filter = tagging::TagFilter {
                    key: "nullplatform:scope-id".into(),
                    values: vec![scope_id.clone()],
                };
                let found = tagging::get_resources(&["lambda:function".to_owned()], &[filter])?;
                let arn = found.first().map(|r| r.arn.clone()).unwrap_or_default();
                log::info(&format!("the context has no slugs; found by tag: `{arn}`"));
                arn.rsplit(':').next().unwrap_or_default().to_owned()
            }
        };
        let (arn, role) = match lambda::get_function(&fname, None) {
            Ok(f) => (f.configuration.function_arn, f.configuration.role),
            Err(CallError::Cloud(c)) if c.code == "ResourceNotFoundException" => (String::new(), String::new()),
            Err(e) => {
                log::warn(&format!(
                    "could not read function {fname}: {}; the checks will say more",
                    e.explain()
                ));
                (String::new(), String::new())
            }
        };
        let http = ctx
            .value("/scope/capabilities/http_enabled")
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let visibility = if http {
            ctx.text("/scope/capabilities/visibility").unwrap_or_else(|| "public".into())
        } else {
            "event-driven".into()
        };
        Ok(vec![
            output("SCOPE_ID", scope_id),
            output("LAMBDA_FUNCTION_NAME", fname),
            output("LAMBDA_FUNCTION_ARN", arn),
            output("LAMBDA_ROLE_ARN", role),
            output("LAMBDA_MAIN_ALIAS_NAME", lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main")),
            output("VISIBILITY", visibility),
        ])
    }
}

scope_step::step!(
    DiagnoseContext,
    Manifest {
        name: "diagnose-context",
        version: "0.1.0",
        description: "Builds the variables of the diagnose checks",
        inputs: &[Input::optional("LAMBDA_MAIN_ALIAS_NAME")],
        outputs: &[
            OutputDecl::plain("SCOPE_ID"),
            OutputDecl::plain("LAMBDA_FUNCTION_NAME"),
            OutputDecl::plain("LAMBDA_FUNCTION_ARN"),
            OutputDecl::plain("LAMBDA_ROLE_ARN"),
            OutputDecl::plain("LAMBDA_MAIN_ALIAS_NAME"),
            OutputDecl::plain("VISIBILITY"),
        ],
        capabilities: &[
            Capability::new("lambda:GetFunction", "arn:aws:lambda:*:*:function:*"),
            Capability::new("tag:GetResources", "*")
        ],
        ..Manifest::EMPTY
    }
);
