//! Test guest: Calls every interface of the contract once, for the integration tests.
use scope_step::prelude::*;
use scope_step::{cloudwatch, context, credentials, ecr, iam, lambda, platform, providers, secrets, tagging};

struct Exercise;

fn fail(what: &str, e: scope_step::CallError) -> StepError {
    log::error(&format!("{what} failed"));
    e.into()
}

impl Step for Exercise {
    fn run() -> Result<Vec<Output>, StepError> {
        let mut out = Vec::new();
        log::debug("debug line");
        log::info("info line");
        log::warn("warn line");
        log::error("error line (not a failure)");
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let role = require_var("ROLE_ARN")?;
        let repo = require_var("REPOSITORY")?;
        let ctx = context_json();
        out.push(output("CONTEXT_HAS_SCOPE", ctx.contains("\"scope\"").to_string()));
        out.push(output("STEP_NAME", context::step_name()));
        out.push(output("VAR_COUNT", context::list_vars().len().to_string()));

        let nrn = "organization=1:account=2:namespace=3:application=4:scope=11";
        let iam_providers = providers::by_specification(nrn, "aws-iam-configuration").map_err(|e| fail("providers", e))?;
        out.push(output("IAM_PROVIDERS", iam_providers.len().to_string()));
        let by_cat = providers::by_category(
            nrn,
            &["cloud-providers".to_string()],
            &[("environment".to_string(), "development".to_string())],
        )
        .map_err(|e| fail("providers", e))?;
        out.push(output("CLOUD_PROVIDERS", by_cat.len().to_string()));

        let agent = credentials::agent_identity().map_err(|e| fail("agent identity", e))?;
        out.push(output("AGENT_ARN", agent.arn()));
        let assumed = credentials::assume_role(&role, "np-lambda-11").map_err(|e| fail("assume role", e))?;
        credentials::use_for_workflow(&assumed);
        out.push(output(
            "CURRENT_ARN",
            credentials::current_identity().map_err(|e| fail("current identity", e))?.arn(),
        ));
        out.push(output("ASSUMED_ACCOUNT", assumed.account()));

        let f = lambda::get_function(&fname, None).map_err(|e| fail("get function", e))?;
        out.push(output("ROLE", f.configuration.role.clone()));
        let before = lambda::list_versions_by_function(&fname).map_err(|e| fail("list versions", e))?;
        out.push(output(
            "VERSIONS_BEFORE",
            before.iter().map(|v| v.version.clone()).collect::<Vec<_>>().join(","),
        ));
        lambda::update_function_code(&lambda::UpdateCodeRequest {
            function_name: fname.clone(),
            code: lambda::CodeSource::Image(require_var("IMAGE_URI")?),
            architectures: None,
            revision_id: None,
        })
        .map_err(|e| fail("update code", e))?;
        let done = lambda::wait_function_updated(&fname, 60).map_err(|e| fail("wait", e))?;
        out.push(output("UPDATE_STATUS", done.last_update_status.to_string()));
        out.push(output("STATE", done.state.to_string()));
        out.push(output(
            "ARCHITECTURES",
            done.architectures.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(","),
        ));
        // Optimistic locking: a write naming a revision the function has left is
        // refused as a conflict, and nothing changes.
        let stale = lambda::update_function_configuration(&lambda::UpdateConfigurationRequest {
            function_name: fname.clone(),
            memory_size: Some(1024),
            timeout: None,
            ephemeral_storage: None,
            runtime: None,
            handler: None,
            environment: None,
            layers: None,
            vpc: None,
            description: None,
            revision_id: Some("a-revision-long-gone".into()),
        });
        out.push(output(
            "STALE_UPDATE",
            match stale {
                Err(scope_step::CallError::Cloud(c)) => format!("{}/{:?}", c.code, c.kind),
                other => format!("{other:?}"),
            },
        ));
        lambda::update_function_configuration(&lambda::UpdateConfigurationRequest {
            function_name: fname.clone(),
            memory_size: Some(512),
            timeout: None,
            ephemeral_storage: None,
            runtime: None,
            handler: None,
            environment: Some(vec![("MODE".into(), "exercise".into())]),
            layers: None,
            vpc: None,
            description: None,
            revision_id: Some(done.revision_id.clone()),
        })
        .map_err(|e| fail("update configuration", e))?;
        let cfg = lambda::wait_function_updated(&fname, 60).map_err(|e| fail("wait", e))?;
        out.push(output("MEMORY", cfg.memory_size.to_string()));
        let v = lambda::publish_version(&fname, "deploy-1", Some(&cfg.revision_id)).map_err(|e| fail("publish", e))?;
        out.push(output("PUBLISHED_VERSION", v.version.clone()));
        let a = lambda::update_alias(&fname, "main", Some(&v.version), Some(&[]), None).map_err(|e| fail("update alias", e))?;
        out.push(output("ALIAS_VERSION", a.function_version));
        let got = lambda::get_alias(&fname, "main").map_err(|e| fail("get alias", e))?;
        out.push(output("ALIAS_ROUTING", got.routing.len().to_string()));
        let created =
            lambda::create_alias(&fname, "exercise", &v.version, "made by the exercise guest", &[]).map_err(|e| fail("create alias", e))?;
        out.push(output("CREATED_ALIAS", created.name));
        let policy = lambda::get_policy(&fname, None).map_err(|e| fail("get policy", e))?;
        out.push(output("POLICY_HAS_APIGW", policy.contains("apigateway").to_string()));
        let pc = lambda::get_provisioned_concurrency_config(&fname, "main");
        out.push(output(
            "PROVISIONED",
            match pc {
                Ok(p) => p.status.to_string(),
                Err(scope_step::CallError::Cloud(c)) => c.code,
                Err(e) => return Err(e.into()),
            },
        ));
        lambda::delete_function_version(&fname, "1").map_err(|e| fail("delete version", e))?;
        let after = lambda::list_versions_by_function(&fname).map_err(|e| fail("list versions", e))?;
        out.push(output(
            "VERSIONS_AFTER",
            after.iter().map(|v| v.version.clone()).collect::<Vec<_>>().join(","),
        ));

        let r = ecr::RepositoryRef {
            registry_id: None,
            region: None,
            name: repo,
        };
        let pol = ecr::get_repository_policy(&r);
        out.push(output(
            "ECR_POLICY_BEFORE",
            match pol {
                Ok(_) => "present".into(),
                Err(scope_step::CallError::Cloud(c)) => format!("{}/{:?}", c.code, c.kind),
                Err(e) => return Err(e.into()),
            },
        ));
        ecr::set_repository_policy(&r, r#"{"Version":"2012-10-17","Statement":[{"Sid":"LambdaECRImageRetrievalPolicy","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#).map_err(|e| fail("set policy", e))?;
        out.push(output(
            "ECR_POLICY_AFTER",
            ecr::get_repository_policy(&r)
                .map_err(|e| fail("get policy", e))?
                .contains("LambdaECRImageRetrievalPolicy")
                .to_string(),
        ));
        let images = ecr::describe_images(&r, &["v1.0.0".to_string()]).map_err(|e| fail("describe images", e))?;
        out.push(output("IMAGE_DIGEST", images.first().map(|i| i.digest.clone()).unwrap_or_default()));

        let role_name = f.configuration.role.rsplit('/').next().unwrap_or_default().to_string();
        let got_role = iam::get_role(&role_name).map_err(|e| fail("get role", e))?;
        out.push(output("ROLE_NAME", got_role.role_name));

        let name = "nullplatform/11/deploy-1/parameters";
        let s = secrets::create_secret(
            name,
            "parameters of scope 11",
            "{\"DB_PASSWORD\":\"exercise-secret-value\"}",
            &[("nullplatform:scope-id".into(), "11".into())],
        )
        .map_err(|e| fail("create secret", e))?;
        out.push(output("SECRET_NAME", s.name));
        secrets::put_secret_value(name, "{\"DB_PASSWORD\":\"exercise-secret-value-2\"}").map_err(|e| fail("put secret", e))?;
        secrets::delete_secret(name, true).map_err(|e| fail("delete secret", e))?;

        let tagged = tagging::get_resources(
            &["lambda:function".to_string()],
            &[tagging::TagFilter {
                key: "nullplatform:scope-id".into(),
                values: vec!["11".into()],
            }],
        )
        .map_err(|e| fail("get resources", e))?;
        out.push(output("TAGGED", tagged.len().to_string()));

        // Handles past the step's limit are a `limit` error the step can handle,
        // not the end of the step.
        let mut held = Vec::new();
        let limit = loop {
            match credentials::current_identity() {
                Ok(h) => held.push(h),
                Err(scope_step::CallError::Limit(_)) => break held.len(),
                Err(e) => return Err(e.into()),
            }
            if held.len() > 10_000 {
                break usize::MAX;
            }
        };
        drop(held);
        out.push(output("HANDLES_BEFORE_LIMIT", limit.to_string()));

        // platform: what the step reports concerns the notification's scope.
        platform::patch_metadata(r#"{"lambda.alb_rule_priority": 7}"#).map_err(|e| fail("patch metadata", e))?;
        out.push(output(
            "PLATFORM_READ",
            platform::read_metadata("lambda").map_err(|e| fail("read metadata", e))?,
        ));
        let refused = |r: Result<(), scope_step::CallError>| match r {
            Ok(()) => "ok".to_owned(),
            Err(scope_step::CallError::InvalidInput(m)) => format!("invalid: {m}"),
            Err(scope_step::CallError::Denied(d)) => format!("denied: {}", d.action),
            Err(e) => format!("{e:?}"),
        };
        out.push(output("PLATFORM_BAD_BODY", refused(platform::patch_metadata("[1]"))));
        out.push(output("PLATFORM_BAD_DOMAIN", refused(platform::patch_scope_domain("not a domain"))));
        platform::patch_scope_domain("a.example.com").map_err(|e| fail("patch scope", e))?;
        out.push(output(
            "PLATFORM_UNDECLARED",
            refused(platform::report_check("exercise", &platform::CheckReport::Running)),
        ));
        platform::live_output("a live line").map_err(|e| fail("live output", e))?;

        // cloudwatch: a bad period is refused before anything is sent; a metric
        // with no datapoints is an empty answer.
        let query = |period| cloudwatch::MetricQuery {
            namespace: "AWS/Lambda".into(),
            metric_name: "Duration".into(),
            dimensions: vec![("FunctionName".into(), fname.clone())],
            start_time: 1_786_125_600,
            end_time: 1_786_129_200,
            period,
            statistic: cloudwatch::Statistic::Average,
        };
        out.push(output(
            "METRIC_BAD_PERIOD",
            match cloudwatch::get_metric_statistics(&query(61)) {
                Err(scope_step::CallError::InvalidInput(m)) => m,
                other => format!("{other:?}"),
            },
        ));
        let points = cloudwatch::get_metric_statistics(&query(60)).map_err(|e| fail("metric statistics", e))?;
        out.push(output("METRIC_POINTS", points.len().to_string()));
        out.push(output(
            "HANDLE_AFTER_DROP",
            credentials::current_identity().map(|h| h.arn()).unwrap_or_default(),
        ));
        Ok(out)
    }
}

const FN: &str = "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}";
const FN_Q: &str = "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}:*";
scope_step::step!(
    Exercise,
    Manifest {
        name: "exercise",
        version: "0.1.0",
        description: "Calls every interface once",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::required("ROLE_ARN"),
            Input::required("REPOSITORY"),
            Input::required("IMAGE_URI")
        ],
        outputs: &[OutputDecl::plain("PUBLISHED_VERSION"), OutputDecl::plain("ALIAS_VERSION")],
        capabilities: &[
            Capability::new("sts:AssumeRole", "${ROLE_ARN}"),
            Capability::new("lambda:Get*", FN),
            Capability::new("lambda:Get*", FN_Q),
            Capability::new("lambda:ListVersionsByFunction", FN),
            Capability::new("lambda:UpdateFunctionCode", FN),
            Capability::new("lambda:UpdateFunctionConfiguration", FN),
            Capability::new("lambda:PublishVersion", FN),
            Capability::new("lambda:UpdateAlias", FN),
            Capability::new("lambda:CreateAlias", FN),
            Capability::new("lambda:DeleteFunction", FN_Q),
            Capability::new("ecr:*", "arn:aws:ecr:*:*:repository/${REPOSITORY}"),
            Capability::new("iam:GetRole", "*"),
            Capability::new("secretsmanager:*", "arn:aws:secretsmanager:*:*:secret:nullplatform/*"),
            Capability::new("tag:GetResources", "*"),
            Capability::new("cloudwatch:GetMetricStatistics", "*"),
            // Not ReportCheck: the test shows it denied.
            Capability::new("platform:PatchMetadata", "organization=1:*"),
            Capability::new("platform:ReadMetadata", "organization=1:*"),
            Capability::new("platform:PatchScope", "organization=1:*"),
        ],
        ..Manifest::EMPTY
    }
);
