//! Every operation of every service, for a plan: reads routed by what the plan
//! changed (`keys.rs`), changes made on the overlay ([`PlanCloud::write`]).

use super::keys::{self, View};
use super::merge;
use super::seed::Seed;
use super::{PlanCloud, Write};
use crate::cloud::*;
use crate::redact::MASK;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Environment variables as the plan shows them: names, values masked.
fn env_names(env: &[(String, String)]) -> Value {
    Value::Object(env.iter().map(|(k, _)| (k.clone(), Value::String(MASK.to_owned()))).collect())
}

fn tags(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

fn weights(routing: &[VersionWeight]) -> Value {
    Value::Object(routing.iter().map(|w| (w.version.clone(), json!(w.weight))).collect())
}

fn code(code: &CodeSource) -> Value {
    match code {
        CodeSource::Image(uri) => json!({"image_uri": uri}),
        CodeSource::S3(s3) => json!({"s3_bucket": s3.bucket, "s3_key": s3.key, "s3_object_version": s3.object_version}),
    }
}

fn function_code(code: &FunctionCode) -> Value {
    match code {
        FunctionCode::Image(uri) => json!({"image_uri": uri}),
        FunctionCode::S3(s3) => json!({"s3_bucket": s3.bucket, "s3_key": s3.key}),
        FunctionCode::ZipFile(bytes) => {
            use sha2::Digest;
            json!({"zip_sha256": hex::encode(sha2::Sha256::digest(bytes)), "zip_bytes": bytes.len()})
        }
    }
}

fn json_or_text(document: &str) -> Value {
    serde_json::from_str(document).unwrap_or_else(|_| Value::String(document.to_owned()))
}

/// The function's view, keys and seed for a change to it.
fn on_function(w: Write, ctx: &CallCtx, name: &str) -> Write {
    let (region, function) = keys::function_of(ctx, name);
    w.key(keys::function(ctx, name))
        .seed(Seed::Function(name.to_owned()))
        .view(View::Function { region, name: function })
}

/// A change to a function's alias (a qualifier that is not a version) reads that
/// alias first too.
fn qualified(w: Write, name: &str, qualifier: Option<&str>) -> Write {
    match qualifier {
        Some(q) if q != "$LATEST" && q.parse::<u64>().is_err() => w.seed(Seed::Alias(name.to_owned(), q.to_owned())),
        _ => w,
    }
}

fn on_role(w: Write, ctx: &CallCtx, name: &str) -> Write {
    w.key(keys::role(ctx, name))
        .seed(Seed::Role(name.to_owned()))
        .view(View::Role { name: name.to_owned() })
}

fn on_log_group(w: Write, ctx: &CallCtx, name: &str) -> Write {
    w.key(keys::log_group(ctx, name))
        .seed(Seed::LogGroup(name.to_owned()))
        .view(View::LogGroup {
            region: ctx.region.clone(),
            name: name.to_owned(),
        })
}

fn on_secret(w: Write, ctx: &CallCtx, id: &str) -> Write {
    w.key(keys::secret(ctx, id)).seed(Seed::Secret(id.to_owned())).view(View::Secret {
        region: ctx.region.clone(),
        name: keys::secret_name(id),
    })
}

fn on_api(w: Write, ctx: &CallCtx, id: &str) -> Write {
    w.key(keys::apis(ctx)).seed(Seed::Apis).view(View::Api {
        id: Some(id.to_owned()),
        name: None,
    })
}

fn on_elb(w: Write, ctx: &CallCtx) -> Write {
    w.key(keys::load_balancing(ctx))
}

/// `arn:…:targetgroup/<name>/<id>` → name.
fn target_group_name(arn: &str) -> String {
    arn.split(":targetgroup/")
        .nth(1)
        .and_then(|t| t.split('/').next())
        .unwrap_or(arn)
        .to_owned()
}

/// `arn:…:listener-rule/app/<lb>/<lb id>/<listener id>/<rule id>` → the listener's ARN.
fn listener_of_rule(arn: &str) -> String {
    match arn.replacen(":listener-rule/", ":listener/", 1).rsplit_once('/') {
        Some((listener, _)) => listener.to_owned(),
        None => arn.to_owned(),
    }
}

#[async_trait]
impl CloudBase for PlanCloud {
    fn backend(&self) -> &'static str {
        self.real.backend()
    }

    fn default_region(&self) -> String {
        self.real.default_region()
    }

    /// A plan waits for what the overlay simulates, on its virtual clock.
    async fn pause(&self, _interval: Duration) {
        tokio::task::yield_now().await;
    }

    fn now(&self) -> u64 {
        self.real.now()
    }
}

#[async_trait]
impl StsApi for PlanCloud {
    async fn agent_identity(&self) -> CloudResult<Identity> {
        self.real.sts.agent_identity().await
    }

