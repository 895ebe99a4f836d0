//! Lambda in the sim, the lifecycle of a function: creating it (Pending, then
//! Active on the next read), deleting it, reserved and provisioned concurrency,
//! aliases going away, and invoking it. The sim runs no code: Invoke answers what
//! the function's fixture says (`invoke_response`, `invoke_error`).

use super::errors::{Api, Fault};
use super::lambda::{
    check_architectures, check_function_name, check_limits, function_arn, image_code_sha256, parse_version_number, Target, CONFLICT,
    INVALID, LATEST,
};
use super::state::{sha256_hex, Function, Provisioned, Settings, State, Version};
use crate::cloud::{CallCtx, CreateFunction, FunctionCode, FunctionConfiguration, Invocation, PackageType, ProvisionedConcurrency};
use std::collections::{BTreeMap, VecDeque};

/// What the account may reserve in total: its concurrency limit less the 100
/// executions Lambda keeps unreserved.
const RESERVABLE: u32 = 1000 - 100;

fn provisioned_not_found() -> Fault {
    Fault::new(
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    )
}

impl State {
    /// Whether Lambda may assume `role_arn`: a role of the sim whose trust policy
    /// names the Lambda service. A role the sim does not hold is refused as Lambda
    /// refuses one IAM has not made visible yet.
    fn lambda_can_assume(&self, role_arn: &str) -> bool {
        let Some(rest) = role_arn.strip_prefix("arn:aws:iam::") else {
            return false;
        };
        let Some((account, path_name)) = rest.split_once(":role/") else {
            return false;
        };
        let name = path_name.rsplit('/').next().unwrap_or(path_name);
        let Some(role) = self.roles.get(&(account.to_string(), name.to_string())) else {
            return false;
        };
        role.trust_policy.to_string().contains("lambda.amazonaws.com")
    }

    /// An image URI Lambda would accept: a private ECR image that exists, when the
    /// sim holds its repository. Lambda takes no image from public ECR.
    fn check_image(&self, uri: &str) -> Result<(), Fault> {
        if uri.starts_with("public.ecr.aws/") {
            return Err(Fault::new(
                INVALID,
                format!("Source image {uri} is not valid. Provide a valid source image: Lambda supports only images in a private Amazon ECR repository."),
            ));
        }
        let missing = || Fault::new(INVALID, format!("Source image {uri} does not exist. Provide a valid source image."));
        let Some((registry, region, repository, reference)) = parse_ecr_uri(uri) else {
            return Err(Fault::new(
                INVALID,
                format!("Source image {uri} is not valid. Provide a valid source image."),
            ));
        };
        let Some(repo) = self.repositories.get(&(registry, region, repository)) else {
            return Err(missing());
        };
        let found = repo.images.iter().any(|i| i.digest == reference || i.tags.contains(&reference));
        if found {
            Ok(())
        } else {
            Err(missing())
        }
    }

