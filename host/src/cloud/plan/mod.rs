//! Plan: a run whose changes are worked out, not made.
//!
//! [`PlanCloud`] wraps the run's cloud (AWS or the simulated one). Every call that
//! only reads goes to that cloud — through the recorder (`cloud::record`), which
//! learns from each answer how the resource was — unless the plan has already
//! changed what it reads. Every call that would change something goes instead to an
//! **overlay**: a simulated cloud built from what the run has read so far, so that
//! later steps see the effects of earlier ones (publish after update-code, the
//! alias after publish, waiters answered as the simulator answers them). Nothing
//! that changes anything reaches the real cloud; with `--cloud aws` the role
//! sessions a plan opens also carry a read-only session policy (`caps::gate`), so
//! AWS itself would refuse a change even if this file had a bug.
//!
//! The overlay is seeded lazily. Before the first change to a resource the plan
//! reads that resource whole from the real cloud (`seed.rs`: a function with its
//! versions, a role with its policies, a hosted zone, an API …), then
//! rebuilds the overlay from everything read so far (`merge.rs`: what the overlay
//! holds already wins, and what the plan deleted stays deleted). Each change is kept
//! as a [`PlannedChange`]: the call, its arguments and the resource before → after
//! (`diff.rs`), with secret values masked.

mod calls;
mod diff;
mod keys;
mod merge;
mod report;
mod seed;

#[cfg(test)]
mod tests;

pub use diff::{unify_masks, FieldChange};
pub use report::{document, render, staleness, SavedCommand, SavedPlan, FORMAT};

use super::record::{self, Inputs, Recorder};
use super::sim::fixture::Fixture;
use super::sim::SimCloud;
use super::*;
use keys::View;
use seed::Seed;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One change the plan would make: a mutating call, in the order the run made it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedChange {
    /// The step that made the call (filled in by the call gate).
    pub step: String,
    pub service: String,
    pub operation: String,
    /// The resource the call names, as the journal records it (the call gate's
    /// name for it: an ARN).
    pub resource: String,
    /// The call's arguments, secret values masked.
    pub arguments: Value,
    /// `ok`, or the error code the change would meet.
    pub outcome: String,
    /// What the change does to the resource, field by field (empty when the call
    /// changes nothing the simulated cloud keeps, or failed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

/// The changes of a plan, shared by the [`PlanCloud`] that finds them and the call
/// gate, which names the step of each.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    state: Arc<Mutex<PlanState>>,
}

#[derive(Debug, Default)]
struct PlanState {
    changes: Vec<PlannedChange>,
    /// Changes whose step the gate has not named yet.
    unclaimed: Vec<usize>,
    /// What each read of the real cloud answered, first read of each kind only.
    reads: Vec<Fingerprint>,
    /// Applying a plan: the changes made (sent as the plan has them).
    applied: usize,
}

/// What one read of the real cloud answered, as a digest: a plan is stale when a
/// read answers otherwise at apply time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    pub service: String,
    pub operation: String,
    /// What was read (`keys.rs`): `lambda|us-east-1|my-function` ….
    pub target: String,
    /// SHA-256 of the answer (or of the error code).
    pub digest: String,
    /// SHA-256 of each field of the answer (`configuration.memory_size` …), to name
    /// what changed. Environment values are left out (names only): a digest of a
    /// weak secret would let a plan's reader guess it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl Fingerprint {
    /// The target as a reader would name it.
    pub fn describe(&self) -> String {
        format!("{} {} of {}", self.service, self.operation, keys::describe(&self.target))
    }
}

