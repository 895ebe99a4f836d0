//! resolve_placeholder_image (create): the code a new function starts with until
//! its first deployment. A Zip scope uses the placeholder package ensure_function
//! carries (nothing to resolve). An Image scope uses, in order, the scope
//! configuration's `deployment.placeholder_image_uri`, PLACEHOLDER_IMAGE_URI_DEFAULT,
//! then the public default — exactly as given, no architecture suffix added (the
//! operator names the right tag), `:latest` when it has no tag. Lambda takes
//! images only from private ECR, so a public URI is refused here, saying why,
//! rather than by CreateFunction; a private one must exist (DescribeImages in its
//! own registry and region: the incumbent ignored the registry and broke on
//! digests), and its repository is made to let Lambda pull.

use lambda_scope::{ecr_policy, uri};
use scope_step::prelude::*;
use scope_step::{ecr, CallError};

struct ResolvePlaceholder;

/// The incumbent's public default: Lambda cannot use it.
const PUBLIC_DEFAULT: &str = "public.ecr.aws/nullplatform/aws-lambda/nullplatform-lambda-placeholder:latest";

const HOW_TO_PUBLISH: &str = "push the placeholder image to a private ECR repository of the function's account and region (e.g. aws-lambda/nullplatform-lambda-placeholder, tag <tag>-arm64 or <tag>-amd64 to match the function's architecture) and name it in the scope configuration (deployment.placeholder_image_uri) or PLACEHOLDER_IMAGE_URI_DEFAULT";

/// The tag or digest an image URI names; no tag is `latest`.
fn reference(uri: &str) -> (String, bool) {
    if let Some((_, digest)) = uri.split_once('@') {
        return (digest.to_owned(), true);
    }
    let last = uri.rsplit('/').next().unwrap_or(uri);
    match last.split_once(':') {
        Some((_, tag)) => (tag.to_owned(), false),
        None => ("latest".to_owned(), false),
    }
}

impl Step for ResolvePlaceholder {
    fn run() -> Result<Vec<Output>, StepError> {
        if lambda_scope::var_or("PACKAGE_TYPE", "Image") == "Zip" {
            log::info("Zip scope: the function starts from the placeholder package ensure_function carries");
            return Ok(vec![output("IMAGE_URI", "")]);
        }
        let given = var("PLACEHOLDER_IMAGE_URI")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| PUBLIC_DEFAULT.to_owned());
        let (reference, is_digest) = reference(&given);
        let image = if is_digest || given.rsplit('/').next().is_some_and(|l| l.contains(':')) {
            given.clone()
        } else {
            format!("{given}:latest")
        };
        if image.starts_with("public.ecr.aws/") {
            return Err(StepError::InvalidInput(format!(
                "the placeholder image {image} is in public ECR, which Lambda does not take images from: {HOW_TO_PUBLISH}"
            )));
        }
        let Some(ecr_image) = uri::ecr_image(&image) else {
            return Err(StepError::InvalidInput(format!(
                "the placeholder image {image} is not a private ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>): {HOW_TO_PUBLISH}"
            )));
        };
        let repo = ecr::RepositoryRef {
            registry_id: Some(ecr_image.account.clone()),
            region: Some(ecr_image.region.clone()),
            name: ecr_image.repository.clone(),
        };
        let tags = if is_digest { Vec::new() } else { vec![reference.clone()] };
        let found = match ecr::describe_images(&repo, &tags) {
            Ok(images) => images.iter().any(|i| !is_digest || i.digest == reference),
            Err(CallError::Cloud(c)) if c.code == "ImageNotFoundException" || c.code == "RepositoryNotFoundException" => false,
            Err(e) => return Err(e.into()),
        };
        if !found {
            return Err(StepError::InvalidInput(format!(
                "Placeholder image not found: {image}; {HOW_TO_PUBLISH}"
            )));
        }
        let account = match var("AWS_ACCOUNT_ID").filter(|a| !a.is_empty()) {
            Some(a) => a,
            None => scope_step::credentials::current_identity()?.account(),
        };
        ecr_policy::ensure_pull(&ecr_image, &account);
        log::info(&format!("placeholder image {image} found"));
        Ok(vec![output("IMAGE_URI", image)])
    }
}

scope_step::step!(
    ResolvePlaceholder,
    Manifest {
        name: "resolve-placeholder",
        version: "0.1.0",
        description: "Resolves and validates the placeholder image an Image scope's function starts from",
        inputs: &[
            Input::optional("PACKAGE_TYPE"),
            Input::optional("PLACEHOLDER_IMAGE_URI"),
            Input::optional("AWS_ACCOUNT_ID"),
        ],
        outputs: &[OutputDecl::plain("IMAGE_URI")],
        capabilities: &[
            Capability::new("ecr:DescribeImages", "arn:aws:ecr:*:*:repository/*"),
            Capability::new("ecr:GetRepositoryPolicy", "arn:aws:ecr:*:*:repository/*"),
            Capability::new("ecr:SetRepositoryPolicy", "arn:aws:ecr:*:*:repository/*"),
        ],
        ..Manifest::EMPTY
    }
);
