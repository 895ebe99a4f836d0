//! Lambda: functions, versions, aliases, policies, concurrency, invocations.

use super::{count, reply, sorted_pairs, AwsCloud};
use crate::cloud::{
    AddPermission, Alias, CallCtx, CloudResult, CodeSource, CreateAlias, CreateFunction, FunctionCode, FunctionConfiguration, FunctionInfo,
    Invocation, PackageType, ProvisionedConcurrency, Reply, UpdateAlias, UpdateCode, UpdateConfiguration, VersionInfo, VersionWeight,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, Architecture, Environment, EphemeralStorage, InvocationType, Runtime, VpcConfig};
use std::collections::HashMap;

const LATEST: &str = "$LATEST";

/// Lambda's defaults for settings an answer leaves out.
const DEFAULT_MEMORY_MB: u32 = 128;
const DEFAULT_TIMEOUT_S: u32 = 3;
const DEFAULT_EPHEMERAL_MB: u32 = 512;

/// A [`FunctionConfiguration`] from any Lambda answer that carries one
/// (`FunctionConfiguration`, GetFunctionConfiguration, UpdateFunctionCode,
/// UpdateFunctionConfiguration, PublishVersion: the same fields on distinct types).
macro_rules! function_configuration {
    ($c:expr) => {{
        let c = $c;
        let architectures: Vec<String> = c.architectures().iter().map(|a| a.as_str().to_string()).collect();
        FunctionConfiguration {
            function_name: c.function_name().unwrap_or_default().to_string(),
            function_arn: c.function_arn().unwrap_or_default().to_string(),
            version: c.version().unwrap_or(LATEST).to_string(),
            description: c.description().unwrap_or_default().to_string(),
            package_type: match c.package_type() {
                Some(aws_sdk_lambda::types::PackageType::Image) => PackageType::Image,
                _ => PackageType::Zip,
            },
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            handler: c.handler().map(str::to_string),
            role: c.role().unwrap_or_default().to_string(),
            memory_size: c.memory_size().map_or(DEFAULT_MEMORY_MB, |m| count(Some(m))),
            timeout: c.timeout().map_or(DEFAULT_TIMEOUT_S, |t| count(Some(t))),
            ephemeral_storage: c.ephemeral_storage().map_or(DEFAULT_EPHEMERAL_MB, |e| count(Some(e.size()))),
            architectures: if architectures.is_empty() {
                vec!["x86_64".to_string()]
            } else {
                architectures
            },
            environment: c.environment().and_then(|e| e.variables()).map(sorted_pairs).unwrap_or_default(),
            layers: c.layers().iter().filter_map(|l| l.arn().map(str::to_string)).collect(),
            subnet_ids: c.vpc_config().map(|v| v.subnet_ids().to_vec()).unwrap_or_default(),
            security_group_ids: c.vpc_config().map(|v| v.security_group_ids().to_vec()).unwrap_or_default(),
            image_uri: None,
            code_sha256: c.code_sha256().unwrap_or_default().to_string(),
            state: c.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            state_reason: c.state_reason().map(str::to_string),
            last_update_status: c.last_update_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            last_update_status_reason: c.last_update_status_reason().map(str::to_string),
            revision_id: c.revision_id().unwrap_or_default().to_string(),
        }
    }};
}

/// The model's [`Alias`] from Lambda's alias answer (any of the three shapes).
macro_rules! alias_from {
    ($a:expr) => {{
        let a = $a;
        Alias {
            name: a.name().unwrap_or_default().to_string(),
            alias_arn: a.alias_arn().unwrap_or_default().to_string(),
            function_version: a.function_version().unwrap_or_default().to_string(),
            description: a.description().unwrap_or_default().to_string(),
            routing: routing_from(a.routing_config()),
            revision_id: a.revision_id().unwrap_or_default().to_string(),
        }
    }};
}

/// Weighted routing, sorted by version.
fn routing_from(routing: Option<&AliasRoutingConfiguration>) -> Vec<VersionWeight> {
    let mut weights: Vec<VersionWeight> = routing
        .and_then(|r| r.additional_version_weights())
        .map(|m| {
            m.iter()
                .map(|(version, weight)| VersionWeight {
                    version: version.clone(),
                    weight: *weight,
                })
                .collect()
        })
        .unwrap_or_default();
    weights.sort_by(|a, b| version_order(&a.version, &b.version));
    weights
}

/// The routing configuration a request sends; an empty list is an empty map, which
/// clears weighted routing.
fn routing_to(weights: &[VersionWeight]) -> AliasRoutingConfiguration {
    let map: HashMap<String, f64> = weights.iter().map(|w| (w.version.clone(), w.weight)).collect();
    AliasRoutingConfiguration::builder()
        .set_additional_version_weights(Some(map))
        .build()
}