impl Plan {
    fn lock(&self) -> MutexGuard<'_, PlanState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, change: PlannedChange) {
        let mut state = self.lock();
        state.changes.push(change);
        let index = state.changes.len() - 1;
        state.unclaimed.push(index);
    }

    /// Called by the gate after each call: whether the call was served by the
    /// overlay (a planned change), naming `step` as the one that made it and
    /// `resource` as the journal records it (an ARN, where the backend saw a name).
    pub fn claim(&self, step: &str, resource: &str) -> bool {
        let mut state = self.lock();
        let claimed: Vec<usize> = std::mem::take(&mut state.unclaimed);
        for &i in &claimed {
            state.changes[i].step = step.to_owned();
            state.changes[i].resource = resource.to_owned();
        }
        !claimed.is_empty()
    }

    /// Every change so far, in order.
    pub fn changes(&self) -> Vec<PlannedChange> {
        self.lock().changes.clone()
    }

    /// Applying a plan: how many of its changes were sent.
    pub fn applied(&self) -> usize {
        self.lock().applied
    }

    /// What the plan's reads of the real cloud answered, in order.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        self.lock().reads.clone()
    }

    fn fingerprint<T: Serialize>(&self, (service, operation): (&str, &str), target: &str, answer: &CloudResult<T>) {
        let mut state = self.lock();
        if state
            .reads
            .iter()
            .any(|r| r.service == service && r.operation == operation && r.target == target)
        {
            return;
        }
        let shown = match answer {
            Ok(reply) => diff::without_secret_values(&serde_json::to_value(&reply.value).unwrap_or(Value::Null)),
            Err(e) => serde_json::json!({"error": e.code}),
        };
        state.reads.push(Fingerprint {
            service: service.to_owned(),
            operation: operation.to_owned(),
            target: target.to_owned(),
            digest: digest(&shown),
            fields: diff::fields(&shown).into_iter().map(|(path, v)| (path, digest(&v))).collect(),
        });
    }
}

/// A [`Cloud`] that reads from another and plans every change on an overlay; or,
/// applying a plan, makes on the other only the changes the plan lists.
pub struct PlanCloud {
    /// The real cloud (behind the recorder, in a plan).
    real: Cloud,
    mode: Mode,
    overlay: Mutex<Overlay>,
    plan: Plan,
}

enum Mode {
    Plan(Recorder),
    Apply(Mutex<Applying>),
}

/// The error code of a change refused for not being the plan's next one.
pub const NOT_IN_PLAN: &str = "NotInPlan";

/// Where an apply is in its plan.
struct Applying {
    expected: Vec<PlannedChange>,
    /// The next change expected.
    next: usize,
    /// Why a change was refused: nothing more is changed after it.
    diverged: Option<String>,
    redactor: crate::redact::Redactor,
}

impl Applying {
    /// Whether `w` is the plan's next change; why not, else.
    fn check(&mut self, w: &Write) -> Result<(), String> {
        if let Some(why) = &self.diverged {
            return Err(format!("an earlier change was refused ({why}); nothing more is changed"));
        }
        let asked = format!("{} {} {}", w.service, w.operation, w.resource);
        let arguments = diff::unify_masks(&self.redactor.redact_json(&w.arguments));
        let verdict = match self.expected.get(self.next).map(|e| (e, diff::unify_masks(&e.arguments))) {
            None => Err(format!(
                "the plan's {} changes were all made, and {asked} is not among them",
                self.expected.len()
            )),
            Some((e, planned)) if e.service == w.service && e.operation == w.operation && planned == arguments => Ok(()),
            Some((e, planned)) => {
                let differences: Vec<String> = diff::changes(&planned, &arguments)
                    .iter()
                    .map(|f| format!("{}: planned {}, asked {}", f.path, diff::short(&f.before), diff::short(&f.after)))
                    .collect();
                Err(format!(
                    "the plan's change #{} is [{}] {} {} {}; the step asked for {asked}{}",
                    self.next + 1,
                    e.step,
                    e.service,
                    e.operation,
                    e.resource,
                    if e.service == w.service && e.operation == w.operation {
                        format!(" with other arguments ({})", differences.join("; "))
                    } else {
                        String::new()
                    }
                ))
            }
        };
        match verdict {
            Ok(()) => {
                self.next += 1;
                Ok(())
            }
            Err(why) => {
                self.diverged = Some(why.clone());
                Err(why)
            }
        }
    }
}

/// The simulated cloud the plan's changes are made on, and what it knows.
#[derive(Default)]
struct Overlay {
    sim: Option<Arc<SimCloud>>,
    /// Keys (`keys.rs`) of what the plan changed: reads of those go to the overlay.
    written: BTreeSet<String>,
    /// Seeds already read.
    seeded: BTreeSet<String>,
    /// What seeds read that the recorder does not learn (roles, log groups, APIs …).
    snippets: Value,
    /// Identities (`merge.rs`) of what the plan deleted: never seeded again.
    deleted: BTreeSet<String>,
}

