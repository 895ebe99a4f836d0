//! Diagnose: Provisioned Concurrency of the main alias: FAILED fails; not
//! configured passes.

use lambda_scope::diagnose::{access_denied, code, verdict};
use scope_step::lambda;
use scope_step::prelude::*;

struct Provisioned;

impl Check for Provisioned {
    fn check() -> Result<CheckResult, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        Ok(match lambda::get_provisioned_concurrency_config(&fname, &alias) {
            Ok(p) => {
                let evidence = vec![
                    ("status", p.status.to_string()),
                    ("requested", p.requested.to_string()),
                    ("allocated", p.allocated.to_string()),
                ];
                match p.status {
                    lambda::ProvisionedConcurrencyStatus::Failed => verdict(
                        CheckStatus::Fail,
                        format!(
                            "provisioned concurrency of {fname}:{alias} FAILED: {}",
                            p.status_reason.unwrap_or_default()
                        ),
                        evidence,
                        vec!["lower the requested concurrency or raise the account's concurrency limit, then redeploy"],
                    ),
                    lambda::ProvisionedConcurrencyStatus::InProgress => verdict(
                        CheckStatus::Warning,
                        format!("provisioned concurrency of {fname}:{alias} is still being allocated"),
                        evidence,
                        vec![],
                    ),
                    _ => verdict(
                        CheckStatus::Pass,
                        format!("provisioned concurrency of {fname}:{alias} is {}", p.status),
                        evidence,
                        vec![],
                    ),
                }
            }
            Err(e) => match access_denied(&e, "lambda:GetProvisionedConcurrencyConfig") {
                Some(denied) => denied,
                None if code(&e) == Some("ProvisionedConcurrencyConfigNotFoundException") => verdict(
                    CheckStatus::Pass,
                    format!("{fname}:{alias} has no provisioned concurrency"),
                    vec![],
                    vec![],
                ),
                None if code(&e) == Some("ResourceNotFoundException") => {
                    verdict(CheckStatus::Skipped, format!("{fname}:{alias} does not exist"), vec![], vec![])
                }
                None => return Err(e.into()),
            },
        })
    }
}

scope_step::check!(
    Provisioned,
    Manifest {
        name: "provisioned-concurrency",
        version: "0.1.0",
        description: "Provisioned Concurrency",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME"), Input::optional("LAMBDA_MAIN_ALIAS_NAME")],
        capabilities: &[Capability::new(
            "lambda:GetProvisionedConcurrencyConfig",
            lambda_scope::FUNCTION_QUALIFIED
        )],
        ..Manifest::EMPTY
    }
);
