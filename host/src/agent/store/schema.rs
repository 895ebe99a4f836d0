//! The store's schema, as numbered migrations applied in order at start. The
//! database remembers the highest it has; a database from a newer build (a higher
//! number than this build knows) is refused, never altered.
//!
//! Each migration is written once per backend: the same tables, columns, keys and
//! indexes, in each database's dialect (PostgreSQL's integers are 64-bit `BIGINT`
//! where SQLite's `INTEGER` already is; its sequence is `BIGSERIAL`).

/// One step of the schema, in each backend's dialect.
pub struct Migration {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// The migrations, in order; the schema version is their count.
pub const MIGRATIONS: &[Migration] = &[
    // 1: notifications, runs, the steps they completed, their journals.
    Migration {
        sqlite: "CREATE TABLE notifications (
            dedupe_key TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            received_ms INTEGER NOT NULL
        );
        CREATE TABLE runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            scope TEXT,
            family TEXT NOT NULL,
            workflow TEXT NOT NULL,
            notification TEXT,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_ms INTEGER,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            identity TEXT,
            reason TEXT,
            created_ms INTEGER NOT NULL,
            started_ms INTEGER,
            finished_ms INTEGER
        );
        CREATE INDEX runs_by_state ON runs (state, seq);
        CREATE INDEX runs_by_scope ON runs (scope, state, seq);
        CREATE TABLE steps (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            path TEXT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE journal (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            entry TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        );",
        postgres: "CREATE TABLE notifications (
            dedupe_key TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            received_ms BIGINT NOT NULL
        );
        CREATE TABLE runs (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            scope TEXT,
            family TEXT NOT NULL,
            workflow TEXT NOT NULL,
            notification TEXT,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_ms BIGINT,
            cancel_requested BIGINT NOT NULL DEFAULT 0,
            identity TEXT,
            reason TEXT,
            created_ms BIGINT NOT NULL,
            started_ms BIGINT,
            finished_ms BIGINT
        );
        CREATE INDEX runs_by_state ON runs (state, seq);
        CREATE INDEX runs_by_scope ON runs (scope, state, seq);
        CREATE TABLE steps (
            run_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            path TEXT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE journal (
            run_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            entry TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        );",
    },
    // 2: at most one running run per scope, whoever claims it: the database refuses
    // a second (a fleet's replicas claim concurrently; their memory proves nothing).
    Migration {
        sqlite: "CREATE UNIQUE INDEX one_running_run_per_scope ON runs (scope) WHERE state = 'running';",
        postgres: "CREATE UNIQUE INDEX one_running_run_per_scope ON runs (scope) WHERE state = 'running';",
    },
    // 3: plans (`POST /v1/notifications?plan=true`): what a run does (`run`, `plan`,
    // `apply`), and the plan a planned run holds until it is approved.
    Migration {
        sqlite: "ALTER TABLE runs ADD COLUMN mode TEXT NOT NULL DEFAULT 'run';
        ALTER TABLE runs ADD COLUMN plan TEXT;",
        postgres: "ALTER TABLE runs ADD COLUMN mode TEXT NOT NULL DEFAULT 'run';
        ALTER TABLE runs ADD COLUMN plan TEXT;",
    },
];

/// The schema version this build writes.
pub fn current() -> i64 {
    MIGRATIONS.len() as i64
}

/// Why a database's version cannot be used, if it cannot.
pub fn refuse(found: i64) -> Option<String> {
    (found > current()).then(|| {
        format!(
            "the database has schema version {found}, newer than this scope-host knows ({}): it was used by a newer build. \
             Run that build, or give this one a database of its own; nothing was changed",
            current()
        )
    })
}
