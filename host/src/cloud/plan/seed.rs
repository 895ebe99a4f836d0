//! Before the plan first changes a resource, it reads that resource whole from the
//! real cloud, so that the overlay changes what is there (the next version number
//! after the real ones, the alias as it points now, the role's policies).
//!
//! Reads of functions, aliases and repositories go through the recorder, which
//! learns them; the rest is turned into a fixture snippet here. A read the session
//! may not make (the step's grant lacks it) or that fails is skipped: the overlay
//! then holds only what the run itself read.

use super::keys;
use crate::cloud::*;
use serde_json::{json, Map, Value};

/// What to read before the first change to it.
#[derive(Clone, Debug)]
pub(super) enum Seed {
    Function(String),
    Alias(String, String),
    /// A function's provisioned concurrency on a qualifier.
    Provisioned(String, String),
    Repository(RepositoryRef),
    Secret(String),
    Role(String),
    LogGroup(String),
    /// A hosted zone, and the record set a change names.
    Zone(String, Option<(String, String)>),
    Apis,
    Domain(String),
    Listener(String),
    TargetGroup(String),
}

impl Seed {
    /// What the seed reads, once per plan.
    pub(super) fn id(&self) -> String {
        format!("{self:?}")
    }
}

fn pairs(tags: &[(String, String)]) -> Map<String, Value> {
    tags.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()
}

/// Reads `seed` from `real` as `ctx`; the snippet of what the recorder does not
/// learn (`null` when there is none).
pub(super) async fn read(real: &Cloud, ctx: &CallCtx, seed: &Seed) -> Value {
    let region = ctx.region.clone();
    match seed {
        Seed::Function(name) => {
            // Only of a function that exists: an emulator may list the versions of
            // one that does not, which would make it seem to. Its resource policy is
            // not read here: AWS keeps one per qualifier where the simulated copy
            // keeps one per function, so the copy holds the policy the run itself
            // read (steps read it before they change it).
            if real.lambda.get_function(ctx, name, None).await.is_ok() {
                let _ = real.lambda.list_versions_by_function(ctx, name).await;
            }
            Value::Null
        }
        Seed::Alias(name, alias) => {
            let _ = real.lambda.get_alias(ctx, name, alias).await;
            Value::Null
        }
        Seed::Provisioned(name, qualifier) => {
            let _ = real.lambda.get_provisioned_concurrency_config(ctx, name, qualifier).await;
            Value::Null
        }
        Seed::Repository(repo) => {
            let _ = real.ecr.get_repository_policy(ctx, repo).await;
            let _ = real.ecr.describe_images(ctx, repo, &[]).await;
            Value::Null
        }
        Seed::Secret(id) => {
            let name = keys::secret_name(id);
            match real.secrets.list_secrets(ctx, &name).await {
                Ok(r) if r.value.iter().any(|s| s.name == name) => {
                    json!({"secrets": [{"name": name, "region": region}]})
                }
                _ => Value::Null,
            }
        }
        Seed::Role(name) => role(real, ctx, name).await,
        Seed::LogGroup(name) => match real.logs.describe_log_groups(ctx, name).await {
            Ok(r) => match r.value.iter().find(|g| &g.name == name) {
                Some(g) => json!({"logs": {"log_groups": [{
                    "name": g.name, "region": region, "retention_in_days": g.retention_in_days, "stored_bytes": g.stored_bytes
                }]}}),
                None => Value::Null,
            },
            Err(_) => Value::Null,
        },
        Seed::Zone(id, record) => zone(real, ctx, id, record.as_ref()).await,
        Seed::Apis => apis(real, ctx).await,
        Seed::Domain(name) => match real.apigateway.get_domain_name(ctx, name).await {
            Ok(_) => {
                let mappings: Map<String, Value> = match real.apigateway.get_api_mappings(ctx, name).await {
                    Ok(r) => r.value.iter().map(|m| (m.api_id.clone(), Value::String(m.stage.clone()))).collect(),
                    Err(_) => Map::new(),
                };
                // The certificate is not read back by any call the host makes; the
                // overlay needs one to hold the domain.
                let certificate = format!("arn:aws:acm:{region}:{}:certificate/not-read-by-the-plan", ctx.identity.account);
                json!({"networking": {"domain_names": [{"name": name, "certificate_arn": certificate, "region": region, "mappings": mappings}]}})
            }
            Err(_) => Value::Null,
        },
        Seed::Listener(arn) => listener(real, ctx, arn).await,
        Seed::TargetGroup(name) => target_group(real, ctx, name).await,
    }
}

