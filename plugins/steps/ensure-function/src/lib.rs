//! ensure_function (create): the scope's function. Absent: created from the
//! placeholder (a Zip scope's package is built into this step; an Image scope's
//! image comes from resolve_placeholder) with every setting the capabilities give,
//! VPC attachment when enabled, layers, tags, version 1 published, then waited on
//! until Active. Present: left exactly as it is — its code and configuration
//! belong to the deployments since (the incumbent's re-run of create restored the
//! placeholder and moved `main`).
//!
//! A role IAM has only just made is not visible to Lambda at once: CreateFunction
//! answers that Lambda cannot assume it. That answer is retried with backoff, up
//! to ROLE_PROPAGATION_MAX_WAIT_SECONDS, rather than sleeping a fixed time first.

use lambda_scope::lifecycle::{self, is_absent, stored_zip, PLACEHOLDER_JS};
use scope_step::prelude::*;
use scope_step::{lambda, CallError};
use std::time::Duration;

struct EnsureFunction;

fn number(name: &str, default: u32) -> Result<Option<u32>, StepError> {
    lambda_scope::number_var(name, default).map(Some)
}

/// Whether CreateFunction failed only because IAM has not propagated the role yet.
fn role_not_visible_yet(e: &CallError) -> bool {
    matches!(e, CallError::Cloud(c) if c.message.contains("cannot be assumed by Lambda"))
}

fn request(fname: &str) -> Result<lambda::CreateFunctionRequest, StepError> {
    let package = lambda_scope::var_or("PACKAGE_TYPE", "Image");
    let (package_type, code, runtime, handler) = if package == "Zip" {
        // The placeholder package's handler, whatever the scope's runtime: the
        // first deployment sets the scope's own.
        (
            lambda::PackageType::Zip,
            lambda::FunctionCode::ZipFile(stored_zip("index.js", PLACEHOLDER_JS.as_bytes())),
            Some("nodejs22.x".to_owned()),
            Some("index.handler".to_owned()),
        )
    } else {
        let image = var("IMAGE_URI").filter(|v| !v.is_empty()).ok_or_else(|| {
            StepError::InvalidInput(format!(
                "function {fname} does not exist and there is no placeholder image (IMAGE_URI is empty): run the create workflow, whose resolve_placeholder step provides it"
            ))
        })?;
        (lambda::PackageType::Image, lambda::FunctionCode::Image(image), None, None)
    };
    let vpc = if lambda_scope::var_or("VPC_ENABLED", "false") == "true" {
        let subnets = lifecycle::string_list("VPC_SUBNETS", &var("VPC_SUBNETS").unwrap_or_default())?;
        let groups = lifecycle::string_list("VPC_SECURITY_GROUPS", &var("VPC_SECURITY_GROUPS").unwrap_or_default())?;
        if subnets.is_empty() || groups.is_empty() {
            return Err(StepError::InvalidInput(
                "the scope is VPC-enabled, but VPC_SUBNETS or VPC_SECURITY_GROUPS is empty: configure the vpc provider (vpc.subnets, vpc.security_groups)".into(),
            ));
        }
        Some(lambda::VpcConfig {
            subnet_ids: subnets,
            security_group_ids: groups,
        })
    } else {
        None
    };
    let architecture = lambda_scope::var_or("LAMBDA_ARCHITECTURE", "arm64");
    if architecture != "arm64" && architecture != "x86_64" {
        return Err(StepError::InvalidInput(format!(
            "LAMBDA_ARCHITECTURE is `{architecture}`: Lambda offers arm64 or x86_64 (capability `architecture`)"
        )));
    }
    let scope_id = require_var("SCOPE_ID")?;
    Ok(lambda::CreateFunctionRequest {
        function_name: fname.to_owned(),
        role: require_var("LAMBDA_ROLE_ARN")?,
        package_type,
        code,
        runtime,
        handler,
        architectures: vec![lambda::Architecture::from_aws(&architecture)],
        memory_size: number("LAMBDA_MEMORY", 256)?,
        timeout: number("LAMBDA_TIMEOUT", 30)?,
        ephemeral_storage: number("LAMBDA_EPHEMERAL_STORAGE", 512)?,
        environment: vec![("NP_SCOPE_ID".to_owned(), scope_id)],
        layers: lifecycle::string_list("LAMBDA_LAYERS", &var("LAMBDA_LAYERS").unwrap_or_default())?,
        vpc,
        description: String::new(),
        publish: true,
        tags: lifecycle::tags(
            &var("RESOURCE_TAGS").unwrap_or_default(),
            &[("ManagedBy", "custom-scope-role"), ("Module", "compute/lambda")],
        )?,
    })
}

