//! The store in PostgreSQL, shared by a fleet of agent replicas.
//!
//! What the fleet's correctness rests on is the database, never a replica's memory:
//! - claims take runs with `FOR UPDATE SKIP LOCKED` (replicas claiming at once
//!   never wait for each other, nor hand out a run twice) and lease them to their
//!   owner until a time of the *database's* clock (replicas' clocks may differ);
//! - one running run per scope is a partial unique index (schema migration 2);
//!   a scope's submissions are serialised by an advisory lock, so a scope's runs
//!   are numbered in the order they were accepted;
//! - notifications are deduplicated by the primary key of their dedupe key;
//! - every write of a run's owner names the owner, and is refused (fenced) when
//!   the run's lease is another's;
//! - `NOTIFY` wakes idle replicas when work appears (a submission, a run ending or
//!   given back); a replica that missed it (its listening connection was lost)
//!   finds the work at its next poll.
//!
//! Unlike SQLite's single agent, opening the store leaves running runs alone:
//! other replicas hold them.

use super::{
    ApproveAnswer, CancelAnswer, Claimed, DoneStep, Heartbeat, NewRun, RunFilter, RunState, RunView, Store, StoreError, Submitted,
};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The channel replicas are woken on (a macro, to be part of the statements'
/// static text).
macro_rules! channel {
    () => {
        "scope_host_work"
    };
}

/// The database's clock, in milliseconds since the epoch: leases are compared
/// with one clock whichever replica writes them.
macro_rules! now {
    () => {
        "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
    };
}

/// The advisory-lock namespace of this store (the first key of the two-key form).
const LOCK_SPACE: i32 = 0x5c0e;

pub struct PgStore {
    pool: PgPool,
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// How many connections a replica opens at most.
pub fn pool_size(concurrency: u32) -> u32 {
    // One per run in hand for its steps and journal, one for the claims and the
    // heartbeat, one for the API, one held by the listener.
    concurrency.saturating_add(3)
}

impl PgStore {
    /// Connects, applies the migrations this build has (one replica at a time)
    /// and refuses a newer schema.
    pub async fn open(url: &str, connections: u32) -> Result<PgStore, StoreError> {
        let store = PgStore {
            pool: connect(url, connections).await?,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to read the fleet's runs or ask for a cancel (`scope-host runs`):
    /// no migration; a database of another schema version than this build's is
    /// refused.
    pub async fn open_client(url: &str) -> Result<PgStore, StoreError> {
        let pool = connect(url, 2).await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(&pool)
            .await
            .map_err(|e| StoreError::Schema(format!("the database is not a fleet's store (no agent has started on it?): {e}")))?;
        let found = found.unwrap_or(0);
        if found != super::schema::current() {
            return Err(StoreError::Schema(format!(
                "the database has schema version {found}; this scope-host reads version {}",
                super::schema::current()
            )));
        }
        Ok(PgStore { pool })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        // Replicas starting together migrate one after the other.
        sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind(LOCK_SPACE)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
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
            sqlx::raw_sql(migration.postgres).execute(&mut *tx).await.map_err(unavailable)?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    /// The error for a fenced write: who holds the run instead.
    async fn fenced(&self, run: &str) -> StoreError {
        let holder = sqlx::query("SELECT lease_owner, state FROM runs WHERE id = $1")
            .bind(run)
            .fetch_optional(&self.pool)
            .await;
        let owner = match holder {
            Ok(Some(row)) if row.get::<String, _>("state") == "running" => {
                row.get::<Option<String>, _>("lease_owner").unwrap_or_else(|| "nobody".into())
            }
            Ok(Some(row)) => format!("nobody (the run is {})", row.get::<String, _>("state")),
            Ok(None) => "nobody (no such run)".into(),
            Err(e) => return unavailable(e),
        };
        StoreError::Fenced { run: run.into(), owner }
    }

    /// Whether `owner` holds `run` now.
    async fn holds(&self, owner: &str, run: &str) -> Result<bool, StoreError> {
        let held: Option<i64> = sqlx::query_scalar("SELECT 1::BIGINT FROM runs WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
            .bind(run)
            .bind(owner)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(held.is_some())
    }

    fn view(row: &sqlx::postgres::PgRow, steps: Vec<serde_json::Value>) -> RunView {
        let state: String = row.get("state");
        RunView {
            id: row.get("id"),
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
            steps,
            mode: row.get("mode"),
            plan: super::plan_changes(row.get("plan")),
        }
    }

    /// The step records of `runs`, by run.
    async fn steps_of(&self, runs: &[String]) -> Result<std::collections::HashMap<String, Vec<(String, String)>>, StoreError> {
        let mut by_run: std::collections::HashMap<String, Vec<(String, String)>> = std::collections::HashMap::new();
        if runs.is_empty() {
            return Ok(by_run);
        }
        let rows = sqlx::query("SELECT run_id, path, record FROM steps WHERE run_id = ANY($1) ORDER BY run_id, seq")
            .bind(runs)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        for row in rows {
            by_run
                .entry(row.get("run_id"))
                .or_default()
                .push((row.get("path"), row.get("record")));
        }
        Ok(by_run)
    }

    async fn views(&self, rows: Vec<sqlx::postgres::PgRow>) -> Result<Vec<RunView>, StoreError> {
        let ids: Vec<String> = rows.iter().map(|r| r.get("id")).collect();
        let mut steps = self.steps_of(&ids).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let records = steps
                    .remove(&row.get::<String, _>("id"))
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(_, record)| serde_json::from_str(&record).ok())
                    .collect();
                Self::view(row, records)
            })
            .collect())
    }
}

async fn connect(url: &str, connections: u32) -> Result<PgPool, StoreError> {
    // The URL is never echoed: it may hold a password.
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::Schema(format!(
            "--database: not a PostgreSQL URL ({e}); expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        ))
    })?;
    PgPoolOptions::new()
        .max_connections(connections.max(3))
        // A call fails soon when the database is away, and the caller retries; a
        // pool that waited would hang the heartbeat and the API.
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.application_name("scope-host agent"))
        .await
        .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

#[async_trait]
impl Store for PgStore {
    async fn submit(&self, run: NewRun) -> Result<Submitted, StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        if let Some(scope) = &run.scope {
            // A scope's runs are numbered in the order their submissions commit.
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(LOCK_SPACE)
                .bind(scope)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        let inserted: Option<String> = sqlx::query_scalar(concat!(
            "INSERT INTO notifications (dedupe_key, run_id, received_ms) VALUES ($1, $2, ",
            now!(),
            ")
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING run_id"
        ))
        .bind(&run.dedupe_key)
        .bind(&run.id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?;
        if inserted.is_none() {
            // Known (perhaps to another replica a moment ago, whose insert this one waited for).
            let existing: String = sqlx::query_scalar("SELECT run_id FROM notifications WHERE dedupe_key = $1")
                .bind(&run.dedupe_key)
                .fetch_one(&mut *tx)
                .await
                .map_err(unavailable)?;
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
        sqlx::query(concat!(
            "WITH added AS (
                INSERT INTO runs (id, scope, family, workflow, notification, state, mode, created_ms)
                VALUES ($1, $2, $3, $4, $5, 'queued', $6, ",
            now!(),
            ") RETURNING id)
             SELECT pg_notify('",
            channel!(),
            "', id) FROM added"
        ))
        .bind(&run.id)
        .bind(&run.scope)
        .bind(&run.family)
        .bind(&run.workflow)
        .bind(&run.notification)
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
        // Expired leases first (their scope's turn is now), then the queue: a queued
        // run waits while its scope has a running run or an earlier queued one. Rows
        // another replica is claiming are skipped, not waited for.
        let claimed = sqlx::query(concat!(
            "WITH picked AS (
                SELECT r.id FROM runs r
                WHERE (r.state = 'running' AND r.lease_expires_ms < ",
            now!(),
            ")
                   OR (r.state = 'queued' AND (r.scope IS NULL OR NOT EXISTS (
                        SELECT 1 FROM runs o WHERE o.scope = r.scope
                          AND (o.state = 'running' OR (o.state = 'queued' AND o.seq < r.seq)))))
                ORDER BY (r.state = 'running') DESC, r.seq
                LIMIT $2
                FOR UPDATE OF r SKIP LOCKED)
             UPDATE runs SET state = 'running', attempts = runs.attempts + 1, lease_owner = $1,
                lease_expires_ms = ",
            now!(),
            " + $3, started_ms = COALESCE(runs.started_ms, ",
            now!(),
            ")
             FROM picked WHERE runs.id = picked.id
             RETURNING runs.id, runs.seq, runs.notification, runs.attempts, runs.identity, runs.mode, runs.plan,
                (SELECT COALESCE(json_agg(json_build_array(s.path, s.record) ORDER BY s.seq), '[]')::TEXT
                 FROM steps s WHERE s.run_id = runs.id) AS done"
        ))
        .bind(owner)
        .bind(i64::from(limit))
        .bind(millis(lease))
        .fetch_all(&self.pool)
        .await;
        let mut rows = match claimed {
            Ok(rows) => rows,
            // Another replica's run of the same scope started between this claim's
            // look and its update: the index refused the second; the next poll
            // finds what is free.
            Err(e) if is_unique_violation(&e) => return Ok(Vec::new()),
            Err(e) => return Err(unavailable(e)),
        };
        rows.sort_by_key(|r| r.get::<i64, _>("seq"));
        // What earlier attempts completed (a run taken over, or given back at a
        // shutdown), in the same round trip: `[[path, record], …]`.
        Ok(rows
            .into_iter()
            .map(|row| {
                let done: Vec<(String, String)> = serde_json::from_str(&row.get::<String, _>("done")).unwrap_or_default();
                Claimed {
                    id: row.get("id"),
                    notification: row.get::<Option<String>, _>("notification").unwrap_or_default(),
                    attempt: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(u32::MAX),
                    done: done
                        .into_iter()
                        .map(|(path, record)| DoneStep {
                            path,
                            record: serde_json::from_str(&record).unwrap_or_default(),
                        })
                        .collect(),
                    identity: row.get::<Option<String>, _>("identity").and_then(|t| serde_json::from_str(&t).ok()),
                    mode: super::RunMode::of(&row.get::<String, _>("mode"), row.get("plan")),
                }
            })
            .collect())
    }

    async fn heartbeat(&self, owner: &str, runs: &[String], lease: Duration) -> Result<Heartbeat, StoreError> {
        let rows = sqlx::query(concat!(
            "UPDATE runs SET lease_expires_ms = ",
            now!(),
            " + $3
             WHERE id = ANY($2) AND lease_owner = $1 AND state = 'running'
             RETURNING id, cancel_requested"
        ))
        .bind(owner)
        .bind(runs)
        .bind(millis(lease))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let held: std::collections::HashSet<String> = rows.iter().map(|r| r.get("id")).collect();
        Ok(Heartbeat {
            lost: runs.iter().filter(|r| !held.contains(*r)).cloned().collect(),
            cancel: rows
                .iter()
                .filter(|r| r.get::<i64, _>("cancel_requested") != 0)
                .map(|r| r.get("id"))
                .collect(),
        })
    }

    async fn step_finished(&self, owner: &str, run: &str, step: DoneStep) -> Result<(), StoreError> {
        // The run's row is locked while the step is added: a takeover waits for it,
        // or, having committed first, leaves nothing to add to. A record already
        // stored (a retry whose first try committed) is not added twice.
        let record = step.record.to_string();
        let added = sqlx::query(
            "WITH held AS (SELECT id FROM runs WHERE id = $2 AND lease_owner = $1 AND state = 'running' FOR SHARE)
             INSERT INTO steps (run_id, seq, path, record)
             SELECT held.id, COALESCE((SELECT MAX(seq) FROM steps WHERE run_id = $2), 0) + 1, $3, $4 FROM held
             WHERE NOT EXISTS (SELECT 1 FROM steps WHERE run_id = $2 AND path = $3 AND record = $4)",
        )
        .bind(owner)
        .bind(run)
        .bind(&step.path)
        .bind(&record)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if added.rows_affected() == 1 || self.holds(owner, run).await? {
            return Ok(());
        }
        Err(self.fenced(run).await)
    }

    async fn set_identity(&self, owner: &str, run: &str, identity: &serde_json::Value) -> Result<(), StoreError> {
        let set = sqlx::query("UPDATE runs SET identity = $3 WHERE id = $2 AND lease_owner = $1 AND state = 'running'")
            .bind(owner)
            .bind(run)
            .bind(identity.to_string())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        if set.rows_affected() == 1 {
            return Ok(());
        }
        Err(self.fenced(run).await)
    }

    async fn append_journal(&self, run: &str, entries: &[serde_json::Value]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let texts: Vec<String> = entries.iter().map(serde_json::Value::to_string).collect();
        // Numbered after the run's last entry; two writers of one run (a former
        // owner's late entries beside the new owner's) can collide on a number:
        // the loser numbers again.
        let mut tries = 0;
        loop {
            let appended = sqlx::query(
                "INSERT INTO journal (run_id, seq, entry)
                 SELECT $1, last.seq + e.n, e.entry
                 FROM (SELECT COALESCE(MAX(seq), 0) AS seq FROM journal WHERE run_id = $1) last,
                      unnest($2::TEXT[]) WITH ORDINALITY AS e(entry, n)",
            )
            .bind(run)
            .bind(&texts)
            .execute(&self.pool)
            .await;
            match appended {
                Ok(_) => return Ok(()),
                Err(e) if is_unique_violation(&e) && tries < 10 => tries += 1,
                Err(e) => return Err(unavailable(e)),
            }
        }
    }

    async fn finish(&self, owner: &str, run: &str, state: RunState, reason: Option<&str>) -> Result<(), StoreError> {
        let ended = sqlx::query(concat!(
            "WITH ended AS (
                UPDATE runs SET state = $3, reason = $4, finished_ms = ",
            now!(),
            ", lease_owner = NULL,
                    lease_expires_ms = NULL, notification = NULL
                WHERE id = $2 AND lease_owner = $1 AND state = 'running' RETURNING id)
             SELECT pg_notify('",
            channel!(),
            "', id) FROM ended"
        ))
        .bind(owner)
        .bind(run)
        .bind(state.as_str())
        .bind(reason)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        if ended.is_some() {
            return Ok(());
        }
        Err(self.fenced(run).await)
    }

    async fn hold_planned(&self, owner: &str, run: &str, plan: &serde_json::Value) -> Result<(), StoreError> {
        let held = sqlx::query(concat!(
            "UPDATE runs SET state = 'planned', plan = $3, reason = NULL, finished_ms = ",
            now!(),
            ", lease_owner = NULL, lease_expires_ms = NULL
             WHERE id = $2 AND lease_owner = $1 AND state = 'running' RETURNING id"
        ))
        .bind(owner)
        .bind(run)
        .bind(plan.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        if held.is_some() {
            return Ok(());
        }
        Err(self.fenced(run).await)
    }

    async fn approve(&self, run: &str) -> Result<ApproveAnswer, StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM runs WHERE id = $1 FOR UPDATE")
            .bind(run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        let answer = match state.as_deref().and_then(RunState::parse) {
            None => ApproveAnswer::NotFound,
            Some(RunState::Planned) => {
                sqlx::query(
                    "UPDATE runs SET state = 'queued', mode = 'apply', attempts = 0, identity = NULL, finished_ms = NULL
                     WHERE id = $1",
                )
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                sqlx::query("DELETE FROM steps WHERE run_id = $1")
                    .bind(run)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                sqlx::query(concat!("SELECT pg_notify('", channel!(), "', $1)"))
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
        let released = sqlx::query(concat!(
            "WITH back AS (
                UPDATE runs SET state = 'queued', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL,
                    lease_expires_ms = NULL
                WHERE id = ANY($2) AND lease_owner = $1 AND state = 'running' RETURNING id)
             SELECT pg_notify('",
            channel!(),
            "', id) FROM back"
        ))
        .bind(owner)
        .bind(runs)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(released.len() as u64)
    }

    async fn request_cancel(&self, run: &str) -> Result<CancelAnswer, StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM runs WHERE id = $1 FOR UPDATE")
            .bind(run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        let answer = match state.as_deref().and_then(RunState::parse) {
            None => CancelAnswer::NotFound,
            Some(RunState::Queued | RunState::Planned) => {
                sqlx::query(concat!(
                    "UPDATE runs SET state = 'cancelled', cancel_requested = 1, reason = 'cancelled before it started',
                     finished_ms = ",
                    now!(),
                    ", notification = NULL WHERE id = $1"
                ))
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                CancelAnswer::Cancelled
            }
            Some(RunState::Running) => {
                sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = $1")
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
        sqlx::query(concat!(
            "WITH ended AS (
                UPDATE runs SET state = 'interrupted', reason = $2, finished_ms = ",
            now!(),
            ", lease_owner = NULL,
                    lease_expires_ms = NULL, notification = NULL
                WHERE id = $1 AND state IN ('queued', 'running') RETURNING id)
             SELECT pg_notify('",
            channel!(),
            "', id) FROM ended"
        ))
        .bind(run)
        .bind(reason)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn run(&self, id: &str) -> Result<Option<RunView>, StoreError> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        match row {
            Some(row) => Ok(self.views(vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunView>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM runs
             WHERE ($1::TEXT IS NULL OR scope = $1) AND ($2::TEXT IS NULL OR state = $2)
               AND ($3::TEXT IS NULL OR seq < (SELECT seq FROM runs WHERE id = $3))
             ORDER BY seq DESC LIMIT $4",
        )
        .bind(&filter.scope)
        .bind(filter.state.map(RunState::as_str))
        .bind(&filter.before)
        .bind(i64::from(filter.limit.max(1)))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        self.views(rows).await
    }

    async fn journal(&self, run: &str, after: i64, limit: u32) -> Result<Vec<(i64, serde_json::Value)>, StoreError> {
        let rows = sqlx::query("SELECT seq, entry FROM journal WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
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

    fn on_work(&self, wake: Arc<dyn Fn() + Send + Sync>) {
        let pool = self.pool.clone();
        tokio::spawn(async move { listen(pool, wake).await });
    }
}

/// Calls `wake` for every notification on the work channel, for the store's life.
/// A lost connection is made again (the scheduler's poll covers what was missed
/// meanwhile, and `wake` is called once it is back, for the same reason).
async fn listen(pool: PgPool, wake: Arc<dyn Fn() + Send + Sync>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        if pool.is_closed() {
            return;
        }
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(channel!()).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "listening for work: the database did not answer; polling meanwhile");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        wake();
        while let Ok(Some(_)) = listener.try_recv().await {
            wake();
        }
        // The connection was lost: listen again on a new one.
    }
}
