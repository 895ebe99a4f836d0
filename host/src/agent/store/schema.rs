//! The store's schema, as numbered migrations applied in order at start. The
//! database remembers the highest it has; a database from a newer build (a higher
//! number than this build knows) is refused, never altered.

/// The migrations, in order; the schema version is their count.
pub const MIGRATIONS: &[&str] = &[
    // 1: notifications, runs, the steps they completed, their journals.
    "CREATE TABLE notifications (
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
