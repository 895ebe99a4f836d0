//! `route53`: a hosted zone's records, authorized on the zone
//! (`arn:aws:route53:::hostedzone/<id>`).

use super::view::CapsCtx;
use super::Answer;
use super::{need, Op, StepHost};
use crate::bindings::route53 as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

const fn op(operation: &'static str) -> Op {
    Op {
        service: "route53",
        operation,
    }
}

impl StepHost {
    /// A zone id (with or without `/hostedzone/`) and its ARN.
    fn zone_resource(&mut self, o: Op, given: &str) -> Result<(String, String), CallError> {
        let id = given.trim_start_matches("/hostedzone/");
        if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(self.invalid(o, given, format!("`{given}` is not a hosted zone id")));
        }
        Ok((id.to_owned(), format!("arn:aws:route53:::hostedzone/{id}")))
    }
}

fn to_model(r: wit::RecordSet) -> m::RecordSet {
    m::RecordSet {
        name: r.name,
        record_type: r.record_type,
        ttl: r.ttl,
        values: r.values,
        alias_target: r.alias_target.map(|a| m::AliasTarget {
            hosted_zone_id: a.hosted_zone_id,
            dns_name: a.dns_name,
        }),
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn get_hosted_zone(&mut self, zone_id: String) -> Answer<wit::HostedZone> {
        const OP: Op = op("GetHostedZone");
        let h = &mut *self.host;
        let (id, resource) = try_call!(h.zone_resource(OP, &zone_id));
        let zone = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.route53.get_hosted_zone(&ctx, &id).await
            })
            .await;
        Ok(zone.map(|z| wit::HostedZone { id: z.id, name: z.name }))
    }

    async fn list_resource_record_sets(
        &mut self,
        zone_id: String,
        name: String,
        record_type: String,
        max_items: u32,
    ) -> Answer<Vec<wit::RecordSet>> {
        const OP: Op = op("ListResourceRecordSets");
        let h = &mut *self.host;
        let (id, resource) = try_call!(h.zone_resource(OP, &zone_id));
        let found = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.route53
                    .list_resource_record_sets(&ctx, &id, &name, &record_type, max_items.clamp(1, 300))
                    .await
            })
            .await;
        Ok(found.map(|v| {
            v.into_iter()
                .map(|r| wit::RecordSet {
                    name: r.name,
                    record_type: r.record_type,
                    ttl: r.ttl,
                    values: r.values,
                    alias_target: r.alias_target.map(|a| wit::AliasTarget {
                        hosted_zone_id: a.hosted_zone_id,
                        dns_name: a.dns_name,
                    }),
                })
                .collect()
        }))
    }

    async fn change_resource_record_sets(&mut self, zone_id: String, action: wit::ChangeAction, entry: wit::RecordSet) -> Answer<String> {
        const OP: Op = op("ChangeResourceRecordSets");
        let h = &mut *self.host;
        let (id, resource) = try_call!(h.zone_resource(OP, &zone_id));
        if entry.name.is_empty() || (entry.values.is_empty() != entry.alias_target.is_some()) {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                "a record needs a name and either values or an alias target".into(),
            )));
        }
        let action = match action {
            wit::ChangeAction::Upsert => m::ChangeAction::Upsert,
            wit::ChangeAction::Delete => m::ChangeAction::Delete,
        };
        let record = to_model(entry);
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.route53.change_resource_record_sets(&ctx, &id, action, &record).await
        })
        .await)
    }
}
