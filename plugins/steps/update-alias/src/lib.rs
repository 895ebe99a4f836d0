//! update_alias (initial deployment): points the main alias at the green version
//! (else the current one) and clears weighted routing; creates the alias when the
//! function has none yet.

use scope_step::prelude::*;
use scope_step::{lambda, CallError};

struct UpdateAlias;

impl Step for UpdateAlias {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let version = var("LAMBDA_GREEN_VERSION")
            .filter(|v| !v.is_empty())
            .or_else(|| var("LAMBDA_CURRENT_VERSION").filter(|v| !v.is_empty()))
            .ok_or_else(|| {
                StepError::InvalidInput("no version to update alias to (LAMBDA_GREEN_VERSION and LAMBDA_CURRENT_VERSION are empty)".into())
            })?;
        let updated = match lambda::update_alias(&fname, &alias, Some(&version), Some(&[])) {
            Ok(a) => a,
            Err(CallError::Cloud(c)) if c.code == "ResourceNotFoundException" => {
                log::info(&format!("alias {alias} does not exist yet: creating it"));
                lambda::create_alias(&fname, &alias, &version, "main traffic alias", &[])?
            }
            Err(e) => return Err(e.into()),
        };
        log::info(&format!("alias {alias} → version {}", updated.function_version));
        Ok(vec![output("LAMBDA_ALIAS_ARN", updated.alias_arn)])
    }
}

scope_step::step!(
    UpdateAlias,
    Manifest {
        name: "update-alias",
        version: "0.1.0",
        description: "Points the main alias at the new version, clearing weighted routing",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("LAMBDA_GREEN_VERSION"),
            Input::optional("LAMBDA_CURRENT_VERSION")
        ],
        outputs: &[OutputDecl::plain("LAMBDA_ALIAS_ARN")],
        capabilities: &[
            Capability::new("lambda:GetAlias", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:UpdateAlias", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:CreateAlias", lambda_scope::FUNCTION_QUALIFIED),
        ],
        ..Manifest::EMPTY
    }
);
