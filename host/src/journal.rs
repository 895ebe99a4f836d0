//! The run record: every step, every cloud call, every denial and trap, as JSON lines.
//!
//! Entries are buffered and written at step boundaries (by a writer thread, just
//! after the boundary; and when the journal is flushed or dropped), redacted at
//! write time — so a value a step logged and only later returned as a secret
//! output is still masked in the record.

use crate::redact::Redactor;
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// How a capability call ended.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The cloud answered with success.
    Ok,
    /// The host refused the call (no grant); nothing was sent.
    Denied,
    /// The cloud answered with an error.
    CloudError,
    /// The arguments were malformed; nothing was sent.
    InvalidInput,
    /// A host limit stopped the call.
    Limit,
}

/// One capability call, as recorded.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CallRecord {
    pub step: String,
    pub service: String,
    pub operation: String,
    pub resource: String,
    pub identity: String,
    pub outcome: CallOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub duration_us: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The inline session policy an AssumeRole carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<String>,
}

impl CallRecord {
    /// The record of a call the cloud answered (or refused): outcome, error code,
    /// message and request id taken from the answer.
    pub fn answered<T>(
        step: &str,
        (service, operation): (&str, &str),
        resource: &str,
        identity: &str,
        answer: &crate::cloud::CloudResult<T>,
        duration_us: u64,
    ) -> CallRecord {
        let (outcome, code, message, request_id) = match answer {
            Ok(reply) => (CallOutcome::Ok, None, None, reply.request_id.clone()),
            Err(e) => (
                CallOutcome::CloudError,
                Some(e.code.clone()),
                Some(e.message.clone()),
                e.request_id.clone(),
            ),
        };
        CallRecord {
            step: step.to_owned(),
            service: service.to_owned(),
            operation: operation.to_owned(),
            resource: resource.to_owned(),
            identity: identity.to_owned(),
            outcome,
            code,
            message,
            duration_us,
            request_id,
            session_policy: None,
        }
    }
}

/// One journal entry.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run_id: String,
        backend: String,
        target: String,
    },
    StepStarted {
        step: String,
        plugin: String,
        digest: String,
    },
    Log {
        step: String,
        level: String,
        message: String,
    },
    Call(CallRecord),
    Denied {
        step: String,
        action: String,
        resource: String,
        reason: String,
    },
    StepFinished {
        step: String,
        outcome: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        failure_kind: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        outputs: Vec<String>,
        duration_us: u64,
    },
    RunFinished {
        outcome: String,
        duration_us: u64,
    },
}

impl Event {
    /// Entries after which the buffer is written out.
    fn is_boundary(&self) -> bool {
        matches!(
            self,
            Event::StepStarted { .. } | Event::StepFinished { .. } | Event::RunFinished { .. } | Event::RunStarted { .. }
        )
    }
}

#[derive(Default)]
struct Inner {
    /// Recorded, not yet written: the event and when it was recorded.
    pending: Vec<(Event, u64)>,
    written: Vec<serde_json::Value>,
    file: Option<BufWriter<File>>,
    write_error: Option<String>,
    /// A boundary was recorded since the writer last wrote.
    due: bool,
    /// The journal was dropped: the writer ends.
    closed: bool,
}

/// What the journal and its writer thread share.
struct Shared {
    redactor: Redactor,
    inner: Mutex<Inner>,
    /// Wakes the writer when a boundary is recorded.
    wake: Condvar,
}

/// A run's journal. Shared by every step of the run (`Arc<Journal>`).
///
/// A file journal is written by a thread of its own, woken at each boundary, so a
/// step does not wait for the disk (or the redaction and serialisation of what it
/// recorded) before the next one starts; [`Journal::flush`], [`Journal::entries`]
/// and dropping the journal write everything recorded so far before they return.
pub struct Journal {
    path: Option<PathBuf>,
    shared: Arc<Shared>,
}

