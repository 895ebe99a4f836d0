//! rollback: the main alias moves back to the blue (previous) version, with no
//! weighted routing left on the new one.

use scope_step::prelude::*;

struct Rollback;

impl Step for Rollback {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let blue = var("LAMBDA_BLUE_VERSION").filter(|v| !v.is_empty()).ok_or_else(|| {
            StepError::InvalidInput("no previous version to roll back to (LAMBDA_BLUE_VERSION is empty: the scope's current active deployment has no published version)".into())
        })?;
        let a = lambda_scope::point_alias(&fname, &alias, &blue)?;
        log::info(&format!("alias {alias} rolled back to version {}", a.function_version));
        Ok(vec![])
    }
}

scope_step::step!(
    Rollback,
    Manifest {
        name: "rollback",
        version: "0.1.0",
        description: "Moves the main alias back to the blue (previous) version",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("LAMBDA_BLUE_VERSION")
        ],
        capabilities: &lambda_scope::ALIAS_CAPABILITIES,
        ..Manifest::EMPTY
    }
);
