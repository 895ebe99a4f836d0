//! `lambda`: AWS Lambda operations on functions, versions and aliases.

use super::view::CapsCtx;
use super::Answer;
use super::{arn, need, Op, StepHost};
use crate::bindings::lambda as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;
use crate::cloud::{CallCtx, Cloud, CloudResult};
use convert::{check_routing, from_wit_routing, to_wit_alias, to_wit_config, to_wit_provisioned, to_wit_version};

pub mod convert;
pub use convert::closed;
use std::time::{Duration, Instant};

const fn op(operation: &'static str) -> Op {
    Op {
        service: "lambda",
        operation,
    }
}

/// The nominal interval of the update waiter (AWS's own waiter uses 5 s too).
const WAIT_INTERVAL: Duration = Duration::from_secs(5);

impl StepHost {
    /// Parses the function (and qualifier) argument into the resource ARN the
    /// grant check matches.
    fn function_resource(&mut self, o: Op, name: &str, qualifier: Option<&str>) -> Result<(arn::FunctionRef, String), CallError> {
        let parsed = arn::parse_function(name).and_then(|f| qualifier.map_or(Ok(()), arn::check_qualifier).map(|_| f));
        match parsed {
            Ok(f) => {
                let resource = arn::function_arn(&f, self.region(), self.account(), qualifier);
                Ok((f, resource))
            }
            Err(e) => Err(self.invalid(o, name, e.to_string())),
        }
    }

    /// The resource of an alias operation. IAM authorizes GetAlias, CreateAlias and
    /// UpdateAlias on the unqualified function ARN (the alias is a request field), so
    /// the grant is checked there too: a session policy built from the grant then
    /// allows what the host allows. The alias name is still checked here.
    fn alias_resource(&mut self, o: Op, name: &str, alias: &str) -> Result<(arn::FunctionRef, String), CallError> {
        if let Err(e) = arn::check_qualifier(alias) {
            return Err(self.invalid(o, name, e.to_string()));
        }
        self.function_resource(o, name, None)
    }

    /// A package in S3, checked, and the `s3:GetObject` on it that Lambda checks
    /// the caller for (it reads the object with the caller's permissions).
    fn s3_code(
        &mut self,
        o: Op,
        resource: &str,
        s3: wit::S3Location,
        needs: &mut Vec<(String, String)>,
    ) -> Result<m::S3Location, CallError> {
        if s3.bucket.is_empty() || s3.key.is_empty() {
            return Err(self.invalid(o, resource, "an S3 code source needs a bucket and a key".into()));
        }
        needs.push(("s3:GetObject".into(), arn::s3_object_arn(&s3.bucket, &s3.key)));
        Ok(m::S3Location {
            bucket: s3.bucket,
            key: s3.key,
            object_version: s3.object_version,
        })
    }

    /// A container image URI, checked.
    fn image_code(&mut self, o: Op, resource: &str, uri: String) -> Result<String, CallError> {
        if uri.is_empty() || uri.contains(char::is_whitespace) {
            return Err(self.invalid(o, resource, format!("`{uri}` is not an image URI")));
        }
        Ok(uri)
    }
}

impl StepHost {
    /// A host-side waiter: calls `poll` every `interval` (already authorized) until
    /// `is_final` accepts an answer, or `max_wait` would pass: then `Ok(None)`. Time
    /// is counted in intervals waited as well as on the wall clock, because the
    /// simulated cloud's pause costs nothing; against AWS the two agree.
    async fn poll_until<T, F, Fut>(
        &mut self,
        op: Op,
        resource: &str,
        interval: Duration,
        max_wait: Duration,
        mut poll: F,
        mut is_final: impl FnMut(&mut StepHost, &T) -> bool,
    ) -> Result<Option<T>, CallError>
    where
        F: FnMut(Cloud, CallCtx) -> Fut,
        Fut: std::future::Future<Output = CloudResult<T>>,
    {
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        loop {
            let answer = self.send(op, resource, &mut poll).await?;
            if is_final(self, &answer) {
                return Ok(Some(answer));
            }
            if waited.max(started.elapsed()) + interval > max_wait {
                return Ok(None);
            }
            // A stopped run stops waiting; the error reaches the guest, which ends
            // at its next tick.
            let cancel = self.env.cancel.clone();
            tokio::select! {
                () = self.env.cloud.pause(interval) => {}
                why = cancel.wait() => {
                    return Err(CallError::Limit(format!("the run was {} while waiting", why.describe())));
                }
            }
            waited += interval;
        }
    }
}

