//! Fixture → state (with every default filled in and every reference checked) and
//! state → fixture (the dump). `dump(load(f))` loads back to the same state.

use super::fixture::*;
use super::lambda;
use super::policy;
use super::state::*;
use crate::cloud::PackageType;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};

pub(super) const DEFAULT_ACCOUNT: &str = "123456789012";
pub(super) const DEFAULT_REGION: &str = "us-east-1";
const DEFAULT_MAX_SESSION: u32 = 3600;
const DEFAULT_ZIP_RUNTIME: &str = "nodejs22.x";
const DEFAULT_ZIP_HANDLER: &str = "index.handler";
const FUNCTION_STATES: [&str; 4] = ["Pending", "Active", "Inactive", "Failed"];
const UPDATE_STATUSES: [&str; 3] = ["InProgress", "Successful", "Failed"];
const PROVISIONED_STATUSES: [&str; 3] = ["IN_PROGRESS", "READY", "FAILED"];

/// The default agent of an account.
pub(super) fn default_agent_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:user/np-agent")
}

/// Builds the state a fixture describes. The error names the offending item.
pub(super) fn load(fx: Fixture) -> Result<State, String> {
    let account_id = fx.account_id.unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
    if !is_account_id(&account_id) {
        return Err(format!("account_id \"{account_id}\" is not a 12-digit account id"));
    }
    let region = fx.region.unwrap_or_else(|| DEFAULT_REGION.to_string());
    if region.is_empty() {
        return Err("region is empty".to_string());
    }
    let agent_arn = fx.agent.and_then(|a| a.arn).unwrap_or_else(|| default_agent_arn(&account_id));
    if arn_account(&agent_arn).is_none() {
        return Err(format!("agent.arn \"{agent_arn}\" is not an ARN with a 12-digit account id"));
    }
    let networking = super::networking::Networking::load(fx.networking, &region)?;
    for f in &fx.faults {
        if super::errors::scripted_code(&f.code).is_none() {
            return Err(format!(
                "faults: code \"{}\" cannot be scripted; one of: {}",
                f.code,
                super::errors::SCRIPTED_CODES.join(", ")
            ));
        }
    }
    let mut st = State {
        faults: fx.faults,
        account_id,
        region,
        agent_arn,
        roles: BTreeMap::new(),
        functions: BTreeMap::new(),
        repositories: BTreeMap::new(),
        secrets: BTreeMap::new(),
        s3_objects: BTreeMap::new(),
        log_groups: BTreeMap::new(),
        networking,
        metrics: fx.metrics,
        sessions: BTreeMap::new(),
        clock: super::iam_sts::VIRTUAL_EPOCH,
        counters: Counters {
            requests: 0,
            revisions: fx.counters.revisions,
            secret_versions: fx.counters.secret_versions,
            sessions: fx.counters.sessions,
            resources: fx.counters.resources,
        },
    };
    // S3 first: Zip functions derive their code hash from the object's ETag.
    for object in fx.s3.objects {
        load_s3_object(&mut st, object)?;
    }
    for role in fx.iam.roles {
        load_role(&mut st, role)?;
    }
    for function in fx.lambda.functions {
        load_function(&mut st, function)?;
    }
    for repository in fx.ecr.repositories {
        load_repository(&mut st, repository)?;
    }
    for secret in fx.secrets {
        load_secret(&mut st, secret)?;
    }
    for group in fx.logs.log_groups {
        load_log_group(&mut st, group)?;
    }
    Ok(st)
}

fn load_log_group(st: &mut State, g: LogGroupFixture) -> Result<(), String> {
    let what = format!("log group \"{}\"", g.name);
    if g.name.is_empty() {
        return Err("a log group has an empty name".to_string());
    }
    if let Some(days) = g.retention_in_days {
        if !crate::caps::logs::RETENTION_DAYS.contains(&days) {
            return Err(format!(
                "{what}: retention_in_days {days} is not a retention CloudWatch Logs accepts"
            ));
        }
    }
    let region = g.region.unwrap_or_else(|| st.region.clone());
    let key = (region.clone(), g.name.clone());
    if st.log_groups.contains_key(&key) {
        return Err(format!("{what} in {region} is listed twice"));
    }
    st.log_groups.insert(
        key,
        LogGroupState {
            name: g.name,
            region,
            retention_in_days: g.retention_in_days,
            tags: g.tags,
            stored_bytes: g.stored_bytes.unwrap_or(0),
            events: {
                let mut events = g.events;
                events.sort_by_key(|e| e.timestamp);
                events
            },
        },
    );
    Ok(())
}

