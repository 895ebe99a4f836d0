//! update_function_configuration: memory, timeout, ephemeral storage; runtime and
//! handler for zip packages; the environment (empty map when none); layers (an empty
//! list clears them); VPC when enabled with subnets and security groups. Then waits.

use scope_step::lambda;
use scope_step::prelude::*;

struct UpdateConfiguration;

fn json_list(name: &str) -> Result<Vec<String>, StepError> {
    let raw = lambda_scope::var_or(name, "[]");
    serde_json::from_str::<Vec<String>>(&raw).map_err(|e| StepError::InvalidInput(format!("{name} is not a JSON list of strings: {e}")))
}

impl Step for UpdateConfiguration {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let zip = lambda_scope::var_or("PACKAGE_TYPE", "Image") == "Zip";
        let env_raw = lambda_scope::var_or("LAMBDA_ENVIRONMENT_VARIABLES", "{}");
        let environment: Vec<(String, String)> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&env_raw)
            .map_err(|_| StepError::InvalidInput("LAMBDA_ENVIRONMENT_VARIABLES is not a JSON object".into()))?
            .into_iter()
            .map(|(k, v)| (k, lambda_scope::text_of(&v).unwrap_or_default()))
            .collect();
        let subnets = json_list("VPC_SUBNETS")?;
        let groups = json_list("VPC_SECURITY_GROUPS")?;
        let vpc_wanted = lambda_scope::var_or("VPC_ENABLED", "false") == "true" && !subnets.is_empty() && !groups.is_empty();
        let vpc = vpc_wanted.then_some(lambda::VpcConfig {
            subnet_ids: subnets,
            security_group_ids: groups,
        });
        let request = lambda::UpdateConfigurationRequest {
            function_name: fname.clone(),
            memory_size: Some(lambda_scope::number_var("LAMBDA_MEMORY", 256)?),
            timeout: Some(lambda_scope::number_var("LAMBDA_TIMEOUT", 30)?),
            ephemeral_storage: Some(lambda_scope::number_var("LAMBDA_EPHEMERAL_STORAGE", 512)?),
            runtime: zip.then(|| lambda_scope::var_or("LAMBDA_RUNTIME", "nodejs22.x")),
            handler: zip.then(|| lambda_scope::var_or("LAMBDA_HANDLER", "index.handler")),
            environment: Some(environment),
            layers: Some(json_list("LAMBDA_LAYERS")?),
            vpc,
            description: None,
            revision_id: None,
        };
        lambda::update_function_configuration(&request)?;
        let done = lambda::wait_function_updated(&fname, lambda_scope::number_var("DEPLOYMENT_MAX_WAIT_IN_SECONDS", 600)?)?;
        if done.last_update_status == lambda::UpdateStatus::Failed {
            return Err(StepError::Failed(format!(
                "updating the configuration of {fname} failed: {}",
                done.last_update_status_reason.unwrap_or_else(|| "no reason given".into())
            )));
        }
        log::info(&format!(
            "configuration of {fname} updated: {} MB, {} s",
            done.memory_size, done.timeout
        ));
        Ok(vec![])
    }
}

scope_step::step!(
    UpdateConfiguration,
    Manifest {
        name: "update-configuration",
        version: "0.1.0",
        description: "Updates the function's configuration and waits for the update",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("PACKAGE_TYPE"),
            Input::optional("LAMBDA_MEMORY"),
            Input::optional("LAMBDA_TIMEOUT"),
            Input::optional("LAMBDA_EPHEMERAL_STORAGE"),
            Input::optional("LAMBDA_RUNTIME"),
            Input::optional("LAMBDA_HANDLER"),
            Input::optional("LAMBDA_ENVIRONMENT_VARIABLES"),
            Input::optional("LAMBDA_LAYERS"),
            Input::optional("VPC_ENABLED"),
            Input::optional("VPC_SUBNETS"),
            Input::optional("VPC_SECURITY_GROUPS"),
        ],
        capabilities: &[
            Capability::new("lambda:UpdateFunctionConfiguration", lambda_scope::FUNCTION),
            // Lambda checks that its caller may describe the subnets, security groups
            // and VPC of a VPC configuration (no resource-level permissions).
            Capability::new("ec2:DescribeSubnets", "*"),
            Capability::new("ec2:DescribeSecurityGroups", "*"),
            Capability::new("ec2:DescribeVpcs", "*"),
            Capability::new("lambda:GetFunctionConfiguration", lambda_scope::FUNCTION),
            Capability::new("lambda:GetLayerVersion", "arn:aws:lambda:*:*:layer:*"),
        ],
        ..Manifest::EMPTY
    }
);