    /// Sessions are opened on the real cloud (with a read-only session policy: see
    /// `caps::gate`); opening one changes nothing.
    async fn assume_role(&self, ctx: &CallCtx, req: &AssumeRoleRequest) -> CloudResult<Identity> {
        self.real.sts.assume_role(ctx, req).await
    }
}

#[async_trait]
impl LambdaApi for PlanCloud {
    async fn get_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionInfo> {
        self.read(("lambda", "GetFunction"), &[keys::function(ctx, name)], |c| async move {
            c.lambda.get_function(ctx, name, qualifier).await
        })
        .await
    }

    async fn get_function_configuration(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionConfiguration> {
        self.read(
            ("lambda", "GetFunctionConfiguration"),
            &[keys::function(ctx, name)],
            |c| async move { c.lambda.get_function_configuration(ctx, name, qualifier).await },
        )
        .await
    }

    async fn list_versions_by_function(&self, ctx: &CallCtx, name: &str) -> CloudResult<Vec<VersionInfo>> {
        self.read(("lambda", "ListVersionsByFunction"), &[keys::function(ctx, name)], |c| async move {
            c.lambda.list_versions_by_function(ctx, name).await
        })
        .await
    }

    async fn update_function_code(&self, ctx: &CallCtx, req: &UpdateCode) -> CloudResult<FunctionConfiguration> {
        let w = on_function(
            Write::new("lambda", "UpdateFunctionCode", &req.function_name),
            ctx,
            &req.function_name,
        )
        .args(json!({
            "function_name": req.function_name, "code": code(&req.code), "architectures": req.architectures,
        }));
        self.write(ctx, w, |c| async move { c.lambda.update_function_code(ctx, req).await })
            .await
    }

    async fn update_function_configuration(&self, ctx: &CallCtx, req: &UpdateConfiguration) -> CloudResult<FunctionConfiguration> {
        let w = on_function(
            Write::new("lambda", "UpdateFunctionConfiguration", &req.function_name),
            ctx,
            &req.function_name,
        )
        .args(json!({
            "function_name": req.function_name, "memory_size": req.memory_size, "timeout": req.timeout,
            "ephemeral_storage": req.ephemeral_storage, "runtime": req.runtime, "handler": req.handler,
            "environment": req.environment.as_deref().map(env_names), "layers": req.layers,
            "vpc": req.vpc.as_ref().map(|v| json!({"subnet_ids": v.subnet_ids, "security_group_ids": v.security_group_ids})),
            "description": req.description,
        }));
        self.write(ctx, w, |c| async move { c.lambda.update_function_configuration(ctx, req).await })
            .await
    }

    async fn publish_version(&self, ctx: &CallCtx, name: &str, description: &str, revision_id: Option<&str>) -> CloudResult<VersionInfo> {
        let w = on_function(Write::new("lambda", "PublishVersion", name), ctx, name)
            .args(json!({"function_name": name, "description": description}));
        self.write(ctx, w, |c| async move {
            c.lambda.publish_version(ctx, name, description, revision_id).await
        })
        .await
    }

    async fn delete_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<()> {
        let (region, function) = keys::function_of(ctx, name);
        let mut w = on_function(Write::new("lambda", "DeleteFunction", name), ctx, name)
            .args(json!({"function_name": name, "qualifier": qualifier}));
        if qualifier.is_none() {
            w = w
                .deletes(merge::function_identity(&region, &function))
                .key(keys::function_deleted(ctx, name));
        }
        self.write(ctx, w, |c| async move { c.lambda.delete_function(ctx, name, qualifier).await })
            .await
    }

    async fn get_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<Alias> {
        // The function deleted, or the alias changed, by the plan: the overlay knows.
        self.read(
            ("lambda", "GetAlias"),
            &[keys::alias(ctx, name, alias), keys::function_deleted(ctx, name)],
            |c| async move { c.lambda.get_alias(ctx, name, alias).await },
        )
        .await
    }

    async fn create_alias(&self, ctx: &CallCtx, req: &CreateAlias) -> CloudResult<Alias> {
        let w = on_function(Write::new("lambda", "CreateAlias", &req.function_name), ctx, &req.function_name)
            .key(keys::alias(ctx, &req.function_name, &req.alias_name))
            .seed(Seed::Alias(req.function_name.clone(), req.alias_name.clone()))
            .args(json!({
                "function_name": req.function_name, "alias_name": req.alias_name, "function_version": req.function_version,
                "description": req.description, "routing": weights(&req.routing),
            }));
        self.write(ctx, w, |c| async move { c.lambda.create_alias(ctx, req).await }).await
    }

    async fn update_alias(&self, ctx: &CallCtx, req: &UpdateAlias) -> CloudResult<Alias> {
        let w = on_function(Write::new("lambda", "UpdateAlias", &req.function_name), ctx, &req.function_name)
            .key(keys::alias(ctx, &req.function_name, &req.alias_name))
            .seed(Seed::Alias(req.function_name.clone(), req.alias_name.clone()))
            .args(json!({
                "function_name": req.function_name, "alias_name": req.alias_name, "function_version": req.function_version,
                "routing": req.routing.as_deref().map(weights),
            }));
        self.write(ctx, w, |c| async move { c.lambda.update_alias(ctx, req).await }).await
    }

    async fn get_policy(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<String> {
        let keys = [keys::policy(ctx, name), keys::function_deleted(ctx, name)];
        self.read(("lambda", "GetPolicy"), &keys, |c| async move {
            c.lambda.get_policy(ctx, name, qualifier).await
        })
        .await
    }

    async fn get_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<ProvisionedConcurrency> {
        self.read(
            ("lambda", "GetProvisionedConcurrencyConfig"),
            &[keys::function(ctx, name)],
            |c| async move { c.lambda.get_provisioned_concurrency_config(ctx, name, qualifier).await },
        )
        .await
    }

    async fn create_function(&self, ctx: &CallCtx, req: &CreateFunction) -> CloudResult<FunctionConfiguration> {
        let w = on_function(Write::new("lambda", "CreateFunction", &req.function_name), ctx, &req.function_name).args(json!({
            "function_name": req.function_name, "role": req.role, "package_type": req.package_type,
            "code": function_code(&req.code), "runtime": req.runtime, "handler": req.handler,
            "architectures": req.architectures, "memory_size": req.memory_size, "timeout": req.timeout,
            "ephemeral_storage": req.ephemeral_storage, "environment": env_names(&req.environment), "layers": req.layers,
            "vpc": req.vpc.as_ref().map(|v| json!({"subnet_ids": v.subnet_ids, "security_group_ids": v.security_group_ids})),
            "description": req.description, "publish": req.publish, "tags": tags(&req.tags),
        }));
        self.write(ctx, w, |c| async move { c.lambda.create_function(ctx, req).await })
            .await
    }

    async fn put_function_concurrency(&self, ctx: &CallCtx, name: &str, reserved: u32) -> CloudResult<()> {
        let w = on_function(Write::new("lambda", "PutFunctionConcurrency", name), ctx, name)
            .args(json!({"function_name": name, "reserved_concurrent_executions": reserved}));
        self.write(
            ctx,
            w,
            |c| async move { c.lambda.put_function_concurrency(ctx, name, reserved).await },
        )
        .await
    }

    async fn delete_function_concurrency(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let w = on_function(Write::new("lambda", "DeleteFunctionConcurrency", name), ctx, name).args(json!({"function_name": name}));
        self.write(ctx, w, |c| async move { c.lambda.delete_function_concurrency(ctx, name).await })
            .await
    }

    async fn put_provisioned_concurrency_config(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: &str,
        requested: u32,
    ) -> CloudResult<ProvisionedConcurrency> {
        let w = qualified(
            on_function(Write::new("lambda", "PutProvisionedConcurrencyConfig", name), ctx, name),
            name,
            Some(qualifier),
        )
        .seed(Seed::Provisioned(name.to_owned(), qualifier.to_owned()))
        .args(json!({"function_name": name, "qualifier": qualifier, "provisioned_concurrent_executions": requested}));
        self.write(ctx, w, |c| async move {
            c.lambda.put_provisioned_concurrency_config(ctx, name, qualifier, requested).await
        })
        .await
    }

    async fn delete_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<()> {
        let w = qualified(
            on_function(Write::new("lambda", "DeleteProvisionedConcurrencyConfig", name), ctx, name),
            name,
            Some(qualifier),
        )
        .seed(Seed::Provisioned(name.to_owned(), qualifier.to_owned()))
        .args(json!({"function_name": name, "qualifier": qualifier}));
        self.write(ctx, w, |c| async move {
            c.lambda.delete_provisioned_concurrency_config(ctx, name, qualifier).await
        })
        .await
    }

    async fn delete_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<()> {
        let (region, function) = keys::function_of(ctx, name);
        let w = on_function(Write::new("lambda", "DeleteAlias", name), ctx, name)
            .key(keys::alias(ctx, name, alias))
            .seed(Seed::Alias(name.to_owned(), alias.to_owned()))
            .deletes(merge::alias_identity(&region, &function, alias))
            .args(json!({"function_name": name, "alias_name": alias}));
        self.write(ctx, w, |c| async move { c.lambda.delete_alias(ctx, name, alias).await })
            .await
    }

    /// An invocation runs the function's code, which may change anything: a plan
    /// does not invoke; the simulated cloud answers as its fixture says.
    async fn invoke(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, payload: &[u8]) -> CloudResult<Invocation> {
        let w = qualified(on_function(Write::new("lambda", "Invoke", name), ctx, name), name, qualifier)
            .args(json!({"function_name": name, "qualifier": qualifier, "payload_bytes": payload.len()}));
        self.write(ctx, w, |c| async move { c.lambda.invoke(ctx, name, qualifier, payload).await })
            .await
    }

    async fn add_permission(&self, ctx: &CallCtx, req: &AddPermission) -> CloudResult<()> {
        let w = on_function(Write::new("lambda", "AddPermission", &req.function_name), ctx, &req.function_name)
            .key(keys::policy(ctx, &req.function_name));
        let w = qualified(w, &req.function_name, req.qualifier.as_deref()).args(json!({
            "function_name": req.function_name, "qualifier": req.qualifier, "statement_id": req.statement_id,
            "action": req.action, "principal": req.principal, "source_arn": req.source_arn,
        }));
        self.write(ctx, w, |c| async move { c.lambda.add_permission(ctx, req).await }).await
    }

    async fn remove_permission(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, statement_id: &str) -> CloudResult<()> {
        let w = qualified(
            on_function(Write::new("lambda", "RemovePermission", name), ctx, name).key(keys::policy(ctx, name)),
            name,
            qualifier,
        )
        .args(json!({"function_name": name, "qualifier": qualifier, "statement_id": statement_id}));
        self.write(ctx, w, |c| async move {
            c.lambda.remove_permission(ctx, name, qualifier, statement_id).await
        })
        .await
    }
}

#[async_trait]
impl EcrApi for PlanCloud {
    async fn get_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef) -> CloudResult<String> {
        self.read(("ecr", "GetRepositoryPolicy"), &[keys::repository(ctx, repo)], |c| async move {
            c.ecr.get_repository_policy(ctx, repo).await
        })
        .await
    }

    async fn set_repository_policy(&self, ctx: &CallCtx, repo: &RepositoryRef, policy: &str) -> CloudResult<()> {
        let w = Write::new("ecr", "SetRepositoryPolicy", &repo.name)
            .key(keys::repository(ctx, repo))
            .seed(Seed::Repository(repo.clone()))
            .view(View::Repository {
                region: repo.region.clone().unwrap_or_else(|| ctx.region.clone()),
                name: repo.name.clone(),
            })
            .args(json!({"repository_name": repo.name, "registry_id": repo.registry_id, "policy": json_or_text(policy)}));
        self.write(ctx, w, |c| async move { c.ecr.set_repository_policy(ctx, repo, policy).await })
            .await
    }

    async fn describe_images(&self, ctx: &CallCtx, repo: &RepositoryRef, image_tags: &[String]) -> CloudResult<Vec<ImageDetail>> {
        self.read(("ecr", "DescribeImages"), &[keys::repository(ctx, repo)], |c| async move {
            c.ecr.describe_images(ctx, repo, image_tags).await
        })
        .await
    }
}

#[async_trait]
impl IamApi for PlanCloud {
    async fn get_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Role> {
        self.read(("iam", "GetRole"), &[keys::role(ctx, role_name)], |c| async move {
            c.iam.get_role(ctx, role_name).await
        })
        .await
    }