fn load_s3_object(st: &mut State, o: S3ObjectFixture) -> Result<(), String> {
    let etag = o
        .etag
        .unwrap_or_else(|| sha256_hex(&format!("{}/{}/{}", o.bucket, o.key, o.size))[..32].to_string());
    let key = (o.bucket, o.key);
    if st.s3_objects.contains_key(&key) {
        return Err(format!("s3 object s3://{}/{} is listed twice", key.0, key.1));
    }
    st.s3_objects.insert(key, S3Object { size: o.size, etag });
    Ok(())
}

fn load_role(st: &mut State, r: RoleFixture) -> Result<(), String> {
    let what = format!("iam role \"{}\"", r.name);
    let account = r.account_id.unwrap_or_else(|| st.account_id.clone());
    if !is_account_id(&account) {
        return Err(format!("{what}: account_id \"{account}\" is not a 12-digit account id"));
    }
    let path = r.path.unwrap_or_else(|| "/".to_string());
    if !(path.starts_with('/') && path.ends_with('/')) {
        return Err(format!("{what}: path \"{path}\" must start and end with /"));
    }
    let trust_policy = r.assume_role_policy_document.unwrap_or_else(|| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]})
    });
    if !matches!(trust_policy.get("Statement"), Some(Value::Array(_) | Value::Object(_))) {
        return Err(format!("{what}: assume_role_policy_document has no Statement"));
    }
    let max_session_duration = r.max_session_duration.unwrap_or(DEFAULT_MAX_SESSION);
    if !(3600..=43200).contains(&max_session_duration) {
        return Err(format!("{what}: max_session_duration {max_session_duration} is outside 3600–43200"));
    }
    let key = (account.clone(), r.name.clone());
    if st.roles.contains_key(&key) {
        return Err(format!("{what} in account {account} is listed twice"));
    }
    for (name, document) in &r.inline_policies {
        if !document.is_object() {
            return Err(format!("{what}: inline policy \"{name}\" is not a JSON object"));
        }
    }
    let role = RoleState {
        name: r.name,
        account,
        path,
        trust_policy,
        allowed_actions: r.allowed_actions,
        max_session_duration,
        description: r.description.unwrap_or_default(),
        permissions_boundary: r.permissions_boundary,
        tags: r.tags,
        inline_policies: r.inline_policies,
        attached_policies: r.attached_policies.into_iter().collect(),
    };
    st.roles.insert(key, role);
    Ok(())
}

/// The code hash of a fixture's code location when it does not give one.
fn derived_code_sha256(st: &State, image_uri: Option<&str>, bucket: Option<&str>, key: Option<&str>) -> String {
    match image_uri {
        Some(uri) => lambda::image_code_sha256(uri),
        None => {
            let (bucket, key) = (bucket.unwrap_or_default(), key.unwrap_or_default());
            let etag = st.s3_objects.get(&(bucket.to_string(), key.to_string())).map(|o| o.etag.as_str());
            lambda::zip_code_sha256(bucket, key, etag.unwrap_or_default())
        }
    }
}

/// Checks what AWS enforces of any function configuration.
fn check_settings(s: &Settings) -> Result<(), String> {
    match s.package_type {
        PackageType::Image => {
            if s.image_uri.is_none() {
                return Err("package_type Image needs image_uri".to_string());
            }
            if s.s3_bucket.is_some() || s.s3_key.is_some() {
                return Err("package_type Image takes no s3_bucket or s3_key".to_string());
            }
            if s.runtime.is_some() || s.handler.is_some() {
                return Err("package_type Image takes no runtime or handler".to_string());
            }
        }
        PackageType::Zip => {
            if s.image_uri.is_some() {
                return Err("package_type Zip takes no image_uri".to_string());
            }
            if s.s3_bucket.is_some() != s.s3_key.is_some() {
                return Err("s3_bucket and s3_key go together".to_string());
            }
        }
    }
    lambda::check_limits(Some(s.memory_size), Some(s.timeout), Some(s.ephemeral_storage)).map_err(|f| f.message)?;
    lambda::check_architectures(&s.architectures).map_err(|f| f.message)
}

