//! The agent's durable state behind one trait: notifications (deduplicated), runs
//! (a state machine with attempts and a lease), the steps each run completed (so a
//! resumed run does not run them again) and the journal (redacted before it is
//! stored). SQLite by default ([`sqlite`]); the fleet's PostgreSQL backend keeps the
//! same schema and the same semantics.
//!
//! Every write a run's executor makes is fenced by its lease: it names the owner
//! that claimed the run, and a store that finds another owner (the run was taken
//! over) refuses it with [`StoreError::Fenced`].

#[doc(hidden)]
pub mod contract;
pub mod postgres;
pub mod schema;
pub mod sqlite;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// Ran out of attempts (crashes), or stopped by the agent's own shutdown.
    Interrupted,
    /// A plan (`?plan=true`) made: held until approved, then applied.
    Planned,
}

impl RunState {
    pub const ALL: [RunState; 7] = [
        RunState::Queued,
        RunState::Running,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Cancelled,
        RunState::Interrupted,
        RunState::Planned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
            RunState::Interrupted => "interrupted",
            RunState::Planned => "planned",
        }
    }

    pub fn parse(text: &str) -> Option<RunState> {
        RunState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the run is over (a planned run is not: it waits for approval).
    pub fn is_final(self) -> bool {
        !matches!(self, RunState::Queued | RunState::Running | RunState::Planned)
    }
}

/// A notification accepted, to be run.
#[derive(Clone, Debug)]
pub struct NewRun {
    pub id: String,
    pub dedupe_key: String,
    /// The scope it acts on: runs of one scope run one at a time, in arrival order.
    pub scope: Option<String>,
    pub family: String,
    pub workflow: String,
    /// The notification document (JSON). It may hold the context's secret
    /// parameters: the store never serves it, and forgets it when the run ends.
    pub notification: String,
    /// Refused with [`StoreError::QueueFull`] when this many runs wait already.
    pub max_queued: u64,
    /// Plan only: the run ends `planned`, holding its plan until approved.
    pub plan_only: bool,
}

/// What a claimed run does with the cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Reads and changes it.
    Run,
    /// Plans its changes and ends `planned`.
    Plan,
    /// Makes the changes of the plan it was approved with.
    Apply(serde_json::Value),
}

impl RunMode {
    /// From the `mode` and `plan` columns.
    pub fn of(mode: &str, plan: Option<String>) -> RunMode {
        match mode {
            "plan" => RunMode::Plan,
            "apply" => RunMode::Apply(plan.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_default()),
            _ => RunMode::Run,
        }
    }
}

/// What [`Store::approve`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApproveAnswer {
    /// Queued again, to apply its plan.
    Approved,
    NotPlanned(RunState),
    NotFound,
}

/// What [`Store::submit`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// A new run, queued.
    Created(String),
    /// The notification was received before: its run.
    Existing(String),
}

/// A step a run completed, as the runner reported it.
#[derive(Clone, Debug)]
pub struct DoneStep {
    pub path: String,
    /// The step's record (JSON of [`crate::workflow::runner::StepRecord`]).
    pub record: serde_json::Value,
}

/// A run handed to an executor.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    pub notification: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// What earlier attempts completed, in order.
    pub done: Vec<DoneStep>,
    /// The workflow identity an earlier attempt switched to (see
    /// [`crate::agent::executor`]), to restore on resume.
    pub identity: Option<serde_json::Value>,
    pub mode: RunMode,
}

/// A run as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunView {
    pub id: String,
    pub state: RunState,
    pub scope: Option<String>,
    pub family: String,
    pub workflow: String,
    pub attempts: u32,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// Why it failed, was cancelled or interrupted.
    pub reason: Option<String>,
    pub cancel_requested: bool,
    /// The steps the run completed or failed, with timings and outcomes.
    pub steps: Vec<serde_json::Value>,
    /// `run`, `plan` or `apply`.
    pub mode: String,
    /// A plan's changes (planned, or being applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
}

/// A plan's changes, as a run's view shows them, from its `plan` column.
pub fn plan_changes(plan: Option<String>) -> Option<serde_json::Value> {
    plan.and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .map(|p| p["changes"].clone())
}

/// Which runs to list.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub scope: Option<String>,
    pub state: Option<RunState>,
    pub limit: u32,
    /// Runs older than this one (the cursor a page ends with).
    pub before: Option<String>,
}

/// What [`Store::request_cancel`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelAnswer {
    /// It had not started: cancelled now.
    Cancelled,
    /// It is running: the executor stops it at its next host call.
    Requested,
    /// It was over already, in this state.
    AlreadyOver(RunState),
    NotFound,
}

/// Why the store said no.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The run belongs to another owner now (its lease expired and it was taken over).
    #[error("run {run}: the lease is held by {owner}, not this agent (the run was taken over)")]
    Fenced { run: String, owner: String },
    /// Too many runs are waiting.
    #[error("{queued} runs are queued, the limit is {limit}")]
    QueueFull { queued: u64, limit: u64 },
    /// The database's schema is not one this build can use.
    #[error("{0}")]
    Schema(String),
}

