//! What the run saw → a simulated-cloud fixture of the state it started from.
//!
//! Only what the run saw is in it, so that the replay answers the run's reads as AWS
//! did and finds what its writes need; everything else is the sim's default. What the
//! sim cannot hold is left out with a note saying so.

use super::seen::*;
use crate::cloud::sim::fixture::*;
use crate::cloud::{FunctionConfiguration, PackageType};
use crate::redact::MASK;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const UPDATE_STATUSES: [&str; 3] = ["InProgress", "Successful", "Failed"];
const PROVISIONED_STATUSES: [&str; 3] = ["IN_PROGRESS", "READY", "FAILED"];

/// The fixture, and what could not go into it.
pub(super) fn fixture(seen: &Seen) -> (Fixture, Vec<String>) {
    let mut notes = Vec::new();
    let agent_account = seen.agent.as_ref().map(|(_, account)| account.clone());
    // The sim keeps Lambda functions and secrets in one account: the agent's when it
    // holds any, else the one holding the most.
    let mut holding: BTreeMap<&String, usize> = BTreeMap::new();
    let functions_at = seen.functions.iter().filter(|(_, f)| f.exists).map(|(key, _)| &key.0);
    let secrets_at = seen.secrets.iter().filter(|(_, s)| s.existed).map(|(key, _)| &key.0);
    for account in functions_at.chain(secrets_at) {
        *holding.entry(account).or_default() += 1;
    }
    let account = match agent_account {
        Some(agent) if holding.contains_key(&agent) || holding.is_empty() => Some(agent),
        _ => holding
            .iter()
            .max_by_key(|(a, n)| (**n, std::cmp::Reverse(**a)))
            .map(|(a, _)| (*a).clone()),
    };

    let mut functions = Vec::new();
    for (key, f) in seen.functions.iter().filter(|(_, f)| f.exists) {
        if Some(&key.0) != account.as_ref() {
            // Named by ARN, so that the account is scrubbed from the note like any other.
            notes.push(format!(
                "lambda function arn:aws:lambda:{}:{}:function:{}: the simulated cloud holds one account's functions; left out",
                key.1, key.0, key.2
            ));
            continue;
        }
        functions.push(function(key, f, &mut notes));
    }

    let mut secrets = Vec::new();
    for (key, s) in seen.secrets.iter().filter(|(_, s)| s.existed) {
        if Some(&key.0) != account.as_ref() {
            notes.push(format!(
                "secret arn:aws:secretsmanager:{}:{}:secret:{}: the simulated cloud holds one account's secrets; left out",
                key.1, key.0, key.2
            ));
            continue;
        }
        secrets.push(SecretFixture {
            name: key.2.clone(),
            region: Some(key.1.clone()),
            tags: s.tags.get().cloned().unwrap_or_default(),
            ..SecretFixture::default()
        });
    }

    let fixture = Fixture {
        account_id: account,
        region: Some(seen.region.clone()),
        agent: seen.agent.as_ref().map(|(arn, _)| AgentFixture { arn: Some(arn.clone()) }),
        iam: IamFixture {
            roles: roles(seen, &mut notes),
        },
        lambda: LambdaFixture { functions },
        ecr: EcrFixture {
            repositories: seen
                .repositories
                .iter()
                .filter(|(_, r)| r.exists)
                .map(|(key, r)| repository(key, r, &mut notes))
                .collect(),
        },
        secrets,
        s3: S3Fixture {
            objects: seen
                .s3_objects
                .iter()
                .map(|(bucket, key)| S3ObjectFixture {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    ..S3ObjectFixture::default()
                })
                .collect(),
        },
        // Log groups are not learnt from a run yet (the recording's notes say so
        // when the run touched any).
        logs: LogsFixture::default(),
        networking: NetworkingFixture::default(),
        metrics: Vec::new(),
        counters: CountersFixture::default(),
        faults: Vec::new(),
        recording: None,
    };
    (fixture, notes)
}

