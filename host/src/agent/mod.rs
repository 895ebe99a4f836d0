//! `scope-host agent`: a long-running service that takes the platform's
//! notifications over HTTP and runs them durably (a store that survives the
//! process), concurrently (up to a limit, one run per scope at a time, in arrival
//! order) and observably (runs, steps and journals through the API). Each run goes
//! through the same dispatch, run builder and runner as `handle`
//! ([`executor`]); what the agent adds is the store ([`store`]), the scheduler
//! ([`scheduler`]) and the API ([`api`]).

pub mod api;
pub mod auth;
pub mod client;
pub mod executor;
pub mod metrics;
pub mod scheduler;
pub mod store;

use crate::caps::sessions::Sessions;
use crate::caps::{LogLevel, LogSink};
use crate::cloud::{Cloud, Identity};
use crate::engine::Runtime;
use crate::grants::Policy;
use crate::platform::PlatformApi;
use crate::providers::ProviderStore;
use crate::redact::Redactor;
use crate::sandbox::Limits;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use store::Store;

/// What a run is made of that an operator configures (and may reload).
#[derive(Clone)]
pub struct Settings {
    /// The service folder (deployment/, scope/, log/, metric/, instance/).
    pub service: PathBuf,
    pub overrides: Vec<PathBuf>,
    pub values: Vec<PathBuf>,
    pub plugins: Vec<PathBuf>,
    pub policy: Policy,
    /// What the journal says about the policy when none was given.
    pub policy_note: Option<String>,
    pub providers: ProviderStore,
    pub region: Option<String>,
    pub limits: Limits,
    /// `--var`s.
    pub vars: BTreeMap<String, String>,
    /// The platform's CLI (`--platform np`), else the simulated platform.
    pub np: Option<PathBuf>,
}

impl Settings {
    /// The platform a run reports to.
    pub fn platform(&self, redactor: &Redactor) -> Arc<dyn PlatformApi> {
        crate::platform::choose(self.np.as_deref(), redactor)
    }
}

/// What every run of the agent shares.
pub struct Shared {
    pub runtime: Arc<Runtime>,
    pub cloud: Cloud,
    /// The agent's own identity, asked of the cloud at start.
    pub agent: Identity,
    /// Role sessions, reused between runs.
    pub sessions: Arc<Sessions>,
    pub store: Arc<dyn Store>,
    /// This agent's name as a lease owner (host, process, a random part).
    pub owner: String,
    pub lease: Duration,
    pub max_attempts: u32,
    pub metrics: Arc<metrics::Metrics>,
    /// The store answered the last request of the agent's (readiness).
    pub store_ok: std::sync::atomic::AtomicBool,
    settings: RwLock<Arc<Settings>>,
}

impl Shared {
    pub fn new(
        runtime: Arc<Runtime>,
        cloud: Cloud,
        agent: Identity,
        store: Arc<dyn Store>,
        settings: Settings,
        lease: Duration,
        max_attempts: u32,
    ) -> Shared {
        Shared {
            runtime,
            cloud,
            agent,
            sessions: Arc::new(Sessions::default()),
            store,
            owner: owner_name(),
            lease,
            max_attempts,
            metrics: Arc::new(metrics::Metrics::new()),
            store_ok: std::sync::atomic::AtomicBool::new(true),
            settings: RwLock::new(Arc::new(settings)),
        }
    }

    /// The settings a run starting now uses.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Notes whether the store answered the agent's last request (readiness).
    pub fn store_answered(&self, ok: bool) {
        self.store_ok.store(ok, std::sync::atomic::Ordering::Relaxed);
    }

    /// Replaces the settings for runs that start from now on.
    pub fn replace_settings(&self, settings: Settings) {
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(settings);
    }
}

/// `<host>-<pid>-<random>`: unique among the agents sharing a store.
fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "agent".into());
    let mut random = [0u8; 4];
    let _ = getrandom::getrandom(&mut random);
    format!("{host}-{}-{}", std::process::id(), hex::encode(random))
}

/// A run's live log lines, as the agent's own log (tracing), tagged with the run.
struct TracingSink {
    run: String,
}

impl LogSink for TracingSink {
    fn line(&self, step: &str, level: LogLevel, message: &str) {
        let message = crate::terminal::printable(message);
        match level {
            LogLevel::Error => tracing::error!(run = %self.run, step, "{message}"),
            LogLevel::Warn => tracing::warn!(run = %self.run, step, "{message}"),
            LogLevel::Info => tracing::info!(run = %self.run, step, "{message}"),
            _ => tracing::debug!(run = %self.run, step, "{message}"),
        }
    }
}