/// What a step sees in place of each environment value of a function it reads.
pub const ENV_VALUE_MASK: &str = "[REDACTED:environment value]";

impl StepHost {
    /// A host-side waiter on `$LATEST`'s configuration: polls until `done` accepts
    /// it, or answers `limit` with `why` (its `{}` is the wait in seconds).
    async fn wait_configuration(
        &mut self,
        function_name: String,
        max_wait_seconds: u32,
        done: fn(&m::FunctionConfiguration) -> bool,
        why: &str,
    ) -> Answer<wit::FunctionConfiguration> {
        const OP: Op = op("GetFunctionConfiguration");
        let (_, resource) = try_call!(self.function_resource(OP, &function_name, None));
        try_call!(self.authorize(OP, &[need(OP, resource.clone())]));
        let max_wait = Duration::from_secs(max_wait_seconds.into());
        let poll = |c: Cloud, ctx: CallCtx| {
            let name = function_name.clone();
            async move { c.lambda.get_function_configuration(&ctx, &name, None).await }
        };
        match try_call!(self.poll_until(OP, &resource, WAIT_INTERVAL, max_wait, poll, |_, c| done(c)).await) {
            Some(c) => Ok(Ok(to_wit_config(c))),
            None => Ok(Err(CallError::Limit(format!(
                "function `{function_name}` {}",
                why.replace("{}", &max_wait_seconds.to_string())
            )))),
        }
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn get_function(&mut self, function_name: String, qualifier: Option<String>) -> Answer<wit::FunctionInfo> {
        const OP: Op = op("GetFunction");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, qualifier.as_deref()));
        let info = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda.get_function(&ctx, &function_name, qualifier.as_deref()).await
            })
            .await;
        Ok(info.map(|i| wit::FunctionInfo {
            configuration: to_wit_config(i.configuration),
            tags: i.tags,
            reserved_concurrency: i.reserved_concurrency,
        }))
    }

    async fn get_function_configuration(&mut self, function_name: String, qualifier: Option<String>) -> Answer<wit::FunctionConfiguration> {
        const OP: Op = op("GetFunctionConfiguration");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, qualifier.as_deref()));
        let c = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda
                    .get_function_configuration(&ctx, &function_name, qualifier.as_deref())
                    .await
            })
            .await;
        Ok(c.map(to_wit_config))
    }

    async fn list_versions_by_function(&mut self, function_name: String) -> Answer<Vec<wit::VersionInfo>> {
        const OP: Op = op("ListVersionsByFunction");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, None));
        let v = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda.list_versions_by_function(&ctx, &function_name).await
            })
            .await;
        Ok(v.map(|v| v.into_iter().map(to_wit_version).collect()))
    }

    async fn update_function_code(&mut self, request: wit::UpdateCodeRequest) -> Answer<wit::FunctionConfiguration> {
        const OP: Op = op("UpdateFunctionCode");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &request.function_name, None));
        let mut needs = vec![need(OP, resource.clone())];
        let code = match request.code {
            wit::CodeSource::S3(s3) => m::CodeSource::S3(try_call!(h.s3_code(OP, &resource, s3, &mut needs))),
            wit::CodeSource::Image(uri) => m::CodeSource::Image(try_call!(h.image_code(OP, &resource, uri))),
        };
        let req = m::UpdateCode {
            function_name: request.function_name,
            code,
            architectures: request
                .architectures
                .map(|a| a.into_iter().map(closed::architecture_name).collect()),
            revision_id: request.revision_id,
        };
        let c = h
            .checked(OP, &needs, |c, ctx| async move { c.lambda.update_function_code(&ctx, &req).await })
            .await;
        Ok(c.map(to_wit_config))
    }

    async fn update_function_configuration(&mut self, request: wit::UpdateConfigurationRequest) -> Answer<wit::FunctionConfiguration> {
        const OP: Op = op("UpdateFunctionConfiguration");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &request.function_name, None));
        // A step that read a configuration back saw masks where the values were:
        // writing a mask would replace a real value (a secret) with the mask.
        if let Some((name, _)) = request.environment.iter().flatten().find(|(_, v)| v == ENV_VALUE_MASK) {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!(
                    "environment variable {name} is set to the mask the host shows in place of values; give its real value (e.g. from a variable) or leave it out"
                ),
            )));
        }
        let mut needs = vec![need(OP, resource)];
        if request.layers.as_ref().is_some_and(|l| !l.is_empty()) {
            for layer in request.layers.iter().flatten() {
                needs.push(("lambda:GetLayerVersion".into(), layer.clone()));
            }
        }
        let req = m::UpdateConfiguration {
            function_name: request.function_name,
            memory_size: request.memory_size,
            timeout: request.timeout,
            ephemeral_storage: request.ephemeral_storage,
            runtime: request.runtime,
            handler: request.handler,
            environment: request.environment,
            layers: request.layers,
            vpc: request.vpc.map(|v| m::VpcConfig {
                subnet_ids: v.subnet_ids,
                security_group_ids: v.security_group_ids,
            }),
            description: request.description,
            revision_id: request.revision_id,
        };
        let c = h
            .checked(OP, &needs, |c, ctx| async move {
                c.lambda.update_function_configuration(&ctx, &req).await
            })
            .await;
        Ok(c.map(to_wit_config))
    }

    async fn wait_function_updated(&mut self, function_name: String, max_wait_seconds: u32) -> Answer<wit::FunctionConfiguration> {
        let why = "was still updating (LastUpdateStatus InProgress) after {} s; raise the wait (DEPLOYMENT_MAX_WAIT_IN_SECONDS) or look at the function in the console";
        self.host
            .wait_configuration(function_name, max_wait_seconds, |c| c.last_update_status != "InProgress", why)
            .await
    }

    async fn publish_version(
        &mut self,
        function_name: String,
        description: String,
        revision_id: Option<String>,
    ) -> Answer<wit::VersionInfo> {
        const OP: Op = op("PublishVersion");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, None));
        let v = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda
                    .publish_version(&ctx, &function_name, &description, revision_id.as_deref())
                    .await
            })
            .await;
        Ok(v.map(to_wit_version))
    }

    async fn delete_function_version(&mut self, function_name: String, version: String) -> Answer<()> {
        const OP: Op = op("DeleteFunction");
        let h = &mut *self.host;
        if version == "$LATEST" || version.is_empty() || !version.chars().all(|c| c.is_ascii_digit()) {
            return Ok(Err(h.invalid(
                OP,
                &function_name,
                format!("`{version}` is not a published version number; deleting `$LATEST` or a whole function is not offered"),
            )));
        }
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, Some(&version)));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda.delete_function(&ctx, &function_name, Some(&version)).await
        })
        .await)
    }

    async fn get_alias(&mut self, function_name: String, alias_name: String) -> Answer<wit::Alias> {
        const OP: Op = op("GetAlias");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.alias_resource(OP, &function_name, &alias_name));
        let a = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda.get_alias(&ctx, &function_name, &alias_name).await
            })
            .await;
        Ok(a.map(to_wit_alias))
    }

    async fn create_alias(
        &mut self,
        function_name: String,
        alias_name: String,
        function_version: String,
        description: String,
        routing: Vec<wit::VersionWeight>,
    ) -> Answer<wit::Alias> {
        const OP: Op = op("CreateAlias");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.alias_resource(OP, &function_name, &alias_name));
        if let Err(m) = check_routing(&routing) {
            return Ok(Err(h.invalid(OP, &resource, m)));
        }
        let req = m::CreateAlias {
            function_name,
            alias_name,
            function_version,
            description,
            routing: from_wit_routing(routing),
        };
        let a = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda.create_alias(&ctx, &req).await
            })
            .await;
        Ok(a.map(to_wit_alias))
    }

    async fn update_alias(
        &mut self,
        function_name: String,
        alias_name: String,
        function_version: Option<String>,
        routing: Option<Vec<wit::VersionWeight>>,
        revision_id: Option<String>,
    ) -> Answer<wit::Alias> {
        const OP: Op = op("UpdateAlias");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.alias_resource(OP, &function_name, &alias_name));
        if let Err(m) = routing.as_deref().map_or(Ok(()), check_routing) {
            return Ok(Err(h.invalid(OP, &resource, m)));
        }
        let req = m::UpdateAlias {
            function_name,
            alias_name,
            function_version,
            routing: routing.map(from_wit_routing),
            revision_id,
        };
        let a = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda.update_alias(&ctx, &req).await
            })
            .await;
        Ok(a.map(to_wit_alias))
    }

    async fn get_policy(&mut self, function_name: String, qualifier: Option<String>) -> Answer<String> {
        const OP: Op = op("GetPolicy");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, qualifier.as_deref()));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda.get_policy(&ctx, &function_name, qualifier.as_deref()).await
        })
        .await)
    }

    async fn wait_provisioned_concurrency(
        &mut self,
        function_name: String,
        qualifier: String,
        poll_seconds: u32,
        max_wait_seconds: u32,
    ) -> Answer<wit::ProvisionedConcurrency> {
        const OP: Op = op("GetProvisionedConcurrencyConfig");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, Some(&qualifier)));
        try_call!(h.authorize(OP, &[need(OP, resource.clone())]));
        let interval = Duration::from_secs(poll_seconds.max(1).into());
        let max_wait = Duration::from_secs(max_wait_seconds.into());
        let poll = |c: Cloud, ctx: CallCtx| {
            let (name, q) = (function_name.clone(), qualifier.clone());
            async move { c.lambda.get_provisioned_concurrency_config(&ctx, &name, &q).await }
        };
        let mut last = String::new();
        let is_final = |h: &mut StepHost, p: &m::ProvisionedConcurrency| {
            if p.status != last {
                h.log(
                    super::LogLevel::Info,
                    &format!(
                        "{function_name}:{qualifier} provisioned concurrency {} ({} of {} allocated)",
                        p.status, p.allocated, p.requested
                    ),
                );
                last = p.status.clone();
            }
            p.status != "IN_PROGRESS"
        };
        match try_call!(h.poll_until(OP, &resource, interval, max_wait, poll, is_final).await) {
            Some(p) => Ok(Ok(to_wit_provisioned(p))),
            None => Ok(Err(CallError::Limit(format!(
                "provisioned concurrency of {function_name}:{qualifier} was still IN_PROGRESS after {max_wait_seconds} s; raise PROVISIONED_CONCURRENCY_MAX_WAIT_SECONDS"
            )))),
        }
    }

    async fn get_provisioned_concurrency_config(
        &mut self,
        function_name: String,
        qualifier: String,
    ) -> Answer<wit::ProvisionedConcurrency> {
        const OP: Op = op("GetProvisionedConcurrencyConfig");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, Some(&qualifier)));
        let p = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda.get_provisioned_concurrency_config(&ctx, &function_name, &qualifier).await
            })
            .await;
        Ok(p.map(to_wit_provisioned))
    }

    async fn create_function(&mut self, request: wit::CreateFunctionRequest) -> Answer<wit::FunctionConfiguration> {
        const OP: Op = op("CreateFunction");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &request.function_name, None));
        if let Err(e) = arn::check_role_arn(&request.role) {
            return Ok(Err(h.invalid(OP, &resource, format!("the execution role: {e}"))));
        }
        if let Some((name, _)) = request.environment.iter().find(|(_, v)| v == ENV_VALUE_MASK) {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("environment variable {name} is set to the mask the host shows in place of values; give its real value"),
            )));
        }
        // Lambda checks that the caller may pass the role, read the code and use
        // each layer: the grant must cover those too.
        let mut needs = vec![need(OP, resource.clone()), ("iam:PassRole".into(), request.role.clone())];
        let package_type = match &request.package_type {
            wit::PackageType::Zip => m::PackageType::Zip,
            wit::PackageType::Image => m::PackageType::Image,
            wit::PackageType::Other(other) => {
                return Ok(Err(h.invalid(
                    OP,
                    &resource,
                    format!("package type `{other}` is not one Lambda offers (Zip or Image)"),
                )))
            }
        };
        let code = match request.code {
            wit::FunctionCode::ZipFile(bytes) => {
                if bytes.is_empty() {
                    return Ok(Err(h.invalid(OP, &resource, "the zip file is empty".into())));
                }
                m::FunctionCode::ZipFile(bytes)
            }
            wit::FunctionCode::S3(s3) => m::FunctionCode::S3(try_call!(h.s3_code(OP, &resource, s3, &mut needs))),
            wit::FunctionCode::Image(uri) => m::FunctionCode::Image(try_call!(h.image_code(OP, &resource, uri))),
        };
        for layer in &request.layers {
            needs.push(("lambda:GetLayerVersion".into(), layer.clone()));
        }
        if !request.tags.is_empty() {
            needs.push(("lambda:TagResource".into(), resource.clone()));
        }
        let req = m::CreateFunction {
            function_name: request.function_name,
            role: request.role,
            package_type,
            code,
            runtime: request.runtime,
            handler: request.handler,
            architectures: request.architectures.into_iter().map(closed::architecture_name).collect(),
            memory_size: request.memory_size,
            timeout: request.timeout,
            ephemeral_storage: request.ephemeral_storage,
            environment: request.environment,
            layers: request.layers,
            vpc: request.vpc.map(|v| m::VpcConfig {
                subnet_ids: v.subnet_ids,
                security_group_ids: v.security_group_ids,
            }),
            description: request.description,
            publish: request.publish,
            tags: request.tags,
        };
        let c = h
            .checked(OP, &needs, |c, ctx| async move { c.lambda.create_function(&ctx, &req).await })
            .await;
        Ok(c.map(to_wit_config))
    }

    async fn wait_function_active(&mut self, function_name: String, max_wait_seconds: u32) -> Answer<wit::FunctionConfiguration> {
        let why = "was still Pending after {} s; look at the function in the console (a VPC attachment can take minutes)";
        self.host
            .wait_configuration(function_name, max_wait_seconds, |c| c.state != "Pending", why)
            .await
    }

    async fn delete_function(&mut self, function_name: String) -> Answer<()> {
        const OP: Op = op("DeleteFunction");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, None));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda.delete_function(&ctx, &function_name, None).await
        })
        .await)
    }

    async fn put_function_concurrency(&mut self, function_name: String, reserved: u32) -> Answer<()> {
        const OP: Op = op("PutFunctionConcurrency");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, None));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda.put_function_concurrency(&ctx, &function_name, reserved).await
        })
        .await)
    }

    async fn delete_function_concurrency(&mut self, function_name: String) -> Answer<()> {
        const OP: Op = op("DeleteFunctionConcurrency");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, None));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda.delete_function_concurrency(&ctx, &function_name).await
        })
        .await)
    }

    async fn put_provisioned_concurrency_config(
        &mut self,
        function_name: String,
        qualifier: String,
        requested: u32,
    ) -> Answer<wit::ProvisionedConcurrency> {
        const OP: Op = op("PutProvisionedConcurrencyConfig");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, Some(&qualifier)));
        if requested == 0 {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                "provisioned concurrency of 0 is not a configuration; delete it instead (delete-provisioned-concurrency-config)".into(),
            )));
        }
        let p = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda
                    .put_provisioned_concurrency_config(&ctx, &function_name, &qualifier, requested)
                    .await
            })
            .await;
        Ok(p.map(to_wit_provisioned))
    }

    async fn delete_provisioned_concurrency_config(&mut self, function_name: String, qualifier: String) -> Answer<()> {
        const OP: Op = op("DeleteProvisionedConcurrencyConfig");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, Some(&qualifier)));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda
                .delete_provisioned_concurrency_config(&ctx, &function_name, &qualifier)
                .await
        })
        .await)
    }

    async fn delete_alias(&mut self, function_name: String, alias_name: String) -> Answer<()> {
        const OP: Op = op("DeleteAlias");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.alias_resource(OP, &function_name, &alias_name));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda.delete_alias(&ctx, &function_name, &alias_name).await
        })
        .await)
    }

    async fn invoke(&mut self, function_name: String, qualifier: Option<String>, payload: Vec<u8>) -> Answer<wit::Invocation> {
        const OP: Op = op("InvokeFunction");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, qualifier.as_deref()));
        if payload.len() > INVOKE_PAYLOAD_MAX {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!(
                    "the payload is {} bytes; a synchronous invocation takes at most {INVOKE_PAYLOAD_MAX}",
                    payload.len()
                ),
            )));
        }
        let answer = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.lambda.invoke(&ctx, &function_name, qualifier.as_deref(), &payload).await
            })
            .await;
        Ok(answer.map(|mut i| {
            let truncated = i.payload.len() > INVOKE_RESPONSE_KEPT;
            i.payload.truncate(INVOKE_RESPONSE_KEPT);
            wit::Invocation {
                status_code: i.status_code,
                function_error: i.function_error,
                payload: i.payload,
                truncated,
                executed_version: i.executed_version,
            }
        }))
    }

    async fn add_permission(
        &mut self,
        function_name: String,
        qualifier: Option<String>,
        statement_id: String,
        action: String,
        principal: String,
        source_arn: Option<String>,
    ) -> Answer<()> {
        const OP: Op = op("AddPermission");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, qualifier.as_deref()));
        if statement_id.is_empty()
            || statement_id.len() > 100
            || !statement_id.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("`{statement_id}` is not a statement id (1–100 letters, digits, `-` and `_`)"),
            )));
        }
        if !action.starts_with("lambda:") || principal.is_empty() {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("a permission needs a `lambda:` action and a principal (got `{action}` for `{principal}`)"),
            )));
        }
        let req = m::AddPermission {
            function_name,
            qualifier,
            statement_id,
            action,
            principal,
            source_arn,
        };
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda.add_permission(&ctx, &req).await
        })
        .await)
    }

    async fn remove_permission(&mut self, function_name: String, qualifier: Option<String>, statement_id: String) -> Answer<()> {
        const OP: Op = op("RemovePermission");
        let h = &mut *self.host;
        let (_, resource) = try_call!(h.function_resource(OP, &function_name, qualifier.as_deref()));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.lambda
                .remove_permission(&ctx, &function_name, qualifier.as_deref(), &statement_id)
                .await
        })
        .await)
    }
}

/// Lambda's limit on a synchronous invocation's request payload.
const INVOKE_PAYLOAD_MAX: usize = 6 * 1024 * 1024;

/// How much of a response a step is handed: enough for any status document, and
/// bounded so a function cannot fill the step's memory.
const INVOKE_RESPONSE_KEPT: usize = 256 * 1024;
