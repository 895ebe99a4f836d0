//! update_function_code: image or zip. For a private ECR image, first merges the
//! Lambda pull statement into the repository's policy — in the registry account of
//! the URI, idempotently, keeping other statements, limited to this account's
//! functions — best effort (a failure is a warning). Then updates the code and waits.

use lambda_scope::{ecr_policy, uri};
use scope_step::lambda;
use scope_step::prelude::*;

struct UpdateCode;

impl Step for UpdateCode {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let package = lambda_scope::var_or("PACKAGE_TYPE", "Image");
        let code = if package == "Zip" {
            let bucket = require_var("S3_BUCKET")?;
            let key = require_var("S3_KEY")?;
            lambda::CodeSource::S3(lambda::S3Location {
                bucket,
                key,
                object_version: None,
            })
        } else {
            let image = require_var("IMAGE_URI")?;
            if let Some(ecr_image) = uri::ecr_image(&image) {
                let account = scope_step::credentials::current_identity()?.account();
                ecr_policy::ensure_pull(&ecr_image, &account);
            }
            lambda::CodeSource::Image(image)
        };
        lambda::update_function_code(&lambda::UpdateCodeRequest {
            function_name: fname.clone(),
            code,
            architectures: None,
            revision_id: None,
        })?;
        let max_wait = lambda_scope::number_var("DEPLOYMENT_MAX_WAIT_IN_SECONDS", 600)?;
        let done = lambda::wait_function_updated(&fname, max_wait)?;
        if done.last_update_status == lambda::UpdateStatus::Failed {
            return Err(StepError::Failed(format!(
                "updating the code of {fname} failed: {}. If the image was built for another architecture than the function ({}), rebuild it for that architecture or change LAMBDA_ARCHITECTURE",
                done.last_update_status_reason.unwrap_or_else(|| "no reason given".into()),
                done.architectures.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        log::info(&format!("code of {fname} updated ({})", done.code_sha256));
        Ok(vec![])
    }
}

scope_step::step!(
    UpdateCode,
    Manifest {
        name: "update-code",
        version: "0.1.0",
        description: "Updates the function's code (image or zip) and waits for the update",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("PACKAGE_TYPE"),
            Input::optional("IMAGE_URI"),
            Input::optional("S3_BUCKET"),
            Input::optional("S3_KEY"),
            Input::optional("DEPLOYMENT_MAX_WAIT_IN_SECONDS"),
        ],
        capabilities: &[
            Capability::new("lambda:UpdateFunctionCode", lambda_scope::FUNCTION),
            Capability::new("lambda:GetFunctionConfiguration", lambda_scope::FUNCTION),
            Capability::new("ecr:GetRepositoryPolicy", "arn:aws:ecr:*:*:repository/*"),
            Capability::new("ecr:SetRepositoryPolicy", "arn:aws:ecr:*:*:repository/*"),
            Capability::new("s3:GetObject", "arn:aws:s3:::${S3_BUCKET}/${S3_KEY}"),
        ],
        ..Manifest::EMPTY
    }
);
