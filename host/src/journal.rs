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
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
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
    /// About how many bytes the entry takes in the record (its text fields and a
    /// fixed share for the rest): what a step's record quota counts.
    pub fn approximate_size(&self) -> usize {
        const FIXED: usize = 96;
        let texts: usize = match self {
            Event::RunStarted { run_id, backend, target } => run_id.len() + backend.len() + target.len(),
            Event::StepStarted { step, plugin, digest } => step.len() + plugin.len() + digest.len(),
            Event::Log { step, level, message } => step.len() + level.len() + message.len(),
            Event::Call(c) => {
                c.step.len()
                    + c.service.len()
                    + c.operation.len()
                    + c.resource.len()
                    + c.identity.len()
                    + c.code.as_ref().map_or(0, String::len)
                    + c.message.as_ref().map_or(0, String::len)
                    + c.request_id.as_ref().map_or(0, String::len)
                    + c.session_policy.as_ref().map_or(0, String::len)
            }
            Event::Denied {
                step,
                action,
                resource,
                reason,
            } => step.len() + action.len() + resource.len() + reason.len(),
            Event::StepFinished { step, error, outputs, .. } => {
                step.len() + error.as_ref().map_or(0, String::len) + outputs.iter().map(String::len).sum::<usize>()
            }
            Event::RunFinished { outcome, .. } => outcome.len(),
        };
        FIXED + texts
    }

    /// Entries after which the buffer is written out.
    fn is_boundary(&self) -> bool {
        matches!(
            self,
            Event::StepStarted { .. } | Event::StepFinished { .. } | Event::RunFinished { .. } | Event::RunStarted { .. }
        )
    }
}

/// Recorded, not yet written. Recording takes only this lock, and only to push, so a
/// step never waits while a batch is serialised, redacted and written.
#[derive(Default)]
struct Pending {
    /// The event and when it was recorded.
    events: Vec<(Event, u64)>,
    /// A boundary was recorded since the writer last took the events.
    due: bool,
    /// No writer thread (in memory, or it could not start) or the journal was
    /// dropped: boundaries are written by whoever records them.
    closed: bool,
}

/// What has been written. Whoever writes (the writer thread, a flush) holds it from
/// taking the pending events until they are on disk, so batches land in order.
#[derive(Default)]
struct Output {
    written: Vec<serde_json::Value>,
    file: Option<BufWriter<File>>,
    write_error: Option<String>,
}

/// What the journal and its writer thread share. Locks are taken output first,
/// then pending, never the other way.
struct Shared {
    redactor: Redactor,
    pending: Mutex<Pending>,
    output: Mutex<Output>,
    /// Wakes the writer when a boundary is recorded (paired with `pending`).
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
        let journal = Journal::new(Some(path.to_owned()), redactor, Some(BufWriter::new(file)), false);
        let shared = journal.shared.clone();
        let writer = std::thread::Builder::new()
            .name("scope-host-journal".into())
            .spawn(move || shared.write_when_due());
        if writer.is_err() {
            // No thread: boundaries are written by whoever records them.
            journal.shared.pending().closed = true;
        }
        Ok(journal)
    }

    /// A journal kept in memory only (tests, benches).
    pub fn in_memory(redactor: Redactor) -> Self {
        // Nothing to wait for: boundaries are turned into entries where they are recorded.
        Journal::new(None, redactor, None, true)
    }

    fn new(path: Option<PathBuf>, redactor: Redactor, file: Option<BufWriter<File>>, closed: bool) -> Self {
        Journal {
            path,
            shared: Arc::new(Shared {
                redactor,
                pending: Mutex::new(Pending {
                    closed,
                    ..Pending::default()
                }),
                output: Mutex::new(Output { file, ..Output::default() }),
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
        let mut pending = self.shared.pending();
        pending.events.push((event, now_ms()));
        if boundary {
            if pending.closed {
                drop(pending);
                drop(self.shared.write_out());
            } else {
                pending.due = true;
                self.shared.wake.notify_one();
            }
        }
    }

    /// Writes every buffered entry out (redacted).
    pub fn flush(&self) {
        drop(self.shared.write_out());
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
        let output = self.shared.write_out();
        output.written.iter().filter(|e| keep(e)).cloned().collect()
    }

    /// The first error met while writing the file, if any: the run goes on, the
    /// CLI reports it.
    pub fn write_error(&self) -> Option<String> {
        self.shared.output().write_error.clone()
    }
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn output(&self) -> MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer thread: writes whenever a boundary is due, until the journal closes.
    fn write_when_due(&self) {
        loop {
            {
                let mut pending = self.pending();
                while !pending.due && !pending.closed {
                    pending = self.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
                }
                if pending.closed {
                    return;
                }
            }
            drop(self.write_out());
        }
    }

    /// Takes what is pending and redacts (with every secret known by now),
    /// serialises and writes it; returns the output, still held.
    fn write_out(&self) -> MutexGuard<'_, Output> {
        let mut output = self.output();
        let events = {
            let mut pending = self.pending();
            pending.due = false;
            std::mem::take(&mut pending.events)
        };
        if events.is_empty() {
            return output;
        }
        let output_ref = &mut *output;
        for (event, ts_ms) in events {
            let mut value =
                serde_json::to_value(&event).unwrap_or_else(|e| serde_json::json!({"event": "unserialisable", "error": e.to_string()}));
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("ts_ms".into(), serde_json::json!(ts_ms));
            }
            let value = self.redactor.redact_json(&value);
            if let Some(file) = output_ref.file.as_mut() {
                let res = serde_json::to_writer(&mut *file, &value)
                    .map_err(std::io::Error::from)
                    .and_then(|_| file.write_all(b"\n"));
                if let Err(e) = res {
                    output_ref.write_error.get_or_insert_with(|| e.to_string());
                }
            }
            output_ref.written.push(value);
        }
        if let Some(file) = output_ref.file.as_mut() {
            if let Err(e) = file.flush() {
                output_ref.write_error.get_or_insert_with(|| e.to_string());
            }
        }
        output
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Nobody records any more: the writer thread ends, and what is left is written here.
        self.shared.pending().closed = true;
        self.shared.wake.notify_one();
        drop(self.shared.write_out());
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
        assert!(text.contains("[REDACTED:"));
    }

    #[test]
    fn recording_does_not_wait_for_a_write_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::to_file(&dir.path().join("j.jsonl"), Redactor::new()).unwrap());
        // A writer in the middle of a slow batch (a busy disk, a long redaction).
        let writing = journal.shared.output();
        let (done, recorded) = std::sync::mpsc::channel();
        let recorder = journal.clone();
        std::thread::spawn(move || {
            recorder.record(started("s"));
            recorder.record(log("s", "meanwhile"));
            done.send(()).unwrap();
        });
        assert!(
            recorded.recv_timeout(std::time::Duration::from_secs(10)).is_ok(),
            "a step recording an entry waited for the writer"
        );
        drop(writing);
        assert_eq!(journal.entries().len(), 2, "both entries are written once the writer is free");
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