/// `$LATEST` first, then published versions in numeric order.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |v: &str| (v != LATEST, v.parse::<u64>().unwrap_or(u64::MAX), v.to_string());
    key(a).cmp(&key(b))
}

/// Lambda counts are `i32` on the wire.
fn wire_count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The ephemeral storage a request sets, if it names a size.
fn ephemeral_storage(size: Option<u32>, api: &super::Api) -> Result<Option<EphemeralStorage>, crate::cloud::CloudError> {
    size.map(|size| {
        EphemeralStorage::builder()
            .size(wire_count(size))
            .build()
            .map_err(|e| api.client_error(format!("invalid ephemeral storage: {e}")))
    })
    .transpose()
}

/// The SDK's VPC configuration.
fn vpc_config(v: &crate::cloud::VpcConfig) -> VpcConfig {
    VpcConfig::builder()
        .set_subnet_ids(Some(v.subnet_ids.clone()))
        .set_security_group_ids(Some(v.security_group_ids.clone()))
        .build()
}

/// The SDK's function code.
fn function_code(code: &FunctionCode) -> aws_sdk_lambda::types::FunctionCode {
    let builder = aws_sdk_lambda::types::FunctionCode::builder();
    match code {
        FunctionCode::ZipFile(bytes) => builder.zip_file(Blob::new(bytes.clone())),
        FunctionCode::S3(loc) => builder
            .s3_bucket(&loc.bucket)
            .s3_key(&loc.key)
            .set_s3_object_version(loc.object_version.clone()),
        FunctionCode::Image(uri) => builder.image_uri(uri),
    }
    .build()
}

/// The model's [`ProvisionedConcurrency`] from a Get/PutProvisionedConcurrencyConfig answer.
macro_rules! provisioned_from {
    ($out:expr) => {{
        let out = $out;
        ProvisionedConcurrency {
            requested: count(out.requested_provisioned_concurrent_executions()),
            allocated: count(out.allocated_provisioned_concurrent_executions()),
            available: count(out.available_provisioned_concurrent_executions()),
            status: out.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            status_reason: out.status_reason().map(str::to_string),
        }
    }};
}

