//! build_context (deployment): turns the built context, the scope's providers and
//! the function's current versions into the variables later steps read, as the bash step
//! it replaces did, except its defect "an absent provider value wiped a value the agent
//! already had": here provider → existing variable → default.

use lambda_scope::{config, function_name, Context};
use scope_step::prelude::*;
use scope_step::{lambda, providers, CallError};
use serde_json::{json, Map, Value};

struct BuildContext;

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

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(lambda_scope::text_of)
}

/// Provider value, else the variable the agent already had, else the default.
fn keep(provider: Option<String>, var_name: &str, default: &str) -> String {
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

/// The highest numeric version whose description is `deployment`.
fn version_for(versions: &[lambda::VersionInfo], deployment: &str) -> String {
    if deployment.is_empty() {
        return String::new();
    }
    versions
        .iter()
        .filter(|v| v.description == deployment)
        .filter_map(|v| v.version.parse::<u64>().ok())
        .max()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

impl Step for BuildContext {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        let scope_id = ctx
            .text("/scope/id")
            .ok_or_else(|| StepError::InvalidInput("failed to extract scope ID from the context (.scope.id)".into()))?;
        let deployment_id = ctx.text("/deployment/id").unwrap_or_default();
        let scope_nrn = ctx.text("/scope/nrn").unwrap_or_default();
        let app = ctx
            .text("/application/slug")
            .ok_or_else(|| StepError::InvalidInput("the context has no .application.slug".into()))?;
        let scope_slug = ctx
            .text("/scope/slug")
            .ok_or_else(|| StepError::InvalidInput("the context has no .scope.slug".into()))?;
        let fname = function_name(&scope_id, &app, &scope_slug);
        let blue_deployment = ctx.text("/scope/current_active_deployment").unwrap_or_default();
        let mut out = vec![
            output("SCOPE_ID", scope_id.clone()),
            output("DEPLOYMENT_ID", deployment_id.clone()),
            output("SCOPE_NRN", scope_nrn.clone()),
            output("LAMBDA_FUNCTION_NAME", fname.clone()),
            output(
                "DEPLOYMENT_STRATEGY",
                ctx.text("/deployment/strategy").unwrap_or_else(|| "initial".into()),
            ),
            output(
                "DESIRED_TRAFFIC",
                ctx.text("/deployment/strategy_data/desired_switched_traffic")
                    .unwrap_or_else(|| "100".into()),
            ),
            output("LAMBDA_MAIN_ALIAS_NAME", lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main")),
            output("BLUE_DEPLOYMENT_ID", blue_deployment.clone()),
        ];

        // The function as it is now: absent means an initial deployment.
        let (exists, arn, versions) = match lambda::get_function(&fname, None) {
            Ok(f) => {
                let versions = lambda::list_versions_by_function(&fname)?;
                (true, f.configuration.function_arn, versions)
            }
            Err(CallError::Cloud(c)) if c.code == "ResourceNotFoundException" => {
                log::info(&format!("function {fname} does not exist yet: initial deployment"));
                (false, var("LAMBDA_FUNCTION_ARN").unwrap_or_default(), Vec::new())
            }
            Err(e) => return Err(e.into()),
        };
        let green = version_for(&versions, &deployment_id);
        let blue = version_for(&versions, &blue_deployment);
        out.extend([
            output("LAMBDA_FUNCTION_EXISTS", exists.to_string()),
            output("LAMBDA_FUNCTION_ARN", arn),
            output("LAMBDA_GREEN_VERSION", green.clone()),
            output("LAMBDA_BLUE_VERSION", blue),
            output("LAMBDA_CURRENT_VERSION", green),
        ]);

        let http = ctx
            .value("/scope/capabilities/http_enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let visibility = if http {
            ctx.text("/scope/capabilities/visibility").unwrap_or_else(|| "public".into())
        } else {
            "event-driven".into()
        };
        out.push(output("VISIBILITY", visibility));
        for (name, key, var_name, default) in [
            ("LAMBDA_MEMORY", "memory", "LAMBDA_MEMORY", "256"),
            ("LAMBDA_TIMEOUT", "timeout", "LAMBDA_TIMEOUT", "30"),
            ("LAMBDA_ARCHITECTURE", "architecture", "LAMBDA_ARCHITECTURE", "arm64"),
            ("LAMBDA_EPHEMERAL_STORAGE", "ephemeral_storage", "LAMBDA_EPHEMERAL_STORAGE", "512"),
            ("LAMBDA_RUNTIME", "runtime", "LAMBDA_RUNTIME", "nodejs22.x"),
            ("LAMBDA_HANDLER", "handler", "LAMBDA_HANDLER", "index.handler"),
            ("VPC_ENABLED", "vpc_enabled", "VPC_ENABLED", "false"),
            (
                "LAMBDA_RESERVED_CONCURRENCY_TYPE",
                "reserved_concurrency/type",
                "LAMBDA_RESERVED_CONCURRENCY_TYPE",
                "unreserved",
            ),
            (
                "LAMBDA_RESERVED_CONCURRENCY_VALUE",
                "reserved_concurrency/value",
                "LAMBDA_RESERVED_CONCURRENCY_VALUE",
                "",
            ),
            (
                "LAMBDA_PROVISIONED_CONCURRENCY_TYPE",
                "provisioned_concurrency/type",
                "LAMBDA_PROVISIONED_CONCURRENCY_TYPE",
                "unprovisioned",
            ),
            (
                "LAMBDA_PROVISIONED_CONCURRENCY_VALUE",
                "provisioned_concurrency/value",
                "LAMBDA_PROVISIONED_CONCURRENCY_VALUE",
                "",
            ),
        ] {
            out.push(output(name, config(&ctx, &format!("/scope/capabilities/{key}"), var_name, default)));
        }
        let layers = match ctx.value("/scope/capabilities/layers") {
            Some(Value::Array(a)) => Value::Array(a.clone()).to_string(),
            _ => lambda_scope::var_or("LAMBDA_LAYERS", "[]"),
        };
        out.push(output("LAMBDA_LAYERS", layers));

        // Provider configuration, per category, filtered by the scope's dimensions.
        let dims: Vec<(String, String)> = match ctx.value("/scope/dimensions") {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| lambda_scope::text_of(v).map(|v| (k.clone(), v)))
                .collect(),
            _ => Vec::new(),
        };
        let (vpc, cloud, scope_cfg) = if scope_nrn.is_empty() {
            log::warn("the context has no .scope.nrn: provider configuration is skipped");
            (json!({}), json!({}), json!({}))
        } else {
            (
                category(&scope_nrn, "vpc", &dims),
                category(&scope_nrn, "cloud-providers", &dims),
                category(&scope_nrn, "scope-configurations", &dims),
            )
        };
        out.extend([
            output("VPC_ID", keep(text(&vpc, "/vpc/id"), "VPC_ID", "")),
            output("VPC_SUBNETS", list(&vpc, "/vpc/subnets", "VPC_SUBNETS")),
            output("VPC_SECURITY_GROUPS", list(&vpc, "/vpc/security_groups", "VPC_SECURITY_GROUPS")),
            output(
                "PUBLIC_LISTENER_ARN",
                keep(text(&vpc, "/load_balancer/public/listener_arn"), "PUBLIC_LISTENER_ARN", ""),
            ),
            output(
                "PRIVATE_LISTENER_ARN",
                keep(text(&vpc, "/load_balancer/private/listener_arn"), "PRIVATE_LISTENER_ARN", ""),
            ),
            output("AWS_ACCOUNT_ID", keep(text(&cloud, "/account/id"), "AWS_ACCOUNT_ID", "")),
            output("AWS_REGION", keep(text(&cloud, "/account/region"), "AWS_REGION", "us-east-1")),
            output(
                "HOSTED_PUBLIC_ZONE_ID",
                keep(text(&cloud, "/networking/hosted_public_zone_id"), "HOSTED_PUBLIC_ZONE_ID", ""),
            ),
            output(
                "HOSTED_ZONE_ID",
                keep(text(&cloud, "/networking/hosted_zone_id"), "HOSTED_ZONE_ID", ""),
            ),
            output(
                "STATE_BUCKET",
                keep(
                    text(&scope_cfg, "/state/tofu_state_bucket").or_else(|| text(&scope_cfg, "/provider/aws_state_bucket")),
                    "STATE_BUCKET",
                    "",
                ),
            ),
            output(
                "PLACEHOLDER_IMAGE_URI",
                text(&scope_cfg, "/deployment/placeholder_image_uri")
                    .or_else(|| var("PLACEHOLDER_IMAGE_URI").filter(|v| !v.is_empty()))
                    .unwrap_or_else(|| lambda_scope::var_or("PLACEHOLDER_IMAGE_URI_DEFAULT", "")),
            ),
            output(
                "NULL_AGENT_LAYER_ARN",
                keep(text(&scope_cfg, "/agent/null_agent_layer_arn"), "NULL_AGENT_LAYER_ARN", ""),
            ),
        ]);

        // The asset: an image, or a zip in S3.
        if let Some(image) = var("IMAGE_URI").filter(|v| !v.is_empty()) {
            out.extend([
                output("PACKAGE_TYPE", "Image"),
                output("IMAGE_URI", image),
                output("S3_BUCKET", ""),
                output("S3_KEY", ""),
            ]);
        } else {
            let kind = ctx.text("/asset/type").unwrap_or_else(|| "lambda-asset".into());
            let url = ctx.text("/asset/url").unwrap_or_default();
            if kind == "docker-image" {
                if url.is_empty() {
                    return Err(StepError::InvalidInput(
                        "asset URL is required for docker-image (.asset.url is empty)".into(),
                    ));
                }
                out.extend([
                    output("PACKAGE_TYPE", "Image"),
                    output("IMAGE_URI", url),
                    output("S3_BUCKET", ""),
                    output("S3_KEY", ""),
                ]);
            } else {
                let (bucket, key) = if url.is_empty() {
                    (String::new(), String::new())
                } else {
                    lambda_scope::uri::s3_url(&url).map_err(StepError::InvalidInput)?
                };
                out.extend([
                    output("PACKAGE_TYPE", "Zip"),
                    output("IMAGE_URI", ""),
                    output("S3_BUCKET", bucket),
                    output("S3_KEY", key),
                ]);
            }
        }

        // Parameters: environment variables, or one Secrets Manager secret.
        let mut params = Map::new();
        let mut any_secret = false;
        for p in ctx.value("/parameters/results").and_then(Value::as_array).into_iter().flatten() {
            let (Some(name), Some(value)) = (
                p.get("variable").and_then(Value::as_str),
                p.pointer("/values/0/value").and_then(lambda_scope::text_of),
            ) else {
                continue;
            };
            any_secret |= p.get("secret").and_then(Value::as_bool) == Some(true);
            params.insert(name.to_owned(), Value::String(value));
        }
        let strategy = lambda_scope::var_or("PARAMETERS_STRATEGY", "env");
        let params_json = Value::Object(params.clone()).to_string();
        if strategy == "secretsmanager" && !deployment_id.is_empty() {
            let secret = format!("nullplatform/{scope_id}/{deployment_id}/parameters");
            out.push(output("NULLPLATFORM_PARAMETERS_SECRET", secret.clone()));
            out.push(output(
                "LAMBDA_ENVIRONMENT_VARIABLES",
                json!({"NULLPLATFORM_PARAMETERS_SECRET": secret}).to_string(),
            ));
        } else {
            out.push(output("NULLPLATFORM_PARAMETERS_SECRET", ""));
            let env = Output {
                name: "LAMBDA_ENVIRONMENT_VARIABLES".into(),
                value: params_json.clone(),
                secret: any_secret,
            };
            out.push(env);
        }
        out.push(output("PARAMETERS_STRATEGY", strategy));
        out.push(secret_output("PARAMETERS_JSON", params_json));

        let mut tags = Map::new();
        for (key, value) in [
            ("nullplatform:scope-id", Some(scope_id)),
            ("nullplatform:deployment-id", Some(deployment_id)),
            ("nullplatform:namespace", ctx.text("/namespace/slug")),
            ("nullplatform:application", Some(app)),
            ("nullplatform:scope", Some(scope_slug)),
        ] {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                tags.insert(key.into(), Value::String(v));
            }
        }
        out.push(output("RESOURCE_TAGS", Value::Object(tags).to_string()));
        Ok(out)
    }
}

