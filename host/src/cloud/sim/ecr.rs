//! ECR in the sim: repositories keyed by (registry id, region, name), each with an
//! optional repository policy and a list of images.

use super::errors::{Api, Fault};
use super::policy;
use super::state::{repository_arn, Repository, State};
use super::{ecr_api, SimCloud};
use crate::cloud::{CallCtx, ImageDetail, RepositoryRef};
use crate::cloud::{CloudResult, EcrApi};
use serde_json::Value;

const REPOSITORY_NOT_FOUND: &str = "RepositoryNotFoundException";

/// Where a repository reference points: the caller's account and the call's region
/// unless it names others.
struct RepoKey {
    registry_id: String,
    region: String,
    name: String,
}

impl RepoKey {
    fn new(ctx: &CallCtx, repo: &RepositoryRef) -> RepoKey {
        RepoKey {
            registry_id: repo.registry_id.clone().unwrap_or_else(|| ctx.identity.account.clone()),
            region: repo.region.clone().unwrap_or_else(|| ctx.region.clone()),
            name: repo.name.clone(),
        }
    }

    fn arn(&self) -> String {
        repository_arn(&self.region, &self.registry_id, &self.name)
    }

    /// AWS's way of naming the repository in messages.
    fn describe(&self) -> String {
        format!(
            "the repository with name '{}' in the registry with id '{}'",
            self.name, self.registry_id
        )
    }
}

impl State {
    fn repository(&mut self, key: &RepoKey) -> Result<&mut Repository, Fault> {
        self.repositories
            .get_mut(&(key.registry_id.clone(), key.region.clone(), key.name.clone()))
            .ok_or_else(|| {
                Fault::new(
                    REPOSITORY_NOT_FOUND,
                    format!(
                        "The repository with name '{}' does not exist in the registry with id '{}'",
                        key.name, key.registry_id
                    ),
                )
            })
    }

    pub(super) fn ecr_get_repository_policy(&mut self, ctx: &CallCtx, api: Api, repo: &RepositoryRef) -> Result<String, Fault> {
        let key = RepoKey::new(ctx, repo);
        self.authorize(ctx, api, &key.arn())?;
        let repository = self.repository(&key)?;
        let policy = repository.policy.as_ref().ok_or_else(|| {
            Fault::new(
                "RepositoryPolicyNotFoundException",
                format!("Repository policy does not exist for {}", key.describe()),
            )
        })?;
        Ok(policy.to_string())
    }

    /// Stores the policy (normalised JSON); it must be an object with a `Statement` list.
    pub(super) fn ecr_set_repository_policy(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        repo: &RepositoryRef,
        policy_text: &str,
    ) -> Result<(), Fault> {
        let key = RepoKey::new(ctx, repo);
        self.authorize(ctx, api, &key.arn())?;
        let repository = self.repository(&key)?;
        let policy = serde_json::from_str::<Value>(policy_text)
            .ok()
            .filter(policy::has_statement_list)
            .ok_or_else(|| {
                Fault::new(
                    "InvalidParameterException",
                    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
                )
            })?;
        repository.policy = Some(policy);
        Ok(())
    }

    /// The images carrying the given tags, in the order asked and each once; no tags:
    /// every image.
    pub(super) fn ecr_describe_images(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        repo: &RepositoryRef,
        tags: &[String],
    ) -> Result<Vec<ImageDetail>, Fault> {
        let key = RepoKey::new(ctx, repo);
        self.authorize(ctx, api, &key.arn())?;
        let repository = self.repository(&key)?;
        let detail = |i: &super::state::Image| ImageDetail {
            digest: i.digest.clone(),
            tags: i.tags.clone(),
            pushed_at: i.pushed_at,
            size_bytes: i.size_bytes,
        };
        if tags.is_empty() {
            return Ok(repository.images.iter().map(detail).collect());
        }
        let mut found: Vec<ImageDetail> = Vec::new();
        for tag in tags {
            let image = repository.images.iter().find(|i| i.tags.contains(tag)).ok_or_else(|| {
                Fault::new(
                    "ImageNotFoundException",
                    format!(
                        "The image with imageId {{imageDigest:'null', imageTag:'{tag}'}} does not exist within {}",
                        key.describe()
                    ),
                )
            })?;
            if !found.iter().any(|d| d.digest == image.digest) {
                found.push(detail(image));
            }
        }
        Ok(found)
    }
}

// The service as the simulated cloud serves it: each call runs on the state
// under the cloud's lock (see `SimCloud::call`).

