//! A throwaway PostgreSQL server for a test (scripts/postgres: the machine's
//! server binaries, a cluster under the target directory, a free loopback port),
//! removed when dropped. Each test starts its own: a server restarted by one test
//! disturbs no other.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Postgres {
    dir: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT`, without a database.
    base: String,
    options: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres")
}

fn postgres(command: &str, dir: &std::path::Path, options: &str) -> String {
    let out = Command::new(script())
        .args([command])
        .arg(dir)
        .env("PG_SERVER_OPTIONS", options)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/postgres {command} {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Postgres {
    /// Starts a server of its own for this test.
    pub fn start() -> Postgres {
        Self::start_with("")
    }

    /// [`Postgres::start`] with server options (`-c name=value …`).
    pub fn start_with(options: &str) -> Postgres {
        static N: AtomicU32 = AtomicU32::new(0);
        // Under the target directory, not a 0700 temporary one: as root the server
        // runs as `postgres`, which must reach its folder.
        let dir = crate::target_dir()
            .join("postgres-tests")
            .join(format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        let url = postgres("start", &dir, options);
        let base = url.strip_suffix("/postgres").unwrap_or(&url).to_owned();
        Postgres {
            dir,
            base,
            options: options.to_owned(),
        }
    }

    /// A new, empty database on the server: its URL.
    pub fn database(&self, name: &str) -> String {
        let (host, port) = self.base.trim_start_matches("postgres://postgres@").split_once(':').unwrap();
        let createdb = std::path::Path::new(&pg_bin()).join("createdb");
        let out = Command::new(createdb)
            .args(["-h", host, "-p", port, "-U", "postgres", name])
            .output()
            .unwrap();
        assert!(out.status.success(), "createdb {name}: {}", String::from_utf8_lossy(&out.stderr));
        format!("{}/{name}", self.base)
    }

    /// Stops the server (fast shutdown: every session is cut), keeping its data.
    pub fn pause(&self) {
        postgres("pause", &self.dir, "");
    }

    /// Starts the paused server again, on the same port.
    pub fn resume(&self) {
        postgres("resume", &self.dir, &self.options);
    }
}

/// One server for the whole test process (the agent's single-process tests on
/// PostgreSQL), stopped by a watchdog once the process is gone: a static is
/// never dropped.
pub fn shared() -> &'static Postgres {
    static SHARED: std::sync::OnceLock<Postgres> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| {
        let pg = Postgres::start();
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; exec {script} stop {dir}",
            pid = std::process::id(),
            script = script().display(),
            dir = pg.dir.display()
        );
        // Not waited for: it outlives this process by design, and init reaps it.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &watchdog])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting the PostgreSQL watchdog");
        pg
    })
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).output();
    }
}

/// `psql URL -c SQL` (unaligned, tuples only): whether it succeeded, its output
/// and its errors.
pub fn psql(url: &str, sql: &str) -> (bool, String, String) {
    let out = Command::new(std::path::Path::new(&pg_bin()).join("psql"))
        .args([url, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The folder of the machine's PostgreSQL binaries (as scripts/postgres finds it).
fn pg_bin() -> String {
    if let Ok(bin) = std::env::var("PG_BIN") {
        return bin;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.last()
        .map(|d| d.display().to_string())
        .expect("no PostgreSQL server binaries under /usr/lib/postgresql (scripts/postgres says how to get them)")
}