#[async_trait::async_trait]
impl crate::cloud::LambdaApi for AwsCloud {
    async fn get_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionInfo> {
        let api = self.ctx_api("lambda", "GetFunction", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .get_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(c) = out.configuration() else {
            return Err(api.client_error("GetFunction answered without a configuration".to_string()));
        };
        let mut configuration = function_configuration!(c);
        configuration.image_uri = out.code().and_then(|code| code.image_uri()).map(str::to_string);
        let info = FunctionInfo {
            configuration,
            tags: out.tags().map(sorted_pairs).unwrap_or_default(),
            reserved_concurrency: out
                .concurrency()
                .and_then(|c| c.reserved_concurrent_executions())
                .map(|n| count(Some(n))),
        };
        Ok(reply(info, &out))
    }

    async fn get_function_configuration(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionConfiguration> {
        let api = self.ctx_api("lambda", "GetFunctionConfiguration", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .get_function_configuration()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(function_configuration!(&out), &out))
    }

    /// Every page; `$LATEST` first, then versions in ascending order. The request id
    /// is the first page's.
    async fn list_versions_by_function(&self, ctx: &CallCtx, name: &str) -> CloudResult<Vec<VersionInfo>> {
        let api = self.ctx_api("lambda", "ListVersionsByFunction", ctx);
        let clients = self.for_ctx(ctx);
        let mut versions = Vec::new();
        let mut request_id = None;
        let mut marker: Option<String> = None;
        loop {
            let out = clients
                .lambda()
                .list_versions_by_function()
                .function_name(name)
                .set_max_items(self.page_size)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            versions.extend(out.versions().iter().map(|v| VersionInfo {
                version: v.version().unwrap_or_default().to_string(),
                description: v.description().unwrap_or_default().to_string(),
                function_arn: v.function_arn().unwrap_or_default().to_string(),
                code_sha256: v.code_sha256().unwrap_or_default().to_string(),
            }));
            match out.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        versions.sort_by(|a, b| version_order(&a.version, &b.version));
        Ok(Reply {
            value: versions,
            request_id,
        })
    }

    async fn update_function_code(&self, ctx: &CallCtx, req: &UpdateCode) -> CloudResult<FunctionConfiguration> {
        let api = self.ctx_api("lambda", "UpdateFunctionCode", ctx);
        let mut call = self
            .for_ctx(ctx)
            .lambda()
            .update_function_code()
            .function_name(&req.function_name)
            .set_architectures(
                req.architectures
                    .as_ref()
                    .map(|a| a.iter().map(|s| Architecture::from(s.as_str())).collect()),
            )
            .set_revision_id(req.revision_id.clone());
        let image_uri = match &req.code {
            CodeSource::S3(loc) => {
                call = call
                    .s3_bucket(&loc.bucket)
                    .s3_key(&loc.key)
                    .set_s3_object_version(loc.object_version.clone());
                None
            }
            CodeSource::Image(uri) => {
                call = call.image_uri(uri);
                Some(uri.clone())
            }
        };
        let out = call.send().await.map_err(|e| api.error(e))?;
        let mut configuration = function_configuration!(&out);
        // The answer does not repeat the image; the request named it.
        configuration.image_uri = image_uri;
        Ok(reply(configuration, &out))
    }

    async fn update_function_configuration(&self, ctx: &CallCtx, req: &UpdateConfiguration) -> CloudResult<FunctionConfiguration> {
        let api = self.ctx_api("lambda", "UpdateFunctionConfiguration", ctx);
        let ephemeral = ephemeral_storage(req.ephemeral_storage, &api)?;
        let out = self
            .for_ctx(ctx)
            .lambda()
            .update_function_configuration()
            .function_name(&req.function_name)
            .set_memory_size(req.memory_size.map(wire_count))
            .set_timeout(req.timeout.map(wire_count))
            .set_ephemeral_storage(ephemeral)
            .set_runtime(req.runtime.as_deref().map(Runtime::from))
            .set_handler(req.handler.clone())
            .set_environment(
                req.environment
                    .as_ref()
                    .map(|vars| Environment::builder().set_variables(Some(vars.iter().cloned().collect())).build()),
            )
            .set_layers(req.layers.clone())
            .set_vpc_config(req.vpc.as_ref().map(vpc_config))
            .set_description(req.description.clone())
            .set_revision_id(req.revision_id.clone())
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(function_configuration!(&out), &out))
    }

    async fn publish_version(&self, ctx: &CallCtx, name: &str, description: &str, revision_id: Option<&str>) -> CloudResult<VersionInfo> {
        let api = self.ctx_api("lambda", "PublishVersion", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .publish_version()
            .function_name(name)
            .description(description)
            .set_revision_id(revision_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let info = VersionInfo {
            version: out.version().unwrap_or_default().to_string(),
            description: out.description().unwrap_or_default().to_string(),
            function_arn: out.function_arn().unwrap_or_default().to_string(),
            code_sha256: out.code_sha256().unwrap_or_default().to_string(),
        };
        Ok(reply(info, &out))
    }

    async fn delete_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<()> {
        let api = self.ctx_api("lambda", "DeleteFunction", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .delete_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn get_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<Alias> {
        let api = self.ctx_api("lambda", "GetAlias", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .get_alias()
            .function_name(name)
            .name(alias)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(alias_from!(&out), &out))
    }

    async fn create_alias(&self, ctx: &CallCtx, req: &CreateAlias) -> CloudResult<Alias> {
        let api = self.ctx_api("lambda", "CreateAlias", ctx);
        let routing = (!req.routing.is_empty()).then(|| routing_to(&req.routing));
        let out = self
            .for_ctx(ctx)
            .lambda()
            .create_alias()
            .function_name(&req.function_name)
            .name(&req.alias_name)
            .function_version(&req.function_version)
            .description(&req.description)
            .set_routing_config(routing)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(alias_from!(&out), &out))
    }

    /// `routing: Some(vec![])` sends an empty weight map, which clears routing;
    /// `None` leaves it as it is.
    async fn update_alias(&self, ctx: &CallCtx, req: &UpdateAlias) -> CloudResult<Alias> {
        let api = self.ctx_api("lambda", "UpdateAlias", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .update_alias()
            .function_name(&req.function_name)
            .name(&req.alias_name)
            .set_function_version(req.function_version.clone())
            .set_routing_config(req.routing.as_deref().map(routing_to))
            .set_revision_id(req.revision_id.clone())
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(alias_from!(&out), &out))
    }

    async fn get_policy(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<String> {
        let api = self.ctx_api("lambda", "GetPolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .get_policy()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(out.policy().unwrap_or_default().to_string(), &out))
    }

    async fn get_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<ProvisionedConcurrency> {
        let api = self.ctx_api("lambda", "GetProvisionedConcurrencyConfig", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .get_provisioned_concurrency_config()
            .function_name(name)
            .qualifier(qualifier)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(provisioned_from!(&out), &out))
    }

    /// CreateFunction; settings left `None` (or empty) are not sent, so Lambda's
    /// defaults apply.
    async fn create_function(&self, ctx: &CallCtx, req: &CreateFunction) -> CloudResult<FunctionConfiguration> {
        let api = self.ctx_api("lambda", "CreateFunction", ctx);
        let ephemeral = ephemeral_storage(req.ephemeral_storage, &api)?;
        let package_type = match req.package_type {
            PackageType::Zip => aws_sdk_lambda::types::PackageType::Zip,
            PackageType::Image => aws_sdk_lambda::types::PackageType::Image,
        };
        let tags: HashMap<String, String> = req.tags.iter().cloned().collect();
        let out = self
            .for_ctx(ctx)
            .lambda()
            .create_function()
            .function_name(&req.function_name)
            .role(&req.role)
            .package_type(package_type)
            .code(function_code(&req.code))
            .set_runtime(req.runtime.as_deref().map(Runtime::from))
            .set_handler(req.handler.clone())
            .set_architectures(
                (!req.architectures.is_empty()).then(|| req.architectures.iter().map(|a| Architecture::from(a.as_str())).collect()),
            )
            .set_memory_size(req.memory_size.map(wire_count))
            .set_timeout(req.timeout.map(wire_count))
            .set_ephemeral_storage(ephemeral)
            .set_environment((!req.environment.is_empty()).then(|| {
                Environment::builder()
                    .set_variables(Some(req.environment.iter().cloned().collect()))
                    .build()
            }))
            .set_layers((!req.layers.is_empty()).then(|| req.layers.clone()))
            .set_vpc_config(req.vpc.as_ref().map(vpc_config))
            .description(&req.description)
            .publish(req.publish)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let mut configuration = function_configuration!(&out);
        // The answer does not repeat the image; the request named it.
        if let FunctionCode::Image(uri) = &req.code {
            configuration.image_uri = Some(uri.clone());
        }
        Ok(reply(configuration, &out))
    }

    async fn put_function_concurrency(&self, ctx: &CallCtx, name: &str, reserved: u32) -> CloudResult<()> {
        let api = self.ctx_api("lambda", "PutFunctionConcurrency", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .put_function_concurrency()
            .function_name(name)
            .reserved_concurrent_executions(wire_count(reserved))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn delete_function_concurrency(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let api = self.ctx_api("lambda", "DeleteFunctionConcurrency", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .delete_function_concurrency()
            .function_name(name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn put_provisioned_concurrency_config(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: &str,
        requested: u32,
    ) -> CloudResult<ProvisionedConcurrency> {
        let api = self.ctx_api("lambda", "PutProvisionedConcurrencyConfig", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .put_provisioned_concurrency_config()
            .function_name(name)
            .qualifier(qualifier)
            .provisioned_concurrent_executions(wire_count(requested))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(provisioned_from!(&out), &out))
    }

    async fn delete_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<()> {
        let api = self.ctx_api("lambda", "DeleteProvisionedConcurrencyConfig", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .delete_provisioned_concurrency_config()
            .function_name(name)
            .qualifier(qualifier)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn delete_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<()> {
        let api = self.ctx_api("lambda", "DeleteAlias", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .delete_alias()
            .function_name(name)
            .name(alias)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    /// A RequestResponse invocation. A function error is not a failed call: it comes
    /// back in `function_error`, with the error payload.
    async fn invoke(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, payload: &[u8]) -> CloudResult<Invocation> {
        let api = self.ctx_api("lambda", "Invoke", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .invoke()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload.to_vec()))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let value = Invocation {
            status_code: u32::try_from(out.status_code()).unwrap_or(0),
            function_error: out.function_error().map(str::to_string),
            payload: out.payload().map(|p| p.as_ref().to_vec()).unwrap_or_default(),
            executed_version: out.executed_version().map(str::to_string),
        };
        Ok(reply(value, &out))
    }

    /// AddPermission: one statement of the function's (or the qualifier's) resource policy.
    async fn add_permission(&self, ctx: &CallCtx, req: &AddPermission) -> CloudResult<()> {
        let api = self.ctx_api("lambda", "AddPermission", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .add_permission()
            .function_name(&req.function_name)
            .set_qualifier(req.qualifier.clone())
            .statement_id(&req.statement_id)
            .action(&req.action)
            .principal(&req.principal)
            .set_source_arn(req.source_arn.clone())
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn remove_permission(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, statement_id: &str) -> CloudResult<()> {
        let api = self.ctx_api("lambda", "RemovePermission", ctx);
        let out = self
            .for_ctx(ctx)
            .lambda()
            .remove_permission()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .statement_id(statement_id)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn versions_sort_latest_first_then_numerically() {
        let mut v = vec!["10", "2", "$LATEST", "1"];
        v.sort_by(|a, b| version_order(a, b));
        assert_eq!(v, ["$LATEST", "1", "2", "10"]);
    }

    #[test]
    fn empty_routing_is_sent_as_an_empty_map() {
        let r = routing_to(&[]);
        assert_eq!(r.additional_version_weights().map(HashMap::len), Some(0));
    }
}
