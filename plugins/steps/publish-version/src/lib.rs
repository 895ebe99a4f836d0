//! publish_version: PublishVersion with Description = the deployment id (the only
//! deployment → version index).

use scope_step::lambda;
use scope_step::prelude::*;

struct PublishVersion;

impl Step for PublishVersion {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let deployment = var("DEPLOYMENT_ID").unwrap_or_default();
        let v = lambda::publish_version(&fname, &deployment, None)?;
        if v.version.is_empty() || v.version == "$LATEST" {
            return Err(StepError::Failed(format!("PublishVersion of {fname} returned no version")));
        }
        if v.description != deployment {
            log::warn(&format!(
                "nothing changed since version {} (deployment `{}`): Lambda returned it instead of publishing",
                v.version, v.description
            ));
        }
        log::info(&format!("published {fname} version {}", v.version));
        Ok(vec![
            output("LAMBDA_GREEN_VERSION", v.version.clone()),
            output("LAMBDA_CURRENT_VERSION", v.version),
        ])
    }
}

scope_step::step!(
    PublishVersion,
    Manifest {
        name: "publish-version",
        version: "0.1.0",
        description: "Publishes a version described by the deployment id",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME"), Input::required("DEPLOYMENT_ID")],
        outputs: &[
            OutputDecl::plain("LAMBDA_GREEN_VERSION"),
            OutputDecl::plain("LAMBDA_CURRENT_VERSION")
        ],
        capabilities: &[Capability::new("lambda:PublishVersion", lambda_scope::FUNCTION)],
        ..Manifest::EMPTY
    }
);