/// Wraps `real` for planning a run of `target` given `inputs`.
pub fn plan(real: Cloud, inputs: Inputs, target: &str) -> (Cloud, Plan) {
    let (real, recorder) = record::record(real, inputs, target);
    wrap(real, Mode::Plan(recorder))
}

/// Wraps `real` for applying the plan whose changes are `expected`: each change the
/// run asks for is made only if it is the plan's next one (same operation, same
/// arguments once `redactor` masked them, as in the plan's file); any other is
/// refused with [`NOT_IN_PLAN`], and every change after it too.
pub fn apply(real: Cloud, expected: Vec<PlannedChange>, redactor: crate::redact::Redactor) -> (Cloud, Plan) {
    let applying = Applying {
        expected,
        next: 0,
        diverged: None,
        redactor,
    };
    wrap(real, Mode::Apply(Mutex::new(applying)))
}

fn wrap(real: Cloud, mode: Mode) -> (Cloud, Plan) {
    let plan = Plan::default();
    let cloud = PlanCloud {
        real,
        mode,
        overlay: Mutex::new(Overlay {
            snippets: serde_json::json!({}),
            ..Overlay::default()
        }),
        plan: plan.clone(),
    };
    (Cloud::of(Arc::new(cloud)), plan)
}

/// A mutating call, described for the plan.
pub(super) struct Write {
    service: &'static str,
    operation: &'static str,
    resource: String,
    /// Keys whose reads go to the overlay once this call succeeded there.
    keys: Vec<String>,
    /// What to read from the real cloud before the first change to it.
    seeds: Vec<Seed>,
    /// The resource shown before → after.
    view: View,
    arguments: Value,
    /// What the call deletes, when it succeeds (a `merge.rs` identity).
    deletes: Option<String>,
}

impl Write {
    fn new(service: &'static str, operation: &'static str, resource: impl Into<String>) -> Write {
        Write {
            service,
            operation,
            resource: resource.into(),
            keys: Vec::new(),
            seeds: Vec::new(),
            view: View::None,
            arguments: Value::Null,
            deletes: None,
        }
    }

    fn key(mut self, key: String) -> Write {
        self.keys.push(key);
        self
    }

    fn seed(mut self, seed: Seed) -> Write {
        self.seeds.push(seed);
        self
    }

    fn view(mut self, view: View) -> Write {
        self.view = view;
        self
    }

    fn args(mut self, arguments: Value) -> Write {
        self.arguments = arguments;
        self
    }

    fn deletes(mut self, identity: String) -> Write {
        self.deletes = Some(identity);
        self
    }
}

fn lock(overlay: &Mutex<Overlay>) -> MutexGuard<'_, Overlay> {
    overlay.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The error a change meets when the overlay cannot be built: a host bug, said so.
fn overlay_error(w: &Write, why: &str) -> CloudError {
    CloudError {
        service: w.service.to_owned(),
        operation: w.operation.to_owned(),
        code: "PlanOverlayInvalid".into(),
        message: format!(
            "the plan could not simulate this change: the state read so far does not load as a simulated cloud ({why}); \
             this is a scope-host bug, please report it"
        ),
        request_id: None,
        retryable: false,
    }
}

