//! ensure_entry_point (create): how HTTP reaches the scope's main alias, by the
//! scope's visibility. `public`: an API Gateway HTTP API named
//! `<namespace>-<application>-<scope>` (found by that name and the scope-id tag),
//! with CORS open, stage `main` (auto-deploy, throttled), an AWS_PROXY integration
//! of the main alias, the `$default` route, and the alias's permission for API
//! Gateway. `private`: a lambda target group, the alias's permission for the load
//! balancer, the alias registered, and a host-header rule on the private listener
//! at the lowest free priority (the incumbent gave every scope priority 100), within
//! the listener's rule capacity. `event-driven`: nothing. Each part is created only
//! when absent.

use lambda_scope::lifecycle::{self, is_absent};
use lambda_scope::networking::{self as net, ALB_PERMISSION_SID, API_PERMISSION_SID};
use scope_step::prelude::*;
use scope_step::{apigateway, elb, lambda};
use serde_json::Value;

struct EnsureEntryPoint;

/// Every output, empty when the visibility makes none.
const ENTRY_POINT_OUTPUTS: [&str; 7] = [
    "API_ID",
    "TARGET_GROUP_ARN",
    "ALB_RULE_ARN",
    "ALB_RULE_PRIORITY",
    "ENTRY_POINT_HOST",
    "ENTRY_POINT_ZONE_ID",
    "CUSTOM_DOMAIN",
];