fn load_function(st: &mut State, f: FunctionFixture) -> Result<(), String> {
    let region = f.region.clone().unwrap_or_else(|| st.region.clone());
    let what = format!("lambda function \"{}\" ({region})", f.name);
    lambda::check_function_name(&f.name).map_err(|e| format!("{what}: {}", e.message))?;
    let key = (region.clone(), f.name.clone());
    if st.functions.contains_key(&key) {
        return Err(format!("{what} is listed twice"));
    }
    let package_type = f.package_type.unwrap_or(if f.image_uri.is_some() {
        PackageType::Image
    } else {
        PackageType::Zip
    });
    let zip_default = |given: Option<String>, default: &str| match package_type {
        PackageType::Zip => Some(given.unwrap_or_else(|| default.to_string())),
        PackageType::Image => given,
    };
    let code_sha256 = f
        .code_sha256
        .clone()
        .unwrap_or_else(|| derived_code_sha256(st, f.image_uri.as_deref(), f.s3_bucket.as_deref(), f.s3_key.as_deref()));
    let settings = Settings {
        package_type,
        image_uri: f.image_uri,
        s3_bucket: f.s3_bucket,
        s3_key: f.s3_key,
        code_sha256,
        runtime: zip_default(f.runtime, DEFAULT_ZIP_RUNTIME),
        handler: zip_default(f.handler, DEFAULT_ZIP_HANDLER),
        role: f
            .role
            .unwrap_or_else(|| format!("arn:aws:iam::{}:role/service-role/{}-role", st.account_id, f.name)),
        memory_size: f.memory_size.unwrap_or(128),
        timeout: f.timeout.unwrap_or(3),
        ephemeral_storage: f.ephemeral_storage.unwrap_or(512),
        architectures: f.architectures.unwrap_or_else(|| vec!["x86_64".to_string()]),
        environment: f.environment.unwrap_or_default(),
        layers: f.layers.unwrap_or_default(),
        subnet_ids: f.subnet_ids.unwrap_or_default(),
        security_group_ids: f.security_group_ids.unwrap_or_default(),
    };
    check_settings(&settings).map_err(|e| format!("{what}: {e}"))?;
    let state = f.state.unwrap_or_else(|| "Active".to_string());
    if !FUNCTION_STATES.contains(&state.as_str()) {
        return Err(format!("{what}: state \"{state}\" is not one of {FUNCTION_STATES:?}"));
    }
    let last_update_status = f.last_update_status.unwrap_or_else(|| "Successful".to_string());
    check_update_status(&last_update_status).map_err(|e| format!("{what}: last_update_status {e}"))?;
    let revision_id = f.revision_id.unwrap_or_else(|| st.next_revision_id());

    let mut versions = BTreeMap::new();
    for v in f.versions {
        let number = lambda::parse_version_number(&v.version)
            .ok_or_else(|| format!("{what}: version \"{}\" is not a positive version number", v.version))?;
        let vwhat = format!("{what}: version {number}");
        if versions.contains_key(&number) {
            return Err(format!("{vwhat} is listed twice"));
        }
        let version = load_version(st, &settings, v).map_err(|e| format!("{vwhat}: {e}"))?;
        versions.insert(number, version);
    }
    let max_version = versions.keys().next_back().copied().unwrap_or(0);
    let highest_version = f.highest_published_version.unwrap_or(max_version);
    if highest_version < max_version {
        return Err(format!(
            "{what}: highest_published_version {highest_version} is below its version {max_version}"
        ));
    }

    let mut function = Function {
        arn: lambda::function_arn(&region, &st.account_id, &f.name),
        name: f.name,
        region,
        settings,
        description: f.description.unwrap_or_default(),
        state,
        state_reason: f.state_reason,
        last_update_status,
        last_update_status_reason: f.last_update_status_reason,
        revision_id,
        tags: f.tags,
        reserved_concurrency: f.reserved_concurrency,
        versions,
        highest_version,
        aliases: BTreeMap::new(),
        policy: f.policy,
        provisioned: BTreeMap::new(),
        current_update: None,
        next_updates: VecDeque::new(),
        activating: false,
        invoke_response: f.invoke_response,
        invoke_error: f.invoke_error,
    };
    if let Some(policy) = &function.policy {
        if !policy.is_object() {
            return Err(format!("{what}: policy is not a JSON object"));
        }
    }
    for a in f.aliases {
        let awhat = format!("{what}: alias \"{}\"", a.name);
        if function.aliases.contains_key(&a.name) {
            return Err(format!("{awhat} is listed twice"));
        }
        lambda::check_alias_name(&a.name).map_err(|e| format!("{awhat}: {}", e.message))?;
        let function_version = a.function_version.unwrap_or_else(|| lambda::LATEST.to_string());
        if !function.has_version(&function_version) {
            return Err(format!("{awhat} points at version \"{function_version}\", which does not exist"));
        }
        lambda::check_routing(&function, &function_version, &a.routing).map_err(|e| format!("{awhat}: {}", e.message))?;
        let revision_id = a.revision_id.unwrap_or_else(|| st.next_revision_id());
        let alias = AliasState {
            function_version,
            description: a.description.unwrap_or_default(),
            routing: a.routing,
            revision_id,
        };
        function.aliases.insert(a.name, alias);
    }
    for p in f.provisioned_concurrency {
        let pwhat = format!("{what}: provisioned_concurrency \"{}\"", p.qualifier);
        let is_alias = function.aliases.contains_key(&p.qualifier);
        let is_version = lambda::parse_version_number(&p.qualifier).is_some_and(|n| function.versions.contains_key(&n));
        if !(is_alias || is_version) {
            return Err(format!("{pwhat}: the qualifier is neither an alias nor a version of the function"));
        }
        if function.provisioned.contains_key(&p.qualifier) {
            return Err(format!("{pwhat} is listed twice"));
        }
        let script: VecDeque<String> = p.status_script.unwrap_or_else(|| vec!["READY".to_string()]).into();
        if script.is_empty() {
            return Err(format!("{pwhat}: status_script is empty"));
        }
        if let Some(bad) = script.iter().find(|s| !PROVISIONED_STATUSES.contains(&s.as_str())) {
            return Err(format!("{pwhat}: status \"{bad}\" is not one of {PROVISIONED_STATUSES:?}"));
        }
        function.provisioned.insert(
            p.qualifier,
            Provisioned {
                requested: p.requested,
                script,
                status_reason: p.status_reason,
            },
        );
    }
    if let Some(current) = f.current_update {
        function.current_update = Some(load_script(current).map_err(|e| format!("{what}: current_update {e}"))?);
    }
    for (i, next) in f.next_updates.into_iter().enumerate() {
        let script = load_script(next).map_err(|e| format!("{what}: next_updates[{i}] {e}"))?;
        function.next_updates.push_back(script);
    }
    st.functions.insert(key, function);
    Ok(())
}

