//! Claims runs from the store and runs up to `concurrency` of them at once: woken
//! when a notification arrives or a run ends, and every poll interval in any case
//! (so a lease that expired, or a notification another agent took in, is seen). A
//! heartbeat extends the leases of the runs in hand, and learns of cancellations
//! asked through the store and of runs lost to another owner.
//!
//! Which run may start is the store's decision (one run per scope at a time, in
//! arrival order): the scheduler never holds a queue of its own, so nothing it has
//! acknowledged is only in its memory.

use super::store::RunState;
use super::Shared;
use crate::cancel::{Cancel, Stop};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub struct Scheduler {
    shared: Arc<Shared>,
    concurrency: u32,
    /// How often the store is asked for work when nothing wakes the scheduler.
    poll: Duration,
    /// The runs in hand and their stop switches.
    running: Mutex<HashMap<String, Cancel>>,
    wake: Notify,
    /// No new work is claimed (shutting down).
    draining: AtomicBool,
}

impl Scheduler {
    pub fn new(shared: Arc<Shared>, concurrency: u32, poll: Duration) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            shared,
            concurrency: concurrency.max(1),
            poll: poll.max(Duration::from_millis(10)),
            running: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            draining: AtomicBool::new(false),
        })
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Looks for work now (a notification was stored).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// How many runs are in hand.
    pub fn in_hand(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store answered the last request of the agent's.
    pub fn store_ok(&self) -> bool {
        self.shared.store_ok.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cancel>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops a run in hand (its running step ends at its next host call); false
    /// when this agent does not hold it.
    pub fn cancel(&self, run: &str) -> bool {
        match self.lock().get(run) {
            Some(cancel) => {
                cancel.stop(Stop::Cancel);
                true
            }
            None => false,
        }
    }

    /// Starts the claim loop and the heartbeat on the current runtime, and asks the
    /// store to wake the scheduler when another process adds work.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        self.shared.store.on_work(Arc::new(move || me.wake()));
        let me = self.clone();
        tokio::spawn(async move { me.claim_loop().await });
        let me = self.clone();
        tokio::spawn(async move { me.heartbeat_loop().await });
    }

    /// Whether the agent is shutting down.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Shuts down: no new work; each run in hand finishes its running step and goes
    /// back to the queue; after `grace` (or when `hurry` resolves: a second signal)
    /// the steps still running are stopped at their next host call and those runs
    /// go back too. Returns once no run is in hand (or a last few seconds passed).
    pub async fn shutdown(&self, grace: Duration, hurry: impl std::future::Future<Output = ()>) {
        self.draining.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        let in_hand: Vec<Cancel> = self.lock().values().cloned().collect();
        tracing::warn!(runs = in_hand.len(), grace = ?grace, "shutting down: no new work; running steps may finish");
        for cancel in &in_hand {
            cancel.drain();
        }
        tokio::select! {
            _ = self.none_in_hand() => return,
            _ = tokio::time::sleep(grace) => tracing::warn!("the shutdown grace ran out: stopping the running steps"),
            _ = hurry => tracing::warn!("a second signal: stopping the running steps"),
        }
        for cancel in self.lock().values() {
            cancel.stop(Stop::Terminate);
        }
        if tokio::time::timeout(Duration::from_secs(5), self.none_in_hand()).await.is_err() {
            tracing::error!(
                runs = self.in_hand(),
                "runs still in hand at exit: their leases expire and the next start resumes them"
            );
        }
    }

    /// Returns once no run is in hand.
    async fn none_in_hand(&self) {
        while self.in_hand() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn claim_loop(self: Arc<Self>) {
        loop {
            if self.draining.load(Ordering::SeqCst) {
                return;
            }
            let free = self.concurrency.saturating_sub(u32::try_from(self.in_hand()).unwrap_or(u32::MAX));
            if free > 0 {
                match self.shared.store.claim(&self.shared.owner, self.shared.lease, free).await {
                    Ok(claimed) => {
                        self.shared.store_answered(true);
                        for run in claimed {
                            self.spawn(run);
                        }
                    }
                    Err(e) => {
                        self.shared.store_answered(false);
                        tracing::warn!(error = %e, "claiming work: the store did not answer; trying again");
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    fn spawn(self: &Arc<Self>, claimed: super::store::Claimed) {
        let cancel = Cancel::new();
        let id = claimed.id.clone();
        self.lock().insert(id.clone(), cancel.clone());
        tracing::info!(run = %id, attempt = claimed.attempt, "run started");
        let me = self.clone();
        tokio::spawn(async move {
            let ended = super::executor::execute(me.shared.clone(), claimed, cancel).await;
            me.lock().remove(&id);
            match ended {
                Some(state) => tracing::info!(run = %id, state = state.as_str(), "run ended"),
                None => tracing::warn!(run = %id, "run given up (taken over, or its end could not be stored)"),
            }
            if ended == Some(RunState::Queued) {
                tracing::warn!(run = %id, "given back to the queue by the shutdown");
            }
            me.wake.notify_one();
        });
    }

    async fn heartbeat_loop(self: Arc<Self>) {
        let every = (self.shared.lease / 3).max(Duration::from_millis(100));
        // After a failed heartbeat, soon again: the leases run out meanwhile, and
        // the database back means other replicas may take over what they see expired.
        let again = every.min(Duration::from_millis(250));
        let mut wait = every;
        loop {
            tokio::time::sleep(wait).await;
            wait = every;
            let runs: Vec<String> = self.lock().keys().cloned().collect();
            if runs.is_empty() {
                if self.draining.load(Ordering::SeqCst) {
                    return;
                }
                continue;
            }
            match self.shared.store.heartbeat(&self.shared.owner, &runs, self.shared.lease).await {
                Ok(beat) => {
                    self.shared.store_answered(true);
                    let running = self.lock();
                    for run in &beat.cancel {
                        if let Some(c) = running.get(run) {
                            c.stop(Stop::Cancel);
                        }
                    }
                    for run in &beat.lost {
                        if let Some(c) = running.get(run) {
                            tracing::warn!(run = %run, "the lease was lost: stopping the run here");
                            c.stop(Stop::Cancel);
                        }
                    }
                }
                Err(e) => {
                    self.shared.store_answered(false);
                    tracing::warn!(error = %e, "heartbeat: the store did not answer; the runs go on");
                    wait = again;
                }
            }
        }
    }
}
