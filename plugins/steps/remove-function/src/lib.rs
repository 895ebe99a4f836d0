//! remove_function (delete): the scope's provisioned concurrency, its aliases and
//! the function with every version, in that order. Whatever is already gone is
//! success, so delete can run twice, or after a half-made create.

use lambda_scope::lifecycle::is_absent;
use scope_step::prelude::*;
use scope_step::{lambda, CallError};

struct RemoveFunction;

/// Runs a deletion; absence is success. Says what happened.
fn gone(what: &str, result: Result<(), CallError>) -> Result<(), StepError> {
    match result {
        Ok(()) => {
            log::info(&format!("deleted {what}"));
            Ok(())
        }
        Err(e) if is_absent(&e) => {
            log::info(&format!("{what}: already gone"));
            Ok(())
        }
        Err(CallError::Cloud(c)) if c.code == "ProvisionedConcurrencyConfigNotFoundException" => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl Step for RemoveFunction {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        match lambda::get_function(&fname, None) {
            Ok(_) => {}
            Err(e) if is_absent(&e) => {
                log::info(&format!("function {fname} does not exist: nothing to delete"));
                return Ok(vec![]);
            }
            Err(e) => return Err(e.into()),
        }
        let main = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let mut aliases = vec![main];
        if let Some(w) = var("WARMUP_ALIAS_NAME").filter(|w| !w.is_empty() && !aliases.contains(w)) {
            aliases.push(w);
        }
        for alias in &aliases {
            gone(
                &format!("provisioned concurrency of {fname}:{alias}"),
                lambda::delete_provisioned_concurrency_config(&fname, alias),
            )?;
        }
        for alias in &aliases {
            gone(&format!("alias {alias}"), lambda::delete_alias(&fname, alias))?;
        }
        gone(&format!("function {fname} and every version"), lambda::delete_function(&fname))?;
        Ok(vec![])
    }
}

scope_step::step!(
    RemoveFunction,
    Manifest {
        name: "remove-function",
        version: "0.1.0",
        description: "Deletes the scope's provisioned concurrency, aliases and function; absence is success",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("WARMUP_ALIAS_NAME"),
        ],
        capabilities: &[
            Capability::new("lambda:GetFunction", lambda_scope::FUNCTION),
            Capability::new("lambda:DeleteProvisionedConcurrencyConfig", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:DeleteAlias", lambda_scope::FUNCTION),
            Capability::new("lambda:DeleteFunction", lambda_scope::FUNCTION),
        ],
        ..Manifest::EMPTY
    }
);
