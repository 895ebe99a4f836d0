//! wait_provisioned_concurrency: only for `provisioned` scopes. Polls the main alias
//! (then `WARMUP_ALIAS_NAME` when set) until READY; FAILED is an error with the
//! reason; no configuration is a skip. Status changes are logged with counts. The
//! poll count is bounded by PROVISIONED_CONCURRENCY_MAX_WAIT_SECONDS /
//! PROVISIONED_CONCURRENCY_POLL_INTERVAL; the host's step deadline bounds wall time.

use scope_step::prelude::*;
use scope_step::{lambda, CallError};

struct WaitProvisioned;

fn wait(fname: &str, alias: &str, interval: u32, max_wait: u32) -> Result<(), StepError> {
    match lambda::wait_provisioned_concurrency(fname, alias, interval, max_wait) {
        Ok(pc) if pc.status == lambda::ProvisionedConcurrencyStatus::Ready => Ok(()),
        Ok(pc) => Err(StepError::Failed(format!(
            "provisioned concurrency of {fname}:{alias} is {}: {}",
            pc.status,
            pc.status_reason.unwrap_or_else(|| "no reason given".into())
        ))),
        Err(CallError::Cloud(c)) if c.code == "ProvisionedConcurrencyConfigNotFoundException" => {
            log::info(&format!("alias {alias} has no provisioned concurrency configured: skipped"));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

impl Step for WaitProvisioned {
    fn run() -> Result<Vec<Output>, StepError> {
        let kind = lambda_scope::var_or("LAMBDA_PROVISIONED_CONCURRENCY_TYPE", "unprovisioned");
        if kind != "provisioned" {
            log::info(&format!("provisioned concurrency is `{kind}`: nothing to wait for"));
            return Ok(vec![]);
        }
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let interval = lambda_scope::number_var("PROVISIONED_CONCURRENCY_POLL_INTERVAL", 5)?.max(1);
        let max = lambda_scope::number_var("PROVISIONED_CONCURRENCY_MAX_WAIT_SECONDS", 600)?;
        wait(&fname, &lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main"), interval, max)?;
        if let Some(warmup) = var("WARMUP_ALIAS_NAME").filter(|w| !w.is_empty()) {
            wait(&fname, &warmup, interval, max)?;
        }
        Ok(vec![])
    }
}

scope_step::step!(
    WaitProvisioned,
    Manifest {
        name: "wait-provisioned-concurrency",
        version: "0.1.0",
        description: "Waits until provisioned concurrency of the main (and warm-up) alias is READY",
        inputs: &[
            Input::optional("LAMBDA_PROVISIONED_CONCURRENCY_TYPE"),
            Input::optional("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("WARMUP_ALIAS_NAME"),
        ],
        capabilities: &[Capability::new(
            "lambda:GetProvisionedConcurrencyConfig",
            lambda_scope::FUNCTION_QUALIFIED
        )],
        ..Manifest::EMPTY
    }
);
