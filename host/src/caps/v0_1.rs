//! Contract 0.1.0, served to plugins built before 0.2.0. Every handler converts
//! its arguments to the newest contract's types, calls the newest handler, and
//! converts the answer back: the argument checks, the grant check, the cloud call
//! and the error mapping exist once, so an old plugin is held to exactly the same
//! rules as a new one.
//!
//! What 0.1.0 cannot express keeps its 0.1.0 behaviour: past the identity-handle
//! limit `agent-identity` and `current-identity` (which return no error value
//! there) stop the step, and a cloud error loses its portable `kind`.

use super::view::CapsCtx;
use crate::bindings as new;
use crate::bindings::v0_1 as old;
use crate::caps::credentials::IdentityHandle;
use wasmtime::component::Resource;

type Answer<T> = wasmtime::Result<Result<T, old::types::CallError>>;

/// A newest-contract answer as 0.1.0 gives it.
fn answer<T, U>(r: wasmtime::Result<Result<T, new::types::CallError>>, f: impl FnOnce(T) -> U) -> Answer<U> {
    Ok(r?.map(f).map_err(call_error))
}

fn call_error(e: new::types::CallError) -> old::types::CallError {
    use new::types::CallError as N;
    use old::types::CallError as O;
    match e {
        N::Denied(d) => O::Denied(old::types::Denial {
            action: d.action,
            resource: d.resource,
            reason: d.reason,
        }),
        N::Cloud(c) => O::Cloud(old::types::CloudError {
            service: c.service,
            operation: c.operation,
            code: c.code,
            message: c.message,
            request_id: c.request_id,
            retryable: c.retryable,
        }),
        N::InvalidInput(m) => O::InvalidInput(m),
        N::Limit(m) => O::Limit(m),
    }
}

/// What a 0.1.0 plugin's exports return, in the newest contract's types (the
/// host's report and journal speak those).
pub mod exports {
    use super::{new, old};

    pub fn step_error(e: old::types::StepError) -> new::types::StepError {
        use new::types::StepError as N;
        use old::types::StepError as O;
        match e {
            O::InvalidInput(m) => N::InvalidInput(m),
            O::Denied(d) => N::Denied(new::types::Denial {
                action: d.action,
                resource: d.resource,
                reason: d.reason,
            }),
            O::Cloud(c) => N::Cloud(new::types::CloudError {
                kind: super::super::gate::to_wit_kind(crate::cloud::ErrorKind::of_code(&c.code)),
                service: c.service,
                operation: c.operation,
                code: c.code,
                message: c.message,
                request_id: c.request_id,
                retryable: c.retryable,
            }),
            O::Failed(m) => N::Failed(m),
        }
    }

    pub fn output(o: old::types::Output) -> new::types::Output {
        new::types::Output {
            name: o.name,
            value: o.value,
            secret: o.secret,
        }
    }

    pub fn check_result(c: old::types::CheckResult) -> new::types::CheckResult {
        use new::types::CheckStatus as N;
        use old::types::CheckStatus as O;
        new::types::CheckResult {
            status: match c.status {
                O::Pass => N::Pass,
                O::Fail => N::Fail,
                O::Warning => N::Warning,
                O::Skipped => N::Skipped,
            },
            summary: c.summary,
            evidence: c.evidence,
            suggested_actions: c.suggested_actions,
        }
    }
}

impl old::types::Host for CapsCtx<'_> {}

impl old::log::Host for CapsCtx<'_> {
    async fn write(&mut self, level: old::log::Level, message: String) -> wasmtime::Result<()> {
        use new::log::Level as N;
        use old::log::Level as O;
        let level = match level {
            O::Debug => N::Debug,
            O::Info => N::Info,
            O::Warn => N::Warn,
            O::Error => N::Error,
        };
        new::log::Host::write(self, level, message).await
    }
}

impl old::context::Host for CapsCtx<'_> {
    async fn built_context(&mut self) -> wasmtime::Result<String> {
        new::context::Host::built_context(self).await
    }

    async fn get_var(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        new::context::Host::get_var(self, name).await
    }

    async fn list_vars(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        new::context::Host::list_vars(self).await
    }

    async fn step_name(&mut self) -> wasmtime::Result<String> {
        new::context::Host::step_name(self).await
    }
}

fn provider(p: new::providers::Provider) -> old::providers::Provider {
    old::providers::Provider {
        id: p.id,
        nrn: p.nrn,
        category: p.category,
        specification_slug: p.specification_slug,
        dimensions: p.dimensions,
        attributes: p.attributes,
    }
}