fn check_update_status(status: &str) -> Result<(), String> {
    if UPDATE_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(format!("\"{status}\" is not one of {UPDATE_STATUSES:?}"))
    }
}

fn load_script(s: UpdateScriptFixture) -> Result<UpdateScript, String> {
    if s.statuses.is_empty() {
        return Err("has no statuses".to_string());
    }
    for status in &s.statuses {
        check_update_status(status)?;
    }
    Ok(UpdateScript {
        statuses: s.statuses.into(),
        reason: s.reason,
    })
}

/// A version: the function's settings overridden by what the fixture gives.
fn load_version(st: &mut State, latest: &Settings, v: VersionFixture) -> Result<Version, String> {
    let code_moved = v.image_uri.is_some() || v.s3_bucket.is_some() || v.s3_key.is_some();
    let image_uri = v.image_uri.or_else(|| latest.image_uri.clone());
    let s3_bucket = v.s3_bucket.or_else(|| latest.s3_bucket.clone());
    let s3_key = v.s3_key.or_else(|| latest.s3_key.clone());
    let code_sha256 = match v.code_sha256 {
        Some(sha) => sha,
        None if code_moved => derived_code_sha256(st, image_uri.as_deref(), s3_bucket.as_deref(), s3_key.as_deref()),
        None => latest.code_sha256.clone(),
    };
    let settings = Settings {
        package_type: latest.package_type,
        image_uri,
        s3_bucket,
        s3_key,
        code_sha256,
        runtime: v.runtime.or_else(|| latest.runtime.clone()),
        handler: v.handler.or_else(|| latest.handler.clone()),
        role: v.role.unwrap_or_else(|| latest.role.clone()),
        memory_size: v.memory_size.unwrap_or(latest.memory_size),
        timeout: v.timeout.unwrap_or(latest.timeout),
        ephemeral_storage: v.ephemeral_storage.unwrap_or(latest.ephemeral_storage),
        architectures: v.architectures.unwrap_or_else(|| latest.architectures.clone()),
        environment: v.environment.unwrap_or_else(|| latest.environment.clone()),
        layers: v.layers.unwrap_or_else(|| latest.layers.clone()),
        subnet_ids: v.subnet_ids.unwrap_or_else(|| latest.subnet_ids.clone()),
        security_group_ids: v.security_group_ids.unwrap_or_else(|| latest.security_group_ids.clone()),
    };
    check_settings(&settings)?;
    let revision_id = v.revision_id.unwrap_or_else(|| st.next_revision_id());
    Ok(Version {
        settings,
        description: v.description.unwrap_or_default(),
        revision_id,
    })
}

