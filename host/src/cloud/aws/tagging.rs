//! Resource Groups Tagging API: GetResources over every page.

use super::AwsCloud;
use crate::cloud::{CallCtx, CloudResult, Reply, TagFilter, TaggedResource};
use aws_sdk_resourcegroupstagging::types::TagFilter as SdkTagFilter;

#[async_trait::async_trait]
impl crate::cloud::TaggingApi for AwsCloud {
    /// The tagged resources of the call's region matching the type filters and every
    /// tag filter, sorted by ARN, tags sorted by key. The request id is the first page's.
    async fn get_resources(&self, ctx: &CallCtx, resource_types: &[String], filters: &[TagFilter]) -> CloudResult<Vec<TaggedResource>> {
        let api = self.ctx_api("tag", "GetResources", ctx);
        let clients = self.for_ctx(ctx);
        let types = (!resource_types.is_empty()).then(|| resource_types.to_vec());
        let tag_filters: Option<Vec<SdkTagFilter>> = (!filters.is_empty()).then(|| {
            filters
                .iter()
                .map(|f| {
                    SdkTagFilter::builder()
                        .key(&f.key)
                        .set_values((!f.values.is_empty()).then(|| f.values.clone()))
                        .build()
                })
                .collect()
        });
        let mut resources = Vec::new();
        let mut request_id = None;
        let mut token: Option<String> = None;
        loop {
            let out = clients
                .tagging()
                .get_resources()
                .set_resource_type_filters(types.clone())
                .set_tag_filters(tag_filters.clone())
                .set_resources_per_page(self.page_size)
                .set_pagination_token(token.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            resources.extend(out.resource_tag_mapping_list().iter().map(|m| {
                let mut tags: Vec<(String, String)> = m.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
                tags.sort();
                TaggedResource {
                    arn: m.resource_arn().unwrap_or_default().to_string(),
                    tags,
                }
            }));
            match out.pagination_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        resources.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(Reply {
            value: resources,
            request_id,
        })
    }
}
