//! Lambda in the sim: functions keyed by (region, name), `$LATEST` plus published
//! versions, aliases with weighted routing, scripted update statuses and scripted
//! provisioned-concurrency statuses.
//!
//! Function names may be given as a name, `name:qualifier` or a full function ARN
//! (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`); an ARN must
//! name the call's region and the sim's account, as Lambda's endpoint would expect.

use super::errors::{Api, Fault};
use super::state::{sha256_hex, AliasState, Function, State, Version};
use super::{lambda_api, SimCloud};
use crate::cloud::{
    Alias, CallCtx, CodeSource, CreateAlias, CreateFunction, FunctionConfiguration, FunctionInfo, Invocation, PackageType,
    ProvisionedConcurrency, UpdateAlias, UpdateCode, UpdateConfiguration, VersionInfo, VersionWeight,
};
use crate::cloud::{CloudResult, LambdaApi};
use std::collections::BTreeMap;

/// The unpublished, editable version.
pub(super) const LATEST: &str = "$LATEST";

pub(super) const NOT_FOUND: &str = "ResourceNotFoundException";
pub(super) const CONFLICT: &str = "ResourceConflictException";
pub(super) const INVALID: &str = "InvalidParameterValueException";
const VALIDATION: &str = "ValidationException";

/// Lambda's own pattern for FunctionName, quoted in its validation errors.
const FUNCTION_NAME_PATTERN: &str =
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";

/// The code hash of an image function: SHA-256 (hex) of its image URI.
pub(super) fn image_code_sha256(uri: &str) -> String {
    sha256_hex(uri)
}

/// The code hash of a Zip function: SHA-256 (hex) of `bucket/key/<object version or ETag>`.
pub(super) fn zip_code_sha256(bucket: &str, key: &str, version_or_etag: &str) -> String {
    sha256_hex(&format!("{bucket}/{key}/{version_or_etag}"))
}

/// A positive version number (`1`, `2`, …), as Lambda writes them.
pub(super) fn parse_version_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

/// Lambda's limits on memory (MB), timeout (s) and ephemeral storage (MB).
pub(super) fn check_limits(memory: Option<u32>, timeout: Option<u32>, storage: Option<u32>) -> Result<(), Fault> {
    let checks = [
        ("MemorySize", memory, 128, 10240),
        ("Timeout", timeout, 1, 900),
        ("EphemeralStorage", storage, 512, 10240),
    ];
    for (field, value, min, max) in checks {
        if let Some(v) = value.filter(|v| !(min..=max).contains(v)) {
            return Err(Fault::new(
                INVALID,
                format!("{field} {v} is out of range: it must be between {min} and {max}."),
            ));
        }
    }
    Ok(())
}

/// A function has exactly one architecture, `x86_64` or `arm64`.
pub(super) fn check_architectures(architectures: &[String]) -> Result<(), Fault> {
    match architectures {
        [one] if one == "x86_64" || one == "arm64" => Ok(()),
        _ => Err(Fault::new(
            INVALID,
            format!("Architectures {architectures:?} are invalid: give exactly one of x86_64 or arm64."),
        )),
    }
}

pub(super) fn check_function_name(name: &str) -> Result<(), Fault> {
    let ok = !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(name_pattern_error(name))
    }
}

fn name_pattern_error(given: &str) -> Fault {
    Fault::new(
        VALIDATION,
        format!(
            "1 validation error detected: Value '{given}' at 'functionName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"
        ),
    )
}

/// Alias names: 1–128 of `[a-zA-Z0-9-_]`, not all digits (those are versions).
pub(super) fn check_alias_name(name: &str) -> Result<(), Fault> {
    let charset = !name.is_empty() && name.len() <= 128 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if charset && !name.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Fault::new(
            VALIDATION,
            format!(
                "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
            ),
        ))
    }
}

/// Checks an alias's weighted routing against its primary version: at most one extra
/// version, published, different from the primary, weighted 0.0–1.0.
pub(super) fn check_routing(f: &Function, primary: &str, routing: &BTreeMap<String, f64>) -> Result<(), Fault> {
    if routing.len() > 1 {
        return Err(Fault::new(
            INVALID,
            "Only one additional version can be given in the routing configuration.",
        ));
    }
    for (version, weight) in routing {
        if primary == LATEST || version == LATEST {
            return Err(Fault::new(
                INVALID,
                "$LATEST is not supported for an alias pointing to more than 1 version",
            ));
        }
        if !(weight.is_finite() && (0.0..=1.0).contains(weight)) {
            return Err(Fault::new(
                INVALID,
                format!("Invalid weight {weight} for version {version}: weights range from 0.0 to 1.0."),
            ));
        }
        if version == primary {
            return Err(Fault::new(
                INVALID,
                format!("Invalid function version {version}: the routing configuration cannot include the alias's primary version."),
            ));
        }
        if !f.has_version(version) {
            return Err(Fault::new(NOT_FOUND, format!("Function not found: {}:{version}", f.arn)));
        }
    }
    Ok(())
}

/// Which configuration a qualifier reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Target {
    Latest,
    Version(u64),
}

impl Function {
    /// Whether `version` is `$LATEST` or a published version.
    pub(super) fn has_version(&self, version: &str) -> bool {
        version == LATEST || parse_version_number(version).is_some_and(|n| self.versions.contains_key(&n))
    }

    /// `None`/`$LATEST`, a version number or an alias (followed to its version).
    pub(super) fn resolve(&self, qualifier: Option<&str>) -> Option<Target> {
        let resolve_version = |v: &str| match v {
            LATEST => Some(Target::Latest),
            v => parse_version_number(v)
                .filter(|n| self.versions.contains_key(n))
                .map(Target::Version),
        };
        match qualifier {
            None => Some(Target::Latest),
            Some(q) if q == LATEST || parse_version_number(q).is_some() => resolve_version(q),
            Some(alias) => self.aliases.get(alias).and_then(|a| resolve_version(&a.function_version)),
        }
    }

    /// A configuration read: time passes, so a running update shows its next status.
    fn observe(&mut self) {
        if self.activating {
            self.activating = false;
            self.state = "Active".to_string();
        }
        let Some(update) = &mut self.current_update else {
            return;
        };
        if let Some(status) = update.statuses.pop_front() {
            self.last_update_status = status;
        }
        if update.statuses.is_empty() {
            if self.last_update_status == "Failed" {
                self.last_update_status_reason = update.reason.clone();
            }
            self.current_update = None;
        }
    }

    /// Starts an update: the next scripted entry decides how it goes; without one it
    /// succeeds at once.
    fn start_update(&mut self, revision_id: String) {
        self.revision_id = revision_id;
        self.last_update_status_reason = None;
        self.current_update = None;
        match self.next_updates.pop_front() {
            None => self.last_update_status = "Successful".to_string(),
            Some(script) => {
                self.current_update = Some(script);
                // The answer to the update call itself shows the first status.
                self.observe();
            }
        }
    }