fn roles(seen: &Seen, notes: &mut Vec<String>) -> Vec<RoleFixture> {
    let mut keys: BTreeSet<&RoleKey> = seen.roles.keys().collect();
    // A role whose sessions AWS refused something needs an entry to carry the limit.
    keys.extend(seen.role_use.iter().filter(|(_, u)| !u.denied.is_empty()).map(|(k, _)| k));
    let mut out = Vec::new();
    for key in keys {
        let (account, name) = key;
        let seen_role = seen.roles.get(key);
        let read_trust =
            seen_role
                .and_then(|r| r.read.as_ref())
                .and_then(|r| match serde_json::from_str::<Value>(&r.assume_role_policy_document) {
                    Ok(doc) if doc.get("Statement").is_some() => Some(doc),
                    _ => {
                        notes.push(format!(
                            "iam role {name}: its trust policy is not a JSON policy document; recorded as trusting its callers"
                        ));
                        None
                    }
                });
        let assumers: Vec<&String> = seen_role.map(|r| r.assumers.iter().collect()).unwrap_or_default();
        // Not read: trust exactly those AWS let assume it (none: the sim's default,
        // the role's own account).
        let trust = read_trust.or_else(|| {
            (!assumers.is_empty()).then(|| {
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": assumers}, "Action": "sts:AssumeRole"}]})
            })
        });
        let longest = seen_role.map_or(0, |r| r.longest_session);
        let max_session_duration = seen_role
            .and_then(|r| r.read.as_ref())
            .map(|r| r.max_session_duration)
            .unwrap_or(3600)
            .max(longest)
            .clamp(3600, 43200);
        out.push(RoleFixture {
            name: name.clone(),
            account_id: Some(account.clone()),
            path: seen_role.map(|r| r.path.clone()).filter(|p| p != "/"),
            assume_role_policy_document: trust,
            allowed_actions: allowed_actions(seen.role_use.get(key)),
            max_session_duration: Some(max_session_duration),
            ..RoleFixture::default()
        });
    }
    out
}

/// When AWS refused a role's session something, the actions it let through at least
/// once (and the ones the sim checks alongside them); otherwise no limit.
///
/// An action both let through and refused was refused by something narrower than the
/// role — a step's session policy, which the replay applies itself, or a resource
/// the role's policy leaves out, which the sim's action list cannot say — so it stays.
fn allowed_actions(usage: Option<&RoleUse>) -> Option<Vec<String>> {
    let usage = usage.filter(|u| !u.denied.is_empty())?;
    let mut allowed = usage.allowed.clone();
    if allowed.contains("secretsmanager:CreateSecret") && !usage.denied.contains("secretsmanager:TagResource") {
        allowed.insert("secretsmanager:TagResource".to_owned());
    }
    Some(allowed.into_iter().collect())
}

/// [`fixture`] for a plan's overlay (`cloud::plan`): the same state, but Lambda
/// environment values as read, since the overlay compares and changes them; the
/// overlay is never written anywhere, and the plan masks them when it shows them.
pub(super) fn overlay_fixture(seen: &Seen) -> Fixture {
    let (mut fixture, _) = fixture(seen);
    let account = fixture.account_id.clone().unwrap_or_default();
    for fx in &mut fixture.lambda.functions {
        let key = (account.clone(), fx.region.clone().unwrap_or_default(), fx.name.clone());
        let Some(f) = seen.functions.get(&key) else { continue };
        if let Some(c) = f.latest.get() {
            fx.environment = (!c.environment.is_empty()).then(|| c.environment.iter().cloned().collect());
        }
        for v in &mut fx.versions {
            let configured = v
                .version
                .parse::<u64>()
                .ok()
                .and_then(|n| f.versions.get(&n))
                .and_then(|slot| match slot.get() {
                    Some(VersionSeen::Configured(c)) => Some(c.environment.clone()),
                    _ => None,
                });
            if let Some(env) = configured {
                v.environment = (!env.is_empty()).then(|| env.into_iter().collect());
            }
        }
    }
    fixture
}

/// Environment values are written masked: they commonly hold secrets the run never
/// learns (an earlier deployment's parameters), which the redactor cannot know.
fn masked_environment(env: &[(String, String)]) -> Option<BTreeMap<String, String>> {
    (!env.is_empty()).then(|| env.iter().map(|(k, _)| (k.clone(), MASK.to_owned())).collect())
}

fn non_empty<T: Clone>(v: &[T]) -> Option<Vec<T>> {
    (!v.is_empty()).then(|| v.to_vec())
}

