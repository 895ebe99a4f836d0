//! sync_parameters_to_secrets_manager: with the `secretsmanager` strategy, writes the
//! parameters map (JSON) to `nullplatform/<scope>/<deployment>/parameters`, creating
//! the secret (with a description and the resource tags) when it does not exist.
//! Values are secrets end to end: never logged.

use scope_step::prelude::*;
use scope_step::{secrets, CallError};

struct SyncParameters;

impl Step for SyncParameters {
    fn run() -> Result<Vec<Output>, StepError> {
        let strategy = lambda_scope::var_or("PARAMETERS_STRATEGY", "env");
        if strategy != "secretsmanager" {
            log::info(&format!("parameters strategy is `{strategy}`: nothing to sync to Secrets Manager"));
            return Ok(vec![]);
        }
        let scope = require_var("SCOPE_ID")?;
        let deployment = require_var("DEPLOYMENT_ID")?;
        let mut value = lambda_scope::var_or("PARAMETERS_JSON", "{}");
        if value.trim() == "{}" || value.trim().is_empty() {
            log::warn("the scope has no parameters: writing an empty map");
            value = "{}".into();
        }
        let name = format!("nullplatform/{scope}/{deployment}/parameters");
        match secrets::put_secret_value(&name, &value) {
            Ok(r) => log::info(&format!("updated secret {} (version {})", r.name, r.version_id.unwrap_or_default())),
            Err(CallError::Cloud(c)) if c.code == "ResourceNotFoundException" => {
                let tags: Vec<(String, String)> =
                    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&lambda_scope::var_or("RESOURCE_TAGS", "{}"))
                        .map_err(|e| StepError::InvalidInput(format!("RESOURCE_TAGS is not a JSON object: {e}")))?
                        .into_iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                        .collect();
                let r = secrets::create_secret(
                    &name,
                    &format!("Parameters of scope {scope}, deployment {deployment}"),
                    &value,
                    &tags,
                )?;
                log::info(&format!("created secret {}", r.name));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(vec![output("NULLPLATFORM_PARAMETERS_SECRET", name)])
    }
}

scope_step::step!(
    SyncParameters,
    Manifest {
        name: "sync-parameters",
        version: "0.1.0",
        description: "Writes the scope's parameters to Secrets Manager (secretsmanager strategy)",
        inputs: &[
            Input::optional("PARAMETERS_STRATEGY"),
            Input::optional("SCOPE_ID"),
            Input::optional("DEPLOYMENT_ID"),
            Input::optional("PARAMETERS_JSON"),
            Input::optional("RESOURCE_TAGS")
        ],
        outputs: &[OutputDecl::plain("NULLPLATFORM_PARAMETERS_SECRET")],
        capabilities: &[
            Capability::new(
                "secretsmanager:PutSecretValue",
                "arn:aws:secretsmanager:*:*:secret:nullplatform/${SCOPE_ID}/${DEPLOYMENT_ID}/parameters*"
            ),
            Capability::new(
                "secretsmanager:CreateSecret",
                "arn:aws:secretsmanager:*:*:secret:nullplatform/${SCOPE_ID}/${DEPLOYMENT_ID}/parameters*"
            ),
            Capability::new(
                "secretsmanager:TagResource",
                "arn:aws:secretsmanager:*:*:secret:nullplatform/${SCOPE_ID}/${DEPLOYMENT_ID}/parameters*"
            ),
        ],
        ..Manifest::EMPTY
    }
);