fn load_repository(st: &mut State, r: RepositoryFixture) -> Result<(), String> {
    let registry_id = r.registry_id.unwrap_or_else(|| st.account_id.clone());
    let region = r.region.unwrap_or_else(|| st.region.clone());
    let what = format!("ecr repository \"{}\" (registry {registry_id}, {region})", r.name);
    if !is_account_id(&registry_id) {
        return Err(format!("{what}: registry_id is not a 12-digit account id"));
    }
    if let Some(policy) = &r.policy {
        if !policy::has_statement_list(policy) {
            return Err(format!("{what}: policy has no Statement list"));
        }
    }
    let key = (registry_id.clone(), region.clone(), r.name.clone());
    if st.repositories.contains_key(&key) {
        return Err(format!("{what} is listed twice"));
    }
    let mut images = Vec::new();
    let mut seen_tags = BTreeMap::new();
    for (i, image) in r.images.into_iter().enumerate() {
        for tag in &image.tags {
            if seen_tags.insert(tag.clone(), i).is_some() {
                return Err(format!("{what}: tag \"{tag}\" names two images"));
            }
        }
        let digest = image.digest.unwrap_or_else(|| {
            format!(
                "sha256:{}",
                sha256_hex(&format!("{registry_id}/{region}/{}#{i}:{}", r.name, image.tags.join(",")))
            )
        });
        images.push(Image {
            tags: image.tags,
            digest,
            pushed_at: image.pushed_at,
            size_bytes: image.size_bytes,
        });
    }
    let repository = Repository {
        name: r.name,
        registry_id,
        region,
        policy: r.policy,
        images,
        tags: r.tags,
    };
    st.repositories.insert(key, repository);
    Ok(())
}

fn load_secret(st: &mut State, s: SecretFixture) -> Result<(), String> {
    let region = s.region.unwrap_or_else(|| st.region.clone());
    let what = format!("secret \"{}\" ({region})", s.name);
    let value_sha256 = match (s.value, s.value_sha256) {
        (Some(_), Some(_)) => return Err(format!("{what}: give either value or value_sha256, not both")),
        (Some(value), None) => Some(sha256_hex(&value)),
        (None, Some(sha)) => {
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{what}: value_sha256 is not 64 hex digits"));
            }
            Some(sha.to_ascii_lowercase())
        }
        (None, None) => None,
    };
    let key = (region.clone(), s.name.clone());
    if st.secrets.contains_key(&key) {
        return Err(format!("{what} is listed twice"));
    }
    let version_id = match s.version_id {
        Some(id) => Some(id),
        None if value_sha256.is_some() => Some(st.next_secret_version_id()),
        None => None,
    };
    let secret = Secret {
        name: s.name,
        region,
        value_sha256,
        description: s.description,
        tags: s.tags,
        version_id,
        pending_deletion: s.pending_deletion,
    };
    st.secrets.insert(key, secret);
    Ok(())
}

