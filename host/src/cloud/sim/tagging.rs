//! Resource Groups Tagging API in the sim: GetResources over Lambda functions,
//! secrets and ECR repositories of the call's region.

use super::errors::Service;
use super::errors::{Api, Fault};
use super::secrets::secret_arn;
use super::state::State;
use super::SimCloud;
use crate::cloud::{CallCtx, TagFilter, TaggedResource};
use crate::cloud::{CloudResult, TaggingApi};
use std::collections::BTreeMap;

/// Whether a resource of `service:kind` is wanted by the type filters
/// (`lambda` or `lambda:function`); no filters: every type.
fn type_wanted(resource_types: &[String], service: &str, kind: &str) -> bool {
    resource_types.is_empty()
        || resource_types.iter().any(|t| match t.split_once(':') {
            Some((s, k)) => s == service && k == kind,
            None => t == service,
        })
}

/// Every filter must match: the key is present, and its value is among the filter's
/// values (any value when the filter lists none).
fn tags_match(tags: &BTreeMap<String, String>, filters: &[TagFilter]) -> bool {
    filters
        .iter()
        .all(|f| tags.get(&f.key).is_some_and(|v| f.values.is_empty() || f.values.contains(v)))
}

impl State {
    /// The tagged resources of the call's region matching the type filters and every
    /// tag filter, sorted by ARN. Lambda functions and secrets are the sim account's,
    /// repositories the caller's registry's.
    pub(super) fn tagging_get_resources(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        resource_types: &[String],
        filters: &[TagFilter],
    ) -> Result<Vec<TaggedResource>, Fault> {
        self.authorize(ctx, api, "*")?;
        let region = ctx.region.as_str();
        let mut found: Vec<(String, &BTreeMap<String, String>)> = Vec::new();
        if type_wanted(resource_types, "lambda", "function") {
            found.extend(
                self.functions
                    .values()
                    .filter(|f| f.region == region)
                    .map(|f| (f.arn.clone(), &f.tags)),
            );
        }
        if type_wanted(resource_types, "secretsmanager", "secret") {
            found.extend(
                self.secrets
                    .values()
                    .filter(|s| s.region == region)
                    .map(|s| (secret_arn(&s.region, &self.account_id, &s.name), &s.tags)),
            );
        }
        if type_wanted(resource_types, "ecr", "repository") {
            found.extend(
                self.repositories
                    .values()
                    .filter(|r| r.region == region && r.registry_id == ctx.identity.account)
                    .map(|r| (r.arn(), &r.tags)),
            );
        }
        // The API lists only resources that carry tags.
        let mut resources: Vec<TaggedResource> = found
            .into_iter()
            .filter(|(_, tags)| !tags.is_empty() && tags_match(tags, filters))
            .map(|(arn, tags)| TaggedResource {
                arn,
                tags: tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            })
            .collect();
        resources.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(resources)
    }
}

// The service as the simulated cloud serves it: each call runs on the state
// under the cloud's lock (see `SimCloud::call`).

#[async_trait::async_trait]
impl TaggingApi for SimCloud {
    async fn get_resources(&self, ctx: &CallCtx, resource_types: &[String], filters: &[TagFilter]) -> CloudResult<Vec<TaggedResource>> {
        self.call(Api::new(Service::Tagging, "GetResources"), |st, api| {
            st.tagging_get_resources(ctx, api, resource_types, filters)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, ok, sim};
    use super::*;
    #[allow(unused_imports)]
    use crate::cloud::{CloudBase, EcrApi, IamApi, LambdaApi, SecretsApi, StsApi, TaggingApi};
    use serde_json::json;

    fn fixture() -> serde_json::Value {
        json!({
            "lambda": {"functions": [
                {"name": "b-11", "image_uri": "i", "tags": {"nullplatform:scope-id": "11", "nullplatform:application": "app"}},
                {"name": "a-12", "image_uri": "i", "tags": {"nullplatform:scope-id": "12", "nullplatform:application": "app"}},
                {"name": "untagged", "image_uri": "i"},
                {"name": "elsewhere", "region": "eu-west-1", "image_uri": "i", "tags": {"nullplatform:scope-id": "11"}}]},
            "secrets": [{"name": "nullplatform/11/d/parameters", "value": "{}", "tags": {"nullplatform:scope-id": "11"}}],
            "ecr": {"repositories": [
                {"name": "app", "tags": {"nullplatform:application": "app"}},
                {"name": "theirs", "registry_id": "999999999999", "tags": {"nullplatform:application": "app"}}]}
        })
    }

    fn filter(key: &str, values: &[&str]) -> TagFilter {
        TagFilter {
            key: key.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[tokio::test]
    async fn get_resources_applies_type_and_tag_filters() {
        let sim = sim(fixture());
        let ctx = agent(&sim).await;
        let lambda = |name: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
        let secret = secret_arn("us-east-1", "123456789012", "nullplatform/11/d/parameters");
        let repo = "arn:aws:ecr:us-east-1:123456789012:repository/app".to_string();
        let types = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases: Vec<(Vec<String>, Vec<TagFilter>, Vec<String>)> = vec![
            (
                types(&[]),
                vec![],
                vec![repo.clone(), lambda("a-12"), lambda("b-11"), secret.clone()],
            ),
            (
                types(&[]),
                vec![filter("nullplatform:scope-id", &["11"])],
                vec![lambda("b-11"), secret.clone()],
            ),
            (
                types(&["lambda"]),
                vec![filter("nullplatform:scope-id", &["11"])],
                vec![lambda("b-11")],
            ),
            (
                types(&["lambda:function"]),
                vec![filter("nullplatform:scope-id", &[])],
                vec![lambda("a-12"), lambda("b-11")],
            ),
            (
                types(&["lambda"]),
                vec![filter("nullplatform:scope-id", &["11", "12"])],
                vec![lambda("a-12"), lambda("b-11")],
            ),
            (
                types(&[]),
                vec![
                    filter("nullplatform:application", &["app"]),
                    filter("nullplatform:scope-id", &["12"]),
                ],
                vec![lambda("a-12")],
            ),
            (types(&["secretsmanager"]), vec![], vec![secret.clone()]),
            (
                types(&["secretsmanager:secret", "ecr:repository"]),
                vec![],
                vec![repo.clone(), secret.clone()],
            ),
            (types(&["lambda:layer", "s3"]), vec![], vec![]),
            (types(&[]), vec![filter("nullplatform:scope-id", &["13"])], vec![]),
            (types(&[]), vec![filter("missing", &[])], vec![]),
        ];
        for (resource_types, filters, want) in cases {
            let got = ok(sim.get_resources(&ctx, &resource_types, &filters).await);
            let arns: Vec<String> = got.iter().map(|r| r.arn.clone()).collect();
            assert_eq!(arns, want, "types {resource_types:?} filters {filters:?}");
        }
        let one = ok(sim
            .get_resources(&ctx, &types(&["lambda"]), &[filter("nullplatform:scope-id", &["12"])])
            .await);
        assert_eq!(
            one[0].tags,
            [
                ("nullplatform:application".to_string(), "app".to_string()),
                ("nullplatform:scope-id".to_string(), "12".to_string())
            ]
        );
    }
}
