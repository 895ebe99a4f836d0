//! image-digest: pins an ECR image tag to its digest before a deployment, so a
//! tag pushed again between build and deploy cannot change what gets deployed.
//! Reads `IMAGE_URI` (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`),
//! asks ECR for the tag, and returns the digest and the URI pinned to it.

mod image_uri;

use image_uri::ImageUri;
use scope_step::ecr::{self, RepositoryRef};
use scope_step::prelude::*;
use scope_step::{CallError, Capability};

struct ImageDigest;

impl Step for ImageDigest {
    fn run() -> Result<Vec<Output>, StepError> {
        let uri = require_var("IMAGE_URI")?;
        let image = ImageUri::parse(&uri).map_err(|why| StepError::InvalidInput(format!("IMAGE_URI `{uri}` {why}")))?;
        let repository = RepositoryRef {
            registry_id: Some(image.account.clone()),
            region: Some(image.region.clone()),
            name: image.repository.clone(),
        };
        let found = match ecr::describe_images(&repository, std::slice::from_ref(&image.tag)) {
            Ok(found) => found,
            // The tag is missing: say what to do rather than pass the cloud's code on.
            Err(CallError::Cloud(e)) if e.code == "ImageNotFoundException" => {
                return Err(StepError::Failed(format!(
                    "image {}:{} is not in the ECR repository {} of account {} ({}); push it before deploying",
                    image.repository, image.tag, image.repository, image.account, image.region
                )))
            }
            Err(e) => return Err(e.into()),
        };
        let digest = found
            .into_iter()
            .find(|i| i.tags.contains(&image.tag))
            .map(|i| i.digest)
            .ok_or_else(|| StepError::Failed(format!("ECR returned no image tagged {} in {}", image.tag, image.repository)))?;
        log::info(&format!("{}:{} is {digest}", image.repository, image.tag));
        Ok(vec![
            output("IMAGE_DIGEST", digest.clone()),
            output("IMAGE_URI_PINNED", image.pinned(&digest)),
        ])
    }
}

scope_step::step!(
    ImageDigest,
    Manifest {
        name: "image-digest",
        version: "0.1.0",
        description: "Pins an ECR image tag to its digest before a deployment",
        inputs: &[Input::required("IMAGE_URI")],
        outputs: &[OutputDecl::plain("IMAGE_DIGEST"), OutputDecl::plain("IMAGE_URI_PINNED")],
        capabilities: &[Capability::new("ecr:DescribeImages", "arn:aws:ecr:*:*:repository/*")],
        ..Manifest::EMPTY
    }
);