    async fn create_role(&self, ctx: &CallCtx, req: &CreateRole) -> CloudResult<Role> {
        let w = on_role(Write::new("iam", "CreateRole", &req.role_name), ctx, &req.role_name).args(json!({
            "role_name": req.role_name, "assume_role_policy_document": json_or_text(&req.assume_role_policy_document),
            "description": req.description, "permissions_boundary": req.permissions_boundary, "tags": tags(&req.tags),
        }));
        self.write(ctx, w, |c| async move { c.iam.create_role(ctx, req).await }).await
    }

    async fn update_assume_role_policy(&self, ctx: &CallCtx, role_name: &str, document: &str) -> CloudResult<()> {
        let w = on_role(Write::new("iam", "UpdateAssumeRolePolicy", role_name), ctx, role_name)
            .args(json!({"role_name": role_name, "policy_document": json_or_text(document)}));
        self.write(ctx, w, |c| async move {
            c.iam.update_assume_role_policy(ctx, role_name, document).await
        })
        .await
    }

    async fn tag_role(&self, ctx: &CallCtx, role_name: &str, role_tags: &[(String, String)]) -> CloudResult<()> {
        let w =
            on_role(Write::new("iam", "TagRole", role_name), ctx, role_name).args(json!({"role_name": role_name, "tags": tags(role_tags)}));
        self.write(ctx, w, |c| async move { c.iam.tag_role(ctx, role_name, role_tags).await })
            .await
    }

