//! remove_networking (delete, first): the scope's DNS record, its HTTP API, its
//! listener rule and target group — each found as ensure_entry_point and
//! ensure_dns name it; whatever is already gone is success. The function's
//! permissions go with the function (remove_function).

use lambda_scope::lifecycle::is_absent;
use lambda_scope::networking as net;
use scope_step::prelude::*;
use scope_step::{apigateway, elb, route53};

struct RemoveNetworking;

fn dns(visibility: &str) -> Result<(), StepError> {
    let Some(zone_id) = net::zone_id(visibility) else {
        return Ok(());
    };
    let zone = match route53::get_hosted_zone(&zone_id) {
        Ok(z) => z,
        Err(e) if is_absent(&e) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let custom = var("API_GATEWAY_CUSTOM_DOMAIN").filter(|d| !d.is_empty());
    let (name, kind) = match &custom {
        Some(d) => (format!("{d}."), "A"),
        None => (format!("{}.", net::domain(&zone.name)?), "CNAME"),
    };
    let found = route53::list_resource_record_sets(&zone_id, &name, kind, 1)?;
    match found.into_iter().find(|r| r.name == name && r.record_type == kind) {
        Some(record) => {
            route53::change_resource_record_sets(&zone_id, route53::ChangeAction::Delete, &record)?;
            log::info(&format!("deleted the DNS record {name}"));
        }
        None => log::info(&format!("DNS record {name}: already gone")),
    }
    Ok(())
}

fn custom_domain() -> Result<(), StepError> {
    let Some(domain) = var("API_GATEWAY_CUSTOM_DOMAIN").filter(|d| !d.is_empty()) else {
        return Ok(());
    };
    match apigateway::delete_domain_name(&domain) {
        Ok(()) => log::info(&format!("deleted custom domain {domain}")),
        Err(e) if is_absent(&e) => log::info(&format!("custom domain {domain}: already gone")),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn api() -> Result<(), StepError> {
    let name = net::api_name()?;
    let scope_id = require_var("SCOPE_ID")?;
    let ours: Vec<apigateway::Api> = apigateway::get_apis()?
        .into_iter()
        .filter(|a| a.name == name && a.tags.iter().any(|(k, v)| k == "nullplatform:scope-id" && *v == scope_id))
        .collect();
    if ours.is_empty() {
        log::info(&format!("HTTP API {name}: already gone"));
    }
    for a in ours {
        match apigateway::delete_api(&a.api_id) {
            Ok(()) => log::info(&format!("deleted HTTP API {name} ({})", a.api_id)),
            Err(e) if is_absent(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn load_balancer() -> Result<(), StepError> {
    let name = net::target_group_name(
        &require_var("SCOPE_ID")?,
        &require_var("APPLICATION_SLUG")?,
        &require_var("SCOPE_SLUG")?,
    );
    let group = match elb::describe_target_groups(&[name.clone()]) {
        Ok(mut g) if !g.is_empty() => g.remove(0),
        Ok(_) => return Ok(()),
        Err(e) if is_absent(&e) => {
            log::info(&format!("target group {name}: already gone"));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let listener = var("PRIVATE_LISTENER_ARN")
        .filter(|l| !l.is_empty())
        .or_else(|| var("ALB_LISTENER_ARN").filter(|l| !l.is_empty()));
    if let Some(listener) = listener {
        for rule in elb::describe_rules(&listener)? {
            if rule.target_group_arns.contains(&group.arn) {
                elb::delete_rule(&rule.arn)?;
                log::info(&format!("deleted the listener rule at priority {}", rule.priority));
            }
        }
    }
    elb::delete_target_group(&group.arn)?;
    log::info(&format!("deleted target group {name}"));
    Ok(())
}

impl Step for RemoveNetworking {
    fn run() -> Result<Vec<Output>, StepError> {
        let visibility = lambda_scope::var_or("VISIBILITY", "public");
        if visibility == "event-driven" {
            log::info("the scope serves no HTTP: no networking to delete");
            return Ok(vec![]);
        }
        // Whatever the visibility is now, what an earlier one made goes too.
        dns(&visibility)?;
        custom_domain()?;
        api()?;
        load_balancer()?;
        Ok(vec![])
    }
}

scope_step::step!(
    RemoveNetworking,
    Manifest {
        name: "remove-networking",
        version: "0.1.0",
        description: "Deletes the scope's DNS record, HTTP API, load balancer rule and target group; absence is success",
        inputs: &[
            Input::required("SCOPE_ID"),
            Input::optional("VISIBILITY"),
            Input::optional("NAMESPACE_SLUG"),
            Input::optional("APPLICATION_SLUG"),
            Input::optional("SCOPE_SLUG"),
            Input::optional("ACCOUNT_SLUG"),
            Input::optional("USE_ACCOUNT_SLUG"),
            Input::optional("SCOPE_DOMAIN"),
            Input::optional("HOSTED_PUBLIC_ZONE_ID"),
            Input::optional("HOSTED_ZONE_ID"),
            Input::optional("PRIVATE_LISTENER_ARN"),
            Input::optional("ALB_LISTENER_ARN"),
            Input::optional("API_GATEWAY_CUSTOM_DOMAIN"),
        ],
        capabilities: &[
            Capability::new("route53:GetHostedZone", "arn:aws:route53:::hostedzone/*"),
            Capability::new("route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/*"),
            Capability::new("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/*"),
            Capability::new("apigateway:GET", "arn:aws:apigateway:*::/apis*"),
            Capability::new("apigateway:DELETE", "arn:aws:apigateway:*::/apis/*"),
            Capability::new("apigateway:DELETE", "arn:aws:apigateway:*::/domainnames/*"),
            Capability::new("elasticloadbalancing:DescribeTargetGroups", "*"),
            Capability::new("elasticloadbalancing:DescribeRules", "*"),
            Capability::new(
                "elasticloadbalancing:DeleteRule",
                "arn:aws:elasticloadbalancing:*:*:listener-rule/*"
            ),
            Capability::new(
                "elasticloadbalancing:DeleteTargetGroup",
                "arn:aws:elasticloadbalancing:*:*:targetgroup/*"
            ),
        ],
        ..Manifest::EMPTY
    }
);