/// Whether the alias's policy has `sid` with exactly `source` as its source.
fn has_permission(function: &str, alias: &str, sid: &str, source: &str) -> Result<Option<bool>, StepError> {
    let text = match lambda::get_policy(function, Some(alias)) {
        Ok(t) => t,
        Err(e) if is_absent(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let policy: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let statement = policy["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["Sid"] == sid).cloned());
    Ok(statement.map(|s| s.to_string().contains(source)))
}

/// Lets `principal` invoke the main alias from `source`, replacing a stale grant.
fn ensure_permission(function: &str, alias: &str, sid: &str, principal: &str, source: &str) -> Result<(), StepError> {
    match has_permission(function, alias, sid, source)? {
        Some(true) => return Ok(()),
        Some(false) => {
            lambda::remove_permission(function, Some(alias), sid)?;
            log::info(&format!("{function}:{alias}: permission {sid} named another source; replaced"));
        }
        None => {}
    }
    lambda::add_permission(function, Some(alias), sid, "lambda:InvokeFunction", principal, Some(source))?;
    log::info(&format!("{function}:{alias}: {principal} may invoke it ({sid})"));
    Ok(())
}

fn public(function: &str, alias: &str, alias_arn: &str, region: &str, account: &str) -> Result<Vec<Output>, StepError> {
    let name = net::api_name()?;
    let scope_id = require_var("SCOPE_ID")?;
    let tags = lifecycle::tags(&var("RESOURCE_TAGS").unwrap_or_default(), &[("ManagedBy", "custom-scope-role")])?;
    let ours = |a: &apigateway::Api| a.name == name && a.tags.iter().any(|(k, v)| k == "nullplatform:scope-id" && *v == scope_id);
    let api = match apigateway::get_apis()?.into_iter().find(ours) {
        Some(api) => api,
        None => {
            let cors = apigateway::Cors {
                allow_origins: vec!["*".into()],
                allow_methods: vec!["*".into()],
                allow_headers: vec!["*".into()],
                max_age: 86_400,
            };
            let api = apigateway::create_api(&name, Some(&cors), &tags)?;
            log::info(&format!("created HTTP API {name} ({})", api.api_id));
            api
        }
    };
    if !apigateway::get_stages(&api.api_id)?.iter().any(|s| s.stage_name == "main") {
        apigateway::create_stage(&api.api_id, "main", true, 10_000.0, 5_000)?;
        log::info("created stage main");
    }
    let integration = match apigateway::get_integrations(&api.api_id)?
        .into_iter()
        .find(|i| i.integration_uri == alias_arn)
    {
        Some(i) => i,
        None => {
            let i = apigateway::create_integration(&api.api_id, alias_arn, "2.0")?;
            log::info(&format!("created the integration of {alias_arn}"));
            i
        }
    };
    let target = format!("integrations/{}", integration.integration_id);
    if !apigateway::get_routes(&api.api_id)?.iter().any(|r| r.route_key == "$default") {
        apigateway::create_route(&api.api_id, "$default", &target)?;
        log::info("created route $default");
    }
    let source = format!("arn:aws:execute-api:{region}:{account}:{}/*/*", api.api_id);
    ensure_permission(function, alias, API_PERMISSION_SID, "apigateway.amazonaws.com", &source)?;
    let (host, zone, domain) = match var("API_GATEWAY_CUSTOM_DOMAIN").filter(|d| !d.is_empty()) {
        Some(domain) => {
            let d = custom_domain(&domain, &api.api_id, &tags)?;
            (d.target_domain_name, d.target_hosted_zone_id, domain)
        }
        None => (
            api.api_endpoint.trim_start_matches("https://").to_owned(),
            String::new(),
            String::new(),
        ),
    };
    Ok(vec![
        output("API_ID", api.api_id),
        output("TARGET_GROUP_ARN", ""),
        output("ALB_RULE_ARN", ""),
        output("ALB_RULE_PRIORITY", ""),
        output("ENTRY_POINT_HOST", host),
        output("ENTRY_POINT_ZONE_ID", zone),
        output("CUSTOM_DOMAIN", domain),
    ])
}

/// The API's custom domain (API_GATEWAY_CUSTOM_DOMAIN, with the ACM certificate
/// API_GATEWAY_CERTIFICATE_ARN): regional, TLS 1.2, serving the API's `main` stage.
fn custom_domain(domain: &str, api_id: &str, tags: &[(String, String)]) -> Result<apigateway::DomainName, StepError> {
    let found = match apigateway::get_domain_name(domain) {
        Ok(d) => d,
        Err(e) if is_absent(&e) => {
            let certificate = var("API_GATEWAY_CERTIFICATE_ARN").filter(|c| !c.is_empty()).ok_or_else(|| {
                StepError::InvalidInput(format!(
                    "API_GATEWAY_CUSTOM_DOMAIN is {domain}, but API_GATEWAY_CERTIFICATE_ARN (the ACM certificate of that domain, in the API's region) is not set"
                ))
            })?;
            let d = apigateway::create_domain_name(domain, &certificate, tags)?;
            log::info(&format!("created custom domain {domain}"));
            d
        }
        Err(e) => return Err(e.into()),
    };
    if !apigateway::get_api_mappings(domain)?.iter().any(|m| m.api_id == api_id) {
        apigateway::create_api_mapping(domain, api_id, "main")?;
        log::info(&format!("{domain} serves the API's main stage"));
    }
    Ok(found)
}

fn private(function: &str, alias: &str, alias_arn: &str) -> Result<Vec<Output>, StepError> {
    let listener = var("PRIVATE_LISTENER_ARN")
        .filter(|l| !l.is_empty())
        .or_else(|| var("ALB_LISTENER_ARN").filter(|l| !l.is_empty()))
        .ok_or_else(|| {
            StepError::InvalidInput(
                "a private scope needs the load balancer's listener: configure the vpc provider (load_balancer.private.listener_arn) or ALB_LISTENER_ARN".into(),
            )
        })?;
    let scope_id = require_var("SCOPE_ID")?;
    let app = require_var("APPLICATION_SLUG")?;
    let scope = require_var("SCOPE_SLUG")?;
    let name = net::target_group_name(&scope_id, &app, &scope);
    let tags = lifecycle::tags(&var("RESOURCE_TAGS").unwrap_or_default(), &[("ManagedBy", "custom-scope-role")])?;
    let group = match elb::describe_target_groups(&[name.clone()]) {
        Ok(mut found) if !found.is_empty() => found.remove(0),
        Ok(_) => return Err(StepError::Failed(format!("DescribeTargetGroups answered nothing for {name}"))),
        Err(e) if is_absent(&e) => {
            let check = elb::HealthCheck {
                path: lambda_scope::var_or("HEALTH_CHECK_PATH", "/health"),
                interval_seconds: 35,
                timeout_seconds: 30,
                healthy_threshold: 2,
                unhealthy_threshold: 2,
                matcher: "200-299".into(),
            };
            let g = elb::create_target_group(&name, &check, &tags)?;
            log::info(&format!("created target group {name}"));
            g
        }
        Err(e) => return Err(e.into()),
    };
    ensure_permission(
        function,
        alias,
        ALB_PERMISSION_SID,
        "elasticloadbalancing.amazonaws.com",
        &group.arn,
    )?;
    if !elb::describe_targets(&group.arn)?.iter().any(|t| t == alias_arn) {
        elb::register_target(&group.arn, alias_arn)?;
        log::info(&format!("registered {alias_arn} in {name}"));
    }

    let host = var("SCOPE_DOMAIN")
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| format!("{app}-{scope}.internal"));
    let rules = elb::describe_rules(&listener)?;
    let existing = rules.iter().find(|r| r.target_group_arns.contains(&group.arn));
    let (rule_arn, priority) = match existing {
        Some(r) => (r.arn.clone(), r.priority.clone()),
        None => {
            let used: Vec<u32> = rules.iter().filter_map(|r| r.priority.parse().ok()).collect();
            let capacity = lambda_scope::number_var("ALB_LISTENER_RULE_CAPACITY", 100)? as usize;
            let wanted = var("ALB_RULE_PRIORITY")
                .and_then(|p| p.parse::<u32>().ok())
                .filter(|p| !used.contains(p));
            let priority = match wanted.or_else(|| net::free_priority(&used, capacity)) {
                Some(p) if used.len() < capacity => p,
                _ => {
                    return Err(StepError::Failed(format!(
                        "listener {listener} has {} rules, its capacity (ALB_LISTENER_RULE_CAPACITY, networking.alb_listener_rule_capacity: {capacity}): there is no free priority for {host}; raise the capacity or use another listener",
                        used.len()
                    )))
                }
            };
            let rule = elb::create_rule(&listener, priority, &[host.clone()], &group.arn, &tags)?;
            log::info(&format!("created rule {host} → {name} at priority {priority}"));
            (rule.arn, priority.to_string())
        }
    };
    let dns = elb::describe_listener(&listener)?.dns_name;
    Ok(vec![
        output("API_ID", ""),
        output("TARGET_GROUP_ARN", group.arn),
        output("ALB_RULE_ARN", rule_arn),
        output("ALB_RULE_PRIORITY", priority),
        output("ENTRY_POINT_HOST", dns),
    ])
}

impl Step for EnsureEntryPoint {
    fn run() -> Result<Vec<Output>, StepError> {
        let visibility = lambda_scope::var_or("VISIBILITY", "public");
        if visibility == "event-driven" {
            log::info("the scope serves no HTTP (http_enabled is false): no entry point");
            return Ok(ENTRY_POINT_OUTPUTS.into_iter().map(|name| output(name, "")).collect());
        }
        let function = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let region = lambda_scope::var_or("AWS_REGION", "us-east-1");
        let account = net::account()?;
        let alias_arn = net::alias_arn(&region, &account, &function, &alias);
        match visibility.as_str() {
            "public" => public(&function, &alias, &alias_arn, &region, &account),
            "private" | "internal" => {
                let mut out = private(&function, &alias, &alias_arn)?;
                out.extend([output("ENTRY_POINT_ZONE_ID", ""), output("CUSTOM_DOMAIN", "")]);
                Ok(out)
            }
            other => Err(StepError::InvalidInput(format!(
                "visibility `{other}` is none of public, private or event-driven (capability visibility, http_enabled)"
            ))),
        }
    }
}

scope_step::step!(
    EnsureEntryPoint,
    Manifest {
        name: "ensure-entry-point",
        version: "0.1.0",
        description: "Reconciles how HTTP reaches the function: an API Gateway HTTP API (public) or a load balancer rule (private)",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::required("SCOPE_ID"),
            Input::optional("VISIBILITY"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("AWS_REGION"),
            Input::optional("AWS_ACCOUNT_ID"),
            Input::optional("NAMESPACE_SLUG"),
            Input::optional("APPLICATION_SLUG"),
            Input::optional("SCOPE_SLUG"),
            Input::optional("RESOURCE_TAGS"),
            Input::optional("PRIVATE_LISTENER_ARN"),
            Input::optional("ALB_LISTENER_ARN"),
            Input::optional("SCOPE_DOMAIN"),
            Input::optional("ALB_RULE_PRIORITY"),
            Input::optional("ALB_LISTENER_RULE_CAPACITY"),
            Input::optional("HEALTH_CHECK_PATH"),
            Input::optional("API_GATEWAY_CUSTOM_DOMAIN"),
            Input::optional("API_GATEWAY_CERTIFICATE_ARN"),
        ],
        outputs: &[
            OutputDecl::plain("API_ID"),
            OutputDecl::plain("TARGET_GROUP_ARN"),
            OutputDecl::plain("ALB_RULE_ARN"),
            OutputDecl::plain("ALB_RULE_PRIORITY"),
            OutputDecl::plain("ENTRY_POINT_HOST"),
            OutputDecl::plain("ENTRY_POINT_ZONE_ID"),
            OutputDecl::plain("CUSTOM_DOMAIN"),
        ],
        capabilities: &[
            Capability::new("apigateway:GET", "arn:aws:apigateway:*::/apis*"),
            Capability::new("apigateway:POST", "arn:aws:apigateway:*::/apis*"),
            Capability::new("apigateway:POST", "arn:aws:apigateway:*::/tags/*"),
            Capability::new("apigateway:GET", "arn:aws:apigateway:*::/domainnames*"),
            Capability::new("apigateway:POST", "arn:aws:apigateway:*::/domainnames*"),
            Capability::new("lambda:GetPolicy", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:AddPermission", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("lambda:RemovePermission", lambda_scope::FUNCTION_QUALIFIED),
            Capability::new("elasticloadbalancing:DescribeTargetGroups", "*"),
            Capability::new("elasticloadbalancing:DescribeRules", "*"),
            Capability::new("elasticloadbalancing:DescribeListeners", "*"),
            Capability::new("elasticloadbalancing:DescribeTargetHealth", "*"),
            Capability::new("elasticloadbalancing:DescribeLoadBalancers", "*"),
            Capability::new(
                "elasticloadbalancing:CreateTargetGroup",
                "arn:aws:elasticloadbalancing:*:*:targetgroup/*"
            ),
            Capability::new("elasticloadbalancing:AddTags", "arn:aws:elasticloadbalancing:*:*:*"),
            Capability::new(
                "elasticloadbalancing:RegisterTargets",
                "arn:aws:elasticloadbalancing:*:*:targetgroup/*"
            ),
            Capability::new("elasticloadbalancing:CreateRule", "arn:aws:elasticloadbalancing:*:*:listener/*"),
        ],
        ..Manifest::EMPTY
    }
);