#[async_trait::async_trait]
impl EcrApi for SimCloud {
    async fn get_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef) -> CloudResult<String> {
        self.call(ecr_api("GetRepositoryPolicy"), |st, api| {
            st.ecr_get_repository_policy(ctx, api, repo)
        })
        .await
    }

    async fn set_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef, policy: &str) -> CloudResult<()> {
        self.call(ecr_api("SetRepositoryPolicy"), |st, api| {
            st.ecr_set_repository_policy(ctx, api, repo, policy)
        })
        .await
    }

    async fn describe_images(&self, ctx: &CallCtx, repo: &RepositoryRef, tags: &[String]) -> CloudResult<Vec<ImageDetail>> {
        self.call(ecr_api("DescribeImages"), |st, api| st.ecr_describe_images(ctx, api, repo, tags))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, err, ok, sim};
    use super::*;
    #[allow(unused_imports)]
    use crate::cloud::{CloudBase, EcrApi, IamApi, LambdaApi, SecretsApi, StsApi, TaggingApi};
    use serde_json::json;

    fn repo(registry_id: Option<&str>, region: Option<&str>, name: &str) -> RepositoryRef {
        RepositoryRef {
            registry_id: registry_id.map(str::to_string),
            region: region.map(str::to_string),
            name: name.to_string(),
        }
    }

    fn fixture() -> serde_json::Value {
        json!({"ecr": {"repositories": [
            {"name": "my-app", "images": [
                {"tags": ["v1.0.0", "stable"], "digest": "sha256:aaa", "pushed_at": 1700000000, "size_bytes": 1234},
                {"tags": ["v2.0.0"], "digest": "sha256:bbb"},
                {"tags": []}]},
            {"name": "shared", "registry_id": "999999999999", "region": "eu-west-1",
             "policy": {"Version": "2012-10-17", "Statement": [{"Sid": "x", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}}
        ]}})
    }

    #[tokio::test]
    async fn repository_policies_are_read_set_and_missing_as_in_ecr() {
        let sim = sim(fixture());
        let ctx = agent(&sim).await;
        let mine = repo(None, None, "my-app");
        let e = err(sim.get_repository_policy(&ctx, &mine).await);
        assert_eq!((e.service.as_str(), e.code.as_str()), ("ecr", "RepositoryPolicyNotFoundException"));
        assert_eq!(
            e.message,
            "Repository policy does not exist for the repository with name 'my-app' in the registry with id '123456789012'"
        );

        let invalid = [
            "not json",
            "[]",
            r#"{"Version": "2012-10-17"}"#,
            r#"{"Statement": {"Effect": "Allow"}}"#,
        ];
        for text in invalid {
            let e = err(sim.set_repository_policy(&ctx, &mine, text).await);
            assert_eq!(e.code, "InvalidParameterException", "{text}");
        }
        assert_eq!(
            err(sim.get_repository_policy(&ctx, &mine).await).code,
            "RepositoryPolicyNotFoundException"
        );

        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Sid\": \"LambdaECRImageRetrievalPolicy\", \"Effect\": \"Allow\",\n  \"Principal\": {\"Service\": \"lambda.amazonaws.com\"}, \"Action\": [\"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\"]}]}";
        ok(sim.set_repository_policy(&ctx, &mine, text).await);
        let stored = ok(sim.get_repository_policy(&ctx, &mine).await);
        assert!(!stored.contains('\n'), "stored normalised: {stored}");
        let parsed: serde_json::Value = serde_json::from_str(&stored).expect("policy JSON");
        assert_eq!(parsed, serde_json::from_str::<serde_json::Value>(text).expect("test policy JSON"));
    }

    #[tokio::test]
    async fn another_registry_and_region_are_reached_only_when_named() {
        let sim = sim(fixture());
        let ctx = agent(&sim).await;
        let policy = ok(sim
            .get_repository_policy(&ctx, &repo(Some("999999999999"), Some("eu-west-1"), "shared"))
            .await);
        assert!(policy.contains("ecr:BatchGetImage"), "{policy}");
        let misses = [
            (repo(None, Some("eu-west-1"), "shared"), "123456789012"),
            (repo(Some("999999999999"), None, "shared"), "999999999999"),
            (repo(None, None, "nope"), "123456789012"),
        ];
        for (r, registry) in misses {
            let e = err(sim.get_repository_policy(&ctx, &r).await);
            assert_eq!(e.code, "RepositoryNotFoundException", "{r:?}");
            assert_eq!(
                e.message,
                format!(
                    "The repository with name '{}' does not exist in the registry with id '{registry}'",
                    r.name
                )
            );
        }
        assert_eq!(
            err(sim
                .set_repository_policy(&ctx, &repo(None, None, "nope"), r#"{"Statement": []}"#)
                .await)
            .code,
            "RepositoryNotFoundException"
        );
        assert_eq!(
            err(sim.describe_images(&ctx, &repo(None, None, "nope"), &[]).await).code,
            "RepositoryNotFoundException"
        );
    }

    #[tokio::test]
    async fn describe_images_finds_tags_or_lists_everything() {
        let sim = sim(fixture());
        let ctx = agent(&sim).await;
        let mine = repo(None, None, "my-app");
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = ok(sim.describe_images(&ctx, &mine, &[]).await);
        assert_eq!(all.len(), 3);
        assert!(
            all[2].digest.starts_with("sha256:") && all[2].digest.len() == 71,
            "derived digest: {}",
            all[2].digest
        );
        let found = ok(sim.describe_images(&ctx, &mine, &tags(&["v2.0.0", "v1.0.0", "stable"])).await);
        let digests: Vec<&str> = found.iter().map(|d| d.digest.as_str()).collect();
        assert_eq!(digests, ["sha256:bbb", "sha256:aaa"], "in the order asked, each image once");
        assert_eq!((found[1].pushed_at, found[1].size_bytes), (Some(1700000000), Some(1234)));
        let e = err(sim.describe_images(&ctx, &mine, &tags(&["v1.0.0", "v3.0.0"])).await);
        assert_eq!(e.code, "ImageNotFoundException");
        assert!(e.message.contains("imageTag:'v3.0.0'") && e.message.contains("'my-app'"), "{e}");
    }
}
