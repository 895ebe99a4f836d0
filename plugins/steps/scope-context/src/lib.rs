//! build_context (scope): the variables every scope workflow (create, update,
//! delete, invoke, concurrency) reads, derived from the built context and the
//! scope's providers with no cloud call. Unlike the incumbent, every value a later
//! step reads is a declared output (its defect: create read undeclared ones).

use lambda_scope::lifecycle::{execution_role_name, ROLE_PREFIX};
use lambda_scope::settings::{self, keep, text, Providers};
use lambda_scope::{function_name, Context};
use scope_step::prelude::*;
use serde_json::{Map, Value};

struct ScopeContext;

impl Step for ScopeContext {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        if ctx.json.as_object().is_none_or(Map::is_empty) {
            return Err(StepError::InvalidInput("the built context is empty".into()));
        }
        let scope_id = ctx
            .text("/scope/id")
            .ok_or_else(|| StepError::InvalidInput("failed to extract the scope id from the context (.scope.id)".into()))?;
        let app = ctx
            .text("/application/slug")
            .ok_or_else(|| StepError::InvalidInput("the context has no .application.slug".into()))?;
        let scope_slug = ctx
            .text("/scope/slug")
            .ok_or_else(|| StepError::InvalidInput("the context has no .scope.slug".into()))?;
        let scope_nrn = ctx.text("/scope/nrn").unwrap_or_default();
        let namespace = ctx.text("/namespace/slug").unwrap_or_default();
        let fname = function_name(&scope_id, &app, &scope_slug);
        let providers = Providers::read(&ctx, &scope_nrn);

        let package_type = match ctx.text("/scope/capabilities/deployment_type").as_deref() {
            Some("zip") | Some("lambda") => "Zip",
            _ => "Image",
        };
        let prefix = keep(
            text(&providers.scope, "/lambda/execution_role_prefix"),
            "LAMBDA_EXECUTION_ROLE_PREFIX",
            ROLE_PREFIX,
        );
        if !prefix.starts_with("np-lambda-") && !prefix.starts_with("nullplatform-") {
            log::warn(&format!(
                "execution role prefix `{prefix}` starts with neither np-lambda- nor nullplatform-: the operator policy must allow roles under it"
            ));
        }
        let role_name = execution_role_name(&prefix, &fname).map_err(StepError::InvalidInput)?;
        let boundary = keep(
            text(&providers.scope, "/lambda/permissions_boundary"),
            "IAM_PERMISSIONS_BOUNDARY",
            "",
        );
        let retention = keep(text(&providers.scope, "/logging/retention_days"), "LOG_RETENTION_DAYS", "30");

        let mut tags = Map::new();
        for (key, value) in [
            ("nullplatform:scope-id", scope_id.clone()),
            ("nullplatform:namespace", namespace.clone()),
            ("nullplatform:application", app.clone()),
            ("nullplatform:scope", scope_slug.clone()),
        ] {
            if !value.is_empty() {
                tags.insert(key.into(), Value::String(value));
            }
        }

        let mut out = vec![
            output("SCOPE_ID", scope_id),
            output("SCOPE_SLUG", scope_slug),
            output("SCOPE_NRN", scope_nrn),
            output("NAMESPACE_SLUG", namespace),
            output("APPLICATION_SLUG", app),
            output("ACCOUNT_SLUG", ctx.text("/account/slug").unwrap_or_default()),
            output("LAMBDA_FUNCTION_NAME", fname),
            output("LAMBDA_MAIN_ALIAS_NAME", lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main")),
            output("VISIBILITY", settings::visibility(&ctx)),
            output("PACKAGE_TYPE", package_type),
            output("LAMBDA_EXECUTION_ROLE_NAME", role_name),
            output("IAM_PERMISSIONS_BOUNDARY", boundary),
            output("LOG_RETENTION_DAYS", retention),
            output("RESOURCE_TAGS", Value::Object(tags).to_string()),
            output("SCOPE_DOMAIN", ctx.text("/scope/domain").unwrap_or_default()),
            output("ALB_RULE_PRIORITY", ctx.text("/scope/alb_rule_priority").unwrap_or_default()),
            output(
                "ALB_LISTENER_RULE_CAPACITY",
                keep(
                    text(&providers.scope, "/networking/alb_listener_rule_capacity"),
                    "ALB_LISTENER_RULE_CAPACITY",
                    "100",
                ),
            ),
            output(
                "HEALTH_CHECK_PATH",
                lambda_scope::config(&ctx, "/scope/capabilities/health_check/path", "HEALTH_CHECK_PATH", "/health"),
            ),
        ];
        out.extend(settings::capability_outputs(&ctx));
        out.extend(providers.outputs());
        Ok(out)
    }
}

