//! finalize (blue-green): the main alias moves wholly to the new (green) version.

use scope_step::prelude::*;

struct Finalize;

impl Step for Finalize {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let green = var("LAMBDA_GREEN_VERSION").filter(|v| !v.is_empty()).ok_or_else(|| {
            StepError::InvalidInput("no version was published for this deployment (LAMBDA_GREEN_VERSION is empty)".into())
        })?;
        let a = lambda_scope::point_alias(&fname, &alias, &green)?;
        log::info(&format!("alias {alias} → version {} (100%)", a.function_version));
        Ok(vec![])
    }
}

scope_step::step!(
    Finalize,
    Manifest {
        name: "finalize",
        version: "0.1.0",
        description: "Moves the main alias fully to the new version",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("LAMBDA_GREEN_VERSION")
        ],
        capabilities: &lambda_scope::ALIAS_CAPABILITIES,
        ..Manifest::EMPTY
    }
);