    pub(super) fn lambda_create_function(&mut self, ctx: &CallCtx, api: Api, req: &CreateFunction) -> Result<FunctionConfiguration, Fault> {
        check_function_name(&req.function_name)?;
        let arn = function_arn(&ctx.region, &self.account_id, &req.function_name);
        self.authorize(ctx, api, &arn)?;
        self.authorize_action(ctx, api, "iam:PassRole", &req.role)?;
        if !req.tags.is_empty() {
            self.authorize_action(ctx, api, &api.action_named("TagResource"), &arn)?;
        }
        let key = (ctx.region.clone(), req.function_name.clone());
        if self.functions.contains_key(&key) {
            return Err(Fault::new(CONFLICT, format!("Function already exist: {}", req.function_name)));
        }
        check_limits(req.memory_size, req.timeout, req.ephemeral_storage)?;
        let architectures = if req.architectures.is_empty() {
            vec!["x86_64".to_string()]
        } else {
            req.architectures.clone()
        };
        check_architectures(&architectures)?;
        if !self.lambda_can_assume(&req.role) {
            return Err(Fault::new(
                INVALID,
                "The role defined for the function cannot be assumed by Lambda.",
            ));
        }
        let (image_uri, s3, code_sha256) = match (&req.code, req.package_type) {
            (FunctionCode::Image(uri), PackageType::Image) => {
                self.check_image(uri)?;
                (Some(uri.clone()), None, image_code_sha256(uri))
            }
            (FunctionCode::ZipFile(bytes), PackageType::Zip) => (None, None, sha256_hex(&hex::encode(bytes))),
            (FunctionCode::S3(loc), PackageType::Zip) => {
                let object = self.s3_objects.get(&(loc.bucket.clone(), loc.key.clone())).ok_or_else(|| {
                    Fault::new(
                        INVALID,
                        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
                    )
                })?;
                let version_or_etag = loc.object_version.clone().unwrap_or_else(|| object.etag.clone());
                let sha = super::lambda::zip_code_sha256(&loc.bucket, &loc.key, &version_or_etag);
                (None, Some((loc.bucket.clone(), loc.key.clone())), sha)
            }
            (_, PackageType::Image) => {
                return Err(Fault::new(
                    INVALID,
                    "Please provide ImageUri when creating a function with packageType Image.",
                ))
            }
            (_, PackageType::Zip) => {
                return Err(Fault::new(
                    INVALID,
                    "Please don't provide ImageUri when creating a function with packageType Zip.",
                ))
            }
        };
        match req.package_type {
            PackageType::Zip if req.runtime.is_none() || req.handler.is_none() => {
                return Err(Fault::new(
                    INVALID,
                    "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
                ));
            }
            PackageType::Image if req.runtime.is_some() || req.handler.is_some() => {
                return Err(Fault::new(
                    INVALID,
                    "Please don't provide Handler or Runtime when the intended function PackageType is Image.",
                ));
            }
            _ => {}
        }
        let settings = Settings {
            package_type: req.package_type,
            image_uri,
            s3_bucket: s3.as_ref().map(|(b, _)| b.clone()),
            s3_key: s3.map(|(_, k)| k),
            code_sha256,
            runtime: req.runtime.clone(),
            handler: req.handler.clone(),
            role: req.role.clone(),
            memory_size: req.memory_size.unwrap_or(128),
            timeout: req.timeout.unwrap_or(3),
            ephemeral_storage: req.ephemeral_storage.unwrap_or(512),
            architectures,
            environment: req.environment.iter().cloned().collect(),
            layers: req.layers.clone(),
            subnet_ids: req.vpc.as_ref().map(|v| v.subnet_ids.clone()).unwrap_or_default(),
            security_group_ids: req.vpc.as_ref().map(|v| v.security_group_ids.clone()).unwrap_or_default(),
        };
        let revision_id = self.next_revision_id();
        let mut function = Function {
            name: req.function_name.clone(),
            region: ctx.region.clone(),
            arn,
            settings,
            description: req.description.clone(),
            state: "Pending".to_string(),
            state_reason: Some("The function is being created.".to_string()),
            last_update_status: "Successful".to_string(),
            last_update_status_reason: None,
            revision_id,
            tags: req.tags.iter().cloned().collect(),
            reserved_concurrency: None,
            versions: BTreeMap::new(),
            highest_version: 0,
            aliases: BTreeMap::new(),
            policy: None,
            provisioned: BTreeMap::new(),
            current_update: None,
            next_updates: VecDeque::new(),
            activating: true,
            invoke_response: None,
            invoke_error: None,
        };
        if req.publish {
            let version_revision = self.next_revision_id();
            function.highest_version = 1;
            function.versions.insert(
                1,
                Version {
                    settings: function.settings.clone(),
                    description: function.description.clone(),
                    revision_id: version_revision,
                },
            );
        }
        let answer = function.configuration(None, Target::Latest);
        self.functions.insert(key, function);
        Ok(answer)
    }

