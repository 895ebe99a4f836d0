//! ECR: repository policies and image descriptions, in any registry and region.

use super::{reply, AwsCloud};
use crate::cloud::{CallCtx, CloudResult, ImageDetail, Reply, RepositoryRef};
use aws_sdk_ecr::types::ImageIdentifier;

/// The region of a repository's calls: its own region when it names one.
fn ecr_region<'a>(ctx: &'a CallCtx, repo: &'a RepositoryRef) -> &'a str {
    repo.region.as_deref().unwrap_or(&ctx.region)
}

#[async_trait::async_trait]
impl crate::cloud::EcrApi for AwsCloud {
    async fn get_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef) -> CloudResult<String> {
        let region = ecr_region(ctx, repo);
        let api = self.api("ecr", "GetRepositoryPolicy", &ctx.identity, region);
        let out = self
            .clients(&ctx.identity, region)
            .ecr()
            .get_repository_policy()
            .set_registry_id(repo.registry_id.clone())
            .repository_name(&repo.name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(out.policy_text().unwrap_or_default().to_string(), &out))
    }

    async fn set_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef, policy: &str) -> CloudResult<()> {
        let region = ecr_region(ctx, repo);
        let api = self.api("ecr", "SetRepositoryPolicy", &ctx.identity, region);
        let out = self
            .clients(&ctx.identity, region)
            .ecr()
            .set_repository_policy()
            .set_registry_id(repo.registry_id.clone())
            .repository_name(&repo.name)
            .policy_text(policy)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    /// The images carrying `tags`, in the order asked and each once; no tags: every
    /// image (every page). The request id is the first page's.
    async fn describe_images(&self, ctx: &CallCtx, repo: &RepositoryRef, tags: &[String]) -> CloudResult<Vec<ImageDetail>> {
        let region = ecr_region(ctx, repo);
        let api = self.api("ecr", "DescribeImages", &ctx.identity, region);
        let clients = self.clients(&ctx.identity, region);
        let ids: Option<Vec<ImageIdentifier>> =
            (!tags.is_empty()).then(|| tags.iter().map(|t| ImageIdentifier::builder().image_tag(t).build()).collect());
        let mut details: Vec<ImageDetail> = Vec::new();
        let mut request_id = None;
        let mut next_token: Option<String> = None;
        loop {
            let out = clients
                .ecr()
                .describe_images()
                .set_registry_id(repo.registry_id.clone())
                .repository_name(&repo.name)
                .set_image_ids(ids.clone())
                .set_max_results(self.page_size.filter(|_| ids.is_none()))
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            details.extend(out.image_details().iter().map(|d| ImageDetail {
                digest: d.image_digest().unwrap_or_default().to_string(),
                tags: d.image_tags().to_vec(),
                pushed_at: d.image_pushed_at().and_then(|t| u64::try_from(t.secs()).ok()),
                size_bytes: d.image_size_in_bytes().and_then(|n| u64::try_from(n).ok()),
            }));
            match out.next_token() {
                Some(next) if !next.is_empty() && ids.is_none() => next_token = Some(next.to_string()),
                _ => break,
            }
        }
        if !tags.is_empty() {
            // The order asked, each image once.
            let mut ordered: Vec<ImageDetail> = Vec::new();
            for tag in tags {
                if let Some(d) = details.iter().find(|d| d.tags.contains(tag)) {
                    if !ordered.iter().any(|o| o.digest == d.digest) {
                        ordered.push(d.clone());
                    }
                }
            }
            details = ordered;
        }
        Ok(Reply {
            value: details,
            request_id,
        })
    }
}
