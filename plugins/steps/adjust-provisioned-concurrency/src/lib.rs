//! adjust_provisioned_concurrency: the action's `.parameters.value` as the main
//! alias's provisioned concurrency: 0 removes it (nothing to remove is success),
//! more sets it and waits until READY (the incumbent did not wait).

use lambda_scope::lifecycle::parse_value;
use lambda_scope::Context;
use scope_step::prelude::*;
use scope_step::{lambda, CallError};

struct AdjustProvisioned;

impl Step for AdjustProvisioned {
    fn run() -> Result<Vec<Output>, StepError> {
        let value = parse_value(Context::load()?.text("/parameters/value"))?;
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        if value == 0 {
            match lambda::delete_provisioned_concurrency_config(&fname, &alias) {
                Ok(()) => log::info(&format!("provisioned concurrency of {fname}:{alias} removed")),
                Err(CallError::Cloud(c)) if c.code == "ProvisionedConcurrencyConfigNotFoundException" => {
                    log::info(&format!("{fname}:{alias} has no provisioned concurrency: nothing to remove"))
                }
                Err(e) => return Err(e.into()),
            }
            return Ok(vec![]);
        }
        lambda::put_provisioned_concurrency_config(&fname, &alias, value)?;
        lambda_scope::lifecycle::wait_provisioned_ready(&fname, &alias)?;
        log::info(&format!("provisioned concurrency of {fname}:{alias} is {value}, READY"));
        Ok(vec![])
    }
}

scope_step::step!(
    AdjustProvisioned,
    Manifest {
        name: "adjust-provisioned-concurrency",
        version: "0.1.0",
        description: "Sets or removes provisioned concurrency of the main alias from the action's value",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("PROVISIONED_CONCURRENCY_POLL_INTERVAL"),
            Input::optional("PROVISIONED_CONCURRENCY_MAX_WAIT_SECONDS"),
        ],
        capabilities: &[
            Capability::new("lambda:PutProvisionedConcurrencyConfig", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:DeleteProvisionedConcurrencyConfig", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:GetProvisionedConcurrencyConfig", lambda_scope::FUNCTION_QUALIFIED),
        ],
        ..Manifest::EMPTY
    }
);