scope_step::step!(
    BuildContext,
    Manifest {
        name: "build-context",
        version: "0.1.0",
        description: "Builds the deployment variables from the context, providers and the function's versions",
        inputs: &[
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("IMAGE_URI"),
            Input::optional("PARAMETERS_STRATEGY"),
            Input::optional("PLACEHOLDER_IMAGE_URI_DEFAULT"),
        ],
        outputs: &[
            OutputDecl::plain("SCOPE_ID"),
            OutputDecl::plain("DEPLOYMENT_ID"),
            OutputDecl::plain("SCOPE_NRN"),
            OutputDecl::plain("LAMBDA_FUNCTION_NAME"),
            OutputDecl::plain("LAMBDA_FUNCTION_ARN"),
            OutputDecl::plain("LAMBDA_FUNCTION_EXISTS"),
            OutputDecl::plain("DEPLOYMENT_STRATEGY"),
            OutputDecl::plain("DESIRED_TRAFFIC"),
            OutputDecl::plain("LAMBDA_MAIN_ALIAS_NAME"),
            OutputDecl::plain("BLUE_DEPLOYMENT_ID"),
            OutputDecl::plain("LAMBDA_GREEN_VERSION"),
            OutputDecl::plain("LAMBDA_BLUE_VERSION"),
            OutputDecl::plain("LAMBDA_CURRENT_VERSION"),
            OutputDecl::plain("VISIBILITY"),
            OutputDecl::plain("LAMBDA_MEMORY"),
            OutputDecl::plain("LAMBDA_TIMEOUT"),
            OutputDecl::plain("LAMBDA_ARCHITECTURE"),
            OutputDecl::plain("LAMBDA_EPHEMERAL_STORAGE"),
            OutputDecl::plain("LAMBDA_RUNTIME"),
            OutputDecl::plain("LAMBDA_HANDLER"),
            OutputDecl::plain("LAMBDA_LAYERS"),
            OutputDecl::plain("VPC_ENABLED"),
            OutputDecl::plain("LAMBDA_RESERVED_CONCURRENCY_TYPE"),
            OutputDecl::plain("LAMBDA_RESERVED_CONCURRENCY_VALUE"),
            OutputDecl::plain("LAMBDA_PROVISIONED_CONCURRENCY_TYPE"),
            OutputDecl::plain("LAMBDA_PROVISIONED_CONCURRENCY_VALUE"),
            OutputDecl::plain("VPC_ID"),
            OutputDecl::plain("VPC_SUBNETS"),
            OutputDecl::plain("VPC_SECURITY_GROUPS"),
            OutputDecl::plain("PUBLIC_LISTENER_ARN"),
            OutputDecl::plain("PRIVATE_LISTENER_ARN"),
            OutputDecl::plain("AWS_ACCOUNT_ID"),
            OutputDecl::plain("AWS_REGION"),
            OutputDecl::plain("HOSTED_PUBLIC_ZONE_ID"),
            OutputDecl::plain("HOSTED_ZONE_ID"),
            OutputDecl::plain("STATE_BUCKET"),
            OutputDecl::plain("PLACEHOLDER_IMAGE_URI"),
            OutputDecl::plain("NULL_AGENT_LAYER_ARN"),
            OutputDecl::plain("PACKAGE_TYPE"),
            OutputDecl::plain("IMAGE_URI"),
            OutputDecl::plain("S3_BUCKET"),
            OutputDecl::plain("S3_KEY"),
            OutputDecl::plain("NULLPLATFORM_PARAMETERS_SECRET"),
            OutputDecl::plain("LAMBDA_ENVIRONMENT_VARIABLES"),
            OutputDecl::plain("PARAMETERS_STRATEGY"),
            OutputDecl::secret("PARAMETERS_JSON"),
            OutputDecl::plain("RESOURCE_TAGS"),
        ],
        capabilities: &[
            Capability::new("lambda:GetFunction", "arn:aws:lambda:*:*:function:*"),
            Capability::new("lambda:ListVersionsByFunction", "arn:aws:lambda:*:*:function:*"),
        ],
        ..Manifest::EMPTY
    }
);
