//! What a recorded run learnt of the cloud, answer by answer: for every part of every
//! resource, how it was before the run changed it.
//!
//! The rule is "the first read wins, and only before the run writes": a part the run
//! changed shows the run's doing in every later read, so those reads are not the
//! state the run started from. A part the run wrote without reading it first is
//! inferred from the write (it existed, since AWS accepted the write), so that the
//! replay finds what the write needs.

use crate::cloud::sim::fixture::UpdateScriptFixture;
use crate::cloud::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub(super) const LATEST: &str = "$LATEST";
pub(super) const IN_PROGRESS: &str = "InProgress";
pub(super) const SUCCESSFUL: &str = "Successful";

/// (account, region, name) of a Lambda function or a secret.
pub(super) type RegionalKey = (String, String, String);
/// (registry id, region, name) of an ECR repository.
pub(super) type RepositoryKey = (String, String, String);
/// (account, name) of an IAM role.
pub(super) type RoleKey = (String, String);

/// One part of a resource (a function's configuration, an alias, a policy …) as the
/// run found it before changing it.
#[derive(Debug)]
pub(super) struct Slot<T> {
    value: Option<T>,
    /// Taken from a read of this very part, not inferred from another answer.
    read: bool,
    /// The run changed it: later reads show the run's doing.
    written: bool,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            value: None,
            read: false,
            written: false,
        }
    }
}

impl<T> Slot<T> {
    /// A read of the part: the first one before any write wins, over an inference too.
    pub(super) fn read(&mut self, value: T) {
        if !self.written && !self.read {
            self.value = Some(value);
            self.read = true;
        }
    }

    /// A guess from another answer, kept only while nothing better is known.
    pub(super) fn infer(&mut self, value: T) {
        if self.value.is_none() {
            self.value = Some(value);
        }
    }

    pub(super) fn write(&mut self) {
        self.written = true;
    }

    pub(super) fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// Whether the value came from a read of the part itself.
    pub(super) fn was_read(&self) -> bool {
        self.read
    }

    /// Neither read nor written yet.
    fn untouched(&self) -> bool {
        !self.read && !self.written
    }
}

/// A published version as the run saw it: in a listing (number, description, code
/// hash) or in full (GetFunction with the version as qualifier).
#[derive(Clone, Debug)]
pub(super) enum VersionSeen {
    Listed(VersionInfo),
    Configured(Box<FunctionConfiguration>),
}

/// An alias before the run.
#[derive(Clone, Debug, Default)]
pub(super) struct AliasSeen {
    /// `None`: not known at all (AWS said it exists, nothing more).
    pub function_version: Option<String>,
    pub routing: BTreeMap<String, f64>,
    pub description: String,
    pub revision_id: Option<String>,
    /// Not read: taken from what the run's change left.
    pub guessed: bool,
}

impl From<&Alias> for AliasSeen {
    fn from(a: &Alias) -> AliasSeen {
        AliasSeen {
            function_version: Some(a.function_version.clone()),
            routing: routing_map(&a.routing),
            description: a.description.clone(),
            revision_id: Some(a.revision_id.clone()),
            guessed: false,
        }
    }
}

fn routing_map(weights: &[VersionWeight]) -> BTreeMap<String, f64> {
    weights.iter().map(|w| (w.version.clone(), w.weight)).collect()
}

/// Provisioned concurrency of one qualifier: the status of every read, in order.
#[derive(Clone, Debug, Default)]
pub(super) struct ProvisionedSeen {
    pub requested: u32,
    pub statuses: Vec<String>,
    pub reason: Option<String>,
}

/// The `LastUpdateStatus` of `$LATEST` read after read, as the sim's update scripts
/// replay them (one status per configuration read).
#[derive(Debug, Default)]
pub(super) struct Scripts {
    /// An update already under way when the run first read the function.
    pub current: Option<UpdateScriptFixture>,
    /// The run's own updates, in order: the answer's status, then each read's.
    pub updates: Vec<UpdateScriptFixture>,
    /// The last script is still `InProgress`: reads go on extending it.
    open: bool,
}

impl Scripts {
    fn open_script(&mut self) -> Option<&mut UpdateScriptFixture> {
        if !self.open {
            return None;
        }
        match self.updates.last_mut() {
            Some(last) => Some(last),
            None => self.current.as_mut(),
        }
    }