fn non_empty_text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// `$LATEST` as first read; else inferred from a version read or from the answer to
/// the run's first update, then with no update under way (AWS accepted one).
fn function(key: &RegionalKey, f: &FunctionSeen, notes: &mut Vec<String>) -> FunctionFixture {
    let (_, region, name) = key;
    let first_configured = f.versions.values().find_map(|s| match s.get() {
        Some(VersionSeen::Configured(c)) => Some(c.as_ref()),
        _ => None,
    });
    let latest_read = f.latest.was_read();
    let latest = f.latest.get().or(first_configured);
    let mut out = FunctionFixture {
        name: name.clone(),
        region: Some(region.clone()),
        ..FunctionFixture::default()
    };
    if !latest_read && f.latest.get().is_some() {
        notes.push(format!(
            "lambda function {name}: changed before the run read its configuration; recorded as the change left it"
        ));
    }
    let package_type = latest.map_or(PackageType::Zip, |c| c.package_type);
    if let Some(c) = latest {
        out.package_type = Some(c.package_type);
        out.image_uri = c.image_uri.clone().filter(|_| package_type == PackageType::Image);
        out.code_sha256 = non_empty_text(&c.code_sha256);
        out.runtime = c.runtime.clone().filter(|_| package_type == PackageType::Zip);
        out.handler = c.handler.clone().filter(|_| package_type == PackageType::Zip);
        out.role = non_empty_text(&c.role);
        out.memory_size = Some(c.memory_size);
        out.timeout = Some(c.timeout);
        out.ephemeral_storage = Some(c.ephemeral_storage);
        out.architectures = non_empty(&c.architectures);
        out.environment = masked_environment(&c.environment);
        out.layers = non_empty(&c.layers);
        out.subnet_ids = non_empty(&c.subnet_ids);
        out.security_group_ids = non_empty(&c.security_group_ids);
        if latest_read {
            out.description = non_empty_text(&c.description);
            out.state = Some(c.state.clone());
            out.state_reason = c.state_reason.clone();
            out.last_update_status = Some(c.last_update_status.clone());
            out.last_update_status_reason = c.last_update_status_reason.clone();
            out.revision_id = non_empty_text(&c.revision_id);
        }
    }
    out.tags = f.tags.get().cloned().unwrap_or_default();
    out.reserved_concurrency = f.reserved_concurrency.get().copied().flatten();
    out.policy = f.policy.get().cloned().flatten().filter(Value::is_object);

    // Versions: those seen, and those the kept aliases point at (they existed).
    let mut versions: BTreeMap<u64, VersionFixture> = BTreeMap::new();
    for (number, slot) in &f.versions {
        if let Some(v) = slot.get() {
            versions.insert(*number, version(*number, v, package_type));
        }
    }
    let mut aliases = Vec::new();
    for (alias_name, slot) in &f.aliases {
        let Some(a) = slot.get() else { continue };
        if f.created_aliases.contains(alias_name) {
            continue;
        }
        let mut exists = |v: &str| -> bool {
            if v == LATEST {
                return true;
            }
            match v.parse::<u64>() {
                Ok(n) if f.published.contains(&n) => false,
                Ok(n) => {
                    versions.entry(n).or_insert_with(|| VersionFixture {
                        version: n.to_string(),
                        ..VersionFixture::default()
                    });
                    true
                }
                Err(_) => false,
            }
        };
        // A version the run published did not exist before: then `$LATEST`, which always does.
        let function_version = match a.function_version.clone().filter(|v| exists(v)) {
            Some(v) => v,
            None => {
                notes.push(format!(
                    "lambda function {name}: alias `{alias_name}` was changed before the run read it, to a version of the run's; \
                     recorded pointing at $LATEST"
                ));
                LATEST.to_owned()
            }
        };
        if a.guessed && function_version != LATEST {
            notes.push(format!(
                "lambda function {name}: alias `{alias_name}` was changed before the run read it; recorded as the change left it"
            ));
        }
        let mut routing = a.routing.clone();
        routing.retain(|v, _| exists(v));
        if function_version == LATEST {
            routing.clear();
        }
        aliases.push(AliasFixture {
            name: alias_name.clone(),
            function_version: Some(function_version),
            description: non_empty_text(&a.description),
            routing,
            revision_id: a.revision_id.clone(),
        });
    }
    let kept_aliases: BTreeSet<&str> = aliases.iter().map(|a| a.name.as_str()).collect();
    for (qualifier, p) in &f.provisioned {
        let known = kept_aliases.contains(qualifier.as_str()) || qualifier.parse::<u64>().is_ok_and(|n| versions.contains_key(&n));
        if !known {
            notes.push(format!(
                "lambda function {name}: provisioned concurrency of `{qualifier}`, whose alias or version the run did not read, left out"
            ));
            continue;
        }
        if let Some(bad) = p.statuses.iter().find(|s| !PROVISIONED_STATUSES.contains(&s.as_str())) {
            notes.push(format!(
                "lambda function {name}: provisioned concurrency of `{qualifier}` has status `{bad}`, which the simulated cloud does not know; left out"
            ));
            continue;
        }
        out.provisioned_concurrency.push(ProvisionedFixture {
            qualifier: qualifier.clone(),
            requested: p.requested,
            status_script: Some(p.statuses.clone()),
            status_reason: p.reason.clone(),
        });
    }
    let max_kept = versions.keys().next_back().copied().unwrap_or(0);
    // The run's first new version was numbered one past the highest ever published.
    if let Some(first_new) = f.published.iter().next() {
        let highest = first_new.saturating_sub(1);
        if highest > max_kept {
            out.highest_published_version = Some(highest);
        }
    }
    out.versions = versions.into_values().collect();
    out.aliases = aliases;
    scripts(name, f, latest_read, &mut out, notes);
    out
}

