//! What a call touches: the keys that route a read to the overlay once the plan
//! changed them, and the view of a resource shown before → after.
//!
//! Keys are plain strings, `service|scope|name`, so that a listing can ask whether
//! the plan changed anything under a prefix.

use crate::cloud::CallCtx;
use serde_json::Value;

/// The function a name or ARN names (`arn:aws:lambda:r:a:function:name[:qualifier]`),
/// and its region.
pub(super) fn function_of(ctx: &CallCtx, given: &str) -> (String, String) {
    let parts: Vec<&str> = given.split(':').collect();
    if parts.len() >= 7 && parts[0] == "arn" {
        return (parts[3].to_owned(), parts[6].to_owned());
    }
    // `account:function:name` and `name:qualifier` forms.
    let name = match parts.as_slice() {
        [_, "function", name, ..] => name,
        [name, ..] => name,
        [] => given,
    };
    (ctx.region.clone(), (*name).to_owned())
}

pub(super) fn function(ctx: &CallCtx, given: &str) -> String {
    let (region, name) = function_of(ctx, given);
    format!("lambda|{region}|{name}")
}

/// Set once the plan deleted the function: its aliases are then the overlay's to answer.
pub(super) fn function_deleted(ctx: &CallCtx, given: &str) -> String {
    format!("{}|deleted", function(ctx, given))
}

/// A function's resource policy: read from the real cloud until the plan adds or
/// removes a permission (the copy keeps one policy per function where AWS keeps one
/// per qualifier, so the copy answers only for what the plan itself changed).
pub(super) fn policy(ctx: &CallCtx, given: &str) -> String {
    format!("{}|policy", function(ctx, given))
}

pub(super) fn alias(ctx: &CallCtx, given: &str, alias: &str) -> String {
    format!("{}|alias|{alias}", function(ctx, given))
}

pub(super) fn role(ctx: &CallCtx, name: &str) -> String {
    format!("iam|{}|{name}", ctx.identity.account)
}

pub(super) fn log_group(ctx: &CallCtx, name: &str) -> String {
    format!("logs|{}|{name}", ctx.region)
}

pub(super) fn log_groups(ctx: &CallCtx) -> String {
    format!("logs|{}|", ctx.region)
}

/// A secret's name from its name or ARN (whose last part carries a random suffix).
pub(super) fn secret_name(given: &str) -> String {
    match given.strip_prefix("arn:").and_then(|rest| rest.split(":secret:").nth(1)) {
        Some(tail) => match tail.rsplit_once('-') {
            Some((name, suffix)) if suffix.len() == 6 => name.to_owned(),
            _ => tail.to_owned(),
        },
        None => given.to_owned(),
    }
}

pub(super) fn secret(ctx: &CallCtx, given: &str) -> String {
    format!("secrets|{}|{}", ctx.region, secret_name(given))
}

pub(super) fn secrets(ctx: &CallCtx) -> String {
    format!("secrets|{}|", ctx.region)
}

pub(super) fn repository(ctx: &CallCtx, repo: &crate::cloud::RepositoryRef) -> String {
    let registry = repo.registry_id.clone().unwrap_or_else(|| ctx.identity.account.clone());
    let region = repo.region.clone().unwrap_or_else(|| ctx.region.clone());
    format!("ecr|{registry}|{region}|{}", repo.name)
}

pub(super) fn apis(ctx: &CallCtx) -> String {
    format!("apigateway|{}", ctx.region)
}

pub(super) fn domain(ctx: &CallCtx, name: &str) -> String {
    format!("apigateway-domain|{}|{name}", ctx.region)
}

pub(super) fn load_balancing(ctx: &CallCtx) -> String {
    format!("elb|{}", ctx.region)
}

pub(super) fn zone(id: &str) -> String {
    format!("route53|{}", id.trim_start_matches("/hostedzone/"))
}

/// A key as a reader would name it: `lambda function f (us-east-1)`.
pub(super) fn describe(key: &str) -> String {
    let parts: Vec<&str> = key.split('|').collect();
    match parts.as_slice() {
        ["lambda", region, name, "alias", alias] => format!("the alias {alias} of lambda function {name} ({region})"),
        ["lambda", region, name, ..] => format!("lambda function {name} ({region})"),
        ["iam", account, name] => format!("iam role {name} (account {account})"),
        ["logs", region, name] if !name.is_empty() => format!("log group {name} ({region})"),
        ["logs", region, _] => format!("the log groups of {region}"),
        ["secrets", region, name] if !name.is_empty() => format!("secret {name} ({region})"),
        ["secrets", region, _] => format!("the secrets of {region}"),
        ["ecr", registry, region, name] => format!("ecr repository {name} ({registry}, {region})"),
        ["apigateway", region] => format!("the HTTP APIs of {region}"),
        ["apigateway-domain", region, name] => format!("API Gateway domain {name} ({region})"),
        ["elb", region] => format!("the load balancers of {region}"),
        ["route53", zone] => format!("hosted zone {zone}"),
        _ => key.to_owned(),
    }
}