    /// A read of `$LATEST` showing `status`; `first` when it is the run's first read of it.
    fn observe(&mut self, status: &str, reason: Option<&str>, first: bool) {
        if let Some(script) = self.open_script() {
            script.statuses.push(status.to_owned());
            if status != IN_PROGRESS {
                script.reason = reason.map(str::to_owned);
                self.open = false;
            }
        } else if first && self.updates.is_empty() && status == IN_PROGRESS {
            self.current = Some(UpdateScriptFixture {
                statuses: vec![status.to_owned()],
                reason: None,
            });
            self.open = true;
        }
    }

    /// A read of a published version. The sim moves a running update on for it too;
    /// what `$LATEST` showed on AWS at that moment is unknown, so the last status is
    /// repeated (the update takes one read longer rather than ending early).
    fn observe_elsewhere(&mut self) {
        if let Some(script) = self.open_script() {
            if let Some(last) = script.statuses.last().cloned() {
                script.statuses.push(last);
            }
        }
    }

    /// An update AWS accepted, answering with `status`.
    fn update(&mut self, status: &str, reason: Option<&str>) {
        // AWS accepted it, so a previous update had ended by then, between two reads
        // the sim cannot put time into: it ends at its last read instead.
        if let Some(script) = self.open_script() {
            if let Some(last) = script.statuses.last_mut() {
                *last = SUCCESSFUL.to_owned();
            }
        }
        self.updates.push(UpdateScriptFixture {
            statuses: vec![status.to_owned()],
            reason: (status == "Failed").then(|| reason.map(str::to_owned)).flatten(),
        });
        self.open = status == IN_PROGRESS;
    }
}

/// A Lambda function: every part the run saw.
#[derive(Debug, Default)]
pub(super) struct FunctionSeen {
    /// An answer showed it exists (an error may not: not-found is not existence).
    pub exists: bool,
    pub latest: Slot<FunctionConfiguration>,
    pub tags: Slot<BTreeMap<String, String>>,
    pub reserved_concurrency: Slot<Option<u32>>,
    pub versions: BTreeMap<u64, Slot<VersionSeen>>,
    /// Versions the run published: not part of the state before it.
    pub published: BTreeSet<u64>,
    pub aliases: BTreeMap<String, Slot<AliasSeen>>,
    /// Aliases the run created.
    pub created_aliases: BTreeSet<String>,
    /// The function's (unqualified) resource policy; `Some(None)`: it had none.
    pub policy: Slot<Option<Value>>,
    pub provisioned: BTreeMap<String, ProvisionedSeen>,
    pub scripts: Scripts,
}

/// An ECR repository.
#[derive(Debug, Default)]
pub(super) struct RepositorySeen {
    pub exists: bool,
    /// `Some(None)`: it had no policy.
    pub policy: Slot<Option<Value>>,
    /// By digest; images are not written by any call the host makes.
    pub images: BTreeMap<String, ImageDetail>,
    pub tags: Slot<BTreeMap<String, String>>,
}

/// An IAM role: read with GetRole, or only known to be assumable.
#[derive(Debug, Default)]
pub(super) struct RoleSeen {
    pub path: String,
    pub read: Option<Role>,
    /// Callers AWS let assume it.
    pub assumers: BTreeSet<String>,
    /// The longest session AWS granted, seconds.
    pub longest_session: u32,
}

/// What a role's sessions were let do: when AWS refused one of them, the replay
/// limits the role to what AWS let through, so the refusal replays too.
#[derive(Debug, Default)]
pub(super) struct RoleUse {
    pub allowed: BTreeSet<String>,
    pub denied: BTreeSet<String>,
}

/// A Secrets Manager secret; its value is never kept.
#[derive(Debug, Default)]
pub(super) struct SecretSeen {
    /// It existed before the run.
    pub existed: bool,
    /// The run created it.
    pub created: bool,
    pub tags: Slot<BTreeMap<String, String>>,
}

/// Everything one run learnt.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// The cloud's default region.
    pub region: String,
    /// The agent's (ARN, account).
    pub agent: Option<(String, String)>,
    pub roles: BTreeMap<RoleKey, RoleSeen>,
    pub role_use: BTreeMap<RoleKey, RoleUse>,
    pub functions: BTreeMap<RegionalKey, FunctionSeen>,
    pub repositories: BTreeMap<RepositoryKey, RepositorySeen>,
    pub secrets: BTreeMap<RegionalKey, SecretSeen>,
    /// S3 objects Zip code was updated from: they existed.
    pub s3_objects: BTreeSet<(String, String)>,
    /// Every request id answered, to be sure none reaches the file.
    pub request_ids: BTreeSet<String>,
    /// Operations the run used whose effect or answer the recording does not follow
    /// (`iam:CreateRole` …): each gets a note, so that the recording says it may not
    /// replay as AWS answered.
    pub untracked: BTreeSet<String>,
}