    async fn put_role_permissions_boundary(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let w = on_role(Write::new("iam", "PutRolePermissionsBoundary", role_name), ctx, role_name)
            .args(json!({"role_name": role_name, "permissions_boundary": policy_arn}));
        self.write(ctx, w, |c| async move {
            c.iam.put_role_permissions_boundary(ctx, role_name, policy_arn).await
        })
        .await
    }

    async fn delete_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<()> {
        let w = on_role(Write::new("iam", "DeleteRole", role_name), ctx, role_name)
            .deletes(merge::role_identity(&ctx.identity.account, role_name))
            .args(json!({"role_name": role_name}));
        self.write(ctx, w, |c| async move { c.iam.delete_role(ctx, role_name).await }).await
    }

    async fn put_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str, document: &str) -> CloudResult<()> {
        let w = on_role(Write::new("iam", "PutRolePolicy", role_name), ctx, role_name)
            .args(json!({"role_name": role_name, "policy_name": policy_name, "policy_document": json_or_text(document)}));
        self.write(ctx, w, |c| async move {
            c.iam.put_role_policy(ctx, role_name, policy_name, document).await
        })
        .await
    }

    async fn get_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<String> {
        self.read(("iam", "GetRolePolicy"), &[keys::role(ctx, role_name)], |c| async move {
            c.iam.get_role_policy(ctx, role_name, policy_name).await
        })
        .await
    }

