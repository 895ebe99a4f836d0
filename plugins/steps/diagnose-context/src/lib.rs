//! build_context for diagnose: the function name (by the naming rule, or found by
//! the `nullplatform:scope-id` tag when the context lacks slugs), its ARN and role
//! (empty when the function is absent: the checks report that).

use lambda_scope::Context;
use scope_step::prelude::*;
use scope_step::{lambda, CallError};

struct DiagnoseContext;

impl Step for DiagnoseContext {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        let scope_id = ctx
            .text("/scope/id")
            .ok_or_else(|| StepError::InvalidInput("failed to extract scope ID from the context (.scope.id)".into()))?;
        let fname = lambda_scope::scope_function(&ctx, &scope_id)?.unwrap_or_default();
        if ctx.text("/application/slug").is_none() || ctx.text("/scope/slug").is_none() {
            log::info(&format!("the context has no slugs; found by tag: `{fname}`"));
        }
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