fn is_version_number(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit())
}

/// `name`, `name:qualifier` or a function ARN → its key and qualifier.
pub(super) fn function_ref(ctx: &CallCtx, given: &str, qualifier: Option<&str>) -> (RegionalKey, Option<String>) {
    let parts: Vec<&str> = given.splitn(7, ':').collect();
    let (account, region, rest) = match parts[..] {
        ["arn", _, "lambda", region, account, "function", rest] => (account, region, rest),
        _ => (ctx.identity.account.as_str(), ctx.region.as_str(), given),
    };
    let (name, embedded) = match rest.split_once(':') {
        Some((name, q)) => (name, Some(q)),
        None => (rest, None),
    };
    let qualifier = qualifier.or(embedded).map(str::to_owned);
    ((account.to_owned(), region.to_owned(), name.to_owned()), qualifier)
}

/// A secret's ARN (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>`) or
/// name → its key.
pub(super) fn secret_ref(ctx: &CallCtx, given: &str) -> RegionalKey {
    secret_arn_key(given).unwrap_or_else(|| (ctx.identity.account.clone(), ctx.region.clone(), given.to_owned()))
}

fn secret_arn_key(arn: &str) -> Option<RegionalKey> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let ["arn", _, "secretsmanager", region, account, "secret", rest] = parts[..] else {
        return None;
    };
    // AWS appends `-` and six random characters to the name in the ARN.
    let name = match rest.len().checked_sub(7) {
        Some(cut) if rest.is_char_boundary(cut) && rest.as_bytes()[cut] == b'-' => &rest[..cut],
        _ => rest,
    };
    Some((account.to_owned(), region.to_owned(), name.to_owned()))
}

/// `arn:aws:iam::<account>:role/<path><name>` → (key, path).
pub(super) fn role_ref(arn: &str) -> Option<(RoleKey, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "iam", "", account, resource] = parts[..] else {
        return None;
    };
    let path_and_name = resource.strip_prefix("role")?;
    let (path, name) = path_and_name.rsplit_once('/')?;
    Some(((account.to_owned(), name.to_owned()), format!("{path}/")))
}

/// The role of an assumed-role session ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`).
fn session_role(arn: &str) -> Option<RoleKey> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, resource) = rest.split_once(':')?;
    let (role, _session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    Some((account.to_owned(), role.to_owned()))
}

/// The note for a run that used `action`, an operation the recording does not follow.
pub(super) fn untracked_note(action: &str) -> String {
    let operation = action.split_once(':').map_or(action, |(_, operation)| operation);
    let what = match operation {
        "Invoke" => "invocations are",
        "DeleteRole" | "DeleteAlias" | "DeleteLogGroup" | "DeleteApi" | "DeleteTargetGroup" | "DeleteRule" | "DeleteDomainName" => {
            "resources this run created or deleted are"
        }
        op if op.starts_with("Create") => "resources this run created or deleted are",
        op if op.starts_with("Get") || op.starts_with("List") || op.starts_with("Describe") => "what this run read is",
        _ => "changes this run made are",
    };
    format!("{action}: {what} not kept in the recording; a replay may answer differently")
}

fn tag_map(tags: &[(String, String)]) -> BTreeMap<String, String> {
    tags.iter().cloned().collect()
}

impl Seen {
    pub(super) fn new(region: String) -> Seen {
        Seen { region, ..Seen::default() }
    }

    /// What every answer tells: its request id, and whether the caller's role may
    /// make the call (`action`, e.g. `lambda:GetFunction`).
    pub(super) fn answered<T>(&mut self, ctx: Option<&CallCtx>, action: &str, answer: &CloudResult<T>) {
        let request_id = match answer {
            Ok(reply) => reply.request_id.as_ref(),
            Err(e) => e.request_id.as_ref(),
        };
        self.request_ids.extend(request_id.cloned());
        let Some(role) = ctx.and_then(|c| session_role(&c.identity.arn)) else {
            return;
        };
        let usage = self.role_use.entry(role).or_default();
        match answer {
            Err(e) if e.code.starts_with("AccessDenied") => usage.denied.insert(action.to_owned()),
            _ => usage.allowed.insert(action.to_owned()),
        };
    }

