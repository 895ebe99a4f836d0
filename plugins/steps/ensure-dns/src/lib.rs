//! ensure_dns (create): the scope's DNS name, a CNAME (TTL 300) in its hosted zone
//! pointing at the entry point — the HTTP API's host, or the load balancer's DNS
//! name (the incumbent could point the record at itself). Upserted only when it
//! differs. No zone configured: no record, said in the log. The domain is an
//! output, and the scope's domain on the platform (`np scope patch`) when the
//! notification's scope does not carry it already.

use lambda_scope::networking as net;
use scope_step::prelude::*;
use scope_step::{platform, route53};

struct EnsureDns;

impl Step for EnsureDns {
    fn run() -> Result<Vec<Output>, StepError> {
        let visibility = lambda_scope::var_or("VISIBILITY", "public");
        let target = var("ENTRY_POINT_HOST").unwrap_or_default();
        if visibility == "event-driven" || target.is_empty() {
            log::info("the scope has no HTTP entry point: no DNS record");
            return Ok(vec![output("SCOPE_DOMAIN_NAME", "")]);
        }
        let Some(zone_id) = net::zone_id(&visibility) else {
            log::warn(&format!(
                "no hosted zone is configured (cloud-providers networking.hosted_public_zone_id / hosted_zone_id): no DNS record; the scope answers at {target}"
            ));
            return Ok(vec![output("SCOPE_DOMAIN_NAME", "")]);
        };
        let zone = route53::get_hosted_zone(&zone_id)?;
        // A custom domain is the scope's name, an alias (A) of its regional endpoint;
        // otherwise the scope's own name, a CNAME of the entry point.
        let custom = var("CUSTOM_DOMAIN").filter(|d| !d.is_empty());
        let target_zone = var("ENTRY_POINT_ZONE_ID").filter(|z| !z.is_empty());
        let domain = match &custom {
            Some(d) => d.clone(),
            None => net::domain(&zone.name)?,
        };
        let wanted = match (&custom, target_zone) {
            (Some(_), Some(target_zone)) => route53::RecordSet {
                name: format!("{domain}."),
                record_type: "A".into(),
                ttl: None,
                values: vec![],
                alias_target: Some(route53::AliasTarget {
                    hosted_zone_id: target_zone,
                    dns_name: target.clone(),
                }),
            },
            _ => route53::RecordSet {
                name: format!("{domain}."),
                record_type: "CNAME".into(),
                ttl: Some(300),
                values: vec![target.clone()],
                alias_target: None,
            },
        };
        let current = route53::list_resource_record_sets(&zone_id, &wanted.name, &wanted.record_type, 1)?;
        let alias_name = |r: &route53::RecordSet| r.alias_target.as_ref().map(|a| a.dns_name.trim_end_matches('.').to_owned());
        let same = current.first().is_some_and(|r| {
            r.name == wanted.name
                && r.record_type == wanted.record_type
                && r.values == wanted.values
                && r.ttl == wanted.ttl
                && alias_name(r) == alias_name(&wanted)
        });
        if same {
            log::info(&format!("{domain} → {target}: as it should be"));
        } else {
            route53::change_resource_record_sets(&zone_id, route53::ChangeAction::Upsert, &wanted)?;
            let how = if custom.is_some() { "alias" } else { "CNAME, TTL 300" };
            log::info(&format!("{domain} → {target} ({how})"));
        }
        // The platform shows the scope's domain; a failed patch fails the step, as
        // the incumbent's did, so the scope is never left pointing nowhere.
        let known = lambda_scope::Context::load()?.text("/scope/domain");
        if known.as_deref() != Some(domain.as_str()) {
            platform::patch_scope_domain(&domain)?;
            log::info(&format!("the platform's scope domain is now {domain}"));
        }
        Ok(vec![output("SCOPE_DOMAIN_NAME", domain)])
    }
}

scope_step::step!(
    EnsureDns,
    Manifest {
        name: "ensure-dns",
        version: "0.1.0",
        description: "Reconciles the scope's DNS record in its hosted zone",
        inputs: &[
            Input::optional("VISIBILITY"),
            Input::optional("ENTRY_POINT_HOST"),
            Input::optional("HOSTED_PUBLIC_ZONE_ID"),
            Input::optional("HOSTED_ZONE_ID"),
            Input::optional("SCOPE_DOMAIN"),
            Input::optional("NAMESPACE_SLUG"),
            Input::optional("APPLICATION_SLUG"),
            Input::optional("SCOPE_SLUG"),
            Input::optional("ACCOUNT_SLUG"),
            Input::optional("USE_ACCOUNT_SLUG"),
            Input::optional("CUSTOM_DOMAIN"),
            Input::optional("ENTRY_POINT_ZONE_ID"),
        ],
        outputs: &[OutputDecl::plain("SCOPE_DOMAIN_NAME")],
        capabilities: &[
            Capability::new("route53:GetHostedZone", "arn:aws:route53:::hostedzone/*"),
            Capability::new("route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/*"),
            Capability::new("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/*"),
            Capability::new("platform:PatchScope", "*"),
        ],
        ..Manifest::EMPTY
    }
);
