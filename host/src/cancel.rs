//! Stopping a run from outside it: Ctrl-C or SIGTERM on the CLI, a cancel request
//! on the agent. A run holds one [`Cancel`]; once it is stopped, the running step
//! ends at its next host call or epoch tick (no call is cut off mid-flight, so the
//! record stays whole), waiters stop waiting, and no later step starts.

use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

/// Why a run was stopped from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (a service manager, Kubernetes ending a pod).
    Terminate,
    /// Asked to through an API (the agent's `cancel`).
    Cancel,
}

impl Stop {
    /// The run's outcome in the record: `interrupted` for a signal, `cancelled`
    /// for a request.
    pub fn outcome(self) -> &'static str {
        match self {
            Stop::Interrupt | Stop::Terminate => "interrupted",
            Stop::Cancel => "cancelled",
        }
    }

    /// What stopped it, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Stop::Interrupt => "interrupted (SIGINT)",
            Stop::Terminate => "interrupted (SIGTERM)",
            Stop::Cancel => "cancelled",
        }
    }
}

/// The trap that ends a step's guest once its run is stopped.
#[derive(Debug, thiserror::Error)]
#[error("the run was {}: the step was stopped", .0.describe())]
pub struct Stopped(pub Stop);

/// A run's stop switch, shared by everything in the run. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// The first reason given; later ones change nothing.
    stop: OnceLock<Stop>,
    woken: Notify,
    /// Let the running step finish, start no other (an agent shutting down).
    drain: std::sync::atomic::AtomicBool,
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the run for `why`; true the first time.
    pub fn stop(&self, why: Stop) -> bool {
        let first = self.0.stop.set(why).is_ok();
        self.0.woken.notify_waiters();
        first
    }

    /// Lets the running step finish and starts no other: the run ends at the next
    /// step boundary, to be resumed later (an agent shutting down gracefully).
    pub fn drain(&self) {
        self.0.drain.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether [`Cancel::drain`] was called.
    pub fn draining(&self) -> bool {
        self.0.drain.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Why the run was stopped, if it was.
    pub fn stopped(&self) -> Option<Stop> {
        self.0.stop.get().copied()
    }

    /// Returns once the run is stopped.
    pub async fn wait(&self) -> Stop {
        loop {
            // Registered before the check, so a stop in between is not missed.
            let woken = self.0.woken.notified();
            if let Some(why) = self.stopped() {
                return why;
            }
            woken.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_holds_and_waiters_wake() {
        let cancel = Cancel::new();
        assert_eq!(cancel.stopped(), None);
        let waiter = tokio::spawn({
            let cancel = cancel.clone();
            async move { cancel.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(cancel.stop(Stop::Interrupt));
        assert!(!cancel.stop(Stop::Cancel));
        assert_eq!(waiter.await.unwrap(), Stop::Interrupt);
        assert_eq!(cancel.stopped().map(Stop::outcome), Some("interrupted"));
        // Stopped already: waiting returns at once.
        assert_eq!(cancel.wait().await, Stop::Interrupt);
    }
}