    /// The run used `action`, which the recording does not follow.
    pub(super) fn untracked(&mut self, action: &str) {
        self.untracked.insert(action.to_owned());
    }

    /// One note per untracked operation the run used, by operation name.
    pub(super) fn untracked_notes(&self) -> Vec<String> {
        self.untracked.iter().map(|action| untracked_note(action)).collect()
    }

    pub(super) fn agent_identity(&mut self, identity: &Identity) {
        if self.agent.is_none() {
            self.agent = Some((identity.arn.clone(), identity.account.clone()));
        }
    }

    pub(super) fn assume_role(&mut self, ctx: &CallCtx, req: &AssumeRoleRequest) {
        let Some((key, path)) = role_ref(&req.role_arn) else {
            return;
        };
        let role = self.roles.entry(key).or_default();
        role.path = path;
        role.assumers.insert(ctx.identity.arn.clone());
        role.longest_session = role.longest_session.max(req.duration_seconds);
    }

    pub(super) fn iam_get_role(&mut self, role: &Role) {
        let Some((key, path)) = role_ref(&role.arn) else {
            return;
        };
        let seen = self.roles.entry(key).or_default();
        seen.path = path;
        if seen.read.is_none() {
            seen.read = Some(role.clone());
        }
    }

    fn function(&mut self, key: RegionalKey) -> &mut FunctionSeen {
        let f = self.functions.entry(key).or_default();
        f.exists = true;
        f
    }

    /// GetFunction / GetFunctionConfiguration answered `config` for `qualifier`.
    pub(super) fn lambda_configuration(&mut self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, config: &FunctionConfiguration) {
        let (key, qualifier) = function_ref(ctx, name, qualifier);
        let f = self.function(key);
        if config.version == LATEST {
            let first = f.latest.untouched();
            f.scripts
                .observe(&config.last_update_status, config.last_update_status_reason.as_deref(), first);
            f.latest.read(config.clone());
            return;
        }
        f.scripts.observe_elsewhere();
        let Ok(number) = config.version.parse::<u64>() else {
            return;
        };
        if !f.published.contains(&number) {
            f.versions
                .entry(number)
                .or_default()
                .read(VersionSeen::Configured(Box::new(config.clone())));
        }
        // Read through an alias: the alias pointed at this version.
        if let Some(alias) = qualifier.filter(|q| q != LATEST && !is_version_number(q)) {
            if !f.created_aliases.contains(&alias) {
                f.aliases.entry(alias).or_default().infer(AliasSeen {
                    function_version: Some(config.version.clone()),
                    ..AliasSeen::default()
                });
            }
        }
    }

    /// GetFunction's extras: tags and reserved concurrency (never written by the host).
    pub(super) fn lambda_function_extras(&mut self, ctx: &CallCtx, name: &str, info: &FunctionInfo) {
        let (key, _) = function_ref(ctx, name, None);
        let f = self.function(key);
        f.tags.read(tag_map(&info.tags));
        f.reserved_concurrency.read(info.reserved_concurrency);
    }

    pub(super) fn lambda_list_versions(&mut self, ctx: &CallCtx, name: &str, versions: &[VersionInfo]) {
        let (key, _) = function_ref(ctx, name, None);
        let f = self.function(key);
        for v in versions {
            let Ok(number) = v.version.parse::<u64>() else {
                continue;
            };
            if !f.published.contains(&number) {
                f.versions.entry(number).or_default().infer(VersionSeen::Listed(v.clone()));
            }
        }
    }

    /// UpdateFunctionCode / UpdateFunctionConfiguration accepted, answering `after`.
    pub(super) fn lambda_updated(&mut self, ctx: &CallCtx, name: &str, after: &FunctionConfiguration) {
        let (key, _) = function_ref(ctx, name, None);
        let f = self.function(key);
        f.latest.infer(after.clone());
        f.latest.write();
        f.scripts
            .update(&after.last_update_status, after.last_update_status_reason.as_deref());
    }

    pub(super) fn s3_code_used(&mut self, code: &CodeSource) {
        if let CodeSource::S3(loc) = code {
            self.s3_objects.insert((loc.bucket.clone(), loc.key.clone()));
        }
    }

    pub(super) fn lambda_published(&mut self, ctx: &CallCtx, name: &str, version: &VersionInfo) {
        let (key, _) = function_ref(ctx, name, None);
        let f = self.function(key);
        let Ok(number) = version.version.parse::<u64>() else {
            return;
        };
        // Publishing an unchanged function answers with the version it already had.
        let existed = f.versions.get(&number).is_some_and(|s| s.get().is_some());
        if !existed {
            f.published.insert(number);
        }
    }