scope_step::step!(
    ScopeContext,
    Manifest {
        name: "scope-context",
        version: "0.1.0",
        description: "Builds the scope lifecycle variables from the context and the scope's providers",
        inputs: &[
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("LAMBDA_EXECUTION_ROLE_PREFIX"),
            Input::optional("IAM_PERMISSIONS_BOUNDARY"),
            Input::optional("LOG_RETENTION_DAYS"),
            Input::optional("PLACEHOLDER_IMAGE_URI_DEFAULT"),
            Input::optional("ALB_LISTENER_RULE_CAPACITY"),
            Input::optional("HEALTH_CHECK_PATH"),
        ],
        outputs: &[
            OutputDecl::plain("SCOPE_ID"),
            OutputDecl::plain("SCOPE_SLUG"),
            OutputDecl::plain("SCOPE_NRN"),
            OutputDecl::plain("NAMESPACE_SLUG"),
            OutputDecl::plain("APPLICATION_SLUG"),
            OutputDecl::plain("ACCOUNT_SLUG"),
            OutputDecl::plain("LAMBDA_FUNCTION_NAME"),
            OutputDecl::plain("LAMBDA_MAIN_ALIAS_NAME"),
            OutputDecl::plain("VISIBILITY"),
            OutputDecl::plain("PACKAGE_TYPE"),
            OutputDecl::plain("LAMBDA_EXECUTION_ROLE_NAME"),
            OutputDecl::plain("IAM_PERMISSIONS_BOUNDARY"),
            OutputDecl::plain("LOG_RETENTION_DAYS"),
            OutputDecl::plain("RESOURCE_TAGS"),
            OutputDecl::plain("SCOPE_DOMAIN"),
            OutputDecl::plain("ALB_RULE_PRIORITY"),
            OutputDecl::plain("ALB_LISTENER_RULE_CAPACITY"),
            OutputDecl::plain("HEALTH_CHECK_PATH"),
            OutputDecl::plain("LAMBDA_MEMORY"),
            OutputDecl::plain("LAMBDA_TIMEOUT"),
            OutputDecl::plain("LAMBDA_ARCHITECTURE"),
            OutputDecl::plain("LAMBDA_EPHEMERAL_STORAGE"),
            OutputDecl::plain("LAMBDA_RUNTIME"),
            OutputDecl::plain("LAMBDA_HANDLER"),
            OutputDecl::plain("VPC_ENABLED"),
            OutputDecl::plain("LAMBDA_RESERVED_CONCURRENCY_TYPE"),
            OutputDecl::plain("LAMBDA_RESERVED_CONCURRENCY_VALUE"),
            OutputDecl::plain("LAMBDA_PROVISIONED_CONCURRENCY_TYPE"),
            OutputDecl::plain("LAMBDA_PROVISIONED_CONCURRENCY_VALUE"),
            OutputDecl::plain("WARMUP_ALIAS_NAME"),
            OutputDecl::plain("LAMBDA_LAYERS"),
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
        ],
        ..Manifest::EMPTY
    }
);