    async fn list_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<String>> {
        self.read(("iam", "ListRolePolicies"), &[keys::role(ctx, role_name)], |c| async move {
            c.iam.list_role_policies(ctx, role_name).await
        })
        .await
    }

    async fn delete_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<()> {
        let w = on_role(Write::new("iam", "DeleteRolePolicy", role_name), ctx, role_name)
            .args(json!({"role_name": role_name, "policy_name": policy_name}));
        self.write(
            ctx,
            w,
            |c| async move { c.iam.delete_role_policy(ctx, role_name, policy_name).await },
        )
        .await
    }

    async fn attach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let w = on_role(Write::new("iam", "AttachRolePolicy", role_name), ctx, role_name)
            .args(json!({"role_name": role_name, "policy_arn": policy_arn}));
        self.write(
            ctx,
            w,
            |c| async move { c.iam.attach_role_policy(ctx, role_name, policy_arn).await },
        )
        .await
    }

    async fn detach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        let w = on_role(Write::new("iam", "DetachRolePolicy", role_name), ctx, role_name)
            .args(json!({"role_name": role_name, "policy_arn": policy_arn}));
        self.write(
            ctx,
            w,
            |c| async move { c.iam.detach_role_policy(ctx, role_name, policy_arn).await },
        )
        .await
    }

    async fn list_attached_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<AttachedPolicy>> {
        self.read(("iam", "ListAttachedRolePolicies"), &[keys::role(ctx, role_name)], |c| async move {
            c.iam.list_attached_role_policies(ctx, role_name).await
        })
        .await
    }
}

#[async_trait]
impl LogsApi for PlanCloud {
    async fn create_log_group(&self, ctx: &CallCtx, name: &str, group_tags: &[(String, String)]) -> CloudResult<()> {
        let w = on_log_group(Write::new("logs", "CreateLogGroup", name), ctx, name)
            .args(json!({"log_group_name": name, "tags": tags(group_tags)}));
        self.write(ctx, w, |c| async move { c.logs.create_log_group(ctx, name, group_tags).await })
            .await
    }

    async fn delete_log_group(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let w = on_log_group(Write::new("logs", "DeleteLogGroup", name), ctx, name)
            .deletes(merge::log_group_identity(&ctx.region, name))
            .args(json!({"log_group_name": name}));
        self.write(ctx, w, |c| async move { c.logs.delete_log_group(ctx, name).await })
            .await
    }

    async fn put_retention_policy(&self, ctx: &CallCtx, name: &str, days: u32) -> CloudResult<()> {
        let w = on_log_group(Write::new("logs", "PutRetentionPolicy", name), ctx, name)
            .args(json!({"log_group_name": name, "retention_in_days": days}));
        self.write(ctx, w, |c| async move { c.logs.put_retention_policy(ctx, name, days).await })
            .await
    }

    async fn delete_retention_policy(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let w = on_log_group(Write::new("logs", "DeleteRetentionPolicy", name), ctx, name).args(json!({"log_group_name": name}));
        self.write(ctx, w, |c| async move { c.logs.delete_retention_policy(ctx, name).await })
            .await
    }

    async fn describe_log_groups(&self, ctx: &CallCtx, prefix: &str) -> CloudResult<Vec<LogGroup>> {
        self.list(("logs", "DescribeLogGroups"), &keys::log_groups(ctx), |c| async move {
            c.logs.describe_log_groups(ctx, prefix).await
        })
        .await
    }

    /// Log events are what the function wrote, never what a plan changes.
    async fn filter_log_events(&self, ctx: &CallCtx, req: &FilterLogEvents) -> CloudResult<LogPage> {
        self.real.logs.filter_log_events(ctx, req).await
    }
}

#[async_trait]
impl SecretsApi for PlanCloud {
    async fn put_secret_value(&self, ctx: &CallCtx, secret_id: &str, value: &str) -> CloudResult<SecretRef> {
        let w = on_secret(Write::new("secretsmanager", "PutSecretValue", secret_id), ctx, secret_id)
            .args(json!({"secret_id": secret_id, "secret_string": MASK}));
        self.write(ctx, w, |c| async move { c.secrets.put_secret_value(ctx, secret_id, value).await })
            .await
    }