/// The agent's durable state. See the module's documentation.
#[async_trait]
pub trait Store: Send + Sync {
    /// Records a notification and queues its run, unless its dedupe key is known.
    async fn submit(&self, run: NewRun) -> Result<Submitted, StoreError>;

    /// Claims up to `limit` runs for `owner`, leased for `lease`: queued runs whose
    /// scope has no running run and no earlier queued run, oldest first; and
    /// running runs whose lease expired (to resume). Each claim counts an attempt.
    async fn claim(&self, owner: &str, lease: Duration, limit: u32) -> Result<Vec<Claimed>, StoreError>;

    /// Extends `owner`'s leases on `runs`; returns the runs it no longer holds and
    /// those asked to be cancelled.
    async fn heartbeat(&self, owner: &str, runs: &[String], lease: Duration) -> Result<Heartbeat, StoreError>;

    /// Records a step the run completed (or failed): fenced.
    async fn step_finished(&self, owner: &str, run: &str, step: DoneStep) -> Result<(), StoreError>;

    /// Records the workflow identity the run now uses: fenced.
    async fn set_identity(&self, owner: &str, run: &str, identity: &serde_json::Value) -> Result<(), StoreError>;

    /// Appends journal entries (already redacted) to the run's journal.
    async fn append_journal(&self, run: &str, entries: &[serde_json::Value]) -> Result<(), StoreError>;

    /// Ends the run in `state` with `reason`: fenced. The notification is forgotten.
    async fn finish(&self, owner: &str, run: &str, state: RunState, reason: Option<&str>) -> Result<(), StoreError>;
    /// Ends a plan `planned`, holding `plan` (and the notification) until approved;
    /// fenced like [`Store::finish`].
    async fn hold_planned(&self, owner: &str, run: &str, plan: &serde_json::Value) -> Result<(), StoreError>;
    /// A planned run queued again to apply its plan: its steps (the plan's) are
    /// forgotten, its journal goes on.
    async fn approve(&self, run: &str) -> Result<ApproveAnswer, StoreError>;

    /// Puts `owner`'s running runs back in the queue (a clean shutdown), the
    /// attempt not counted; returns how many.
    async fn release(&self, owner: &str, runs: &[String]) -> Result<u64, StoreError>;

    /// Asks for a run to be cancelled.
    async fn request_cancel(&self, run: &str) -> Result<CancelAnswer, StoreError>;

    /// Ends a run that ran out of attempts as interrupted (no owner needed).
    async fn interrupt(&self, run: &str, reason: &str) -> Result<(), StoreError>;

    async fn run(&self, id: &str) -> Result<Option<RunView>, StoreError>;
    async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunView>, StoreError>;

    /// Journal entries of a run after `after` (their sequence numbers), in order.
    async fn journal(&self, run: &str, after: i64, limit: u32) -> Result<Vec<(i64, serde_json::Value)>, StoreError>;

    /// How many runs are queued.
    async fn queued(&self) -> Result<u64, StoreError>;

    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Calls `wake` whenever work may have appeared that another process put there
    /// (a fleet's replicas share the store). A store only this process writes has
    /// nothing to say: the scheduler wakes itself.
    fn on_work(&self, wake: std::sync::Arc<dyn Fn() + Send + Sync>) {
        let _ = wake;
    }
}

/// What a heartbeat learnt.
#[derive(Clone, Debug, Default)]
pub struct Heartbeat {
    /// Runs this owner no longer holds.
    pub lost: Vec<String>,
    /// Runs asked to be cancelled.
    pub cancel: Vec<String>,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The file a `sqlite:PATH` (or `sqlite://PATH`) URL names.
pub fn sqlite_path(url: &str) -> Option<&std::path::Path> {
    let path = url.strip_prefix("sqlite:")?;
    Some(std::path::Path::new(path.strip_prefix("//").unwrap_or(path)))
}

/// Opens the store a `--database` URL names: `sqlite:PATH` (created if missing),
/// or `postgres://…` (a fleet's shared database) with `connections` at most.
pub async fn open(url: &str, connections: u32) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if let Some(path) = sqlite_path(url) {
        if path.as_os_str().is_empty() {
            return Err(StoreError::Schema("--database sqlite:PATH needs a file path".into()));
        }
        return Ok(std::sync::Arc::new(sqlite::SqliteStore::open(path).await?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(std::sync::Arc::new(postgres::PgStore::open(url, connections).await?));
    }
    // The URL is not echoed: it may hold a password.
    Err(StoreError::Schema(
        "--database: expected sqlite:PATH (one agent; e.g. sqlite:/var/lib/scope-host/agent.db) \
         or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (a fleet of agents sharing it)"
            .into(),
    ))
}
