//! Route 53: a hosted zone and its record sets.
//!
//! Route 53 is a global service: its client signs for `us-east-1` whatever region the
//! call names (see `Clients::route53`).

use super::{reply, AwsCloud};
use crate::cloud::{CallCtx, ChangeAction, CloudResult, HostedZone, RecordSet};
use aws_sdk_route53::types::{AliasTarget, Change, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};

/// Ids come back as `/hostedzone/Z123` and `/change/C123`: the bare id.
fn bare_id<'a>(id: &'a str, kind: &str) -> &'a str {
    id.strip_prefix('/')
        .unwrap_or(id)
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(id)
}

/// The model's [`RecordSet`]: the records' values, or an alias record's target.
fn record_set_of(r: &ResourceRecordSet) -> RecordSet {
    RecordSet {
        name: r.name().to_string(),
        record_type: r.r#type().as_str().to_string(),
        ttl: r.ttl().and_then(|t| u32::try_from(t).ok()),
        values: r.resource_records().iter().map(|v| v.value().to_string()).collect(),
        alias_target: r.alias_target().map(|a| crate::cloud::AliasTarget {
            hosted_zone_id: a.hosted_zone_id().to_string(),
            dns_name: a.dns_name().to_string(),
        }),
    }
}

#[async_trait::async_trait]
impl crate::cloud::Route53Api for AwsCloud {
    async fn get_hosted_zone(&self, ctx: &CallCtx, zone_id: &str) -> CloudResult<HostedZone> {
        let api = self.ctx_api("route53", "GetHostedZone", ctx);
        let out = self
            .for_ctx(ctx)
            .route53()
            .get_hosted_zone()
            .id(zone_id)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(zone) = out.hosted_zone() else {
            return Err(api.client_error("GetHostedZone answered without a hosted zone".to_string()));
        };
        let value = HostedZone {
            id: bare_id(zone.id(), "hostedzone").to_string(),
            name: zone.name().to_string(),
        };
        Ok(reply(value, &out))
    }

    /// One page: the record sets from (`name`, `record_type`) on, at most `max_items`
    /// (an empty name or type, or 0, is not sent: the zone's start, the service's
    /// page size).
    async fn list_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        name: &str,
        record_type: &str,
        max_items: u32,
    ) -> CloudResult<Vec<RecordSet>> {
        let api = self.ctx_api("route53", "ListResourceRecordSets", ctx);
        let out = self
            .for_ctx(ctx)
            .route53()
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name((!name.is_empty()).then(|| name.to_string()))
            .set_start_record_type((!name.is_empty() && !record_type.is_empty()).then(|| RrType::from(record_type)))
            .set_max_items((max_items > 0).then(|| i32::try_from(max_items).unwrap_or(i32::MAX)))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let records = out.resource_record_sets().iter().map(record_set_of).collect();
        Ok(reply(records, &out))
    }

    /// One change of one record set (name, type, TTL, values); answers the change id
    /// without its `/change/` prefix.
    async fn change_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        action: ChangeAction,
        record: &RecordSet,
    ) -> CloudResult<String> {
        let api = self.ctx_api("route53", "ChangeResourceRecordSets", ctx);
        let invalid = |e: aws_sdk_route53::error::BuildError| api.client_error(format!("invalid record set change: {e}"));
        let records = record
            .values
            .iter()
            .map(|v| ResourceRecord::builder().value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let alias = match &record.alias_target {
            Some(a) => Some(
                AliasTarget::builder()
                    .hosted_zone_id(&a.hosted_zone_id)
                    .dns_name(&a.dns_name)
                    .evaluate_target_health(false)
                    .build()
                    .map_err(invalid)?,
            ),
            None => None,
        };
        let record_set = ResourceRecordSet::builder()
            .name(&record.name)
            .r#type(RrType::from(record.record_type.as_str()))
            .set_ttl(record.ttl.map(i64::from))
            .set_resource_records((!records.is_empty()).then_some(records))
            .set_alias_target(alias)
            .build()
            .map_err(invalid)?;
        let change = Change::builder()
            .action(match action {
                ChangeAction::Upsert => aws_sdk_route53::types::ChangeAction::Upsert,
                ChangeAction::Delete => aws_sdk_route53::types::ChangeAction::Delete,
            })
            .resource_record_set(record_set)
            .build()
            .map_err(invalid)?;
        let batch = ChangeBatch::builder().changes(change).build().map_err(invalid)?;
        let out = self
            .for_ctx(ctx)
            .route53()
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let id = out.change_info().map(|c| bare_id(c.id(), "change").to_string()).unwrap_or_default();
        Ok(reply(id, &out))
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn ids_lose_their_prefix() {
        assert_eq!(bare_id("/hostedzone/Z0441723226OZ66S5ZCNZ", "hostedzone"), "Z0441723226OZ66S5ZCNZ");
        assert_eq!(bare_id("hostedzone/Z1", "hostedzone"), "Z1");
        assert_eq!(bare_id("Z1", "hostedzone"), "Z1");
        assert_eq!(bare_id("/change/C2682N5HXP0BZ4", "change"), "C2682N5HXP0BZ4");
    }

    #[test]
    fn an_alias_record_answers_its_target() -> Result<(), aws_sdk_route53::error::BuildError> {
        let alias = ResourceRecordSet::builder()
            .name("api.example.com.")
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id("Z35SXDOTRQ7X7K")
                    .dns_name("np-alb-1.us-east-1.elb.amazonaws.com.")
                    .evaluate_target_health(false)
                    .build()?,
            )
            .build()?;
        assert_eq!(
            record_set_of(&alias),
            RecordSet {
                name: "api.example.com.".into(),
                record_type: "A".into(),
                ttl: None,
                values: vec![],
                alias_target: Some(crate::cloud::AliasTarget {
                    hosted_zone_id: "Z35SXDOTRQ7X7K".into(),
                    dns_name: "np-alb-1.us-east-1.elb.amazonaws.com.".into(),
                }),
            }
        );
        Ok(())
    }
}