    pub(super) fn lambda_deleted(&mut self, ctx: &CallCtx, name: &str, qualifier: Option<&str>) {
        let (key, qualifier) = function_ref(ctx, name, qualifier);
        let function_arn = format!("arn:aws:lambda:{}:{}:function:{}", key.1, key.0, key.2);
        let f = self.function(key);
        match qualifier.as_deref().map(str::parse::<u64>) {
            Some(Ok(number)) if !f.published.contains(&number) => {
                let slot = f.versions.entry(number).or_default();
                slot.infer(VersionSeen::Listed(VersionInfo {
                    version: number.to_string(),
                    description: String::new(),
                    function_arn: format!("{function_arn}:{number}"),
                    code_sha256: String::new(),
                }));
                slot.write();
            }
            Some(_) => {}
            None => f.latest.write(),
        }
    }

    pub(super) fn lambda_alias_read(&mut self, ctx: &CallCtx, name: &str, alias: &Alias) {
        let (key, _) = function_ref(ctx, name, None);
        let f = self.function(key);
        if !f.created_aliases.contains(&alias.name) {
            f.aliases.entry(alias.name.clone()).or_default().read(AliasSeen::from(alias));
        }
    }

    pub(super) fn lambda_alias_created(&mut self, ctx: &CallCtx, req: &CreateAlias) {
        let (key, _) = function_ref(ctx, &req.function_name, None);
        let f = self.function(key);
        let slot = f.aliases.entry(req.alias_name.clone()).or_default();
        if slot.get().is_none() {
            f.created_aliases.insert(req.alias_name.clone());
        }
        slot.write();
    }

    /// CreateAlias refused because the alias exists: it did, pointing who knows where.
    pub(super) fn lambda_alias_exists(&mut self, ctx: &CallCtx, req: &CreateAlias) {
        let (key, _) = function_ref(ctx, &req.function_name, None);
        let f = self.function(key);
        f.aliases.entry(req.alias_name.clone()).or_default().infer(AliasSeen {
            guessed: true,
            ..AliasSeen::default()
        });
    }

    /// UpdateAlias accepted: the alias existed. Not read before, it is taken as the
    /// update left it (what the update did not change was like that before).
    pub(super) fn lambda_alias_updated(&mut self, ctx: &CallCtx, req: &UpdateAlias, after: &Alias) {
        let (key, _) = function_ref(ctx, &req.function_name, None);
        let f = self.function(key);
        let slot = f.aliases.entry(req.alias_name.clone()).or_default();
        slot.infer(AliasSeen {
            revision_id: None,
            guessed: true,
            ..AliasSeen::from(after)
        });
        slot.write();
    }

    /// GetPolicy answered `policy`; `None`: not found.
    pub(super) fn lambda_policy(&mut self, ctx: &CallCtx, name: &str, qualifier: Option<&str>, policy: Option<Value>) {
        let (key, qualifier) = function_ref(ctx, name, qualifier);
        // The fixture holds only the function's own policy, not a version's or an alias's.
        if qualifier.is_some() {
            return;
        }
        match policy {
            Some(p) => self.function(key).policy.read(Some(p)),
            // Not found may mean no function: record the absence only for a known one.
            None => {
                if let Some(f) = self.functions.get_mut(&key) {
                    f.policy.read(None);
                }
            }
        }
    }

    pub(super) fn lambda_provisioned(&mut self, ctx: &CallCtx, name: &str, qualifier: &str, pc: &ProvisionedConcurrency) {
        let (key, embedded) = function_ref(ctx, name, Some(qualifier));
        let f = self.function(key);
        let seen = f.provisioned.entry(embedded.unwrap_or_else(|| qualifier.to_owned())).or_default();
        if seen.statuses.is_empty() {
            seen.requested = pc.requested;
        }
        seen.statuses.push(pc.status.clone());
        if pc.status_reason.is_some() {
            seen.reason = pc.status_reason.clone();
        }
    }

    fn repository(&mut self, ctx: &CallCtx, repo: &RepositoryRef) -> &mut RepositorySeen {
        let key = (
            repo.registry_id.clone().unwrap_or_else(|| ctx.identity.account.clone()),
            repo.region.clone().unwrap_or_else(|| ctx.region.clone()),
            repo.name.clone(),
        );
        let r = self.repositories.entry(key).or_default();
        r.exists = true;
        r
    }