impl PlanCloud {
    /// A read of `keys`: from the overlay once the plan changed any of them, else
    /// from the real cloud (fingerprinted).
    async fn read<T, F, Fut>(&self, op: (&'static str, &'static str), keys: &[String], call: F) -> CloudResult<T>
    where
        T: Serialize,
        F: FnOnce(Cloud) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        self.routed(op, &keys[0], |written| keys.iter().any(|k| written.contains(k)), call)
            .await
    }

    /// [`PlanCloud::read`] for a listing: from the overlay once the plan changed
    /// anything whose key starts with `prefix`.
    async fn list<T, F, Fut>(&self, op: (&'static str, &'static str), prefix: &str, call: F) -> CloudResult<T>
    where
        T: Serialize,
        F: FnOnce(Cloud) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        self.routed(op, prefix, |written| written.iter().any(|k| k.starts_with(prefix)), call)
            .await
    }

    /// A read served by the overlay when `changed` says the plan changed what it
    /// reads, else by the real cloud and fingerprinted as `target`.
    async fn routed<T, F, Fut>(
        &self,
        op: (&'static str, &'static str),
        target: &str,
        changed: impl Fn(&BTreeSet<String>) -> bool,
        call: F,
    ) -> CloudResult<T>
    where
        T: Serialize,
        F: FnOnce(Cloud) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        let overlay = {
            let overlay = lock(&self.overlay);
            overlay.sim.clone().filter(|_| changed(&overlay.written))
        };
        match overlay {
            Some(sim) => call(Cloud::of(sim)).await,
            None => {
                let answer = call(self.real.clone()).await;
                self.plan.fingerprint(op, target, &answer);
                answer
            }
        }
    }

    /// Makes `call` on the overlay as the change `w`: seeds what it changes, brings
    /// the overlay up to date with what the run has read, and keeps the change.
    async fn write<T, F, Fut>(&self, ctx: &CallCtx, w: Write, call: F) -> CloudResult<T>
    where
        F: FnOnce(Cloud) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        let recorder = match &self.mode {
            Mode::Plan(recorder) => recorder,
            Mode::Apply(applying) => {
                let verdict = applying.lock().unwrap_or_else(PoisonError::into_inner).check(&w);
                return match verdict {
                    Ok(()) => {
                        let answer = call(self.real.clone()).await;
                        self.plan.lock().applied += 1;
                        answer
                    }
                    Err(why) => Err(CloudError {
                        service: w.service.to_owned(),
                        operation: w.operation.to_owned(),
                        code: NOT_IN_PLAN.into(),
                        message: format!("not sent: this change is not the plan's: {why}"),
                        request_id: None,
                        retryable: false,
                    }),
                };
            }
        };
        let todo: Vec<Seed> = {
            let mut overlay = lock(&self.overlay);
            w.seeds.iter().filter(|s| overlay.seeded.insert(s.id())).cloned().collect()
        };
        for seed in todo {
            let snippet = seed::read(&self.real, ctx, &seed).await;
            let mut overlay = lock(&self.overlay);
            let mut snippets = std::mem::take(&mut overlay.snippets);
            merge::absorb(&mut snippets, &snippet, &overlay.deleted);
            overlay.snippets = snippets;
        }
        let fixture = recorder.overlay_fixture();
        let (sim, dump) = {
            let mut overlay = lock(&self.overlay);
            match refresh(&mut overlay, fixture) {
                Ok(refreshed) => refreshed,
                Err(why) => return Err(overlay_error(&w, &why)),
            }
        };
        let before = keys::view(&dump, &w.view);
        let answer = call(Cloud::of(sim.clone())).await;
        let after = keys::view(&sim.dump_json(), &w.view);
        let outcome = match &answer {
            Ok(_) => {
                let mut overlay = lock(&self.overlay);
                overlay.written.extend(w.keys.iter().cloned());
                if let Some(identity) = &w.deletes {
                    overlay.deleted.insert(identity.clone());
                }
                "ok".to_owned()
            }
            Err(e) => e.code.clone(),
        };
        self.plan.push(PlannedChange {
            step: String::new(),
            service: w.service.to_owned(),
            operation: w.operation.to_owned(),
            resource: w.resource,
            arguments: w.arguments,
            outcome,
            changes: diff::changes(&before, &after),
        });
        answer
    }
}

fn digest(v: &Value) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(v.to_string().as_bytes()))
}

/// The overlay, (re)built with what the run read since it was last built, and its
/// state as dumped.
fn refresh(overlay: &mut Overlay, read: Fixture) -> Result<(Arc<SimCloud>, Value), String> {
    let read = serde_json::to_value(&read).map_err(|e| e.to_string())?;
    // Seeds win over the recorder's partial view of the same resource.
    let mut known = overlay.snippets.clone();
    merge::absorb(&mut known, &read, &overlay.deleted);
    merge::top_level(&mut known, &read);
    merge::unlimited_roles(&mut known);
    let current = match &overlay.sim {
        Some(sim) => {
            let dump = sim.dump_json();
            let mut merged = dump.clone();
            merge::absorb(&mut merged, &known, &overlay.deleted);
            if merged == dump {
                return Ok((sim.clone(), dump));
            }
            merged
        }
        None => known,
    };
    let text = current.to_string();
    let sim = Arc::new(SimCloud::from_fixture_json(&text).map_err(|e| e.to_string())?);
    sim.set_clock(0);
    overlay.sim = Some(sim.clone());
    Ok((sim.clone(), sim.dump_json()))
}