    async fn create_secret(&self, ctx: &CallCtx, req: &CreateSecret) -> CloudResult<SecretRef> {
        let w = on_secret(Write::new("secretsmanager", "CreateSecret", &req.name), ctx, &req.name).args(json!({
            "name": req.name, "description": req.description, "secret_string": MASK, "tags": tags(&req.tags),
        }));
        self.write(ctx, w, |c| async move { c.secrets.create_secret(ctx, req).await }).await
    }

    async fn delete_secret(&self, ctx: &CallCtx, secret_id: &str, force: bool) -> CloudResult<()> {
        let w = on_secret(Write::new("secretsmanager", "DeleteSecret", secret_id), ctx, secret_id)
            .deletes(merge::secret_identity(&ctx.region, &keys::secret_name(secret_id)))
            .args(json!({"secret_id": secret_id, "force_delete_without_recovery": force}));
        self.write(ctx, w, |c| async move { c.secrets.delete_secret(ctx, secret_id, force).await })
            .await
    }

    async fn list_secrets(&self, ctx: &CallCtx, name_prefix: &str) -> CloudResult<Vec<SecretSummary>> {
        self.list(("secretsmanager", "ListSecrets"), &keys::secrets(ctx), |c| async move {
            c.secrets.list_secrets(ctx, name_prefix).await
        })
        .await
    }
}

#[async_trait]
impl TaggingApi for PlanCloud {
    /// What carries a tag is read from the real cloud: the plan's own resources are
    /// in its changes.
    async fn get_resources(&self, ctx: &CallCtx, resource_types: &[String], filters: &[TagFilter]) -> CloudResult<Vec<TaggedResource>> {
        self.real.tagging.get_resources(ctx, resource_types, filters).await
    }
}

#[async_trait]
impl CloudWatchApi for PlanCloud {
    async fn get_metric_statistics(&self, ctx: &CallCtx, query: &MetricQuery) -> CloudResult<Vec<Datapoint>> {
        self.real.cloudwatch.get_metric_statistics(ctx, query).await
    }
}

#[async_trait]
impl ApiGatewayApi for PlanCloud {
    async fn get_apis(&self, ctx: &CallCtx) -> CloudResult<Vec<HttpApi>> {
        self.read(("apigateway", "GetApis"), &[keys::apis(ctx)], |c| async move {
            c.apigateway.get_apis(ctx).await
        })
        .await
    }

    async fn create_api(&self, ctx: &CallCtx, name: &str, cors: Option<&Cors>, api_tags: &[(String, String)]) -> CloudResult<HttpApi> {
        let w = Write::new("apigateway", "CreateApi", name)
            .key(keys::apis(ctx))
            .seed(Seed::Apis)
            .view(View::Api {
                id: None,
                name: Some(name.to_owned()),
            })
            .args(json!({
                "name": name, "tags": tags(api_tags),
                "cors": cors.map(|c| json!({"allow_origins": c.allow_origins, "allow_methods": c.allow_methods, "allow_headers": c.allow_headers, "max_age": c.max_age})),
            }));
        self.write(ctx, w, |c| async move { c.apigateway.create_api(ctx, name, cors, api_tags).await })
            .await
    }