    /// Lambda refuses changes while the function is being created or updated.
    pub(super) fn check_updatable(&self) -> Result<(), Fault> {
        if self.state == "Pending" {
            return Err(Fault::new(
                CONFLICT,
                "The operation cannot be performed at this time. The function is currently in the following state: Pending",
            ));
        }
        if self.last_update_status == "InProgress" {
            return Err(Fault::new(
                CONFLICT,
                format!(
                    "The operation cannot be performed at this time. An update is in progress for resource: {}",
                    self.arn
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn configuration(&self, qualifier: Option<&str>, target: Target) -> FunctionConfiguration {
        let function_arn = match qualifier {
            Some(q) => format!("{}:{q}", self.arn),
            None => self.arn.clone(),
        };
        let (settings, version, description, revision_id) = match target {
            Target::Latest => (&self.settings, LATEST.to_string(), &self.description, &self.revision_id),
            Target::Version(n) => match self.versions.get(&n) {
                Some(v) => (&v.settings, n.to_string(), &v.description, &v.revision_id),
                // `resolve` only yields versions that exist.
                None => (&self.settings, LATEST.to_string(), &self.description, &self.revision_id),
            },
        };
        let latest = target == Target::Latest;
        FunctionConfiguration {
            function_name: self.name.clone(),
            function_arn,
            version,
            description: description.clone(),
            package_type: settings.package_type,
            runtime: settings.runtime.clone(),
            handler: settings.handler.clone(),
            role: settings.role.clone(),
            memory_size: settings.memory_size,
            timeout: settings.timeout,
            ephemeral_storage: settings.ephemeral_storage,
            architectures: settings.architectures.clone(),
            environment: settings.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            layers: settings.layers.clone(),
            subnet_ids: settings.subnet_ids.clone(),
            security_group_ids: settings.security_group_ids.clone(),
            image_uri: settings.image_uri.clone(),
            code_sha256: settings.code_sha256.clone(),
            // A published version is immutable: always active, its update long done.
            state: if latest { self.state.clone() } else { "Active".to_string() },
            state_reason: if latest { self.state_reason.clone() } else { None },
            last_update_status: if latest {
                self.last_update_status.clone()
            } else {
                "Successful".to_string()
            },
            last_update_status_reason: if latest { self.last_update_status_reason.clone() } else { None },
            revision_id: revision_id.clone(),
        }
    }

    fn version_info(&self, number: u64, v: &Version) -> VersionInfo {
        VersionInfo {
            version: number.to_string(),
            description: v.description.clone(),
            function_arn: format!("{}:{number}", self.arn),
            code_sha256: v.settings.code_sha256.clone(),
        }
    }

    fn alias(&self, name: &str, a: &AliasState) -> Alias {
        Alias {
            name: name.to_string(),
            alias_arn: format!("{}:{name}", self.arn),
            function_version: a.function_version.clone(),
            description: a.description.clone(),
            routing: a
                .routing
                .iter()
                .map(|(version, weight)| VersionWeight {
                    version: version.clone(),
                    weight: *weight,
                })
                .collect(),
            revision_id: a.revision_id.clone(),
        }
    }
}

/// A function reference as given by the caller, parsed.
pub(super) struct FnRef {
    pub(super) key: (String, String),
    pub(super) qualifier: Option<String>,
    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub(super) arn: String,
}

impl FnRef {
    pub(super) fn qualified_arn(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.arn),
            None => self.arn.clone(),
        }
    }

    pub(super) fn not_found(&self) -> Fault {
        Fault::new(NOT_FOUND, format!("Function not found: {}", self.qualified_arn()))
    }

    /// For operations that take no qualifier.
    pub(super) fn unqualified(self, given: &str) -> Result<FnRef, Fault> {
        match self.qualifier {
            None => Ok(self),
            Some(_) => Err(name_pattern_error(given)),
        }
    }
}

fn check_qualifier(q: &str) -> Result<(), Fault> {
    let ok = q == LATEST || (!q.is_empty() && q.len() <= 128 && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if ok {
        Ok(())
    } else {
        Err(Fault::new(
            VALIDATION,
            format!(
                "1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
            ),
        ))
    }
}

impl State {
    /// Parses a function name, `name:qualifier` or function ARN, reconciling an
    /// embedded qualifier with an explicit one.
    pub(super) fn function_ref(&self, ctx: &CallCtx, given: &str, qualifier: Option<&str>) -> Result<FnRef, Fault> {
        let (region, account, rest) = match given.strip_prefix("arn:") {
            Some(arn) => {
                let parts: Vec<&str> = arn.splitn(6, ':').collect();
                let [partition, "lambda", region, account, "function", rest] = parts[..] else {
                    return Err(name_pattern_error(given));
                };
                if !partition.starts_with("aws") {
                    return Err(name_pattern_error(given));
                }
                (region.to_string(), account.to_string(), rest)
            }
            None => (ctx.region.clone(), self.account_id.clone(), given),
        };
        let (name, embedded) = match rest.split_once(':') {
            Some((name, q)) => (name, Some(q)),
            None => (rest, None),
        };
        check_function_name(name).map_err(|_| name_pattern_error(given))?;
        let qualifier = match (embedded, qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(Fault::new(
                    INVALID,
                    "The derived qualifier from the function name does not match the specified qualifier.",
                ))
            }
            (a, b) => a.or(b).map(str::to_string),
        };
        if let Some(q) = &qualifier {
            check_qualifier(q)?;
        }
        let fref = FnRef {
            arn: function_arn(&region, &account, name),
            key: (region.clone(), name.to_string()),
            qualifier,
        };
        // Lambda's endpoint serves one region and one account's functions.
        if region != ctx.region || account != self.account_id {
            return Err(fref.not_found());
        }
        Ok(fref)
    }

    pub(super) fn function(&mut self, fref: &FnRef) -> Result<&mut Function, Fault> {
        self.functions
            .get_mut(&fref.key)
            .ok_or_else(|| Fault::new(NOT_FOUND, format!("Function not found: {}", fref.arn)))
    }

    /// GetFunction / GetFunctionConfiguration: the configuration a qualifier names.
    fn read_configuration(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(FunctionConfiguration, &Function), Fault> {
        let fref = self.function_ref(ctx, name, qualifier)?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let f = self.function(&fref)?;
        let target = f.resolve(fref.qualifier.as_deref()).ok_or_else(|| fref.not_found())?;
        f.observe();
        Ok((f.configuration(fref.qualifier.as_deref(), target), f))
    }

    pub(super) fn lambda_get_function(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionInfo, Fault> {
        let (configuration, f) = self.read_configuration(ctx, api, name, qualifier)?;
        Ok(FunctionInfo {
            configuration,
            tags: f.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            reserved_concurrency: f.reserved_concurrency,
        })
    }

    pub(super) fn lambda_get_function_configuration(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration, Fault> {
        Ok(self.read_configuration(ctx, api, name, qualifier)?.0)
    }

    pub(super) fn lambda_list_versions(&mut self, ctx: &CallCtx, api: Api, name: &str) -> Result<Vec<VersionInfo>, Fault> {
        let fref = self.function_ref(ctx, name, None)?.unqualified(name)?;
        self.authorize(ctx, api, &fref.arn)?;
        let f = self.function(&fref)?;
        let latest = VersionInfo {
            version: LATEST.to_string(),
            description: f.description.clone(),
            function_arn: format!("{}:{LATEST}", f.arn),
            code_sha256: f.settings.code_sha256.clone(),
        };
        // BTreeMap<u64, _> iterates in numeric order, as Lambda lists them.
        Ok(std::iter::once(latest)
            .chain(f.versions.iter().map(|(n, v)| f.version_info(*n, v)))
            .collect())
    }

    pub(super) fn lambda_update_code(&mut self, ctx: &CallCtx, api: Api, req: &UpdateCode) -> Result<FunctionConfiguration, Fault> {
        let fref = self.function_ref(ctx, &req.function_name, None)?.unqualified(&req.function_name)?;
        self.authorize(ctx, api, &fref.arn)?;
        let package_type = self.function(&fref)?.settings.package_type;
        let (image_uri, s3, code_sha256) = match (&req.code, package_type) {
            (CodeSource::Image(uri), PackageType::Image) => (Some(uri.clone()), None, image_code_sha256(uri)),
            (CodeSource::S3(loc), PackageType::Zip) => {
                let object = self.s3_objects.get(&(loc.bucket.clone(), loc.key.clone())).ok_or_else(|| {
                    Fault::new(
                        INVALID,
                        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
                    )
                })?;
                let version_or_etag = loc.object_version.clone().unwrap_or_else(|| object.etag.clone());
                let sha = zip_code_sha256(&loc.bucket, &loc.key, &version_or_etag);
                (None, Some((loc.bucket.clone(), loc.key.clone())), sha)
            }
            (CodeSource::Image(_), PackageType::Zip) => {
                return Err(Fault::new(
                    INVALID,
                    "Please don't provide ImageUri when updating a function with packageType Zip.",
                ))
            }
            (CodeSource::S3(_), PackageType::Image) => {
                return Err(Fault::new(
                    INVALID,
                    "Please provide ImageUri when updating a function with packageType Image.",
                ))
            }
        };
        if let Some(architectures) = &req.architectures {
            check_architectures(architectures)?;
        }
        let f = self.function(&fref)?;
        check_revision(req.revision_id.as_deref(), &f.revision_id)?;
        f.check_updatable()?;
        let revision_id = self.next_revision_id();
        let f = self.function(&fref)?;
        f.settings.image_uri = image_uri;
        if let Some((bucket, key)) = s3 {
            f.settings.s3_bucket = Some(bucket);
            f.settings.s3_key = Some(key);
        }
        f.settings.code_sha256 = code_sha256;
        if let Some(architectures) = &req.architectures {
            f.settings.architectures = architectures.clone();
        }
        f.start_update(revision_id);
        Ok(f.configuration(None, Target::Latest))
    }

    pub(super) fn lambda_update_configuration(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        req: &UpdateConfiguration,
    ) -> Result<FunctionConfiguration, Fault> {
        let fref = self.function_ref(ctx, &req.function_name, None)?.unqualified(&req.function_name)?;
        self.authorize(ctx, api, &fref.arn)?;
        check_limits(req.memory_size, req.timeout, req.ephemeral_storage)?;
        let f = self.function(&fref)?;
        if f.settings.package_type == PackageType::Image && (req.runtime.is_some() || req.handler.is_some()) {
            return Err(Fault::new(
                INVALID,
                "Please don't provide Handler or Runtime when the intended function PackageType is Image.",
            ));
        }
        check_revision(req.revision_id.as_deref(), &f.revision_id)?;
        f.check_updatable()?;
        let revision_id = self.next_revision_id();
        let f = self.function(&fref)?;
        let s = &mut f.settings;
        if let Some(v) = req.memory_size {
            s.memory_size = v;
        }
        if let Some(v) = req.timeout {
            s.timeout = v;
        }
        if let Some(v) = req.ephemeral_storage {
            s.ephemeral_storage = v;
        }
        if let Some(v) = &req.runtime {
            s.runtime = Some(v.clone());
        }
        if let Some(v) = &req.handler {
            s.handler = Some(v.clone());
        }
        if let Some(env) = &req.environment {
            s.environment = env.iter().cloned().collect();
        }
        if let Some(layers) = &req.layers {
            s.layers = layers.clone();
        }
        if let Some(vpc) = &req.vpc {
            s.subnet_ids = vpc.subnet_ids.clone();
            s.security_group_ids = vpc.security_group_ids.clone();
        }
        if let Some(description) = &req.description {
            f.description = description.clone();
        }
        f.start_update(revision_id);
        Ok(f.configuration(None, Target::Latest))
    }

    pub(super) fn lambda_publish_version(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        description: &str,
        revision_id: Option<&str>,
    ) -> Result<VersionInfo, Fault> {
        let fref = self.function_ref(ctx, name, None)?.unqualified(name)?;
        self.authorize(ctx, api, &fref.arn)?;
        let f = self.function(&fref)?;
        check_revision(revision_id, &f.revision_id)?;
        f.check_updatable()?;
        // Publishing an unchanged $LATEST returns the newest version as it is, with
        // its old description: Lambda does not publish duplicates.
        if let Some((n, v)) = f.versions.iter().next_back() {
            if v.settings.publishes_same_as(&f.settings) {
                return Ok(f.version_info(*n, v));
            }
        }
        let revision_id = self.next_revision_id();
        let f = self.function(&fref)?;
        f.highest_version += 1;
        let number = f.highest_version;
        let version = Version {
            settings: f.settings.clone(),
            description: description.to_string(),
            revision_id,
        };
        let info = f.version_info(number, &version);
        f.versions.insert(number, version);
        Ok(info)
    }

    pub(super) fn lambda_delete_function(&mut self, ctx: &CallCtx, api: Api, name: &str, qualifier: Option<&str>) -> Result<(), Fault> {
        let fref = self.function_ref(ctx, name, qualifier)?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let f = self.function(&fref)?;
        let Some(q) = fref.qualifier.as_deref() else {
            self.functions.remove(&fref.key);
            return Ok(());
        };
        if q == LATEST {
            return Err(Fault::new(
                INVALID,
                "$LATEST version cannot be deleted without deleting the function.",
            ));
        }
        let Some(number) = parse_version_number(q) else {
            return Err(Fault::new(
                INVALID,
                format!("Deletion of aliases is not supported by DeleteFunction: {q} is an alias name."),
            ));
        };
        if !f.versions.contains_key(&number) {
            return Err(fref.not_found());
        }
        let referencing: Vec<&str> = f
            .aliases
            .iter()
            .filter(|(_, a)| a.function_version == q || a.routing.contains_key(q))
            .map(|(name, _)| name.as_str())
            .collect();
        if !referencing.is_empty() {
            return Err(Fault::new(
                CONFLICT,
                format!(
                    "Unable to delete version because the following aliases reference it: [{}]",
                    referencing.join(", ")
                ),
            ));
        }
        f.versions.remove(&number);
        f.provisioned.remove(q);
        Ok(())
    }

    pub(super) fn lambda_get_alias(&mut self, ctx: &CallCtx, api: Api, name: &str, alias: &str) -> Result<Alias, Fault> {
        let fref = self.function_ref(ctx, name, None)?.unqualified(name)?;
        self.authorize(ctx, api, &fref.arn)?;
        let f = self.function(&fref)?;
        let a = f.aliases.get(alias).ok_or_else(|| alias_not_found(&fref, alias))?;
        Ok(f.alias(alias, a))
    }

    pub(super) fn lambda_create_alias(&mut self, ctx: &CallCtx, api: Api, req: &CreateAlias) -> Result<Alias, Fault> {
        let fref = self.function_ref(ctx, &req.function_name, None)?.unqualified(&req.function_name)?;
        self.authorize(ctx, api, &fref.arn)?;
        check_alias_name(&req.alias_name)?;
        let routing = routing_map(&req.routing)?;
        let f = self.function(&fref)?;
        if f.aliases.contains_key(&req.alias_name) {
            return Err(Fault::new(
                CONFLICT,
                format!("Alias already exists: {}:{}", fref.arn, req.alias_name),
            ));
        }
        if !f.has_version(&req.function_version) {
            return Err(Fault::new(
                NOT_FOUND,
                format!("Function not found: {}:{}", fref.arn, req.function_version),
            ));
        }
        check_routing(f, &req.function_version, &routing)?;
        let revision_id = self.next_revision_id();
        let f = self.function(&fref)?;
        let alias = AliasState {
            function_version: req.function_version.clone(),
            description: req.description.clone(),
            routing,
            revision_id,
        };
        let answer = f.alias(&req.alias_name, &alias);
        f.aliases.insert(req.alias_name.clone(), alias);
        Ok(answer)
    }

    pub(super) fn lambda_update_alias(&mut self, ctx: &CallCtx, api: Api, req: &UpdateAlias) -> Result<Alias, Fault> {
        let fref = self.function_ref(ctx, &req.function_name, None)?.unqualified(&req.function_name)?;
        self.authorize(ctx, api, &fref.arn)?;
        let new_routing = req.routing.as_deref().map(routing_map).transpose()?;
        let f = self.function(&fref)?;
        let current = f
            .aliases
            .get(&req.alias_name)
            .ok_or_else(|| alias_not_found(&fref, &req.alias_name))?;
        check_revision(req.revision_id.as_deref(), &current.revision_id)?;
        let version = req.function_version.clone().unwrap_or_else(|| current.function_version.clone());
        let routing = new_routing.unwrap_or_else(|| current.routing.clone());
        if !f.has_version(&version) {
            return Err(Fault::new(NOT_FOUND, format!("Function not found: {}:{version}", fref.arn)));
        }
        check_routing(f, &version, &routing)?;
        let revision_id = self.next_revision_id();
        let f = self.function(&fref)?;
        let Some(alias) = f.aliases.get_mut(&req.alias_name) else {
            return Err(alias_not_found(&fref, &req.alias_name));
        };
        alias.function_version = version;
        alias.routing = routing;
        alias.revision_id = revision_id;
        let alias = alias.clone();
        Ok(f.alias(&req.alias_name, &alias))
    }

    pub(super) fn lambda_get_policy(&mut self, ctx: &CallCtx, api: Api, name: &str, qualifier: Option<&str>) -> Result<String, Fault> {
        let fref = self.function_ref(ctx, name, qualifier)?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let f = self.function(&fref)?;
        f.resolve(fref.qualifier.as_deref()).ok_or_else(|| fref.not_found())?;
        let policy = f
            .policy
            .as_ref()
            .ok_or_else(|| Fault::new(NOT_FOUND, "The resource you requested does not exist."))?;
        Ok(policy.to_string())
    }

    pub(super) fn lambda_get_provisioned_concurrency(
        &mut self,
        ctx: &CallCtx,
        api: Api,
        name: &str,
        qualifier: &str,
    ) -> Result<ProvisionedConcurrency, Fault> {
        let fref = self.function_ref(ctx, name, Some(qualifier))?;
        self.authorize(ctx, api, &fref.qualified_arn())?;
        let f = self.function(&fref)?;
        let not_found = || {
            Fault::new(
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            )
        };
        let q = fref.qualifier.as_deref().ok_or_else(not_found)?;
        let config = f.provisioned.get_mut(q).ok_or_else(not_found)?;
        // Each read moves the script on; the last status stays.
        let status = config.script.front().cloned().unwrap_or_else(|| "READY".to_string());
        if config.script.len() > 1 {
            config.script.pop_front();
        }
        let ready = if status == "READY" { config.requested } else { 0 };
        Ok(ProvisionedConcurrency {
            requested: config.requested,
            allocated: ready,
            available: ready,
            status,
            status_reason: config.status_reason.clone(),
        })
    }
}

/// Optimistic locking: a write naming a revision id goes ahead only while the
/// resource is still at that revision, as Lambda's `RevisionId` parameters do.
fn check_revision(expected: Option<&str>, current: &str) -> Result<(), Fault> {
    match expected {
        Some(expected) if expected != current => Err(Fault::new(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

fn alias_not_found(fref: &FnRef, alias: &str) -> Fault {
    Fault::new(NOT_FOUND, format!("Alias not found: {}:{alias}", fref.arn))
}

/// The request's routing as a map; a version named twice is an error.
fn routing_map(weights: &[VersionWeight]) -> Result<BTreeMap<String, f64>, Fault> {
    let mut map = BTreeMap::new();
    for w in weights {
        if map.insert(w.version.clone(), w.weight).is_some() {
            return Err(Fault::new(
                INVALID,
                format!("Version {} appears twice in the routing configuration.", w.version),
            ));
        }
    }
    Ok(map)
}

/// `arn:aws:lambda:<region>:<account>:function:<name>`.
pub(super) fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

// The service as the simulated cloud serves it: each call runs on the state
// under the cloud's lock (see `SimCloud::call`).

#[async_trait::async_trait]
impl LambdaApi for SimCloud {
    async fn get_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionInfo> {
        self.call(lambda_api("GetFunction"), |st, api| {
            st.lambda_get_function(ctx, api, name, qualifier)
        })
        .await
    }

    async fn get_function_configuration(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<FunctionConfiguration> {
        self.call(lambda_api("GetFunctionConfiguration"), |st, api| {
            st.lambda_get_function_configuration(ctx, api, name, qualifier)
        })
        .await
    }

    async fn list_versions_by_function(&self, ctx: &CallCtx, name: &str) -> CloudResult<Vec<VersionInfo>> {
        self.call(lambda_api("ListVersionsByFunction"), |st, api| {
            st.lambda_list_versions(ctx, api, name)
        })
        .await
    }

    async fn update_function_code(&self, ctx: &CallCtx, req: &UpdateCode) -> CloudResult<FunctionConfiguration> {
        self.call(lambda_api("UpdateFunctionCode"), |st, api| st.lambda_update_code(ctx, api, req))
            .await
    }

    async fn update_function_configuration(&self, ctx: &CallCtx, req: &UpdateConfiguration) -> CloudResult<FunctionConfiguration> {
        self.call(lambda_api("UpdateFunctionConfiguration"), |st, api| {
            st.lambda_update_configuration(ctx, api, req)
        })
        .await
    }

    async fn publish_version(&self, ctx: &CallCtx, name: &str, description: &str, revision_id: Option<&str>) -> CloudResult<VersionInfo> {
        self.call(lambda_api("PublishVersion"), |st, api| {
            st.lambda_publish_version(ctx, api, name, description, revision_id)
        })
        .await
    }

    async fn delete_function(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<()> {
        self.call(lambda_api("DeleteFunction"), |st, api| {
            st.lambda_delete_function(ctx, api, name, qualifier)
        })
        .await
    }

    async fn get_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<Alias> {
        self.call(lambda_api("GetAlias"), |st, api| st.lambda_get_alias(ctx, api, name, alias))
            .await
    }

    async fn create_alias(&self, ctx: &CallCtx, req: &CreateAlias) -> CloudResult<Alias> {
        self.call(lambda_api("CreateAlias"), |st, api| st.lambda_create_alias(ctx, api, req))
            .await
    }

    async fn update_alias(&self, ctx: &CallCtx, req: &UpdateAlias) -> CloudResult<Alias> {
        self.call(lambda_api("UpdateAlias"), |st, api| st.lambda_update_alias(ctx, api, req))
            .await
    }

    async fn get_policy(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) -> CloudResult<String> {
        self.call(lambda_api("GetPolicy"), |st, api| st.lambda_get_policy(ctx, api, name, qualifier))
            .await
    }

    async fn get_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<ProvisionedConcurrency> {
        self.call(lambda_api("GetProvisionedConcurrencyConfig"), |st, api| {
            st.lambda_get_provisioned_concurrency(ctx, api, name, qualifier)
        })
        .await
    }
    async fn create_function(&self, ctx: &CallCtx, req: &CreateFunction) -> CloudResult<FunctionConfiguration> {
        self.call(lambda_api("CreateFunction"), |st, api| st.lambda_create_function(ctx, api, req))
            .await
    }

    async fn put_function_concurrency(&self, ctx: &CallCtx, name: &str, reserved: u32) -> CloudResult<()> {
        self.call(lambda_api("PutFunctionConcurrency"), |st, api| {
            st.lambda_put_function_concurrency(ctx, api, name, reserved)
        })
        .await
    }

    async fn delete_function_concurrency(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        self.call(lambda_api("DeleteFunctionConcurrency"), |st, api| {
            st.lambda_delete_function_concurrency(ctx, api, name)
        })
        .await
    }

    async fn put_provisioned_concurrency_config(
        &self,
        ctx: &CallCtx,
        name: &str,
        qualifier: &str,
        requested: u32,
    ) -> CloudResult<ProvisionedConcurrency> {
        self.call(lambda_api("PutProvisionedConcurrencyConfig"), |st, api| {
            st.lambda_put_provisioned(ctx, api, name, qualifier, requested)
        })
        .await
    }

    async fn delete_provisioned_concurrency_config(&self, ctx: &CallCtx, name: &str, qualifier: &str) -> CloudResult<()> {
        self.call(lambda_api("DeleteProvisionedConcurrencyConfig"), |st, api| {
            st.lambda_delete_provisioned(ctx, api, name, qualifier)
        })
        .await
    }

    async fn delete_alias(&self, ctx: &CallCtx, name: &str, alias: &str) -> CloudResult<()> {
        self.call(lambda_api("DeleteAlias"), |st, api| st.lambda_delete_alias(ctx, api, name, alias))
            .await
    }

    async fn add_permission(&self, ctx: &CallCtx, req: &crate::cloud::AddPermission) -> CloudResult<()> {
        self.call(lambda_api("AddPermission"), |st, api| st.lambda_add_permission(ctx, api, req))
            .await
    }

    async fn remove_permission(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, statement_id: &str) -> CloudResult<()> {
        self.call(lambda_api("RemovePermission"), |st, api| {
            st.lambda_remove_permission(ctx, api, name, qualifier, statement_id)
        })
        .await
    }

    async fn invoke(&self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, payload: &[u8]) -> CloudResult<Invocation> {
        // IAM's action for Invoke is lambda:InvokeFunction.
        self.call(lambda_api("InvokeFunction"), |st, api| {
            st.lambda_invoke(ctx, api, name, qualifier, payload)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, err, ok, sim};
    use super::super::SimCloud;
    use super::*;
    use crate::cloud::{CallCtx, S3Location, VpcConfig};
    #[allow(unused_imports)]
    use crate::cloud::{CloudBase, EcrApi, IamApi, LambdaApi, SecretsApi, StsApi, TaggingApi};
    use serde_json::{json, Value};

    const FN: &str = "11-my-app-my-scope";
    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:11-my-app-my-scope";
    const IMAGE_V1: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0";
    const IMAGE_V2: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v2.0.0";

    /// An image function with version 1 behind alias `main`, and a Zip function.
    fn fixture(next_updates: Value) -> Value {
        json!({
            "s3": {"objects": [{"bucket": "assets", "key": "app.zip", "size": 100, "etag": "etag-1"}]},
            "lambda": {"functions": [
                {"name": FN, "image_uri": IMAGE_V1, "memory_size": 256, "timeout": 30,
                 "architectures": ["arm64"], "environment": {"A": "1", "B": "2"},
                 "tags": {"nullplatform:scope-id": "11"}, "reserved_concurrency": 3,
                 "versions": [{"version": "1", "description": "deploy-prev"}],
                 "aliases": [{"name": "main", "function_version": "1"}],
                 "policy": {"Version": "2012-10-17", "Id": "default", "Statement": [
                     {"Sid": "apigw", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                      "Action": "lambda:InvokeFunction", "Resource": ARN}]},
                 "provisioned_concurrency": [
                     {"qualifier": "main", "requested": 5, "status_script": ["IN_PROGRESS", "IN_PROGRESS", "READY"]},
                     {"qualifier": "1", "requested": 2, "status_script": ["FAILED"], "status_reason": "no capacity"}],
                 "next_updates": next_updates},
                {"name": "zip-fn", "s3_bucket": "assets", "s3_key": "app.zip"}
            ]}
        })
    }

    fn image(uri: &str) -> UpdateCode {
        UpdateCode {
            function_name: FN.to_string(),
            code: CodeSource::Image(uri.to_string()),
            architectures: None,
            revision_id: None,
        }
    }

    fn memory(mb: u32) -> UpdateConfiguration {
        UpdateConfiguration {
            function_name: FN.to_string(),
            memory_size: Some(mb),
            ..Default::default()
        }
    }

    async fn status(sim: &SimCloud, ctx: &CallCtx) -> (String, Option<String>) {
        let c = ok(sim.get_function_configuration(ctx, FN, None).await);
        (c.last_update_status, c.last_update_status_reason)
    }

    #[tokio::test]
    async fn update_code_follows_its_script_to_success_then_updates_succeed_at_once() {
        let sim = sim(fixture(json!([{"statuses": ["InProgress", "InProgress", "Successful"]}])));
        let ctx = agent(&sim).await;
        let before = ok(sim.get_function_configuration(&ctx, FN, None).await);
        let updated = ok(sim.update_function_code(&ctx, &image(IMAGE_V2)).await);
        assert_eq!(updated.last_update_status, "InProgress");
        assert_eq!(updated.image_uri.as_deref(), Some(IMAGE_V2));
        assert_eq!(updated.code_sha256, image_code_sha256(IMAGE_V2));
        assert_ne!(updated.code_sha256, before.code_sha256);
        assert_ne!(updated.revision_id, before.revision_id);
        assert_eq!(status(&sim, &ctx).await, ("InProgress".to_string(), None));
        assert_eq!(status(&sim, &ctx).await, ("Successful".to_string(), None));
        assert_eq!(status(&sim, &ctx).await, ("Successful".to_string(), None));
        // The script is used up: the next update succeeds at once.
        let again = ok(sim.update_function_code(&ctx, &image(IMAGE_V1)).await);
        assert_eq!(again.last_update_status, "Successful");
    }

    #[tokio::test]
    async fn a_failed_update_shows_its_reason_once_it_ends() {
        let reason = "The image manifest or layer media type for the source image is not supported (architecture)";
        let sim = sim(fixture(json!([{"statuses": ["InProgress", "Failed"], "reason": reason}])));
        let ctx = agent(&sim).await;
        let updated = ok(sim.update_function_configuration(&ctx, &memory(512)).await);
        assert_eq!((updated.last_update_status.as_str(), updated.memory_size), ("InProgress", 512));
        assert_eq!(updated.last_update_status_reason, None);
        assert_eq!(status(&sim, &ctx).await, ("Failed".to_string(), Some(reason.to_string())));
        // A failed update does not block the next one, which clears the reason.
        let next = ok(sim.update_function_configuration(&ctx, &memory(256)).await);
        assert_eq!(
            (next.last_update_status.as_str(), next.last_update_status_reason),
            ("Successful", None)
        );
    }

    #[tokio::test]
    async fn changes_conflict_while_an_update_is_in_progress() {
        let sim = sim(fixture(json!([{"statuses": ["InProgress", "Successful"]}])));
        let ctx = agent(&sim).await;
        ok(sim.update_function_code(&ctx, &image(IMAGE_V2)).await);
        let conflicts = [
            err(sim.update_function_code(&ctx, &image(IMAGE_V1)).await),
            err(sim.update_function_configuration(&ctx, &memory(512)).await),
            err(sim.publish_version(&ctx, FN, "deploy-1", None).await),
        ];
        for e in conflicts {
            assert_eq!(e.code, "ResourceConflictException", "{e}");
            assert_eq!(
                e.message,
                format!("The operation cannot be performed at this time. An update is in progress for resource: {ARN}")
            );
        }
        // Refusals change nothing: the code is still the first update's.
        let (s, _) = status(&sim, &ctx).await;
        assert_eq!(s, "Successful");
        let c = ok(sim.get_function_configuration(&ctx, FN, None).await);
        assert_eq!((c.image_uri.as_deref(), c.memory_size), (Some(IMAGE_V2), 256));
        ok(sim.update_function_configuration(&ctx, &memory(512)).await);
    }

    #[tokio::test]
    async fn update_code_checks_package_type_and_s3_object() {
        let sim = sim(fixture(json!([])));
        let ctx = agent(&sim).await;
        let s3 = |function: &str, key: &str, version: Option<&str>| UpdateCode {
            function_name: function.to_string(),
            code: CodeSource::S3(S3Location {
                bucket: "assets".to_string(),
                key: key.to_string(),
                object_version: version.map(str::to_string),
            }),
            architectures: None,
            revision_id: None,
        };
        let zip_with_image = UpdateCode {
            function_name: "zip-fn".to_string(),
            ..image(IMAGE_V2)
        };
        let refused = [
            (s3(FN, "app.zip", None), "Please provide ImageUri"),
            (zip_with_image, "Please don't provide ImageUri"),
            (
                s3("zip-fn", "missing.zip", None),
                "S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
            ),
        ];
        for (req, message) in refused {
            let e = err(sim.update_function_code(&ctx, &req).await);
            assert_eq!(e.code, "InvalidParameterValueException", "{req:?}");
            assert!(e.message.contains(message), "{e}");
        }
        let by_etag = ok(sim.update_function_code(&ctx, &s3("zip-fn", "app.zip", None)).await);
        assert_eq!(by_etag.code_sha256, zip_code_sha256("assets", "app.zip", "etag-1"));
        let by_version = ok(sim.update_function_code(&ctx, &s3("zip-fn", "app.zip", Some("v7"))).await);
        assert_eq!(by_version.code_sha256, zip_code_sha256("assets", "app.zip", "v7"));
        let arm = UpdateCode {
            architectures: Some(vec!["arm64".to_string()]),
            ..s3("zip-fn", "app.zip", None)
        };
        assert_eq!(ok(sim.update_function_code(&ctx, &arm).await).architectures, ["arm64"]);
        let bad_arch = UpdateCode {
            architectures: Some(vec!["mips".to_string()]),
            ..image(IMAGE_V2)
        };
        assert_eq!(
            err(sim.update_function_code(&ctx, &bad_arch).await).code,
            "InvalidParameterValueException"
        );
    }

    #[tokio::test]
    async fn update_configuration_validates_limits_and_replaces_settings() {
        let sim = sim(fixture(json!([])));
        let ctx = agent(&sim).await;
        let base = || UpdateConfiguration {
            function_name: FN.to_string(),
            ..Default::default()
        };
        let invalid = [
            (
                UpdateConfiguration {
                    memory_size: Some(127),
                    ..base()
                },
                "MemorySize",
            ),
            (
                UpdateConfiguration {
                    memory_size: Some(10241),
                    ..base()
                },
                "MemorySize",
            ),
            (
                UpdateConfiguration {
                    timeout: Some(0),
                    ..base()
                },
                "Timeout",
            ),
            (
                UpdateConfiguration {
                    timeout: Some(901),
                    ..base()
                },
                "Timeout",
            ),
            (
                UpdateConfiguration {
                    ephemeral_storage: Some(511),
                    ..base()
                },
                "EphemeralStorage",
            ),
            (
                UpdateConfiguration {
                    ephemeral_storage: Some(10241),
                    ..base()
                },
                "EphemeralStorage",
            ),
            (
                UpdateConfiguration {
                    runtime: Some("nodejs22.x".to_string()),
                    ..base()
                },
                "Runtime",
            ),
            (
                UpdateConfiguration {
                    handler: Some("index.handler".to_string()),
                    ..base()
                },
                "Handler",
            ),
        ];
        for (req, field) in invalid {
            let e = err(sim.update_function_configuration(&ctx, &req).await);
            assert_eq!(e.code, "InvalidParameterValueException", "{req:?}");
            assert!(e.message.contains(field), "{field}: {e}");
        }
        let req = UpdateConfiguration {
            memory_size: Some(10240),
            timeout: Some(900),
            ephemeral_storage: Some(10240),
            environment: Some(vec![("C".to_string(), "3".to_string())]),
            layers: Some(vec!["arn:aws:lambda:us-east-1:123456789012:layer:agent:4".to_string()]),
            vpc: Some(VpcConfig {
                subnet_ids: vec!["subnet-1".to_string()],
                security_group_ids: vec!["sg-1".to_string()],
            }),
            description: Some("scope 11".to_string()),
            ..base()
        };
        ok(sim.update_function_configuration(&ctx, &req).await);
        let c = ok(sim.get_function_configuration(&ctx, FN, None).await);
        assert_eq!((c.memory_size, c.timeout, c.ephemeral_storage), (10240, 900, 10240));
        // The environment is replaced, not merged.
        assert_eq!(c.environment, [("C".to_string(), "3".to_string())]);
        assert_eq!(c.layers.len(), 1);
        assert_eq!(
            (c.subnet_ids, c.security_group_ids),
            (vec!["subnet-1".to_string()], vec!["sg-1".to_string()])
        );
        assert_eq!(c.description, "scope 11");
        let cleared = UpdateConfiguration {
            layers: Some(vec![]),
            ..base()
        };
        assert!(ok(sim.update_function_configuration(&ctx, &cleared).await).layers.is_empty());
        let zip = UpdateConfiguration {
            function_name: "zip-fn".to_string(),
            runtime: Some("python3.13".to_string()),
            handler: Some("app.main".to_string()),
            ..Default::default()
        };
        let c = ok(sim.update_function_configuration(&ctx, &zip).await);
        assert_eq!((c.runtime.as_deref(), c.handler.as_deref()), (Some("python3.13"), Some("app.main")));
    }

    #[tokio::test]
    async fn publishing_an_unchanged_function_returns_the_existing_version() {
        let sim = sim(fixture(json!([])));
        let ctx = agent(&sim).await;
        // Version 1 has no overrides in the fixture: it is $LATEST as it stands.
        let same = ok(sim.publish_version(&ctx, FN, "deploy-1", None).await);
        assert_eq!((same.version.as_str(), same.description.as_str()), ("1", "deploy-prev"));
        assert_eq!(same.function_arn, format!("{ARN}:1"));

        ok(sim.update_function_configuration(&ctx, &memory(1024)).await);
        let new = ok(sim.publish_version(&ctx, FN, "deploy-1", None).await);
        assert_eq!((new.version.as_str(), new.description.as_str()), ("2", "deploy-1"));
        assert_eq!(new.function_arn, format!("{ARN}:2"));
        let again = ok(sim.publish_version(&ctx, FN, "deploy-2", None).await);
        assert_eq!(again, new);
        let v2 = ok(sim.get_function_configuration(&ctx, FN, Some("2")).await);
        assert_eq!(
            (v2.version.as_str(), v2.memory_size, v2.description.as_str()),
            ("2", 1024, "deploy-1")
        );
        let v1 = ok(sim.get_function_configuration(&ctx, FN, Some("1")).await);
        assert_eq!(v1.memory_size, 256, "a version is a snapshot");
        // New code alone is a change too.
        ok(sim.update_function_code(&ctx, &image(IMAGE_V2)).await);
        let v3 = ok(sim.publish_version(&ctx, FN, "deploy-3", None).await);
        assert_eq!((v3.version.as_str(), v3.code_sha256), ("3", image_code_sha256(IMAGE_V2)));
    }

    #[tokio::test]
    async fn version_numbers_are_never_reused_and_list_numerically() {
        let sim = sim(json!({"lambda": {"functions": [{"name": "f", "image_uri": "img",
            "versions": [{"version": "9", "memory_size": 512}, {"version": "10", "description": "ten"}, {"version": "2", "memory_size": 1024}]}]}}));
        let ctx = agent(&sim).await;
        let listed = |versions: Vec<VersionInfo>| versions.into_iter().map(|v| v.version).collect::<Vec<_>>();
        assert_eq!(
            listed(ok(sim.list_versions_by_function(&ctx, "f").await)),
            ["$LATEST", "2", "9", "10"]
        );
        ok(sim.delete_function(&ctx, "f", Some("10")).await);
        // $LATEST still equals the deleted version 10, but the newest left is 9.
        let v = ok(sim.publish_version(&ctx, "f", "after-delete", None).await);
        assert_eq!(v.version, "11");
        let all = ok(sim.list_versions_by_function(&ctx, "f").await);
        assert_eq!(all[0].function_arn, "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST");
        assert_eq!(listed(all), ["$LATEST", "2", "9", "11"]);
    }

    #[tokio::test]
    async fn delete_function_protects_latest_and_referenced_versions() {
        let sim = sim(json!({"lambda": {"functions": [{"name": "f", "image_uri": "img",
            "versions": [{"version": "1"}, {"version": "2", "memory_size": 512}, {"version": "3", "memory_size": 1024}, {"version": "4", "timeout": 9}],
            "aliases": [{"name": "main", "function_version": "1", "routing": {"2": 0.25}}, {"name": "warm", "function_version": "1"}],
            "provisioned_concurrency": [{"qualifier": "3", "requested": 1}]}]}}));
        let ctx = agent(&sim).await;
        let cases = [
            (
                "$LATEST",
                "InvalidParameterValueException",
                "$LATEST version cannot be deleted without deleting the function.",
            ),
            (
                "7",
                "ResourceNotFoundException",
                "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:7",
            ),
            (
                "1",
                "ResourceConflictException",
                "Unable to delete version because the following aliases reference it: [main, warm]",
            ),
            (
                "2",
                "ResourceConflictException",
                "Unable to delete version because the following aliases reference it: [main]",
            ),
        ];
        for (qualifier, code, message) in cases {
            let e = err(sim.delete_function(&ctx, "f", Some(qualifier)).await);
            assert_eq!((e.code.as_str(), e.message.as_str()), (code, message), "qualifier {qualifier}");
        }
        ok(sim.delete_function(&ctx, "f", Some("3")).await);
        let e = err(sim.get_provisioned_concurrency_config(&ctx, "f", "3").await);
        assert_eq!(
            e.code, "ProvisionedConcurrencyConfigNotFoundException",
            "its provisioned concurrency goes with it"
        );
        ok(sim.delete_function(&ctx, "f:4", None).await);
        let left: Vec<String> = ok(sim.list_versions_by_function(&ctx, "f").await)
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(left, ["$LATEST", "1", "2"]);
        ok(sim.delete_function(&ctx, "f", None).await);
        let e = err(sim.get_function(&ctx, "f", None).await);
        assert_eq!(e.code, "ResourceNotFoundException");
        assert_eq!(e.message, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f");
    }

    #[tokio::test]
    async fn aliases_are_created_updated_and_validated() {
        let sim = sim(json!({"lambda": {"functions": [{"name": "f", "image_uri": "img",
            "versions": [{"version": "1"}, {"version": "2", "memory_size": 512}, {"version": "3", "memory_size": 1024}]}]}}));
        let ctx = agent(&sim).await;
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
        let weight = |version: &str, weight: f64| VersionWeight {
            version: version.to_string(),
            weight,
        };
        let create = |name: &str, version: &str, routing: Vec<VersionWeight>| CreateAlias {
            function_name: "f".to_string(),
            alias_name: name.to_string(),
            function_version: version.to_string(),
            description: "d".to_string(),
            routing,
        };
        let main = ok(sim.create_alias(&ctx, &create("main", "1", vec![])).await);
        assert_eq!(
            (main.alias_arn.as_str(), main.function_version.as_str()),
            (&*format!("{arn}:main"), "1")
        );
        assert_eq!(ok(sim.get_alias(&ctx, "f", "main").await), main);

        let refused = [
            (
                create("main", "2", vec![]),
                "ResourceConflictException",
                format!("Alias already exists: {arn}:main"),
            ),
            (
                create("next", "8", vec![]),
                "ResourceNotFoundException",
                format!("Function not found: {arn}:8"),
            ),
            (
                create("123", "1", vec![]),
                "ValidationException",
                "at 'name' failed to satisfy constraint".to_string(),
            ),
            (
                create("next", "1", vec![weight("2", 0.1), weight("3", 0.1)]),
                "InvalidParameterValueException",
                "Only one additional version".to_string(),
            ),
            (
                create("next", "1", vec![weight("2", 1.5)]),
                "InvalidParameterValueException",
                "weights range from 0.0 to 1.0".to_string(),
            ),
            (
                create("next", "1", vec![weight("2", -0.1)]),
                "InvalidParameterValueException",
                "weights range from 0.0 to 1.0".to_string(),
            ),
            (
                create("next", "1", vec![weight("1", 0.5)]),
                "InvalidParameterValueException",
                "primary version".to_string(),
            ),
            (
                create("next", "1", vec![weight("9", 0.5)]),
                "ResourceNotFoundException",
                format!("Function not found: {arn}:9"),
            ),
            (
                create("next", "$LATEST", vec![weight("2", 0.5)]),
                "InvalidParameterValueException",
                "$LATEST is not supported".to_string(),
            ),
        ];
        for (req, code, message) in refused {
            let e = err(sim.create_alias(&ctx, &req).await);
            assert_eq!(e.code, code, "{req:?}: {e}");
            assert!(e.message.contains(&message), "{req:?}: {e}");
        }
        let e = err(sim.get_alias(&ctx, "f", "next").await);
        assert_eq!(
            (e.code.as_str(), e.message),
            ("ResourceNotFoundException", format!("Alias not found: {arn}:next"))
        );

        let update = |version: Option<&str>, routing: Option<Vec<VersionWeight>>| UpdateAlias {
            function_name: "f".to_string(),
            alias_name: "main".to_string(),
            function_version: version.map(str::to_string),
            routing,
            revision_id: None,
        };
        let routed = ok(sim.update_alias(&ctx, &update(None, Some(vec![weight("2", 0.1)]))).await);
        assert_eq!(
            (routed.function_version.as_str(), routed.routing.clone()),
            ("1", vec![weight("2", 0.1)])
        );
        assert_ne!(routed.revision_id, main.revision_id);
        // None keeps the routing; Some(empty) clears it.
        let kept = ok(sim.update_alias(&ctx, &update(None, None)).await);
        assert_eq!(kept.routing, vec![weight("2", 0.1)]);
        // Moving the primary onto the routed version while keeping the routing is invalid.
        let e = err(sim.update_alias(&ctx, &update(Some("2"), None)).await);
        assert_eq!(e.code, "InvalidParameterValueException");
        let moved = ok(sim.update_alias(&ctx, &update(Some("2"), Some(vec![]))).await);
        assert_eq!((moved.function_version.as_str(), moved.routing.len()), ("2", 0));
        assert_eq!(ok(sim.get_alias(&ctx, "f", "main").await), moved);
        let e = err(sim.update_alias(&ctx, &update(Some("5"), None)).await);
        assert_eq!(e.code, "ResourceNotFoundException");
        let missing = UpdateAlias {
            alias_name: "nope".to_string(),
            ..update(Some("1"), None)
        };
        assert_eq!(err(sim.update_alias(&ctx, &missing).await).code, "ResourceNotFoundException");
    }

    #[tokio::test]
    async fn qualifiers_and_name_forms_resolve_like_lambda() {
        let sim = sim(
            json!({"lambda": {"functions": [{"name": "f", "image_uri": "img", "memory_size": 128,
            "versions": [{"version": "1", "memory_size": 512, "description": "one"}],
            "aliases": [{"name": "main", "function_version": "1"}]}]}}),
        );
        let ctx = agent(&sim).await;
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
        let read = |name: &'static str, q: Option<&'static str>| {
            let (sim, ctx) = (&sim, &ctx);
            async move { sim.get_function_configuration(ctx, name, q).await }
        };
        let cases: [(&str, Option<&str>, &str, u32, String); 6] = [
            ("f", None, "$LATEST", 128, arn.to_string()),
            ("f", Some("$LATEST"), "$LATEST", 128, format!("{arn}:$LATEST")),
            ("f", Some("1"), "1", 512, format!("{arn}:1")),
            ("f", Some("main"), "1", 512, format!("{arn}:main")),
            ("f:main", None, "1", 512, format!("{arn}:main")),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:f:main",
                Some("main"),
                "1",
                512,
                format!("{arn}:main"),
            ),
        ];
        for (name, q, version, memory, function_arn) in cases {
            let c = ok(read(name, q).await);
            assert_eq!(
                (c.version.as_str(), c.memory_size, c.function_arn.as_str()),
                (version, memory, function_arn.as_str()),
                "{name} {q:?}"
            );
        }
        let failures = [
            ("f", Some("2"), "ResourceNotFoundException", format!("Function not found: {arn}:2")),
            (
                "f",
                Some("nope"),
                "ResourceNotFoundException",
                format!("Function not found: {arn}:nope"),
            ),
            (
                "g",
                None,
                "ResourceNotFoundException",
                "Function not found: arn:aws:lambda:us-east-1:123456789012:function:g".to_string(),
            ),
            (
                "f:main",
                Some("1"),
                "InvalidParameterValueException",
                "does not match the specified qualifier".to_string(),
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:f",
                None,
                "ResourceNotFoundException",
                "function:f".to_string(),
            ),
            (
                "arn:aws:lambda:us-east-1:999999999999:function:f",
                None,
                "ResourceNotFoundException",
                "999999999999".to_string(),
            ),
            (
                "bad name",
                None,
                "ValidationException",
                "at 'functionName' failed to satisfy constraint".to_string(),
            ),
        ];
        for (name, q, code, message) in failures {
            let e = err(read(name, q).await);
            assert_eq!(e.code, code, "{name} {q:?}: {e}");
            assert!(e.message.contains(&message), "{name} {q:?}: {e}");
            assert_eq!((e.service.as_str(), e.operation.as_str()), ("lambda", "GetFunctionConfiguration"));
        }
    }

    #[tokio::test]
    async fn get_function_carries_tags_reserved_concurrency_and_the_version_state() {
        let sim = sim(fixture(json!([])));
        let ctx = agent(&sim).await;
        let info = ok(sim.get_function(&ctx, FN, None).await);
        assert_eq!(info.tags, [("nullplatform:scope-id".to_string(), "11".to_string())]);
        assert_eq!(info.reserved_concurrency, Some(3));
        let c = info.configuration;
        assert_eq!(
            (c.function_name.as_str(), c.function_arn.as_str(), c.package_type),
            (FN, ARN, PackageType::Image)
        );
        assert_eq!((c.state.as_str(), c.last_update_status.as_str()), ("Active", "Successful"));
        assert_eq!(
            c.environment,
            [("A".to_string(), "1".to_string()), ("B".to_string(), "2".to_string())]
        );
        assert_eq!((c.runtime, c.handler), (None, None));
        let zip = ok(sim.get_function(&ctx, "zip-fn", None).await).configuration;
        assert_eq!(
            (zip.package_type, zip.runtime.as_deref(), zip.memory_size, zip.timeout),
            (PackageType::Zip, Some("nodejs22.x"), 128, 3)
        );
        assert_eq!(zip.code_sha256, zip_code_sha256("assets", "app.zip", "etag-1"));
    }

    #[tokio::test]
    async fn get_policy_returns_the_fixture_policy_or_not_found() {
        let sim = sim(fixture(json!([])));
        let ctx = agent(&sim).await;
        let text = ok(sim.get_policy(&ctx, FN, None).await);
        let policy: Value = serde_json::from_str(&text).expect("policy is JSON");
        assert_eq!(policy["Id"], "default");
        assert_eq!(policy["Statement"][0]["Principal"]["Service"], "apigateway.amazonaws.com");
        assert_eq!(ok(sim.get_policy(&ctx, FN, Some("main")).await), text);
        let e = err(sim.get_policy(&ctx, "zip-fn", None).await);
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ResourceNotFoundException", "The resource you requested does not exist.")
        );
        assert_eq!(err(sim.get_policy(&ctx, FN, Some("7")).await).code, "ResourceNotFoundException");
    }

    #[tokio::test]
    async fn provisioned_concurrency_advances_one_status_per_read() {
        let sim = sim(fixture(json!([])));
        let ctx = agent(&sim).await;
        let mut seen = Vec::new();
        for _ in 0..4 {
            let pc = ok(sim.get_provisioned_concurrency_config(&ctx, FN, "main").await);
            seen.push((pc.status, pc.requested, pc.allocated, pc.available));
        }
        let want = [
            ("IN_PROGRESS", 5, 0, 0),
            ("IN_PROGRESS", 5, 0, 0),
            ("READY", 5, 5, 5),
            ("READY", 5, 5, 5),
        ];
        assert_eq!(seen, want.map(|(s, r, a, v)| (s.to_string(), r, a, v)));
        let failed = ok(sim.get_provisioned_concurrency_config(&ctx, FN, "1").await);
        assert_eq!(
            (failed.status.as_str(), failed.allocated, failed.status_reason.as_deref()),
            ("FAILED", 0, Some("no capacity"))
        );
        let e = err(sim.get_provisioned_concurrency_config(&ctx, "zip-fn", "main").await);
        assert_eq!(e.code, "ProvisionedConcurrencyConfigNotFoundException");
        assert_eq!(e.message, "No Provisioned Concurrency Config found for this function");
        let e = err(sim.get_provisioned_concurrency_config(&ctx, "nope", "main").await);
        assert_eq!(e.code, "ResourceNotFoundException");
    }
}