impl old::providers::Host for CapsCtx<'_> {
    async fn by_category(
        &mut self,
        nrn: String,
        categories: Vec<String>,
        dimensions: Vec<(String, String)>,
    ) -> Answer<Vec<old::providers::Provider>> {
        answer(new::providers::Host::by_category(self, nrn, categories, dimensions).await, |v| {
            v.into_iter().map(provider).collect()
        })
    }

    async fn by_specification(&mut self, nrn: String, specification_slug: String) -> Answer<Vec<old::providers::Provider>> {
        answer(new::providers::Host::by_specification(self, nrn, specification_slug).await, |v| {
            v.into_iter().map(provider).collect()
        })
    }
}

impl old::credentials::HostIdentity for CapsCtx<'_> {
    async fn arn(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<String> {
        new::credentials::HostIdentity::arn(self, id).await
    }

    async fn account(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<String> {
        new::credentials::HostIdentity::account(self, id).await
    }

    async fn expires_at(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<Option<u64>> {
        new::credentials::HostIdentity::expires_at(self, id).await
    }

    async fn drop(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<()> {
        new::credentials::HostIdentity::drop(self, id).await
    }
}

/// 0.1.0 has no error value for these two: the limit stops the step.
fn handle_or_trap(
    r: wasmtime::Result<Result<Resource<IdentityHandle>, new::types::CallError>>,
) -> wasmtime::Result<Resource<IdentityHandle>> {
    match r? {
        Ok(handle) => Ok(handle),
        Err(new::types::CallError::Limit(why)) => Err(wasmtime::Error::msg(why)),
        Err(other) => Err(wasmtime::Error::msg(format!("{other:?}"))),
    }
}

impl old::credentials::Host for CapsCtx<'_> {
    async fn agent_identity(&mut self) -> wasmtime::Result<Resource<IdentityHandle>> {
        handle_or_trap(new::credentials::Host::agent_identity(self).await)
    }

    async fn current_identity(&mut self) -> wasmtime::Result<Resource<IdentityHandle>> {
        handle_or_trap(new::credentials::Host::current_identity(self).await)
    }

    async fn assume_role(&mut self, role_arn: String, session_name: String) -> Answer<Resource<IdentityHandle>> {
        answer(new::credentials::Host::assume_role(self, role_arn, session_name).await, |h| h)
    }

    async fn use_for_workflow(&mut self, id: Resource<IdentityHandle>) -> wasmtime::Result<()> {
        new::credentials::Host::use_for_workflow(self, id).await
    }
}

mod lambda {
    use super::{answer, new, old, Answer, CapsCtx};
    use new::lambda as n;
    use old::lambda as o;

    fn architecture(a: n::Architecture) -> String {
        crate::caps::lambda::closed::architecture_name(a)
    }

    fn configuration(c: n::FunctionConfiguration) -> o::FunctionConfiguration {
        o::FunctionConfiguration {
            function_name: c.function_name,
            function_arn: c.function_arn,
            version: c.version,
            description: c.description,
            package_type: match c.package_type {
                n::PackageType::Image => o::PackageType::Image,
                // The host's model knows two package types; `other` is never made.
                n::PackageType::Zip | n::PackageType::Other(_) => o::PackageType::Zip,
            },
            runtime: c.runtime,
            handler: c.handler,
            role: c.role,
            memory_size: c.memory_size,
            timeout: c.timeout,
            ephemeral_storage: c.ephemeral_storage,
            architectures: c.architectures.into_iter().map(architecture).collect(),
            environment: c.environment,
            layers: c.layers,
            subnet_ids: c.subnet_ids,
            security_group_ids: c.security_group_ids,
            image_uri: c.image_uri,
            code_sha256: c.code_sha256,
            state: match c.state {
                n::FunctionState::Pending => "Pending".into(),
                n::FunctionState::Active => "Active".into(),
                n::FunctionState::Inactive => "Inactive".into(),
                n::FunctionState::Failed => "Failed".into(),
                n::FunctionState::Other(s) => s,
            },
            state_reason: c.state_reason,
            last_update_status: match c.last_update_status {
                n::UpdateStatus::InProgress => "InProgress".into(),
                n::UpdateStatus::Successful => "Successful".into(),
                n::UpdateStatus::Failed => "Failed".into(),
                n::UpdateStatus::Other(s) => s,
            },
            last_update_status_reason: c.last_update_status_reason,
            revision_id: c.revision_id,
        }
    }

    fn version(v: n::VersionInfo) -> o::VersionInfo {
        o::VersionInfo {
            version: v.version,
            description: v.description,
            function_arn: v.function_arn,
            code_sha256: v.code_sha256,
        }
    }

    fn weight_in(w: o::VersionWeight) -> n::VersionWeight {
        n::VersionWeight {
            version: w.version,
            weight: w.weight,
        }
    }

    fn alias(a: n::Alias) -> o::Alias {
        o::Alias {
            name: a.name,
            alias_arn: a.alias_arn,
            function_version: a.function_version,
            description: a.description,
            routing: a
                .routing
                .into_iter()
                .map(|w| o::VersionWeight {
                    version: w.version,
                    weight: w.weight,
                })
                .collect(),
            revision_id: a.revision_id,
        }
    }

    fn provisioned(p: n::ProvisionedConcurrency) -> o::ProvisionedConcurrency {
        o::ProvisionedConcurrency {
            requested: p.requested,
            allocated: p.allocated,
            available: p.available,
            status: match p.status {
                n::ProvisionedConcurrencyStatus::InProgress => "IN_PROGRESS".into(),
                n::ProvisionedConcurrencyStatus::Ready => "READY".into(),
                n::ProvisionedConcurrencyStatus::Failed => "FAILED".into(),
                n::ProvisionedConcurrencyStatus::Other(s) => s,
            },
            status_reason: p.status_reason,
        }
    }

    fn architecture_in(s: String) -> n::Architecture {
        crate::caps::lambda::closed::architecture(s)
    }

    impl o::Host for CapsCtx<'_> {
        async fn get_function(&mut self, function_name: String, qualifier: Option<String>) -> Answer<o::FunctionInfo> {
            answer(n::Host::get_function(self, function_name, qualifier).await, |i| o::FunctionInfo {
                configuration: configuration(i.configuration),
                tags: i.tags,
                reserved_concurrency: i.reserved_concurrency,
            })
        }

        async fn get_function_configuration(
            &mut self,
            function_name: String,
            qualifier: Option<String>,
        ) -> Answer<o::FunctionConfiguration> {
            answer(
                n::Host::get_function_configuration(self, function_name, qualifier).await,
                configuration,
            )
        }

        async fn list_versions_by_function(&mut self, function_name: String) -> Answer<Vec<o::VersionInfo>> {
            answer(n::Host::list_versions_by_function(self, function_name).await, |v| {
                v.into_iter().map(version).collect()
            })
        }

        async fn update_function_code(&mut self, request: o::UpdateCodeRequest) -> Answer<o::FunctionConfiguration> {
            let request = n::UpdateCodeRequest {
                function_name: request.function_name,
                code: match request.code {
                    o::CodeSource::S3(s3) => n::CodeSource::S3(n::S3Location {
                        bucket: s3.bucket,
                        key: s3.key,
                        object_version: s3.object_version,
                    }),
                    o::CodeSource::Image(uri) => n::CodeSource::Image(uri),
                },
                architectures: request.architectures.map(|a| a.into_iter().map(architecture_in).collect()),
                revision_id: None,
            };
            answer(n::Host::update_function_code(self, request).await, configuration)
        }

        async fn update_function_configuration(&mut self, request: o::UpdateConfigurationRequest) -> Answer<o::FunctionConfiguration> {
            let request = n::UpdateConfigurationRequest {
                function_name: request.function_name,
                memory_size: request.memory_size,
                timeout: request.timeout,
                ephemeral_storage: request.ephemeral_storage,
                runtime: request.runtime,
                handler: request.handler,
                environment: request.environment,
                layers: request.layers,
                vpc: request.vpc.map(|v| n::VpcConfig {
                    subnet_ids: v.subnet_ids,
                    security_group_ids: v.security_group_ids,
                }),
                description: request.description,
                revision_id: None,
            };
            answer(n::Host::update_function_configuration(self, request).await, configuration)
        }

        async fn wait_function_updated(&mut self, function_name: String, max_wait_seconds: u32) -> Answer<o::FunctionConfiguration> {
            answer(
                n::Host::wait_function_updated(self, function_name, max_wait_seconds).await,
                configuration,
            )
        }

        async fn publish_version(&mut self, function_name: String, description: String) -> Answer<o::VersionInfo> {
            answer(n::Host::publish_version(self, function_name, description, None).await, version)
        }

        async fn delete_function_version(&mut self, function_name: String, version: String) -> Answer<()> {
            answer(n::Host::delete_function_version(self, function_name, version).await, |()| ())
        }

        async fn get_alias(&mut self, function_name: String, alias_name: String) -> Answer<o::Alias> {
            answer(n::Host::get_alias(self, function_name, alias_name).await, alias)
        }

        async fn create_alias(
            &mut self,
            function_name: String,
            alias_name: String,
            function_version: String,
            description: String,
            routing: Vec<o::VersionWeight>,
        ) -> Answer<o::Alias> {
            let routing = routing.into_iter().map(weight_in).collect();
            answer(
                n::Host::create_alias(self, function_name, alias_name, function_version, description, routing).await,
                alias,
            )
        }

        async fn update_alias(
            &mut self,
            function_name: String,
            alias_name: String,
            function_version: Option<String>,
            routing: Option<Vec<o::VersionWeight>>,
        ) -> Answer<o::Alias> {
            let routing = routing.map(|r| r.into_iter().map(weight_in).collect());
            answer(
                n::Host::update_alias(self, function_name, alias_name, function_version, routing, None).await,
                alias,
            )
        }

        async fn get_policy(&mut self, function_name: String, qualifier: Option<String>) -> Answer<String> {
            answer(n::Host::get_policy(self, function_name, qualifier).await, |p| p)
        }

        async fn get_provisioned_concurrency_config(
            &mut self,
            function_name: String,
            qualifier: String,
        ) -> Answer<o::ProvisionedConcurrency> {
            answer(
                n::Host::get_provisioned_concurrency_config(self, function_name, qualifier).await,
                provisioned,
            )
        }

        async fn wait_provisioned_concurrency(
            &mut self,
            function_name: String,
            qualifier: String,
            poll_seconds: u32,
            max_wait_seconds: u32,
        ) -> Answer<o::ProvisionedConcurrency> {
            answer(
                n::Host::wait_provisioned_concurrency(self, function_name, qualifier, poll_seconds, max_wait_seconds).await,
                provisioned,
            )
        }
    }
}

fn repository(r: old::ecr::RepositoryRef) -> new::ecr::RepositoryRef {
    new::ecr::RepositoryRef {
        registry_id: r.registry_id,
        region: r.region,
        name: r.name,
    }
}

impl old::ecr::Host for CapsCtx<'_> {
    async fn get_repository_policy(&mut self, r: old::ecr::RepositoryRef) -> Answer<String> {
        answer(new::ecr::Host::get_repository_policy(self, repository(r)).await, |p| p)
    }

    async fn set_repository_policy(&mut self, r: old::ecr::RepositoryRef, policy_text: String) -> Answer<()> {
        answer(
            new::ecr::Host::set_repository_policy(self, repository(r), policy_text).await,
            |()| (),
        )
    }

    async fn describe_images(&mut self, r: old::ecr::RepositoryRef, tags: Vec<String>) -> Answer<Vec<old::ecr::ImageDetail>> {
        answer(new::ecr::Host::describe_images(self, repository(r), tags).await, |v| {
            v.into_iter()
                .map(|i| old::ecr::ImageDetail {
                    digest: i.digest,
                    tags: i.tags,
                    pushed_at: i.pushed_at,
                    size_bytes: i.size_bytes,
                })
                .collect()
        })
    }
}