async fn role(real: &Cloud, ctx: &CallCtx, name: &str) -> Value {
    let Ok(r) = real.iam.get_role(ctx, name).await else {
        return Value::Null;
    };
    let role = r.value;
    let account = role.arn.split(':').nth(4).unwrap_or(&ctx.identity.account).to_owned();
    // `arn:aws:iam::<account>:role<path><name>`.
    let path = role
        .arn
        .split_once(":role")
        .map(|(_, rest)| rest.strip_suffix(name).unwrap_or("/").to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let mut inline = Map::new();
    if let Ok(names) = real.iam.list_role_policies(ctx, name).await {
        for policy in names.value {
            if let Ok(doc) = real.iam.get_role_policy(ctx, name, &policy).await {
                inline.insert(policy, serde_json::from_str(&doc.value).unwrap_or(Value::String(doc.value)));
            }
        }
    }
    let attached: Vec<String> = match real.iam.list_attached_role_policies(ctx, name).await {
        Ok(r) => r.value.into_iter().map(|p| p.policy_arn).collect(),
        Err(_) => Vec::new(),
    };
    let trust: Value = serde_json::from_str(&role.assume_role_policy_document).unwrap_or(Value::Null);
    json!({"iam": {"roles": [{
        "name": name,
        "account_id": account,
        "path": if path.is_empty() { "/".to_owned() } else { path },
        "assume_role_policy_document": trust,
        "max_session_duration": role.max_session_duration,
        "description": role.description,
        "permissions_boundary": role.permissions_boundary,
        "tags": pairs(&role.tags),
        "inline_policies": inline,
        "attached_policies": attached,
    }]}})
}

async fn zone(real: &Cloud, ctx: &CallCtx, id: &str, record: Option<&(String, String)>) -> Value {
    let Ok(z) = real.route53.get_hosted_zone(ctx, id).await else {
        return Value::Null;
    };
    let mut records = Vec::new();
    if let Some((name, kind)) = record {
        if let Ok(sets) = real.route53.list_resource_record_sets(ctx, id, name, kind, 1).await {
            for set in sets
                .value
                .iter()
                .filter(|s| s.name.trim_end_matches('.') == name.trim_end_matches('.') && &s.record_type == kind)
            {
                records.push(json!({
                    "name": set.name, "type": set.record_type, "ttl": set.ttl, "values": set.values, "alias_target": set.alias_target
                }));
            }
        }
    }
    json!({"networking": {"hosted_zones": [{"id": z.value.id, "name": z.value.name, "records": records}]}})
}

async fn apis(real: &Cloud, ctx: &CallCtx) -> Value {
    let Ok(list) = real.apigateway.get_apis(ctx).await else {
        return Value::Null;
    };
    let mut apis = Vec::new();
    for api in list.value {
        let stages: Map<String, Value> = match real.apigateway.get_stages(ctx, &api.api_id).await {
            Ok(r) => r.value.into_iter().map(|s| (s.stage_name, Value::Bool(s.auto_deploy))).collect(),
            Err(_) => Map::new(),
        };
        let integrations: Map<String, Value> = match real.apigateway.get_integrations(ctx, &api.api_id).await {
            Ok(r) => r
                .value
                .into_iter()
                .map(|i| (i.integration_id, Value::String(i.integration_uri)))
                .collect(),
            Err(_) => Map::new(),
        };
        let routes: Map<String, Value> = match real.apigateway.get_routes(ctx, &api.api_id).await {
            Ok(r) => r
                .value
                .into_iter()
                .map(|r| (r.route_key, Value::String(r.target.unwrap_or_default())))
                .collect(),
            Err(_) => Map::new(),
        };
        apis.push(json!({
            "id": api.api_id, "name": api.name, "region": ctx.region, "tags": pairs(&api.tags),
            "stages": stages, "integrations": integrations, "routes": routes
        }));
    }
    json!({"networking": {"apis": apis}})
}

async fn listener(real: &Cloud, ctx: &CallCtx, arn: &str) -> Value {
    let Ok(l) = real.elb.describe_listener(ctx, arn).await else {
        return Value::Null;
    };
    let rules: Vec<Value> = match real.elb.describe_rules(ctx, arn).await {
        Ok(r) => r
            .value
            .into_iter()
            .filter_map(|rule| {
                let priority: u32 = rule.priority.parse().ok()?;
                Some(json!({"priority": priority, "arn": rule.arn, "hosts": rule.hosts, "target_group_arns": rule.target_group_arns}))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    json!({"networking": {"listeners": [{"arn": l.value.arn, "dns_name": l.value.dns_name, "rules": rules}]}})
}

async fn target_group(real: &Cloud, ctx: &CallCtx, name: &str) -> Value {
    let Ok(groups) = real.elb.describe_target_groups(ctx, &[name.to_owned()]).await else {
        return Value::Null;
    };
    let Some(group) = groups.value.into_iter().find(|g| g.name == name) else {
        return Value::Null;
    };
    let targets = real
        .elb
        .describe_targets(ctx, &group.arn)
        .await
        .map(|r| r.value)
        .unwrap_or_default();
    json!({"networking": {"target_groups": [{
        "name": group.name, "arn": group.arn, "health_check_path": group.health_check_path, "targets": targets
    }]}})
}