    /// GetRepositoryPolicy: the policy, or `None` when the repository had none.
    pub(super) fn ecr_policy(&mut self, ctx: &CallCtx, repo: &RepositoryRef, policy: Option<Value>) {
        self.repository(ctx, repo).policy.read(policy);
    }

    pub(super) fn ecr_policy_set(&mut self, ctx: &CallCtx, repo: &RepositoryRef) {
        self.repository(ctx, repo).policy.write();
    }

    /// The repository exists (an answer about its images or policy said so).
    pub(super) fn ecr_exists(&mut self, ctx: &CallCtx, repo: &RepositoryRef) {
        self.repository(ctx, repo);
    }

    pub(super) fn ecr_images(&mut self, ctx: &CallCtx, repo: &RepositoryRef, images: &[ImageDetail]) {
        let r = self.repository(ctx, repo);
        for image in images {
            r.images.entry(image.digest.clone()).or_insert_with(|| image.clone());
        }
    }

    fn secret(&mut self, key: RegionalKey) -> &mut SecretSeen {
        self.secrets.entry(key).or_default()
    }

    /// A write to a secret the run did not create: it existed.
    pub(super) fn secret_existed(&mut self, key: RegionalKey) {
        let s = self.secret(key);
        if !s.created {
            s.existed = true;
        }
    }

    pub(super) fn secret_created(&mut self, key: RegionalKey) {
        let s = self.secret(key);
        if !s.existed {
            s.created = true;
        }
        s.tags.write();
    }

    pub(super) fn tagged_resources(&mut self, resources: &[TaggedResource]) {
        for r in resources {
            let parts: Vec<&str> = r.arn.splitn(7, ':').collect();
            let tags = tag_map(&r.tags);
            match parts[..] {
                ["arn", _, "lambda", region, account, "function", name] if !name.contains(':') => {
                    self.function((account.to_owned(), region.to_owned(), name.to_owned()))
                        .tags
                        .read(tags);
                }
                ["arn", _, "ecr", region, account, resource] => {
                    if let Some(name) = resource.strip_prefix("repository/") {
                        let key = (account.to_owned(), region.to_owned(), name.to_owned());
                        let repo = self.repositories.entry(key).or_default();
                        repo.exists = true;
                        repo.tags.read(tags);
                    }
                }
                ["arn", _, "secretsmanager", ..] => {
                    if let Some(key) = secret_arn_key(&r.arn) {
                        self.secret_existed(key.clone());
                        self.secret(key).tags.read(tags);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn untracked_operations_get_one_note_each_in_name_order() {
        let mut seen = Seen::new("us-east-1".into());
        for action in [
            "logs:PutRetentionPolicy",
            "iam:CreateRole",
            "lambda:Invoke",
            "iam:CreateRole",
            "iam:ListRolePolicies",
        ] {
            seen.untracked(action);
        }
        assert_eq!(
            seen.untracked_notes(),
            [
                "iam:CreateRole: resources this run created or deleted are not kept in the recording; a replay may answer differently",
                "iam:ListRolePolicies: what this run read is not kept in the recording; a replay may answer differently",
                "lambda:Invoke: invocations are not kept in the recording; a replay may answer differently",
                "logs:PutRetentionPolicy: changes this run made are not kept in the recording; a replay may answer differently",
            ]
        );
    }

    #[test]
    fn notes_on_apis_load_balancers_and_dns_say_what_was_not_kept() {
        let what = |action: &str| {
            let note = untracked_note(action);
            note.strip_prefix(&format!("{action}: "))
                .and_then(|rest| rest.strip_suffix(" not kept in the recording; a replay may answer differently"))
                .map(str::to_owned)
                .unwrap_or(note)
        };
        for created_or_deleted in [
            "apigateway:CreateApi",
            "apigateway:DeleteApi",
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:DeleteRule",
        ] {
            assert_eq!(what(created_or_deleted), "resources this run created or deleted are");
        }
        for read in [
            "apigateway:GetApis",
            "apigateway:GetRoutes",
            "elasticloadbalancing:DescribeRules",
            "route53:ListResourceRecordSets",
            "route53:GetHostedZone",
        ] {
            assert_eq!(what(read), "what this run read is");
        }
        for changed in [
            "elasticloadbalancing:RegisterTargets",
            "route53:ChangeResourceRecordSets",
            "lambda:AddPermission",
            "lambda:RemovePermission",
        ] {
            assert_eq!(what(changed), "changes this run made are");
        }
    }
}
