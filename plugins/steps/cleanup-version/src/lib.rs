//! cleanup of versions (finalize, rollback, delete): deletes `CLEANUP_VERSION` of the
//! function — never `$LATEST`, and never version `1` when `CLEANUP_KEEP_FIRST` is true
//! (cleaning the old version) — ignoring "not found"; with the secretsmanager
//! strategy also deletes that deployment's parameters secret without recovery.

use scope_step::prelude::*;
use scope_step::{lambda, secrets, CallError};

struct CleanupVersion;

fn not_found(e: &CallError) -> bool {
    matches!(e, CallError::Cloud(c) if c.code == "ResourceNotFoundException")
}

impl Step for CleanupVersion {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let version = var("CLEANUP_VERSION").unwrap_or_default();
        let keep_first = lambda_scope::var_or("CLEANUP_KEEP_FIRST", "false") == "true";
        if version.is_empty() || version == "$LATEST" {
            log::info(&format!("no version to clean up (`{version}`)"));
        } else if keep_first && version == "1" {
            log::info("version 1 is kept");
        } else {
            match lambda::delete_function_version(&fname, &version) {
                Ok(()) => log::info(&format!("deleted version {version} of {fname}")),
                Err(e) if not_found(&e) => log::info(&format!("version {version} of {fname} was already gone")),
                Err(e) => return Err(e.into()),
            }
        }
        let deployment = var("CLEANUP_DEPLOYMENT_ID").unwrap_or_default();
        if lambda_scope::var_or("PARAMETERS_STRATEGY", "env") == "secretsmanager" && !deployment.is_empty() {
            let scope = require_var("SCOPE_ID")?;
            let name = format!("nullplatform/{scope}/{deployment}/parameters");
            match secrets::delete_secret(&name, true) {
                Ok(()) => log::info(&format!("deleted secret {name}")),
                Err(e) if not_found(&e) => log::info(&format!("secret {name} was already gone")),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(vec![])
    }
}

scope_step::step!(
    CleanupVersion,
    Manifest {
        name: "cleanup-version",
        version: "0.1.0",
        description: "Deletes a deployment's version (and its parameters secret), ignoring what is already gone",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("CLEANUP_VERSION"),
            Input::optional("CLEANUP_KEEP_FIRST"),
            Input::optional("CLEANUP_DEPLOYMENT_ID"),
            Input::optional("PARAMETERS_STRATEGY"),
            Input::optional("SCOPE_ID"),
        ],
        capabilities: &[
            Capability::new("lambda:DeleteFunction", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new(
                "secretsmanager:DeleteSecret",
                "arn:aws:secretsmanager:*:*:secret:nullplatform/${SCOPE_ID}/*"
            ),
        ],
        ..Manifest::EMPTY
    }
);