/// The state as a fixture: sorted, every setting explicit, secret values as hashes.
pub(super) fn dump(st: &State) -> Fixture {
    Fixture {
        account_id: Some(st.account_id.clone()),
        region: Some(st.region.clone()),
        agent: Some(AgentFixture {
            arn: Some(st.agent_arn.clone()),
        }),
        iam: IamFixture {
            roles: st.roles.values().map(dump_role).collect(),
        },
        lambda: LambdaFixture {
            functions: st.functions.values().map(dump_function).collect(),
        },
        ecr: EcrFixture {
            repositories: st.repositories.values().map(dump_repository).collect(),
        },
        secrets: st.secrets.values().map(dump_secret).collect(),
        networking: st.networking.dump(),
        metrics: st.metrics.clone(),
        logs: LogsFixture {
            log_groups: st
                .log_groups
                .values()
                .map(|g| LogGroupFixture {
                    name: g.name.clone(),
                    region: Some(g.region.clone()),
                    retention_in_days: g.retention_in_days,
                    tags: g.tags.clone(),
                    stored_bytes: Some(g.stored_bytes),
                    events: g.events.clone(),
                })
                .collect(),
        },
        s3: S3Fixture {
            objects: st
                .s3_objects
                .iter()
                .map(|((bucket, key), o)| S3ObjectFixture {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    size: o.size,
                    etag: Some(o.etag.clone()),
                })
                .collect(),
        },
        counters: CountersFixture {
            revisions: st.counters.revisions,
            secret_versions: st.counters.secret_versions,
            sessions: st.counters.sessions,
            resources: st.counters.resources,
        },
        faults: st.faults.iter().filter(|f| f.times > 0).cloned().collect(),
        recording: None,
    }
}

fn dump_role(r: &RoleState) -> RoleFixture {
    RoleFixture {
        name: r.name.clone(),
        account_id: Some(r.account.clone()),
        path: Some(r.path.clone()),
        assume_role_policy_document: Some(r.trust_policy.clone()),
        allowed_actions: r.allowed_actions.clone(),
        max_session_duration: Some(r.max_session_duration),
        description: non_empty(&r.description),
        permissions_boundary: r.permissions_boundary.clone(),
        tags: r.tags.clone(),
        inline_policies: r.inline_policies.clone(),
        attached_policies: r.attached_policies.iter().cloned().collect(),
    }
}

/// `Some(v)` unless `v` is empty (the default), so that dumps stay readable.
fn non_empty<T: Clone + Default + PartialEq>(v: &T) -> Option<T> {
    (*v != T::default()).then(|| v.clone())
}

fn dump_script(s: &UpdateScript) -> UpdateScriptFixture {
    UpdateScriptFixture {
        statuses: s.statuses.iter().cloned().collect(),
        reason: s.reason.clone(),
    }
}