impl Journal {
    /// A journal that writes JSON lines to `path` (created with its parent folders).
    pub fn to_file(path: &Path, redactor: Redactor) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
        let journal = Journal::new(
            Some(path.to_owned()),
            redactor,
            Inner {
                file: Some(BufWriter::new(file)),
                ..Inner::default()
            },
        );
        let shared = journal.shared.clone();
        let writer = std::thread::Builder::new()
            .name("scope-host-journal".into())
            .spawn(move || shared.write_when_due());
        if writer.is_err() {
            // No thread: boundaries are written by whoever records them.
            journal.shared.lock().closed = true;
        }
        Ok(journal)
    }

    /// A journal kept in memory only (tests, benches).
    pub fn in_memory(redactor: Redactor) -> Self {
        // Nothing to wait for: boundaries are turned into entries where they are recorded.
        Journal::new(
            None,
            redactor,
            Inner {
                closed: true,
                ..Inner::default()
            },
        )
    }

    fn new(path: Option<PathBuf>, redactor: Redactor, inner: Inner) -> Self {
        Journal {
            path,
            shared: Arc::new(Shared {
                redactor,
                inner: Mutex::new(inner),
                wake: Condvar::new(),
            }),
        }
    }

    /// Where the journal is written, if anywhere.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends an entry; the buffer is written out at step boundaries.
    pub fn record(&self, event: Event) {
        let boundary = event.is_boundary();
        let mut inner = self.shared.lock();
        inner.pending.push((event, now_ms()));
        if boundary {
            if inner.closed {
                self.shared.write_locked(&mut inner);
            } else {
                inner.due = true;
                self.shared.wake.notify_one();
            }
        }
    }

    /// Writes every buffered entry out (redacted).
    pub fn flush(&self) {
        let mut inner = self.shared.lock();
        self.shared.write_locked(&mut inner);
    }

    /// Every entry written so far, redacted (flushes first).
    pub fn entries(&self) -> Vec<serde_json::Value> {
        self.entries_where(|_| true)
    }

    /// The entries of one `event` kind (`call`, `step_finished` …), flushing first.
    pub fn entries_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.entries_where(|e| e["event"] == kind)
    }

    fn entries_where(&self, keep: impl Fn(&serde_json::Value) -> bool) -> Vec<serde_json::Value> {
        let mut inner = self.shared.lock();
        self.shared.write_locked(&mut inner);
        inner.written.iter().filter(|e| keep(e)).cloned().collect()
    }

    /// The first error met while writing the file, if any: the run goes on, the
    /// CLI reports it.
    pub fn write_error(&self) -> Option<String> {
        self.shared.lock().write_error.clone()
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer thread: writes whenever a boundary is due, until the journal closes.
    fn write_when_due(&self) {
        let mut inner = self.lock();
        loop {
            while !inner.due && !inner.closed {
                inner = self.wake.wait(inner).unwrap_or_else(|e| e.into_inner());
            }
            if inner.closed {
                return;
            }
            self.write_locked(&mut inner);
        }
    }

    /// Redacts (with every secret known by now), serialises and writes what is pending.
    fn write_locked(&self, inner: &mut Inner) {
        inner.due = false;
        let pending = std::mem::take(&mut inner.pending);
        for (event, ts_ms) in pending {
            let mut value =
                serde_json::to_value(&event).unwrap_or_else(|e| serde_json::json!({"event": "unserialisable", "error": e.to_string()}));
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("ts_ms".into(), serde_json::json!(ts_ms));
            }
            let value = self.redactor.redact_json(&value);
            if let Some(file) = inner.file.as_mut() {
                let res = serde_json::to_writer(&mut *file, &value)
                    .map_err(std::io::Error::from)
                    .and_then(|_| file.write_all(b"\n"));
                if let Err(e) = res {
                    inner.write_error.get_or_insert_with(|| e.to_string());
                }
            }
            inner.written.push(value);
        }
        if let Some(file) = inner.file.as_mut() {
            if let Err(e) = file.flush() {
                inner.write_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        self.shared.write_locked(&mut inner);
        inner.closed = true;
        self.shared.wake.notify_one();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A fresh run id: time-ordered and unique per process.
pub fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    format!("run-{}-{}-{}", now_ms(), std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(step: &str) -> Event {
        Event::StepStarted {
            step: step.into(),
            plugin: "p".into(),
            digest: "d".into(),
        }
    }

    fn log(step: &str, message: &str) -> Event {
        Event::Log {
            step: step.into(),
            level: "info".into(),
            message: message.into(),
        }
    }

    #[test]
    fn secrets_registered_after_logging_are_still_masked_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let redactor = Redactor::new();
        let journal = Journal::to_file(&path, redactor.clone()).unwrap();
        journal.record(started("s"));
        journal.record(log("s", "pw=topsecret"));
        redactor.add("topsecret");
        journal.record(Event::StepFinished {
            step: "s".into(),
            outcome: "ok".into(),
            failure_kind: None,
            error: None,
            outputs: vec![],
            duration_us: 1,
        });
        journal.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("topsecret"), "{text}");
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("[REDACTED]"));
    }

    #[test]
    fn a_boundary_reaches_the_file_without_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let journal = Journal::to_file(&path, Redactor::new()).unwrap();
        journal.record(log("s", "before the step"));
        journal.record(started("s"));
        // The writer thread writes it while the run goes on; a crash after this
        // point still leaves both entries on disk.
        let mut lines = 0;
        for _ in 0..500 {
            lines = std::fs::read_to_string(&path).unwrap().lines().count();
            if lines == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(lines, 2, "the boundary and what came before it are written");
        drop(journal);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }
}
