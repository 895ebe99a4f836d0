//! What the deployment and scope contexts both derive from the built context and
//! the scope's providers: the function's capabilities, its visibility, and the
//! provider configuration (VPC, cloud provider, scope configuration), each with
//! the precedence provider → variable the agent already had → default.

use crate::{config, text_of, var_or, Context};
use scope_step::prelude::*;
use scope_step::providers;
use serde_json::{json, Value};

/// Deep-merges `over` into `base`, collecting the keys two providers set differently.
fn merge(base: &mut Value, over: &Value, path: &str, collisions: &mut Vec<String>) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v, &here, collisions),
                    Some(existing) => {
                        if existing != v {
                            collisions.push(here);
                        }
                        *existing = v.clone();
                    }
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// The merged attributes of one provider category at the scope.
fn category(nrn: &str, name: &str, dims: &[(String, String)]) -> Value {
    let mut merged = json!({});
    let found = match providers::by_category(nrn, &[name.to_owned()], dims) {
        Ok(f) => f,
        Err(e) => {
            log::warn(&format!("could not read {name} providers: {}", e.explain()));
            return merged;
        }
    };
    let mut collisions = Vec::new();
    for p in found {
        match serde_json::from_str::<Value>(&p.attributes) {
            Ok(attrs) if attrs.is_object() => merge(&mut merged, &attrs, "", &mut collisions),
            _ => log::warn(&format!("provider {} ({name}) has malformed attributes; ignored", p.id)),
        }
    }
    for key in collisions {
        log::warn(&format!(
            "{name} providers set `{key}` more than once; the one closest to the scope wins"
        ));
    }
    merged
}

/// The scope's provider configuration, per category.
pub struct Providers {
    pub vpc: Value,
    pub cloud: Value,
    pub scope: Value,
}

impl Providers {
    /// Reads the three categories at the scope's NRN, filtered by its dimensions
    /// (none when the context has no NRN: said in the log).
    pub fn read(ctx: &Context, scope_nrn: &str) -> Providers {
        let dims: Vec<(String, String)> = match ctx.value("/scope/dimensions") {
            Some(Value::Object(m)) => m.iter().filter_map(|(k, v)| text_of(v).map(|v| (k.clone(), v))).collect(),
            _ => Vec::new(),
        };
        if scope_nrn.is_empty() {
            log::warn("the context has no .scope.nrn: provider configuration is skipped");
            return Providers {
                vpc: json!({}),
                cloud: json!({}),
                scope: json!({}),
            };
        }
        Providers {
            vpc: category(scope_nrn, "vpc", &dims),
            cloud: category(scope_nrn, "cloud-providers", &dims),
            scope: category(scope_nrn, "scope-configurations", &dims),
        }
    }

    /// The outputs every scope and deployment context declares from providers.
    pub fn outputs(&self) -> Vec<Output> {
        let (vpc, cloud, scope_cfg) = (&self.vpc, &self.cloud, &self.scope);
        vec![
            output("VPC_ID", keep(text(vpc, "/vpc/id"), "VPC_ID", "")),
            output("VPC_SUBNETS", list(vpc, "/vpc/subnets", "VPC_SUBNETS")),
            output("VPC_SECURITY_GROUPS", list(vpc, "/vpc/security_groups", "VPC_SECURITY_GROUPS")),
            output(
                "PUBLIC_LISTENER_ARN",
                keep(text(vpc, "/load_balancer/public/listener_arn"), "PUBLIC_LISTENER_ARN", ""),
            ),
            output(
                "PRIVATE_LISTENER_ARN",
                keep(text(vpc, "/load_balancer/private/listener_arn"), "PRIVATE_LISTENER_ARN", ""),
            ),
            output("AWS_ACCOUNT_ID", keep(text(cloud, "/account/id"), "AWS_ACCOUNT_ID", "")),
            output("AWS_REGION", keep(text(cloud, "/account/region"), "AWS_REGION", "us-east-1")),
            output(
                "HOSTED_PUBLIC_ZONE_ID",
                keep(text(cloud, "/networking/hosted_public_zone_id"), "HOSTED_PUBLIC_ZONE_ID", ""),
            ),
            output(
                "HOSTED_ZONE_ID",
                keep(text(cloud, "/networking/hosted_zone_id"), "HOSTED_ZONE_ID", ""),
            ),
            output(
                "STATE_BUCKET",
                keep(
                    text(scope_cfg, "/state/tofu_state_bucket").or_else(|| text(scope_cfg, "/provider/aws_state_bucket")),
                    "STATE_BUCKET",
                    "",
                ),
            ),
            output(
                "PLACEHOLDER_IMAGE_URI",
                text(scope_cfg, "/deployment/placeholder_image_uri")
                    .or_else(|| var("PLACEHOLDER_IMAGE_URI").filter(|v| !v.is_empty()))
                    .unwrap_or_else(|| var_or("PLACEHOLDER_IMAGE_URI_DEFAULT", "")),
            ),
            output(
                "NULL_AGENT_LAYER_ARN",
                keep(text(scope_cfg, "/agent/null_agent_layer_arn"), "NULL_AGENT_LAYER_ARN", ""),
            ),
        ]
    }
}

