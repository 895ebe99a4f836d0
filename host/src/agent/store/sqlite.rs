//! The store in one SQLite file (WAL, synchronous FULL: a transaction that
//! returned survives the process being killed, and the machine losing power).
//!
//! One agent per file: the store holds an exclusive lock on `<file>.lock` for its
//! life, so a second agent on the same file is refused at start instead of racing
//! the first. Runs found `running` when the store opens were left by a process that
//! died: their leases are expired at once, and the first claim resumes them.

use super::{
    now_ms, ApproveAnswer, CancelAnswer, Claimed, DoneStep, Heartbeat, NewRun, RunFilter, RunState, RunView, Store, StoreError, Submitted,
};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
    /// Held for the store's life: the file's exclusive lock.
    _lock: std::fs::File,
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteStore {
    /// Opens (creating) the database at `path`, applies the migrations this build
    /// has, and refuses a newer schema.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(format!("creating the folder {}: {e}", dir.display())))?;
        }
        let lock = lock_exclusively(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", path.display())))?;
        let store = SqliteStore { pool, _lock: lock };
        store.migrate().await?;
        // Whoever ran these is gone (the file is ours alone): resume them first.
        sqlx::query("UPDATE runs SET lease_expires_ms = 0 WHERE state = 'running'")
            .execute(&store.pool)
            .await
            .map_err(unavailable)?;
        Ok(store)
    }

    /// Opens an agent's database to read it or ask for a cancel (`scope-host runs`),
    /// beside the agent that holds it: no lock, no migration; a database of
    /// another schema version than this build's is refused.
    pub async fn open_client(path: &Path) -> Result<SqliteStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Unavailable(format!(
                "{} does not exist: name the database the agent was started with (--database sqlite:PATH)",
                path.display()
            )));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", path.display())))?;
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(&pool)
            .await
            .map_err(|e| StoreError::Schema(format!("{} is not an agent's database: {e}", path.display())))?;
        let found = found.unwrap_or(0);
        if found != super::schema::current() {
            return Err(StoreError::Schema(format!(
                "{} has schema version {found}; this scope-host reads version {}",
                path.display(),
                super::schema::current()
            )));
        }
        // No lock of its own: a file handle that locks nothing.
        let lock = std::fs::File::open(path).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(SqliteStore { pool, _lock: lock })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
        let found = found.unwrap_or(0);
        if let Some(why) = super::schema::refuse(found) {
            return Err(StoreError::Schema(why));
        }
        for (i, migration) in super::schema::MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            sqlx::raw_sql(migration.sqlite).execute(&mut *tx).await.map_err(unavailable)?;
            sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
                .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    /// Fails with [`StoreError::Fenced`] unless `owner` holds `run`'s lease.
    async fn fence(tx: &mut sqlx::SqliteConnection, owner: &str, run: &str) -> Result<(), StoreError> {
        let holder: Option<Option<String>> = sqlx::query_scalar("SELECT lease_owner FROM runs WHERE id = ? AND state = 'running'")
            .bind(run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        match holder {
            Some(Some(h)) if h == owner => Ok(()),
            Some(Some(h)) => Err(StoreError::Fenced { run: run.into(), owner: h }),
            _ => Err(StoreError::Fenced {
                run: run.into(),
                owner: "nobody (the run is not running)".into(),
            }),
        }
    }

    async fn view(&self, row: &sqlx::sqlite::SqliteRow) -> Result<RunView, StoreError> {
        let id: String = row.get("id");
        let steps: Vec<String> = sqlx::query_scalar("SELECT record FROM steps WHERE run_id = ? ORDER BY seq")
            .bind(&id)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let state: String = row.get("state");
        Ok(RunView {
            state: RunState::parse(&state).unwrap_or(RunState::Failed),
            scope: row.get("scope"),
            family: row.get("family"),
            workflow: row.get("workflow"),
            attempts: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(0),
            created_ms: row.get("created_ms"),
            started_ms: row.get("started_ms"),
            finished_ms: row.get("finished_ms"),
            reason: row.get("reason"),
            cancel_requested: row.get::<i64, _>("cancel_requested") != 0,
            steps: steps.iter().filter_map(|s| serde_json::from_str(s).ok()).collect(),
            mode: row.get("mode"),
            plan: super::plan_changes(row.get("plan")),
            id,
        })
    }
}