/// The update scripts: a pre-run update under way, then the run's own updates.
fn scripts(name: &str, f: &FunctionSeen, latest_read: bool, out: &mut FunctionFixture, notes: &mut Vec<String>) {
    let valid = |s: &UpdateScriptFixture| s.statuses.iter().all(|st| UPDATE_STATUSES.contains(&st.as_str()));
    if latest_read {
        out.current_update = f.scripts.current.clone().filter(valid);
    }
    let mut updates = f.scripts.updates.clone();
    if let Some(bad) = updates.iter().find(|s| !valid(s)) {
        notes.push(format!(
            "lambda function {name}: an update showed a status the simulated cloud does not know ({:?}); updates replay as immediate successes",
            bad.statuses
        ));
        updates.clear();
    }
    // Trailing immediate successes are what the sim does with no script at all.
    while updates.last().is_some_and(|s| s.statuses == [SUCCESSFUL]) {
        updates.pop();
    }
    out.next_updates = updates;
}

/// A version as the fields where it differs from `$LATEST`, all of them when read in full.
fn version(number: u64, v: &VersionSeen, package_type: PackageType) -> VersionFixture {
    match v {
        VersionSeen::Listed(info) => VersionFixture {
            version: number.to_string(),
            description: non_empty_text(&info.description),
            code_sha256: non_empty_text(&info.code_sha256),
            ..VersionFixture::default()
        },
        VersionSeen::Configured(c) => configured_version(number, c, package_type),
    }
}

fn configured_version(number: u64, c: &FunctionConfiguration, package_type: PackageType) -> VersionFixture {
    VersionFixture {
        version: number.to_string(),
        description: non_empty_text(&c.description),
        revision_id: non_empty_text(&c.revision_id),
        image_uri: c.image_uri.clone().filter(|_| package_type == PackageType::Image),
        code_sha256: non_empty_text(&c.code_sha256),
        runtime: c.runtime.clone().filter(|_| package_type == PackageType::Zip),
        handler: c.handler.clone().filter(|_| package_type == PackageType::Zip),
        role: non_empty_text(&c.role),
        memory_size: Some(c.memory_size),
        timeout: Some(c.timeout),
        ephemeral_storage: Some(c.ephemeral_storage),
        architectures: non_empty(&c.architectures),
        environment: masked_environment(&c.environment),
        layers: Some(c.layers.clone()),
        subnet_ids: Some(c.subnet_ids.clone()),
        security_group_ids: Some(c.security_group_ids.clone()),
        ..VersionFixture::default()
    }
}

fn repository(key: &RepositoryKey, r: &RepositorySeen, notes: &mut Vec<String>) -> RepositoryFixture {
    let (registry_id, region, name) = key;
    let policy = r.policy.get().cloned().flatten().filter(|p| {
        let ok = p.get("Statement").is_some_and(Value::is_array);
        if !ok {
            notes.push(format!("ecr repository {name}: its policy has no Statement list; left out"));
        }
        ok
    });
    // A tag names one image; should two answers disagree, the first image keeps it.
    let mut taken = BTreeSet::new();
    let mut images: Vec<&crate::cloud::ImageDetail> = r.images.values().collect();
    images.sort_by_key(|i| (i.pushed_at, i.digest.clone()));
    let images = images
        .into_iter()
        .map(|i| ImageFixture {
            tags: i.tags.iter().filter(|t| taken.insert((*t).clone())).cloned().collect(),
            digest: Some(i.digest.clone()),
            pushed_at: i.pushed_at,
            size_bytes: i.size_bytes,
        })
        .collect();
    RepositoryFixture {
        name: name.clone(),
        registry_id: Some(registry_id.clone()),
        region: Some(region.clone()),
        policy,
        images,
        tags: r.tags.get().cloned().unwrap_or_default(),
    }
}
