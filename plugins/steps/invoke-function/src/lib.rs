//! invoke_lambda (invoke): calls the main alias (LAMBDA_MAIN_ALIAS_NAME, where the
//! incumbent hard-coded `main`) synchronously with the action's payload
//! (`.parameters.payload`: a JSON document or a string holding one; absent, empty
//! or null is `{}`), and records the status, the function error and the start of
//! the response. A function error fails the step, naming its kind.

use lambda_scope::Context;
use scope_step::prelude::*;
use scope_step::{lambda, CallError};
use serde_json::Value;

struct InvokeFunction;

/// How much of the response the run record keeps.
const EXCERPT_CHARS: usize = 1000;

fn payload(ctx: &Context) -> Result<String, StepError> {
    let text = match ctx.value("/parameters/payload") {
        None => return Ok("{}".into()),
        Some(Value::String(s)) if s.trim().is_empty() || s.trim() == "null" => return Ok("{}".into()),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    serde_json::from_str::<Value>(&text)
        .map_err(|e| StepError::InvalidInput(format!("the payload (.parameters.payload) is not JSON: {e}")))?;
    Ok(text)
}

impl Step for InvokeFunction {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let body = payload(&Context::load()?)?;
        let answer = match lambda::invoke(&fname, Some(&alias), body.as_bytes()) {
            Ok(a) => a,
            Err(CallError::Cloud(c)) => {
                return Err(StepError::Failed(format!(
                    "invoking {fname}:{alias} failed: {}. Likely causes: the scope was never deployed or the alias {alias} is missing, the function timed out or ran out of memory, or the agent's role lacks lambda:InvokeFunction",
                    c.explain()
                )))
            }
            Err(e) => return Err(e.into()),
        };
        let text = String::from_utf8_lossy(&answer.payload).into_owned();
        let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        log::info(&format!(
            "{fname}:{alias} answered status {} (version {}): {excerpt}{}",
            answer.status_code,
            answer.executed_version.as_deref().unwrap_or("?"),
            if answer.truncated || text.chars().count() > EXCERPT_CHARS {
                " …"
            } else {
                ""
            }
        ));
        if let Some(kind) = &answer.function_error {
            return Err(StepError::Failed(format!("Lambda function returned an error: {kind}: {excerpt}")));
        }
        Ok(vec![
            output("INVOKE_STATUS_CODE", answer.status_code.to_string()),
            output("INVOKE_EXECUTED_VERSION", answer.executed_version.unwrap_or_default()),
            output("INVOKE_RESPONSE_EXCERPT", excerpt),
        ])
    }
}

scope_step::step!(
    InvokeFunction,
    Manifest {
        name: "invoke-function",
        version: "0.1.0",
        description: "Invokes the main alias with the action's payload and records what it answered",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME"), Input::optional("LAMBDA_MAIN_ALIAS_NAME")],
        outputs: &[
            OutputDecl::plain("INVOKE_STATUS_CODE"),
            OutputDecl::plain("INVOKE_EXECUTED_VERSION"),
            OutputDecl::plain("INVOKE_RESPONSE_EXCERPT"),
        ],
        capabilities: &[Capability::new("lambda:InvokeFunction", lambda_scope::FUNCTION_QUALIFIED)],
        ..Manifest::EMPTY
    }
);
