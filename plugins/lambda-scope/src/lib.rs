//! Rules shared by the Lambda-scope steps, kept from the bash steps they replace:
//! reading the built context, config precedence (context path → variable →
//! default), the function name rule, image and asset URIs, and the ECR pull-policy
//! merge. Pure functions where possible, so they are tested natively.

pub mod ecr_policy;
pub mod lifecycle;
pub mod networking;
pub mod settings;
pub mod telemetry;
pub mod uri;

use scope_step::StepError;
use serde_json::Value;

/// Resource pattern of the scope's function, for manifests.
pub const FUNCTION: &str = "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}";
/// Resource pattern of the scope's function versions and aliases.
pub const FUNCTION_QUALIFIED: &str = "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}:*";

/// The built context.
pub struct Context {
    pub json: Value,
}

impl Context {
    /// Reads the built context from the host; malformed JSON is an invalid input.
    pub fn load() -> Result<Context, StepError> {
        Context::parse(&scope_step::context_json())
    }

    pub fn parse(text: &str) -> Result<Context, StepError> {
        serde_json::from_str(text)
            .map(|json| Context { json })
            .map_err(|e| StepError::InvalidInput(format!("the built context is not JSON: {e}")))
    }

    /// The value at a JSON pointer (`/scope/id`), as text: strings as they are,
    /// numbers and booleans printed; `null`, absent, and empty strings are `None`.
    pub fn text(&self, pointer: &str) -> Option<String> {
        text_of(self.json.pointer(pointer)?)
    }

    pub fn value(&self, pointer: &str) -> Option<&Value> {
        self.json.pointer(pointer).filter(|v| !v.is_null())
    }
}

/// A JSON scalar as text; `None` for null, empty strings, arrays and objects.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Config precedence everywhere: the context path, else the variable, else the default.
pub fn config(ctx: &Context, pointer: &str, var: &str, default: &str) -> String {
    ctx.text(pointer)
        .or_else(|| scope_step::var(var).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| default.to_owned())
}

/// `<scope id>-<application slug>-<scope slug>`, cut to Lambda's 64 characters.
pub fn function_name(scope_id: &str, application: &str, scope: &str) -> String {
    let mut name = format!("{scope_id}-{application}-{scope}");
    name.truncate(64);
    name
}

/// The scope's function: named from the application and scope slugs when the
/// context has both, else the Lambda function tagged `nullplatform:scope-id` with
/// the scope's id (tag:GetResources); `None` when no function is tagged so.
pub fn scope_function(ctx: &Context, scope_id: &str) -> Result<Option<String>, StepError> {
    if let (Some(app), Some(scope)) = (ctx.text("/application/slug"), ctx.text("/scope/slug")) {
        return Ok(Some(function_name(scope_id, &app, &scope)));
    }
    let filter = scope_step::tagging::TagFilter {
        key: "nullplatform:scope-id".into(),
        values: vec![scope_id.to_owned()],
    };
    let found = scope_step::tagging::get_resources(&["lambda:function".to_owned()], &[filter])?;
    Ok(found.first().map(|r| match r.arn.rsplit_once(":function:") {
        Some((_, name)) => name.to_owned(),
        None => r.arn.clone(),
    }))
}

/// The account NRN: the scope NRN cut before `:namespace=`.
pub fn account_nrn(nrn: &str) -> &str {
    nrn.split(":namespace=").next().unwrap_or(nrn)
}

/// A variable that must be set, else an invalid-input error naming it.
pub fn required(name: &str) -> Result<String, StepError> {
    scope_step::require_var(name)
}

/// A variable or a default.
pub fn var_or(name: &str, default: &str) -> String {
    scope_step::var(name)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Parses a whole-number variable within bounds, naming it when malformed.
pub fn number_var(name: &str, default: u32) -> Result<u32, StepError> {
    let raw = var_or(name, &default.to_string());
    raw.trim()
        .parse::<u32>()
        .map_err(|_| StepError::InvalidInput(format!("{name} is `{raw}`, not a whole number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_cut_to_64() {
        assert_eq!(function_name("11", "my-app", "my-scope"), "11-my-app-my-scope");
        assert_eq!(function_name("11", &"a".repeat(70), "s").len(), 64);
    }

    #[test]
    fn account_nrn_and_text() {
        assert_eq!(
            account_nrn("organization=1:account=2:namespace=3:application=4:scope=11"),
            "organization=1:account=2"
        );
        let ctx = Context::parse(r#"{"scope": {"id": 11, "nrn": "", "x": null, "ok": true}}"#).unwrap();
        assert_eq!(ctx.text("/scope/id").as_deref(), Some("11"));
        assert_eq!(ctx.text("/scope/nrn"), None);
        assert_eq!(ctx.text("/scope/x"), None);
        assert_eq!(ctx.text("/scope/ok").as_deref(), Some("true"));
    }
}

/// Points `alias` at `version` with no weighted routing, creating the alias when
/// the function has none yet.
pub fn point_alias(function: &str, alias: &str, version: &str) -> Result<scope_step::lambda::Alias, StepError> {
    use scope_step::{lambda, log, CallError};
    match lambda::update_alias(function, alias, Some(version), Some(&[]), None) {
        Ok(a) => Ok(a),
        Err(CallError::Cloud(c)) if c.code == "ResourceNotFoundException" => {
            log::info(&format!("alias {alias} does not exist yet: creating it"));
            Ok(lambda::create_alias(function, alias, version, "main traffic alias", &[])?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Alias operations of the main alias, for manifests.
pub const ALIAS_CAPABILITIES: [scope_step::Capability; 3] = [
    scope_step::Capability::new("lambda:GetAlias", FUNCTION),
    scope_step::Capability::new("lambda:UpdateAlias", FUNCTION),
    scope_step::Capability::new("lambda:CreateAlias", FUNCTION),
];

/// Diagnose helpers: verdicts with evidence, and AccessDenied as its own result.
pub mod diagnose {
    use scope_step::{CallError, CheckResult, CheckStatus};

    pub fn verdict(status: CheckStatus, summary: impl Into<String>, evidence: Vec<(&str, String)>, actions: Vec<&str>) -> CheckResult {
        CheckResult {
            status,
            summary: summary.into(),
            evidence: evidence.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            suggested_actions: actions.into_iter().map(str::to_owned).collect(),
        }
    }

    /// A refusal (by the host or by AWS) as a failed check that names the missing
    /// permission — never reported as "does not exist" (the bash checks' defect).
    pub fn access_denied(e: &CallError, action: &str) -> Option<CheckResult> {
        let (who, detail) = match e {
            CallError::Denied(d) => ("the host's grant", d.reason.clone()),
            CallError::Cloud(c) if c.code.starts_with("AccessDenied") || c.code == "UnauthorizedOperation" => ("AWS", c.message.clone()),
            _ => return None,
        };
        Some(verdict(
            CheckStatus::Fail,
            format!("access denied: the diagnose identity may not call {action} ({who} refused)"),
            vec![("missing_permission", action.to_owned()), ("detail", detail)],
            vec!["grant the permission to the role the agent assumes for this scope, then diagnose again"],
        ))
    }

    /// The cloud error's code, when the call failed in the cloud.
    pub fn code(e: &CallError) -> Option<&str> {
        match e {
            CallError::Cloud(c) => Some(c.code.as_str()),
            _ => None,
        }
    }
}