/// An exclusive, non-blocking lock on `<db>.lock`.
fn lock_exclusively(db: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", path.display())))?;
    // SAFETY: flock on a descriptor this function owns; no memory is involved.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if locked != 0 {
        return Err(StoreError::Unavailable(format!(
            "{} is in use by another agent (it holds {}): one agent per SQLite file; a fleet shares PostgreSQL",
            db.display(),
            path.display()
        )));
    }
    Ok(file)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl Store for SqliteStore {
    async fn submit(&self, run: NewRun) -> Result<Submitted, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        let known: Option<String> = sqlx::query_scalar("SELECT run_id FROM notifications WHERE dedupe_key = ?")
            .bind(&run.dedupe_key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        if let Some(existing) = known {
            return Ok(Submitted::Existing(existing));
        }
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE state = 'queued'")
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
        let queued = u64::try_from(queued).unwrap_or(0);
        if queued >= run.max_queued {
            return Err(StoreError::QueueFull {
                queued,
                limit: run.max_queued,
            });
        }
        let now = now_ms();
        sqlx::query("INSERT INTO notifications (dedupe_key, run_id, received_ms) VALUES (?, ?, ?)")
            .bind(&run.dedupe_key)
            .bind(&run.id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query(
            "INSERT INTO runs (id, scope, family, workflow, notification, state, created_ms, mode) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
        )
        .bind(&run.id)
        .bind(&run.scope)
        .bind(&run.family)
        .bind(&run.workflow)
        .bind(&run.notification)
        .bind(now)
        .bind(if run.plan_only { "plan" } else { "run" })
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(Submitted::Created(run.id))
    }

    async fn claim(&self, owner: &str, lease: Duration, limit: u32) -> Result<Vec<Claimed>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        // Read once the write lock is held: a run that ended while this claim
        // waited for the lock has ended before this time.
        let now = now_ms();
        // Expired leases first (their scope's turn is now), then the queue: a queued
        // run waits while its scope has a running run or an earlier queued one.
        let rows = sqlx::query(
            "SELECT id, notification, attempts, identity, mode, plan FROM runs r
             WHERE (r.state = 'running' AND r.lease_expires_ms < ?1)
                OR (r.state = 'queued' AND (r.scope IS NULL OR NOT EXISTS (
                    SELECT 1 FROM runs o WHERE o.scope = r.scope
                      AND (o.state = 'running' OR (o.state = 'queued' AND o.seq < r.seq)))))
             ORDER BY (r.state = 'running') DESC, r.seq
             LIMIT ?2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
        let mut claimed = Vec::new();
        for row in rows {
            let id: String = row.get("id");
            let attempt = u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(0).saturating_add(1);
            sqlx::query(
                "UPDATE runs SET state = 'running', attempts = ?, lease_owner = ?, lease_expires_ms = ?,
                 started_ms = COALESCE(started_ms, ?) WHERE id = ?",
            )
            .bind(i64::from(attempt))
            .bind(owner)
            .bind(now.saturating_add(millis(lease)))
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
            let done = sqlx::query("SELECT path, record FROM steps WHERE run_id = ? ORDER BY seq")
                .bind(&id)
                .fetch_all(&mut *tx)
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(|r| DoneStep {
                    path: r.get("path"),
                    record: serde_json::from_str(&r.get::<String, _>("record")).unwrap_or_default(),
                })
                .collect();
            claimed.push(Claimed {
                notification: row.get::<Option<String>, _>("notification").unwrap_or_default(),
                attempt,
                done,
                identity: row.get::<Option<String>, _>("identity").and_then(|t| serde_json::from_str(&t).ok()),
                mode: super::RunMode::of(&row.get::<String, _>("mode"), row.get("plan")),
                id,
            });
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(claimed)
    }

    async fn heartbeat(&self, owner: &str, runs: &[String], lease: Duration) -> Result<Heartbeat, StoreError> {
        let mut out = Heartbeat::default();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        let expires = now_ms().saturating_add(millis(lease));
        for run in runs {
            let row = sqlx::query("SELECT lease_owner, state, cancel_requested FROM runs WHERE id = ?")
                .bind(run)
                .fetch_optional(&mut *tx)
                .await
                .map_err(unavailable)?;
            let held = row.as_ref().is_some_and(|r| {
                r.get::<Option<String>, _>("lease_owner").as_deref() == Some(owner) && r.get::<String, _>("state") == "running"
            });
            if !held {
                out.lost.push(run.clone());
                continue;
            }
            if row.is_some_and(|r| r.get::<i64, _>("cancel_requested") != 0) {
                out.cancel.push(run.clone());
            }
            sqlx::query("UPDATE runs SET lease_expires_ms = ? WHERE id = ?")
                .bind(expires)
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(out)
    }

    async fn step_finished(&self, owner: &str, run: &str, step: DoneStep) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        Self::fence(&mut tx, owner, run).await?;
        sqlx::query("INSERT INTO steps (run_id, seq, path, record) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE run_id = ?), ?, ?)")
            .bind(run)
            .bind(run)
            .bind(&step.path)
            .bind(step.record.to_string())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn set_identity(&self, owner: &str, run: &str, identity: &serde_json::Value) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        Self::fence(&mut tx, owner, run).await?;
        sqlx::query("UPDATE runs SET identity = ? WHERE id = ?")
            .bind(identity.to_string())
            .bind(run)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn append_journal(&self, run: &str, entries: &[serde_json::Value]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM journal WHERE run_id = ?")
            .bind(run)
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
        for (i, entry) in entries.iter().enumerate() {
            sqlx::query("INSERT INTO journal (run_id, seq, entry) VALUES (?, ?, ?)")
                .bind(run)
                .bind(last.saturating_add(i64::try_from(i).unwrap_or(i64::MAX)).saturating_add(1))
                .bind(entry.to_string())
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn finish(&self, owner: &str, run: &str, state: RunState, reason: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        Self::fence(&mut tx, owner, run).await?;
        sqlx::query(
            "UPDATE runs SET state = ?, reason = ?, finished_ms = ?, lease_owner = NULL, lease_expires_ms = NULL,
             notification = NULL WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(reason)
        .bind(now_ms())
        .bind(run)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn hold_planned(&self, owner: &str, run: &str, plan: &serde_json::Value) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        Self::fence(&mut tx, owner, run).await?;
        sqlx::query(
            "UPDATE runs SET state = 'planned', plan = ?, reason = NULL, finished_ms = ?, lease_owner = NULL, lease_expires_ms = NULL
             WHERE id = ?",
        )
        .bind(plan.to_string())
        .bind(now_ms())
        .bind(run)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn approve(&self, run: &str) -> Result<ApproveAnswer, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM runs WHERE id = ?")
            .bind(run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        let answer = match state.as_deref().and_then(RunState::parse) {
            None => ApproveAnswer::NotFound,
            Some(RunState::Planned) => {
                sqlx::query(
                    "UPDATE runs SET state = 'queued', mode = 'apply', attempts = 0, identity = NULL, finished_ms = NULL
                     WHERE id = ?",
                )
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                sqlx::query("DELETE FROM steps WHERE run_id = ?")
                    .bind(run)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                ApproveAnswer::Approved
            }
            Some(other) => ApproveAnswer::NotPlanned(other),
        };
        tx.commit().await.map_err(unavailable)?;
        Ok(answer)
    }

    async fn release(&self, owner: &str, runs: &[String]) -> Result<u64, StoreError> {
        let mut released = 0;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        for run in runs {
            let done = sqlx::query(
                "UPDATE runs SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires_ms = NULL
                 WHERE id = ? AND lease_owner = ? AND state = 'running'",
            )
            .bind(run)
            .bind(owner)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
            released += done.rows_affected();
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(released)
    }

    async fn request_cancel(&self, run: &str) -> Result<CancelAnswer, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM runs WHERE id = ?")
            .bind(run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        let answer = match state.as_deref().and_then(RunState::parse) {
            None => CancelAnswer::NotFound,
            Some(RunState::Queued | RunState::Planned) => {
                sqlx::query(
                    "UPDATE runs SET state = 'cancelled', cancel_requested = 1, reason = 'cancelled before it started',
                     finished_ms = ?, notification = NULL WHERE id = ?",
                )
                .bind(now_ms())
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                CancelAnswer::Cancelled
            }
            Some(RunState::Running) => {
                sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = ?")
                    .bind(run)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                CancelAnswer::Requested
            }
            Some(over) => CancelAnswer::AlreadyOver(over),
        };
        tx.commit().await.map_err(unavailable)?;
        Ok(answer)
    }

    async fn interrupt(&self, run: &str, reason: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET state = 'interrupted', reason = ?, finished_ms = ?, lease_owner = NULL, lease_expires_ms = NULL,
             notification = NULL WHERE id = ? AND state IN ('queued', 'running')",
        )
        .bind(reason)
        .bind(now_ms())
        .bind(run)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn run(&self, id: &str) -> Result<Option<RunView>, StoreError> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        match row {
            Some(row) => Ok(Some(self.view(&row).await?)),
            None => Ok(None),
        }
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunView>, StoreError> {
        let before: Option<i64> = match &filter.before {
            Some(id) => sqlx::query_scalar("SELECT seq FROM runs WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?,
            None => None,
        };
        let rows = sqlx::query(
            "SELECT * FROM runs WHERE (?1 IS NULL OR scope = ?1) AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR seq < ?3)
             ORDER BY seq DESC LIMIT ?4",
        )
        .bind(&filter.scope)
        .bind(filter.state.map(RunState::as_str))
        .bind(before)
        .bind(i64::from(filter.limit.max(1)))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.view(row).await?);
        }
        Ok(out)
    }

    async fn journal(&self, run: &str, after: i64, limit: u32) -> Result<Vec<(i64, serde_json::Value)>, StoreError> {
        let rows = sqlx::query("SELECT seq, entry FROM journal WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(run)
            .bind(after)
            .bind(i64::from(limit.max(1)))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let entry: String = r.get("entry");
                (r.get("seq"), serde_json::from_str(&entry).unwrap_or_default())
            })
            .collect())
    }

    async fn queued(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE state = 'queued'")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(unavailable)?;
        Ok(())
    }
}