/// The resource a change is shown by.
#[derive(Clone, Debug)]
pub(super) enum View {
    None,
    Function {
        region: String,
        name: String,
    },
    Role {
        name: String,
    },
    LogGroup {
        region: String,
        name: String,
    },
    Secret {
        region: String,
        name: String,
    },
    Repository {
        region: String,
        name: String,
    },
    /// An HTTP API by id, or by name for one being created.
    Api {
        id: Option<String>,
        name: Option<String>,
    },
    Domain {
        name: String,
    },
    Zone {
        id: String,
    },
    Listener {
        arn: String,
    },
    /// A target group by name or ARN.
    TargetGroup {
        name: Option<String>,
        arn: Option<String>,
    },
}

/// The item of `list` (a JSON array) whose `field` is `value`, the last one when
/// several are (a newly created API shares its name with none, usually).
fn find<'a>(list: &'a Value, matches: &dyn Fn(&Value) -> bool) -> Option<&'a Value> {
    list.as_array()?.iter().rev().find(|item| matches(item))
}

fn is(item: &Value, field: &str, value: &str) -> bool {
    item[field].as_str() == Some(value)
}

fn region_is(item: &Value, region: &str, default: &Value) -> bool {
    item["region"].as_str().or(default.as_str()) == Some(region)
}

/// The resource `view` names, as the simulated cloud's dump has it; `Null` when it
/// does not exist.
pub(super) fn view(dump: &Value, view: &View) -> Value {
    let default_region = &dump["region"];
    let found = match view {
        View::None => None,
        View::Function { region, name } => find(&dump["lambda"]["functions"], &|f| {
            is(f, "name", name) && region_is(f, region, default_region)
        }),
        View::Role { name } => find(&dump["iam"]["roles"], &|r| is(r, "name", name)),
        View::LogGroup { region, name } => find(&dump["logs"]["log_groups"], &|g| {
            is(g, "name", name) && region_is(g, region, default_region)
        }),
        View::Secret { region, name } => find(&dump["secrets"], &|s| is(s, "name", name) && region_is(s, region, default_region)),
        View::Repository { region, name } => find(&dump["ecr"]["repositories"], &|r| {
            is(r, "name", name) && region_is(r, region, default_region)
        }),
        View::Api { id, name } => find(&dump["networking"]["apis"], &|a| match (id, name) {
            (Some(id), _) => is(a, "id", id),
            (None, Some(name)) => is(a, "name", name),
            (None, None) => false,
        }),
        View::Domain { name } => find(&dump["networking"]["domain_names"], &|d| is(d, "name", name)),
        View::Zone { id } => find(&dump["networking"]["hosted_zones"], &|z| {
            is(z, "id", id.trim_start_matches("/hostedzone/"))
        }),
        View::Listener { arn } => find(&dump["networking"]["listeners"], &|l| is(l, "arn", arn)),
        View::TargetGroup { name, arn } => find(&dump["networking"]["target_groups"], &|t| match (name, arn) {
            (Some(name), _) => is(t, "name", name),
            (None, Some(arn)) => is(t, "arn", arn),
            (None, None) => false,
        }),
    };
    let mut found = found.cloned().unwrap_or(Value::Null);
    if matches!(view, View::Function { .. }) {
        spell_out_versions(&mut found);
    }
    found
}

/// The settings a version shares with `$LATEST`, which the dump leaves out of the
/// version (so that changing `$LATEST` would seem to change every version).
const VERSION_SETTINGS: [&str; 15] = [
    "image_uri",
    "code_sha256",
    "s3_bucket",
    "s3_key",
    "runtime",
    "handler",
    "role",
    "memory_size",
    "timeout",
    "ephemeral_storage",
    "architectures",
    "environment",
    "layers",
    "subnet_ids",
    "security_group_ids",
];

fn spell_out_versions(function: &mut Value) {
    let latest = function.clone();
    let Some(versions) = function.get_mut("versions").and_then(Value::as_array_mut) else {
        return;
    };
    for version in versions.iter_mut().filter_map(Value::as_object_mut) {
        for setting in VERSION_SETTINGS {
            if version.get(setting).is_none_or(Value::is_null) {
                if let Some(v) = latest.get(setting).filter(|v| !v.is_null()) {
                    version.insert(setting.to_owned(), v.clone());
                }
            }
        }
    }
}
