//! `tagging`: finding resources by tag. GetResources has no resource-level
//! permissions in AWS, so the grant is checked on `*`.

use super::view::CapsCtx;
use super::{need, Op};
use crate::bindings::tagging as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

impl wit::Host for CapsCtx<'_> {
    async fn get_resources(
        &mut self,
        resource_types: Vec<String>,
        tag_filters: Vec<wit::TagFilter>,
    ) -> wasmtime::Result<Result<Vec<wit::TaggedResource>, CallError>> {
        const OP: Op = Op {
            service: "tag",
            operation: "GetResources",
        };
        let h = &mut *self.host;
        if let Some(f) = tag_filters.iter().find(|f| f.key.is_empty()) {
            return Ok(Err(h.invalid(
                OP,
                "*",
                format!("a tag filter has an empty key (values {:?})", f.values),
            )));
        }
        let filters: Vec<m::TagFilter> = tag_filters
            .into_iter()
            .map(|f| m::TagFilter {
                key: f.key,
                values: f.values,
            })
            .collect();
        let found = h
            .checked(OP, &[need(OP, "*")], |c, ctx| async move {
                c.tagging.get_resources(&ctx, &resource_types, &filters).await
            })
            .await;
        Ok(found.map(|v| v.into_iter().map(|r| wit::TaggedResource { arn: r.arn, tags: r.tags }).collect()))
    }
}
