//! `ecr`: repository policies and image lookups, in the caller's registry or
//! another account's.

use super::view::CapsCtx;
use super::Answer;
use super::{arn, need, Op, StepHost};
use crate::bindings::ecr as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

const fn op(operation: &'static str) -> Op {
    Op { service: "ecr", operation }
}

impl StepHost {
    /// Checks the reference and returns it with the repository ARN.
    fn repository(&mut self, o: Op, r: wit::RepositoryRef) -> Result<(m::RepositoryRef, String), CallError> {
        if let Err(e) = arn::check_repository_name(&r.name) {
            return Err(self.invalid(o, &r.name, e.to_string()));
        }
        if let Some(id) = r.registry_id.as_deref().filter(|id| !arn::is_account(id)) {
            return Err(self.invalid(o, &r.name, format!("registry id `{id}` is not a 12-digit account id")));
        }
        let registry = r.registry_id.clone().unwrap_or_else(|| self.account().to_owned());
        let region = r.region.clone().unwrap_or_else(|| self.region().to_owned());
        let resource = arn::ecr_repository_arn(&region, &registry, &r.name);
        Ok((
            m::RepositoryRef {
                registry_id: r.registry_id,
                region: r.region,
                name: r.name,
            },
            resource,
        ))
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn get_repository_policy(&mut self, repository: wit::RepositoryRef) -> Answer<String> {
        const OP: Op = op("GetRepositoryPolicy");
        let h = &mut *self.host;
        let (repo, resource) = match h.repository(OP, repository) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.ecr.get_repository_policy(&ctx, &repo).await
        })
        .await)
    }

    async fn set_repository_policy(&mut self, repository: wit::RepositoryRef, policy_text: String) -> Answer<()> {
        const OP: Op = op("SetRepositoryPolicy");
        let h = &mut *self.host;
        let (repo, resource) = match h.repository(OP, repository) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&policy_text) {
            return Ok(Err(h.invalid(OP, &resource, format!("the policy is not JSON: {e}"))));
        }
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.ecr.set_repository_policy(&ctx, &repo, &policy_text).await
        })
        .await)
    }

    async fn describe_images(&mut self, repository: wit::RepositoryRef, tags: Vec<String>) -> Answer<Vec<wit::ImageDetail>> {
        const OP: Op = op("DescribeImages");
        let h = &mut *self.host;
        let (repo, resource) = match h.repository(OP, repository) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let images = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.ecr.describe_images(&ctx, &repo, &tags).await
            })
            .await;
        Ok(images.map(|v| {
            v.into_iter()
                .map(|i| wit::ImageDetail {
                    digest: i.digest,
                    tags: i.tags,
                    pushed_at: i.pushed_at,
                    size_bytes: i.size_bytes,
                })
                .collect()
        }))
    }
}
