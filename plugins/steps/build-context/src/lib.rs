//! build_context (deployment): turns the built context, the scope's providers and
//! the function's current versions into the variables later steps read, as the bash step
//! it replaces did, except its defect "an absent provider value wiped a value the agent
//! already had": here provider → existing variable → default.

use lambda_scope::{function_name, settings, Context};
use scope_step::prelude::*;
use scope_step::{lambda, CallError};
use serde_json::{json, Map, Value};

struct BuildContext;

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

        out.push(output("VISIBILITY", settings::visibility(&ctx)));
        out.extend(settings::capability_outputs(&ctx));
        // Provider configuration, per category, filtered by the scope's dimensions.
        out.extend(settings::Providers::read(&ctx, &scope_nrn).outputs());

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
            OutputDecl::plain("WARMUP_ALIAS_NAME"),
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