    async fn delete_api(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<()> {
        let w = on_api(Write::new("apigateway", "DeleteApi", api_id), ctx, api_id)
            .deletes(merge::api_identity(api_id))
            .args(json!({"api_id": api_id}));
        self.write(ctx, w, |c| async move { c.apigateway.delete_api(ctx, api_id).await })
            .await
    }

    async fn get_stages(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Stage>> {
        self.read(("apigateway", "GetStages"), &[keys::apis(ctx)], |c| async move {
            c.apigateway.get_stages(ctx, api_id).await
        })
        .await
    }

    async fn create_stage(&self, ctx: &CallCtx, req: &CreateStage) -> CloudResult<Stage> {
        let w = on_api(Write::new("apigateway", "CreateStage", &req.api_id), ctx, &req.api_id).args(json!({
            "api_id": req.api_id, "stage_name": req.stage_name, "auto_deploy": req.auto_deploy,
            "rate_limit": req.rate_limit, "burst_limit": req.burst_limit,
        }));
        self.write(ctx, w, |c| async move { c.apigateway.create_stage(ctx, req).await })
            .await
    }

    async fn get_integrations(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Integration>> {
        self.read(("apigateway", "GetIntegrations"), &[keys::apis(ctx)], |c| async move {
            c.apigateway.get_integrations(ctx, api_id).await
        })
        .await
    }

    async fn create_integration(
        &self,
        ctx: &CallCtx,
        api_id: &str,
        function_arn: &str,
        payload_format_version: &str,
    ) -> CloudResult<Integration> {
        let w = on_api(Write::new("apigateway", "CreateIntegration", api_id), ctx, api_id)
            .args(json!({"api_id": api_id, "function_arn": function_arn, "payload_format_version": payload_format_version}));
        self.write(ctx, w, |c| async move {
            c.apigateway
                .create_integration(ctx, api_id, function_arn, payload_format_version)
                .await
        })
        .await
    }

    async fn get_routes(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Route>> {
        self.read(("apigateway", "GetRoutes"), &[keys::apis(ctx)], |c| async move {
            c.apigateway.get_routes(ctx, api_id).await
        })
        .await
    }

    async fn create_route(&self, ctx: &CallCtx, api_id: &str, route_key: &str, target: &str) -> CloudResult<Route> {
        let w = on_api(Write::new("apigateway", "CreateRoute", api_id), ctx, api_id)
            .args(json!({"api_id": api_id, "route_key": route_key, "target": target}));
        self.write(ctx, w, |c| async move {
            c.apigateway.create_route(ctx, api_id, route_key, target).await
        })
        .await
    }

    async fn get_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<DomainName> {
        self.read(("apigateway", "GetDomainName"), &[keys::domain(ctx, domain_name)], |c| async move {
            c.apigateway.get_domain_name(ctx, domain_name).await
        })
        .await
    }

    async fn create_domain_name(
        &self,
        ctx: &CallCtx,
        domain_name: &str,
        certificate_arn: &str,
        domain_tags: &[(String, String)],
    ) -> CloudResult<DomainName> {
        let w = Write::new("apigateway", "CreateDomainName", domain_name)
            .key(keys::domain(ctx, domain_name))
            .seed(Seed::Domain(domain_name.to_owned()))
            .view(View::Domain {
                name: domain_name.to_owned(),
            })
            .args(json!({"domain_name": domain_name, "certificate_arn": certificate_arn, "tags": tags(domain_tags)}));
        self.write(ctx, w, |c| async move {
            c.apigateway
                .create_domain_name(ctx, domain_name, certificate_arn, domain_tags)
                .await
        })
        .await
    }

    async fn delete_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<()> {
        let w = Write::new("apigateway", "DeleteDomainName", domain_name)
            .key(keys::domain(ctx, domain_name))
            .seed(Seed::Domain(domain_name.to_owned()))
            .view(View::Domain {
                name: domain_name.to_owned(),
            })
            .deletes(merge::domain_identity(domain_name))
            .args(json!({"domain_name": domain_name}));
        self.write(ctx, w, |c| async move { c.apigateway.delete_domain_name(ctx, domain_name).await })
            .await
    }

    async fn get_api_mappings(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<Vec<ApiMapping>> {
        self.read(
            ("apigateway", "GetApiMappings"),
            &[keys::domain(ctx, domain_name)],
            |c| async move { c.apigateway.get_api_mappings(ctx, domain_name).await },
        )
        .await
    }

    async fn create_api_mapping(&self, ctx: &CallCtx, domain_name: &str, api_id: &str, stage: &str) -> CloudResult<ApiMapping> {
        let w = Write::new("apigateway", "CreateApiMapping", domain_name)
            .key(keys::domain(ctx, domain_name))
            .seed(Seed::Domain(domain_name.to_owned()))
            .seed(Seed::Apis)
            .view(View::Domain {
                name: domain_name.to_owned(),
            })
            .args(json!({"domain_name": domain_name, "api_id": api_id, "stage": stage}));
        self.write(ctx, w, |c| async move {
            c.apigateway.create_api_mapping(ctx, domain_name, api_id, stage).await
        })
        .await
    }
}

#[async_trait]
impl ElbApi for PlanCloud {
    async fn describe_target_groups(&self, ctx: &CallCtx, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        self.read(
            ("elasticloadbalancing", "DescribeTargetGroups"),
            &[keys::load_balancing(ctx)],
            |c| async move { c.elb.describe_target_groups(ctx, names).await },
        )
        .await
    }

    async fn create_target_group(&self, ctx: &CallCtx, req: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        let w = on_elb(Write::new("elasticloadbalancing", "CreateTargetGroup", &req.name), ctx)
            .seed(Seed::TargetGroup(req.name.clone()))
            .view(View::TargetGroup {
                name: Some(req.name.clone()),
                arn: None,
            })
            .args(json!({"name": req.name, "health_check_path": req.health_check.path, "tags": tags(&req.tags)}));
        self.write(ctx, w, |c| async move { c.elb.create_target_group(ctx, req).await })
            .await
    }

    async fn delete_target_group(&self, ctx: &CallCtx, arn: &str) -> CloudResult<()> {
        let name = target_group_name(arn);
        let w = on_elb(Write::new("elasticloadbalancing", "DeleteTargetGroup", arn), ctx)
            .seed(Seed::TargetGroup(name.clone()))
            .view(View::TargetGroup {
                name: None,
                arn: Some(arn.to_owned()),
            })
            .deletes(merge::target_group_identity(&name))
            .args(json!({"target_group_arn": arn}));
        self.write(ctx, w, |c| async move { c.elb.delete_target_group(ctx, arn).await })
            .await
    }

    async fn register_target(&self, ctx: &CallCtx, target_group_arn: &str, function_arn: &str) -> CloudResult<()> {
        let w = on_elb(Write::new("elasticloadbalancing", "RegisterTargets", target_group_arn), ctx)
            .seed(Seed::TargetGroup(target_group_name(target_group_arn)))
            .view(View::TargetGroup {
                name: None,
                arn: Some(target_group_arn.to_owned()),
            })
            .args(json!({"target_group_arn": target_group_arn, "target": function_arn}));
        self.write(ctx, w, |c| async move {
            c.elb.register_target(ctx, target_group_arn, function_arn).await
        })
        .await
    }

    async fn describe_targets(&self, ctx: &CallCtx, target_group_arn: &str) -> CloudResult<Vec<String>> {
        self.read(
            ("elasticloadbalancing", "DescribeTargets"),
            &[keys::load_balancing(ctx)],
            |c| async move { c.elb.describe_targets(ctx, target_group_arn).await },
        )
        .await
    }

    async fn describe_listener(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Listener> {
        self.read(
            ("elasticloadbalancing", "DescribeListener"),
            &[keys::load_balancing(ctx)],
            |c| async move { c.elb.describe_listener(ctx, listener_arn).await },
        )
        .await
    }

    async fn describe_rules(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Vec<ListenerRule>> {
        self.read(
            ("elasticloadbalancing", "DescribeRules"),
            &[keys::load_balancing(ctx)],
            |c| async move { c.elb.describe_rules(ctx, listener_arn).await },
        )
        .await
    }

    async fn create_rule(&self, ctx: &CallCtx, req: &CreateRule) -> CloudResult<ListenerRule> {
        let w = on_elb(Write::new("elasticloadbalancing", "CreateRule", &req.listener_arn), ctx)
            .seed(Seed::Listener(req.listener_arn.clone()))
            .seed(Seed::TargetGroup(target_group_name(&req.target_group_arn)))
            .view(View::Listener {
                arn: req.listener_arn.clone(),
            })
            .args(json!({
                "listener_arn": req.listener_arn, "priority": req.priority, "hosts": req.hosts,
                "target_group_arn": req.target_group_arn, "tags": tags(&req.tags),
            }));
        self.write(ctx, w, |c| async move { c.elb.create_rule(ctx, req).await }).await
    }

    async fn delete_rule(&self, ctx: &CallCtx, rule_arn: &str) -> CloudResult<()> {
        let listener = listener_of_rule(rule_arn);
        let w = on_elb(Write::new("elasticloadbalancing", "DeleteRule", rule_arn), ctx)
            .seed(Seed::Listener(listener.clone()))
            .view(View::Listener { arn: listener })
            .args(json!({"rule_arn": rule_arn}));
        self.write(ctx, w, |c| async move { c.elb.delete_rule(ctx, rule_arn).await }).await
    }
}

#[async_trait]
impl Route53Api for PlanCloud {
    async fn get_hosted_zone(&self, ctx: &CallCtx, zone_id: &str) -> CloudResult<HostedZone> {
        self.read(("route53", "GetHostedZone"), &[keys::zone(zone_id)], |c| async move {
            c.route53.get_hosted_zone(ctx, zone_id).await
        })
        .await
    }

    async fn list_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        name: &str,
        record_type: &str,
        max_items: u32,
    ) -> CloudResult<Vec<RecordSet>> {
        self.read(("route53", "ListResourceRecordSets"), &[keys::zone(zone_id)], |c| async move {
            c.route53
                .list_resource_record_sets(ctx, zone_id, name, record_type, max_items)
                .await
        })
        .await
    }

    async fn change_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        action: ChangeAction,
        record: &RecordSet,
    ) -> CloudResult<String> {
        let w = Write::new("route53", "ChangeResourceRecordSets", zone_id)
            .key(keys::zone(zone_id))
            .seed(Seed::Zone(
                zone_id.to_owned(),
                Some((record.name.clone(), record.record_type.clone())),
            ))
            .view(View::Zone { id: zone_id.to_owned() })
            .args(json!({
                "hosted_zone_id": zone_id,
                "action": match action { ChangeAction::Upsert => "UPSERT", ChangeAction::Delete => "DELETE" },
                "name": record.name, "type": record.record_type, "ttl": record.ttl, "values": record.values,
                "alias_target": record.alias_target,
            }));
        self.write(ctx, w, |c| async move {
            c.route53.change_resource_record_sets(ctx, zone_id, action, record).await
        })
        .await
    }
}
