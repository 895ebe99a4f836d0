//! update_alias (initial deployment): points the main alias at the green version
//! (else the current one) and clears weighted routing; creates the alias when the
//! function has none yet.

use scope_step::prelude::*;

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
        let updated = lambda_scope::point_alias(&fname, &alias, &version)?;
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
        capabilities: &lambda_scope::ALIAS_CAPABILITIES,
        ..Manifest::EMPTY
    }
);