    pub(super) fn lambda_put_function_concurrency(&mut self, ctx: &CallCtx, api: Api, name: &str, reserved: u32) -> Result<(), Fault> {
        let fref = self.function_ref(ctx, name, None)?.unqualified(name)?;
        self.authorize(ctx, api, &fref.arn)?;
        self.function(&fref)?;
        let others: u32 = self
            .functions
            .iter()
            .filter(|(k, _)| **k != fref.key)
            .filter_map(|(_, f)| f.reserved_concurrency)
            .sum();
        if others.saturating_add(reserved) > RESERVABLE {
            return Err(Fault::new(
                INVALID,
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
            ));
        }
        self.function(&fref)?.reserved_concurrency = Some(reserved);
        Ok(())
    }

    pub(super) fn lambda_delete_function_concurrency(&mut self, ctx: &CallCtx, api: Api, name: &str) -> Result<(), Fault> {
        let fref = self.function_ref(ctx, name, None)?.unqualified(name)?;
        self.authorize(ctx, api, &fref.arn)?;
        self.function(&fref)?.reserved_concurrency = None;
        Ok(())
    }

    pub(super) fn lambda_put_provisioned(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        qualifier: &str,
        requested: u32,
    ) -> Result<ProvisionedConcurrency, Fault> {
        let fref = self.function_ref(ctx, name, Some(qualifier))?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let f = self.function(&fref)?;
        let q = fref.qualifier.clone().unwrap_or_default();
        if q == LATEST {
            return Err(Fault::new(
                INVALID,
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
            ));
        }
        let exists = f.aliases.contains_key(&q) || parse_version_number(&q).is_some_and(|n| f.versions.contains_key(&n));
        if !exists {
            return Err(fref.not_found());
        }
        if requested == 0 {
            return Err(Fault::new(
                "ValidationException",
                "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ));
        }
        // Allocation takes a while: the next read shows it still IN_PROGRESS, then READY.
        let config = Provisioned {
            requested,
            script: VecDeque::from(["IN_PROGRESS".to_string(), "IN_PROGRESS".to_string(), "READY".to_string()]),
            status_reason: None,
        };
        f.provisioned.insert(q, config);
        Ok(ProvisionedConcurrency {
            requested,
            allocated: 0,
            available: 0,
            status: "IN_PROGRESS".to_string(),
            status_reason: None,
        })
    }

    pub(super) fn lambda_delete_provisioned(&mut self, ctx: &CallCtx, api: Api, name: &str, qualifier: &str) -> Result<(), Fault> {
        let fref = self.function_ref(ctx, name, Some(qualifier))?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let f = self.function(&fref)?;
        let q = fref.qualifier.clone().unwrap_or_default();
        f.provisioned.remove(&q).map(|_| ()).ok_or_else(provisioned_not_found)
    }

    /// DeleteAlias: an alias that is not there is already deleted.
    pub(super) fn lambda_delete_alias(&mut self, ctx: &CallCtx, api: Api, name: &str, alias: &str) -> Result<(), Fault> {
        let fref = self.function_ref(ctx, name, None)?.unqualified(name)?;
        self.authorize(ctx, api, &fref.arn)?;
        super::lambda::check_alias_name(alias)?;
        let f = self.function(&fref)?;
        f.aliases.remove(alias);
        f.provisioned.remove(alias);
        Ok(())
    }

    pub(super) fn lambda_invoke(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> Result<Invocation, Fault> {
        let fref = self.function_ref(ctx, name, qualifier)?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        if !payload.is_empty() && serde_json::from_slice::<serde_json::Value>(payload).is_err() {
            return Err(Fault::new(
                "InvalidRequestContentException",
                "Could not parse request body into json: Could not parse payload into json",
            ));
        }
        let f = self.function(&fref)?;
        if f.state == "Pending" {
            return Err(Fault::new(
                CONFLICT,
                "The operation cannot be performed at this time. The function is currently in the following state: Pending",
            ));
        }
        let target = f.resolve(fref.qualifier.as_deref()).ok_or_else(|| fref.not_found())?;
        let executed_version = match target {
            Target::Latest => LATEST.to_string(),
            Target::Version(n) => n.to_string(),
        };
        let response = f.invoke_response.clone().unwrap_or(serde_json::Value::Null);
        Ok(Invocation {
            status_code: 200,
            function_error: f.invoke_error.clone(),
            payload: response.to_string().into_bytes(),
            executed_version: Some(executed_version),
        })
    }
}

impl State {
    pub(super) fn lambda_add_permission(&mut self, ctx: &CallCtx, api: Api, req: &crate::cloud::AddPermission) -> Result<(), Fault> {
        let fref = self.function_ref(ctx, &req.function_name, req.qualifier.as_deref())?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let resource = fref.qualified_arn();
        let f = self.function(&fref)?;
        f.resolve(fref.qualifier.as_deref()).ok_or_else(|| fref.not_found())?;
        let policy = f
            .policy
            .get_or_insert_with(|| serde_json::json!({"Version": "2012-10-17", "Id": "default", "Statement": []}));
        let statements = policy["Statement"]
            .as_array_mut()
            .ok_or_else(|| Fault::new(INVALID, "the function's policy has no Statement list"))?;
        if statements.iter().any(|s| s["Sid"] == req.statement_id.as_str()) {
            return Err(Fault::new(
                CONFLICT,
                format!(
                    "The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.",
                    req.statement_id
                ),
            ));
        }
        let principal = if req.principal.contains('.') {
            serde_json::json!({"Service": req.principal})
        } else {
            serde_json::json!({"AWS": req.principal})
        };
        let mut statement = serde_json::json!({"Sid": req.statement_id, "Effect": "Allow", "Principal": principal,
            "Action": req.action, "Resource": resource});
        if let Some(source) = &req.source_arn {
            statement["Condition"] = serde_json::json!({"ArnLike": {"AWS:SourceArn": source}});
        }
        statements.push(statement);
        Ok(())
    }

    pub(super) fn lambda_remove_permission(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        qualifier: Option<&str>,
        sid: &str,
    ) -> Result<(), Fault> {
        let fref = self.function_ref(ctx, name, qualifier)?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let f = self.function(&fref)?;
        let missing = || {
            Fault::new(
                super::lambda::NOT_FOUND,
                format!("Statement {sid} is not found in resource policy."),
            )
        };
        let statements = f.policy.as_mut().and_then(|p| p["Statement"].as_array_mut()).ok_or_else(missing)?;
        let before = statements.len();
        statements.retain(|s| s["Sid"] != sid);
        if statements.len() == before {
            return Err(missing());
        }
        if statements.is_empty() {
            f.policy = None;
        }
        Ok(())
    }
}

/// `<registry>.dkr.ecr.<region>.amazonaws.com/<repository>(:<tag>|@<digest>)`:
/// (registry, region, repository, tag or digest); no tag means `latest`.
fn parse_ecr_uri(uri: &str) -> Option<(String, String, String, String)> {
    let (host, path) = uri.split_once('/')?;
    let mut parts = host.split('.');
    let registry = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let (repository, reference) = match path.split_once('@') {
        Some((repo, digest)) => (repo, digest.to_string()),
        None => match path.rsplit_once(':') {
            Some((repo, tag)) => (repo, tag.to_string()),
            None => (path, "latest".to_string()),
        },
    };
    Some((registry.to_string(), region.to_string(), repository.to_string(), reference))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, err, ok, sim};
    use super::*;
    use crate::cloud::{LambdaApi, VpcConfig};
    use serde_json::json;

    const ROLE: &str = "arn:aws:iam::123456789012:role/np-lambda-11-role";
    const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:v1";

    fn fixture() -> serde_json::Value {
        json!({
            "iam": {"roles": [
                {"name": "np-lambda-11-role", "assume_role_policy_document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}},
                {"name": "not-for-lambda"}
            ]},
            "ecr": {"repositories": [{"name": "placeholder", "images": [{"digest": format!("sha256:{}", "1".repeat(64)), "tags": ["v1"]}]}]}
        })
    }

    fn zip(name: &str) -> CreateFunction {
        CreateFunction {
            function_name: name.to_string(),
            role: ROLE.to_string(),
            package_type: PackageType::Zip,
            code: FunctionCode::ZipFile(b"PK\x05\x06".to_vec()),
            runtime: Some("nodejs22.x".into()),
            handler: Some("index.handler".into()),
            architectures: vec!["arm64".into()],
            memory_size: Some(256),
            timeout: Some(30),
            ephemeral_storage: None,
            environment: vec![("NP_SCOPE_ID".into(), "11".into())],
            layers: vec![],
            vpc: None,
            description: String::new(),
            publish: true,
            tags: vec![("nullplatform:scope-id".into(), "11".into())],
        }
    }

    #[tokio::test]
    async fn a_created_function_is_pending_then_active_with_version_one() {
        let cloud = sim(fixture());
        let ctx = agent(&cloud).await;
        let created = ok(cloud.create_function(&ctx, &zip("f")).await);
        assert_eq!(created.state, "Pending");
        assert_eq!(created.memory_size, 256);
        let read = ok(cloud.get_function_configuration(&ctx, "f", None).await);
        assert_eq!(read.state, "Active");
        let versions = ok(cloud.list_versions_by_function(&ctx, "f").await);
        assert_eq!(versions.iter().map(|v| v.version.as_str()).collect::<Vec<_>>(), ["$LATEST", "1"]);
        assert_eq!(err(cloud.create_function(&ctx, &zip("f")).await).code, "ResourceConflictException");
    }

    #[tokio::test]
    async fn create_checks_the_role_the_code_and_the_settings_as_lambda_does() {
        let cloud = sim(fixture());
        let ctx = agent(&cloud).await;
        let cases: Vec<(CreateFunction, &str)> = vec![
            (
                CreateFunction {
                    role: "arn:aws:iam::123456789012:role/not-for-lambda".into(),
                    ..zip("a")
                },
                "cannot be assumed by Lambda",
            ),
            (
                CreateFunction {
                    role: "arn:aws:iam::123456789012:role/absent".into(),
                    ..zip("a")
                },
                "cannot be assumed by Lambda",
            ),
            (CreateFunction { runtime: None, ..zip("a") }, "Runtime and Handler are mandatory"),
            (
                CreateFunction {
                    architectures: vec!["mips".into()],
                    ..zip("a")
                },
                "Architectures",
            ),
            (
                CreateFunction {
                    memory_size: Some(64),
                    ..zip("a")
                },
                "MemorySize 64",
            ),
            (
                CreateFunction {
                    package_type: PackageType::Image,
                    code: FunctionCode::Image("public.ecr.aws/nullplatform/placeholder:latest".into()),
                    runtime: None,
                    handler: None,
                    ..zip("a")
                },
                "only images in a private Amazon ECR repository",
            ),
            (
                CreateFunction {
                    package_type: PackageType::Image,
                    code: FunctionCode::Image("123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:v2".into()),
                    runtime: None,
                    handler: None,
                    ..zip("a")
                },
                "does not exist",
            ),
        ];
        for (req, expected) in cases {
            let e = err(cloud.create_function(&ctx, &req).await);
            assert!(e.message.contains(expected), "{expected}: {e}");
        }
        assert_eq!(
            err(cloud.get_function(&ctx, "a", None).await).code,
            "ResourceNotFoundException",
            "nothing half-made"
        );
        let image = CreateFunction {
            package_type: PackageType::Image,
            code: FunctionCode::Image(IMAGE.into()),
            runtime: None,
            handler: None,
            vpc: Some(VpcConfig {
                subnet_ids: vec!["subnet-1".into()],
                security_group_ids: vec!["sg-1".into()],
            }),
            ..zip("img")
        };
        let created = ok(cloud.create_function(&ctx, &image).await);
        assert_eq!(created.image_uri.as_deref(), Some(IMAGE));
        assert_eq!(created.subnet_ids, ["subnet-1"]);
    }

    #[tokio::test]
    async fn concurrency_aliases_invoke_and_delete() {
        let cloud = sim(fixture());
        let ctx = agent(&cloud).await;
        ok(cloud.create_function(&ctx, &zip("f")).await);
        let busy = err(cloud.invoke(&ctx, "f", None, b"{}").await);
        assert_eq!(busy.code, "ResourceConflictException", "still Pending");
        ok(cloud.get_function_configuration(&ctx, "f", None).await);

        ok(cloud.put_function_concurrency(&ctx, "f", 5).await);
        assert_eq!(ok(cloud.get_function(&ctx, "f", None).await).reserved_concurrency, Some(5));
        assert!(err(cloud.put_function_concurrency(&ctx, "f", 901).await).message.contains("[100]"));
        ok(cloud.delete_function_concurrency(&ctx, "f").await);
        ok(cloud.delete_function_concurrency(&ctx, "f").await);
        assert_eq!(ok(cloud.get_function(&ctx, "f", None).await).reserved_concurrency, None);

        ok(cloud
            .create_alias(
                &ctx,
                &crate::cloud::CreateAlias {
                    function_name: "f".into(),
                    alias_name: "main".into(),
                    function_version: "1".into(),
                    description: String::new(),
                    routing: vec![],
                },
            )
            .await);
        assert!(err(cloud.put_provisioned_concurrency_config(&ctx, "f", "$LATEST", 2).await)
            .message
            .contains("unpublished"));
        let pc = ok(cloud.put_provisioned_concurrency_config(&ctx, "f", "main", 2).await);
        assert_eq!(pc.status, "IN_PROGRESS");
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(ok(cloud.get_provisioned_concurrency_config(&ctx, "f", "main").await).status);
        }
        assert_eq!(statuses.last().map(String::as_str), Some("READY"));

        let answer = ok(cloud.invoke(&ctx, "f", Some("main"), b"{\"ping\":1}").await);
        assert_eq!(answer.status_code, 200);
        assert_eq!(answer.executed_version.as_deref(), Some("1"));
        assert_eq!(
            err(cloud.invoke(&ctx, "f", None, b"not json").await).code,
            "InvalidRequestContentException"
        );

        ok(cloud.delete_provisioned_concurrency_config(&ctx, "f", "main").await);
        assert_eq!(
            err(cloud.delete_provisioned_concurrency_config(&ctx, "f", "main").await).code,
            "ProvisionedConcurrencyConfigNotFoundException"
        );
        ok(cloud.delete_alias(&ctx, "f", "main").await);
        ok(cloud.delete_alias(&ctx, "f", "main").await);
        ok(cloud.delete_function(&ctx, "f", None).await);
        assert_eq!(err(cloud.delete_function(&ctx, "f", None).await).code, "ResourceNotFoundException");
    }

    #[test]
    fn ecr_uris_parse_with_tag_digest_or_neither() {
        let p = |u: &str| parse_ecr_uri(u).map(|(a, b, c, d)| format!("{a}|{b}|{c}|{d}"));
        assert_eq!(p(IMAGE).unwrap(), "123456789012|us-east-1|placeholder|v1");
        assert_eq!(
            p("1.dkr.ecr.eu-west-1.amazonaws.com/a/b@sha256:ff").unwrap(),
            "1|eu-west-1|a/b|sha256:ff"
        );
        assert_eq!(p("1.dkr.ecr.eu-west-1.amazonaws.com/a").unwrap(), "1|eu-west-1|a|latest");
        assert!(p("docker.io/library/node:22").is_none());
    }
}
