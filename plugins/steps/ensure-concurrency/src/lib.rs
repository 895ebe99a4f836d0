//! ensure_concurrency (create, update): reserved concurrency of the function and
//! provisioned concurrency of the main alias, as the scope's capabilities say —
//! set where they differ, removed when the scope no longer asks for them, left
//! alone when equal. Provisioned concurrency is waited on until READY.

use lambda_scope::lifecycle::is_absent;
use scope_step::lambda;
use scope_step::prelude::*;

struct EnsureConcurrency;

/// A capability's value: a whole number when its type asks for one.
fn value(name: &str) -> Result<u32, StepError> {
    let raw = var(name).unwrap_or_default();
    raw.trim().parse::<u32>().map_err(|_| {
        StepError::InvalidInput(format!(
            "{name} is `{raw}`; the scope's concurrency capability needs a non-negative whole number"
        ))
    })
}

impl Step for EnsureConcurrency {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");

        let reserved_wanted = if lambda_scope::var_or("LAMBDA_RESERVED_CONCURRENCY_TYPE", "unreserved") == "reserved" {
            Some(value("LAMBDA_RESERVED_CONCURRENCY_VALUE")?)
        } else {
            None
        };
        let current = lambda::get_function(&fname, None)?.reserved_concurrency;
        match (reserved_wanted, current) {
            (Some(want), have) if have != Some(want) => {
                lambda::put_function_concurrency(&fname, want)?;
                log::info(&format!("reserved concurrency of {fname} set to {want}"));
            }
            (None, Some(have)) => {
                lambda::delete_function_concurrency(&fname)?;
                log::info(&format!(
                    "reserved concurrency of {fname} ({have}) removed: the scope reserves none"
                ));
            }
            _ => log::info(&format!("reserved concurrency of {fname} is as the scope says")),
        }

        let provisioned_wanted = if lambda_scope::var_or("LAMBDA_PROVISIONED_CONCURRENCY_TYPE", "unprovisioned") == "provisioned" {
            Some(value("LAMBDA_PROVISIONED_CONCURRENCY_VALUE")?).filter(|v| *v > 0)
        } else {
            None
        };
        let current = match lambda::get_provisioned_concurrency_config(&fname, &alias) {
            Ok(p) => Some(p.requested),
            Err(e) if matches!(&e, scope_step::CallError::Cloud(c) if c.code == "ProvisionedConcurrencyConfigNotFoundException") => None,
            Err(e) => return Err(e.into()),
        };
        match (provisioned_wanted, current) {
            (Some(want), have) if have != Some(want) => {
                lambda::put_provisioned_concurrency_config(&fname, &alias, want)?;
                log::info(&format!("provisioned concurrency of {fname}:{alias} set to {want}"));
            }
            (None, Some(have)) => {
                match lambda::delete_provisioned_concurrency_config(&fname, &alias) {
                    Ok(()) => {}
                    Err(e) if is_absent(&e) => {}
                    Err(e) => return Err(e.into()),
                }
                log::info(&format!(
                    "provisioned concurrency of {fname}:{alias} ({have}) removed: the scope provisions none"
                ));
            }
            _ => {}
        }
        if provisioned_wanted.is_some() {
            lambda_scope::lifecycle::wait_provisioned_ready(&fname, &alias)?;
        }
        Ok(vec![])
    }
}

scope_step::step!(
    EnsureConcurrency,
    Manifest {
        name: "ensure-concurrency",
        version: "0.1.0",
        description: "Reconciles reserved and provisioned concurrency with the scope's capabilities",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("LAMBDA_RESERVED_CONCURRENCY_TYPE"),
            Input::optional("LAMBDA_RESERVED_CONCURRENCY_VALUE"),
            Input::optional("LAMBDA_PROVISIONED_CONCURRENCY_TYPE"),
            Input::optional("LAMBDA_PROVISIONED_CONCURRENCY_VALUE"),
            Input::optional("PROVISIONED_CONCURRENCY_POLL_INTERVAL"),
            Input::optional("PROVISIONED_CONCURRENCY_MAX_WAIT_SECONDS"),
        ],
        capabilities: &[
            Capability::new("lambda:GetFunction", lambda_scope::FUNCTION),
            Capability::new("lambda:PutFunctionConcurrency", lambda_scope::FUNCTION),
            Capability::new("lambda:DeleteFunctionConcurrency", lambda_scope::FUNCTION),
            Capability::new("lambda:GetProvisionedConcurrencyConfig", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:PutProvisionedConcurrencyConfig", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:DeleteProvisionedConcurrencyConfig", lambda_scope::FUNCTION_QUALIFIED),
        ],
        ..Manifest::EMPTY
    }
);
