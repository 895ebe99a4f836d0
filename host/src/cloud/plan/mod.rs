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
//! versions and policy, a role with its policies, a hosted zone, an API …), then
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

pub use diff::FieldChange;
pub use report::{document, render, FORMAT};

use super::record::{self, Inputs, Recorder};
use super::sim::fixture::Fixture;
use super::sim::SimCloud;
use super::*;
use keys::View;
use seed::Seed;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
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
}

/// A [`Cloud`] that reads from another and plans every change on an overlay.
pub struct PlanCloud {
    /// The real cloud, behind the recorder.
    real: Cloud,
    recorder: Recorder,
    overlay: Mutex<Overlay>,
    plan: Plan,
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
    let plan = Plan::default();
    let cloud = PlanCloud {
        real,
        recorder,
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
    /// The cloud a read of `keys` goes to: the overlay once the plan changed any of
    /// them, else the real one.
    fn reader(&self, keys: &[String]) -> Cloud {
        let overlay = lock(&self.overlay);
        match &overlay.sim {
            Some(sim) if keys.iter().any(|k| overlay.written.contains(k)) => Cloud::of(sim.clone()),
            _ => self.real.clone(),
        }
    }

    /// [`PlanCloud::reader`] for a listing: the overlay once the plan changed
    /// anything whose key starts with `prefix`.
    fn lister(&self, prefix: &str) -> Cloud {
        let overlay = lock(&self.overlay);
        match &overlay.sim {
            Some(sim) if overlay.written.iter().any(|k| k.starts_with(prefix)) => Cloud::of(sim.clone()),
            _ => self.real.clone(),
        }
    }

    /// Makes `call` on the overlay as the change `w`: seeds what it changes, brings
    /// the overlay up to date with what the run has read, and keeps the change.
    async fn write<T, F, Fut>(&self, ctx: &CallCtx, w: Write, call: F) -> CloudResult<T>
    where
        F: FnOnce(Cloud) -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
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
        let fixture = self.recorder.overlay_fixture();
        let sim = {
            let mut overlay = lock(&self.overlay);
            match refresh(&mut overlay, fixture) {
                Ok(sim) => sim,
                Err(why) => return Err(overlay_error(&w, &why)),
            }
        };
        let before = keys::view(&sim.dump_json(), &w.view);
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

/// The overlay, (re)built with what the run read since it was last built.
fn refresh(overlay: &mut Overlay, read: Fixture) -> Result<Arc<SimCloud>, String> {
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
                return Ok(sim.clone());
            }
            merged
        }
        None => known,
    };
    let text = current.to_string();
    let sim = Arc::new(SimCloud::from_fixture_json(&text).map_err(|e| e.to_string())?);
    overlay.sim = Some(sim.clone());
    Ok(sim)
}