impl Step for EnsureFunction {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        match lambda::get_function(&fname, None) {
            Ok(f) => {
                let wanted = lambda_scope::var_or("PACKAGE_TYPE", "Image");
                if f.configuration.package_type.as_str() != wanted {
                    log::warn(&format!(
                        "function {fname} is a {} function, but the scope asks for {wanted}: left as it is (a function cannot change its package type; delete the scope to start again)",
                        f.configuration.package_type
                    ));
                }
                log::info(&format!(
                    "function {fname} exists: its code and configuration are the deployments' and are left as they are"
                ));
                return Ok(vec![
                    output("LAMBDA_FUNCTION_ARN", f.configuration.function_arn),
                    output("LAMBDA_FUNCTION_CREATED", "false"),
                ]);
            }
            Err(e) if is_absent(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let req = request(&fname)?;
        let max_wait = lambda_scope::number_var("ROLE_PROPAGATION_MAX_WAIT_SECONDS", 60)?;
        let mut waited = 0u32;
        let mut pause = 1u32;
        let created = loop {
            match lambda::create_function(&req) {
                Ok(c) => break c,
                Err(e) if role_not_visible_yet(&e) && waited + pause <= max_wait => {
                    log::info(&format!("the role is not visible to Lambda yet; trying again in {pause} s"));
                    std::thread::sleep(Duration::from_secs(pause.into()));
                    waited += pause;
                    pause = (pause * 2).min(10);
                }
                Err(e) => return Err(e.into()),
            }
        };
        log::info(&format!("created function {fname} from the placeholder ({})", req.package_type));
        let active = lambda::wait_function_active(&fname, lambda_scope::number_var("DEPLOYMENT_MAX_WAIT_IN_SECONDS", 600)?)?;
        if active.state != lambda::FunctionState::Active {
            return Err(StepError::Failed(format!(
                "function {fname} ended {} after creation: {}",
                active.state,
                active.state_reason.unwrap_or_else(|| "no reason given".into())
            )));
        }
        Ok(vec![
            output("LAMBDA_FUNCTION_ARN", created.function_arn),
            output("LAMBDA_FUNCTION_CREATED", "true"),
        ])
    }
}

scope_step::step!(
    EnsureFunction,
    Manifest {
        name: "ensure-function",
        version: "0.1.0",
        description: "Creates the scope's function from its placeholder when absent; never rewinds an existing one",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::required("SCOPE_ID"),
            Input::optional("LAMBDA_ROLE_ARN"),
            Input::optional("PACKAGE_TYPE"),
            Input::optional("IMAGE_URI"),
            Input::optional("LAMBDA_ARCHITECTURE"),
            Input::optional("LAMBDA_MEMORY"),
            Input::optional("LAMBDA_TIMEOUT"),
            Input::optional("LAMBDA_EPHEMERAL_STORAGE"),
            Input::optional("LAMBDA_LAYERS"),
            Input::optional("VPC_ENABLED"),
            Input::optional("VPC_SUBNETS"),
            Input::optional("VPC_SECURITY_GROUPS"),
            Input::optional("RESOURCE_TAGS"),
            Input::optional("ROLE_PROPAGATION_MAX_WAIT_SECONDS"),
            Input::optional("DEPLOYMENT_MAX_WAIT_IN_SECONDS"),
        ],
        outputs: &[
            OutputDecl::plain("LAMBDA_FUNCTION_ARN"),
            OutputDecl::plain("LAMBDA_FUNCTION_CREATED")
        ],
        capabilities: &[
            Capability::new("lambda:GetFunction", lambda_scope::FUNCTION),
            Capability::new("lambda:CreateFunction", lambda_scope::FUNCTION),
            // Lambda checks that its caller may describe the subnets, security groups
            // and VPC of a VPC configuration (no resource-level permissions).
            Capability::new("ec2:DescribeSubnets", "*"),
            Capability::new("ec2:DescribeSecurityGroups", "*"),
            Capability::new("ec2:DescribeVpcs", "*"),
            Capability::new("lambda:TagResource", lambda_scope::FUNCTION),
            Capability::new("lambda:GetFunctionConfiguration", lambda_scope::FUNCTION),
            Capability::new("iam:PassRole", "arn:aws:iam::*:role/${LAMBDA_EXECUTION_ROLE_NAME}"),
            Capability::new("lambda:GetLayerVersion", "arn:aws:lambda:*:*:layer:*"),
        ],
        ..Manifest::EMPTY
    }
);
