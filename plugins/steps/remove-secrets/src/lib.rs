//! remove_secrets (delete): every Secrets Manager secret of the scope, found by
//! its name prefix `nullplatform/<scope id>/` and deleted without a recovery
//! window, whatever the parameters strategy is now (the incumbent cleaned only
//! under the current one). A secret gone meanwhile is skipped; a refused listing
//! fails the step, where the incumbent's operator policy had it silently denied.

use lambda_scope::lifecycle::is_absent;
use scope_step::prelude::*;
use scope_step::secrets;

struct RemoveSecrets;

impl Step for RemoveSecrets {
    fn run() -> Result<Vec<Output>, StepError> {
        let scope_id = require_var("SCOPE_ID")?;
        let prefix = format!("nullplatform/{scope_id}/");
        let found = secrets::list_secrets(&prefix)?;
        if found.is_empty() {
            log::info(&format!("no secret named {prefix}…"));
        }
        for secret in found {
            match secrets::delete_secret(&secret.arn, true) {
                Ok(()) => log::info(&format!("deleted secret {}", secret.name)),
                Err(e) if is_absent(&e) => log::info(&format!("secret {}: already gone", secret.name)),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(vec![])
    }
}

scope_step::step!(
    RemoveSecrets,
    Manifest {
        name: "remove-secrets",
        version: "0.1.0",
        description: "Deletes the scope's Secrets Manager secrets, listed by name prefix",
        inputs: &[Input::required("SCOPE_ID")],
        capabilities: &[
            Capability::new("secretsmanager:ListSecrets", "*"),
            Capability::new(
                "secretsmanager:DeleteSecret",
                "arn:aws:secretsmanager:*:*:secret:nullplatform/${SCOPE_ID}/*"
            ),
        ],
        ..Manifest::EMPTY
    }
);