fn dump_function(f: &Function) -> FunctionFixture {
    let s = &f.settings;
    let max_version = f.versions.keys().next_back().copied().unwrap_or(0);
    FunctionFixture {
        name: f.name.clone(),
        region: Some(f.region.clone()),
        package_type: Some(s.package_type),
        image_uri: s.image_uri.clone(),
        s3_bucket: s.s3_bucket.clone(),
        s3_key: s.s3_key.clone(),
        code_sha256: Some(s.code_sha256.clone()),
        runtime: s.runtime.clone(),
        handler: s.handler.clone(),
        role: Some(s.role.clone()),
        memory_size: Some(s.memory_size),
        timeout: Some(s.timeout),
        ephemeral_storage: Some(s.ephemeral_storage),
        architectures: Some(s.architectures.clone()),
        environment: non_empty(&s.environment),
        layers: non_empty(&s.layers),
        subnet_ids: non_empty(&s.subnet_ids),
        security_group_ids: non_empty(&s.security_group_ids),
        description: non_empty(&f.description),
        // A function being created is dumped as it will be: nothing would move a
        // reloaded `Pending` on.
        state: Some(if f.activating { "Active".to_string() } else { f.state.clone() }),
        state_reason: f.state_reason.clone(),
        last_update_status: Some(f.last_update_status.clone()),
        last_update_status_reason: f.last_update_status_reason.clone(),
        revision_id: Some(f.revision_id.clone()),
        tags: f.tags.clone(),
        reserved_concurrency: f.reserved_concurrency,
        versions: f.versions.iter().map(|(n, v)| dump_version(*n, v, s)).collect(),
        highest_published_version: (f.highest_version > max_version).then_some(f.highest_version),
        aliases: f
            .aliases
            .iter()
            .map(|(name, a)| AliasFixture {
                name: name.clone(),
                function_version: Some(a.function_version.clone()),
                description: non_empty(&a.description),
                routing: a.routing.clone(),
                revision_id: Some(a.revision_id.clone()),
            })
            .collect(),
        policy: f.policy.clone(),
        provisioned_concurrency: f
            .provisioned
            .iter()
            .map(|(qualifier, p)| ProvisionedFixture {
                qualifier: qualifier.clone(),
                requested: p.requested,
                status_script: Some(p.script.iter().cloned().collect()),
                status_reason: p.status_reason.clone(),
            })
            .collect(),
        current_update: f.current_update.as_ref().map(dump_script),
        next_updates: f.next_updates.iter().map(dump_script).collect(),
        invoke_response: f.invoke_response.clone(),
        invoke_error: f.invoke_error.clone(),
    }
}

/// A version as the fields where it differs from `$LATEST` (what `load_version` overlays).
fn dump_version(number: u64, v: &Version, latest: &Settings) -> VersionFixture {
    let s = &v.settings;
    fn differs<T: Clone + PartialEq>(mine: &T, latest: &T) -> Option<T> {
        (mine != latest).then(|| mine.clone())
    }
    // The code fields go together: a moved location without its hash would make
    // `load_version` derive a hash, which need not be the one recorded.
    let code_differs = s.code_sha256 != latest.code_sha256
        || s.image_uri != latest.image_uri
        || s.s3_bucket != latest.s3_bucket
        || s.s3_key != latest.s3_key;
    let code = |field: &Option<String>| if code_differs { field.clone() } else { None };
    VersionFixture {
        version: number.to_string(),
        description: non_empty(&v.description),
        revision_id: Some(v.revision_id.clone()),
        image_uri: code(&s.image_uri),
        s3_bucket: code(&s.s3_bucket),
        s3_key: code(&s.s3_key),
        code_sha256: code_differs.then(|| s.code_sha256.clone()),
        runtime: differs(&s.runtime, &latest.runtime).flatten(),
        handler: differs(&s.handler, &latest.handler).flatten(),
        role: differs(&s.role, &latest.role),
        memory_size: differs(&s.memory_size, &latest.memory_size),
        timeout: differs(&s.timeout, &latest.timeout),
        ephemeral_storage: differs(&s.ephemeral_storage, &latest.ephemeral_storage),
        architectures: differs(&s.architectures, &latest.architectures),
        environment: differs(&s.environment, &latest.environment),
        layers: differs(&s.layers, &latest.layers),
        subnet_ids: differs(&s.subnet_ids, &latest.subnet_ids),
        security_group_ids: differs(&s.security_group_ids, &latest.security_group_ids),
    }
}

fn dump_repository(r: &Repository) -> RepositoryFixture {
    RepositoryFixture {
        name: r.name.clone(),
        registry_id: Some(r.registry_id.clone()),
        region: Some(r.region.clone()),
        policy: r.policy.clone(),
        images: r
            .images
            .iter()
            .map(|i| ImageFixture {
                tags: i.tags.clone(),
                digest: Some(i.digest.clone()),
                pushed_at: i.pushed_at,
                size_bytes: i.size_bytes,
            })
            .collect(),
        tags: r.tags.clone(),
    }
}

fn dump_secret(s: &Secret) -> SecretFixture {
    SecretFixture {
        name: s.name.clone(),
        region: Some(s.region.clone()),
        value: None,
        value_sha256: s.value_sha256.clone(),
        description: s.description.clone(),
        tags: s.tags.clone(),
        version_id: s.version_id.clone(),
        pending_deletion: s.pending_deletion,
    }
}