impl old::iam::Host for CapsCtx<'_> {
    async fn get_role(&mut self, role_name: String) -> Answer<old::iam::Role> {
        answer(new::iam::Host::get_role(self, role_name).await, |r| old::iam::Role {
            role_name: r.role_name,
            arn: r.arn,
            role_id: r.role_id,
            assume_role_policy_document: r.assume_role_policy_document,
            max_session_duration: r.max_session_duration,
        })
    }
}

fn secret_ref(s: new::secrets::SecretRef) -> old::secrets::SecretRef {
    old::secrets::SecretRef {
        arn: s.arn,
        name: s.name,
        version_id: s.version_id,
    }
}

impl old::secrets::Host for CapsCtx<'_> {
    async fn put_secret_value(&mut self, secret_id: String, secret_string: String) -> Answer<old::secrets::SecretRef> {
        answer(
            new::secrets::Host::put_secret_value(self, secret_id, secret_string).await,
            secret_ref,
        )
    }

    async fn create_secret(
        &mut self,
        name: String,
        description: String,
        secret_string: String,
        tags: Vec<(String, String)>,
    ) -> Answer<old::secrets::SecretRef> {
        answer(
            new::secrets::Host::create_secret(self, name, description, secret_string, tags).await,
            secret_ref,
        )
    }

    async fn delete_secret(&mut self, secret_id: String, force: bool) -> Answer<()> {
        answer(new::secrets::Host::delete_secret(self, secret_id, force).await, |()| ())
    }
}

impl old::tagging::Host for CapsCtx<'_> {
    async fn get_resources(
        &mut self,
        resource_types: Vec<String>,
        tag_filters: Vec<old::tagging::TagFilter>,
    ) -> Answer<Vec<old::tagging::TaggedResource>> {
        let filters = tag_filters
            .into_iter()
            .map(|f| new::tagging::TagFilter {
                key: f.key,
                values: f.values,
            })
            .collect();
        answer(new::tagging::Host::get_resources(self, resource_types, filters).await, |v| {
            v.into_iter()
                .map(|r| old::tagging::TaggedResource { arn: r.arn, tags: r.tags })
                .collect()
        })
    }
}