/// A provider value at a JSON pointer, as text.
pub fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(text_of)
}

/// Provider value, else the variable the agent already had, else the default.
pub fn keep(provider: Option<String>, var_name: &str, default: &str) -> String {
    provider
        .or_else(|| var(var_name).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| default.to_owned())
}

fn list(v: &Value, pointer: &str, var_name: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::Array(a)) => Value::Array(a.clone()).to_string(),
        _ => var(var_name).filter(|v| !v.is_empty()).unwrap_or_else(|| "[]".into()),
    }
}

/// `event-driven` when the scope serves no HTTP, else its visibility (`public` by default).
pub fn visibility(ctx: &Context) -> String {
    let http = ctx
        .value("/scope/capabilities/http_enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if http {
        ctx.text("/scope/capabilities/visibility").unwrap_or_else(|| "public".into())
    } else {
        "event-driven".into()
    }
}

/// The function settings the scope's capabilities give (capability → variable →
/// default), as the outputs both contexts declare.
pub fn capability_outputs(ctx: &Context) -> Vec<Output> {
    let mut out = Vec::new();
    for (name, key, default) in [
        ("LAMBDA_MEMORY", "memory", "256"),
        ("LAMBDA_TIMEOUT", "timeout", "30"),
        ("LAMBDA_ARCHITECTURE", "architecture", "arm64"),
        ("LAMBDA_EPHEMERAL_STORAGE", "ephemeral_storage", "512"),
        ("LAMBDA_RUNTIME", "runtime", "nodejs22.x"),
        ("LAMBDA_HANDLER", "handler", "index.handler"),
        ("VPC_ENABLED", "vpc_enabled", "false"),
        ("LAMBDA_RESERVED_CONCURRENCY_TYPE", "reserved_concurrency/type", "unreserved"),
        ("LAMBDA_RESERVED_CONCURRENCY_VALUE", "reserved_concurrency/value", ""),
        (
            "LAMBDA_PROVISIONED_CONCURRENCY_TYPE",
            "provisioned_concurrency/type",
            "unprovisioned",
        ),
        ("LAMBDA_PROVISIONED_CONCURRENCY_VALUE", "provisioned_concurrency/value", ""),
        ("WARMUP_ALIAS_NAME", "provisioned_concurrency/warmup_alias", ""),
    ] {
        out.push(output(name, config(ctx, &format!("/scope/capabilities/{key}"), name, default)));
    }
    let layers = match ctx.value("/scope/capabilities/layers") {
        Some(Value::Array(a)) => Value::Array(a.clone()).to_string(),
        _ => var_or("LAMBDA_LAYERS", "[]"),
    };
    out.push(output("LAMBDA_LAYERS", layers));
    out
}

/// The names of [`capability_outputs`] and [`Providers::outputs`], for manifests.
pub const CAPABILITY_OUTPUTS: [&str; 13] = [
    "LAMBDA_MEMORY",
    "LAMBDA_TIMEOUT",
    "LAMBDA_ARCHITECTURE",
    "LAMBDA_EPHEMERAL_STORAGE",
    "LAMBDA_RUNTIME",
    "LAMBDA_HANDLER",
    "VPC_ENABLED",
    "LAMBDA_RESERVED_CONCURRENCY_TYPE",
    "LAMBDA_RESERVED_CONCURRENCY_VALUE",
    "LAMBDA_PROVISIONED_CONCURRENCY_TYPE",
    "LAMBDA_PROVISIONED_CONCURRENCY_VALUE",
    "WARMUP_ALIAS_NAME",
    "LAMBDA_LAYERS",
];
