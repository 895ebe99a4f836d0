//! The run record: every step, every cloud call, every denial and trap, as a stream
//! of typed events written as JSON lines.
//!
//! Entries are buffered and written at step boundaries (by a writer thread, just
//! after the boundary; and when the journal is flushed or dropped), redacted at
//! write time — so a value a step logged and only later returned as a secret
//! output is still masked in the record. Once written, an entry is dropped: a
//! journal keeps nothing for the life of the process unless asked to ([`Keep`]),
//! and what it keeps is typed events, redacted, for readers (the CLI's summary, the
//! recorder, scenarios, tests) that would otherwise re-parse JSON by string keys.

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
    /// A change a plan (`--plan`) made on its simulated overlay: it never reached
    /// the cloud.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub planned: bool,
}

impl CallOutcome {
    /// As the record writes it: `ok`, `denied`, `cloud_error`, `invalid_input`, `limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Denied => "denied",
            CallOutcome::CloudError => "cloud_error",
            CallOutcome::InvalidInput => "invalid_input",
            CallOutcome::Limit => "limit",
        }
    }
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
            planned: false,
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

/// An event as written: with the time it was recorded (milliseconds since the epoch).
#[derive(Clone, Debug, Serialize)]
pub struct Stamped {
    #[serde(flatten)]
    pub event: Event,
    pub ts_ms: u64,
}

/// What a journal keeps, once written, for readers in the process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: entries go to the file and are dropped (an agent's long life).
    #[default]
    Nothing,
    /// The call entries only (the CLI's summary and recordings; bounded per step by
    /// the step's call quota).
    Calls,
    /// Every entry (tests, scenarios).
    Everything,
}

impl Event {
    /// The event with every text field redacted: what the record may hold.
    pub fn redacted(&self, r: &Redactor) -> Event {
        let t = |s: &String| r.redact(s);
        let o = |s: &Option<String>| s.as_ref().map(|s| r.redact(s));
        match self {
            Event::RunStarted { run_id, backend, target } => Event::RunStarted {
                run_id: t(run_id),
                backend: t(backend),
                target: t(target),
            },
            Event::StepStarted { step, plugin, digest } => Event::StepStarted {
                step: t(step),
                plugin: t(plugin),
                digest: t(digest),
            },
            Event::Log { step, level, message } => Event::Log {
                step: t(step),
                level: t(level),
                message: t(message),
            },
            Event::Call(c) => Event::Call(CallRecord {
                step: t(&c.step),
                service: t(&c.service),
                operation: t(&c.operation),
                resource: t(&c.resource),
                identity: t(&c.identity),
                outcome: c.outcome,
                code: o(&c.code),
                message: o(&c.message),
                duration_us: c.duration_us,
                request_id: o(&c.request_id),
                session_policy: o(&c.session_policy),
                planned: c.planned,
            }),
            Event::Denied {
                step,
                action,
                resource,
                reason,
            } => Event::Denied {
                step: t(step),
                action: t(action),
                resource: t(resource),
                reason: t(reason),
            },
            Event::StepFinished {
                step,
                outcome,
                failure_kind,
                error,
                outputs,
                duration_us,
            } => Event::StepFinished {
                step: t(step),
                outcome: t(outcome),
                failure_kind: o(failure_kind),
                error: o(error),
                outputs: outputs.iter().map(t).collect(),
                duration_us: *duration_us,
            },
            Event::RunFinished { outcome, duration_us } => Event::RunFinished {
                outcome: t(outcome),
                duration_us: *duration_us,
            },
        }
    }

    /// The `event` tag as written (`call`, `step_finished` …).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::StepStarted { .. } => "step_started",
            Event::Log { .. } => "log",
            Event::Call(_) => "call",
            Event::Denied { .. } => "denied",
            Event::StepFinished { .. } => "step_finished",
            Event::RunFinished { .. } => "run_finished",
        }
    }

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

/// Where a journal's entries go, redacted, a batch at a time and in order: a JSON-lines
/// file, or an agent's store.
pub trait JournalSink: Send {
    /// Writes `batch` (and makes it durable as far as the sink can).
    fn write(&mut self, batch: &[Stamped]) -> std::io::Result<()>;
}

/// JSON lines in a file.
struct FileSink(BufWriter<File>);

impl JournalSink for FileSink {
    fn write(&mut self, batch: &[Stamped]) -> std::io::Result<()> {
        for stamped in batch {
            serde_json::to_writer(&mut self.0, stamped).map_err(std::io::Error::from)?;
            self.0.write_all(b"\n")?;
        }
        self.0.flush()
    }
}

/// What has been written. Whoever writes (the writer thread, a flush) holds it from
/// taking the pending events until they are on disk, so batches land in order.
#[derive(Default)]
struct Output {
    /// What is kept for readers (see [`Keep`]).
    kept: Vec<Stamped>,
    keep: Keep,
    sink: Option<Box<dyn JournalSink>>,
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
        Journal::to_file_keeping(path, redactor, Keep::Nothing)
    }

    /// [`Journal::to_file`], keeping what `keep` says for readers in the process.
    pub fn to_file_keeping(path: &Path, redactor: Redactor, keep: Keep) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
        Ok(Journal::writing_to(
            Some(path.to_owned()),
            Box::new(FileSink(BufWriter::new(file))),
            redactor,
            keep,
        ))
    }

    /// A journal whose entries go to `sink` (an agent's store), keeping what `keep`
    /// says for readers in the process.
    pub fn to_sink(sink: Box<dyn JournalSink>, redactor: Redactor, keep: Keep) -> Self {
        Journal::writing_to(None, sink, redactor, keep)
    }

    /// A journal written by a thread of its own to `sink`.
    fn writing_to(path: Option<PathBuf>, sink: Box<dyn JournalSink>, redactor: Redactor, keep: Keep) -> Self {
        let journal = Journal::new(path, redactor, Some(sink), false, keep);
        let shared = journal.shared.clone();
        let writer = std::thread::Builder::new()
            .name("scope-host-journal".into())
            .spawn(move || shared.write_when_due());
        if writer.is_err() {
            // No thread: boundaries are written by whoever records them.
            journal.shared.pending().closed = true;
        }
        journal
    }

    /// A journal kept in memory only, every entry kept (tests, scenarios, benches).
    pub fn in_memory(redactor: Redactor) -> Self {
        // Nothing to wait for: boundaries are turned into entries where they are recorded.
        Journal::new(None, redactor, None, true, Keep::Everything)
    }

    fn new(path: Option<PathBuf>, redactor: Redactor, sink: Option<Box<dyn JournalSink>>, closed: bool, keep: Keep) -> Self {
        Journal {
            path,
            shared: Arc::new(Shared {
                redactor,
                pending: Mutex::new(Pending {
                    closed,
                    ..Pending::default()
                }),
                output: Mutex::new(Output {
                    sink,
                    keep,
                    ..Output::default()
                }),
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

    /// The events kept so far (see [`Keep`]), redacted, typed (flushes first).
    pub fn events(&self) -> Vec<Stamped> {
        self.shared.write_out().kept.clone()
    }

    /// The call records kept so far, typed (flushes first).
    pub fn calls(&self) -> Vec<CallRecord> {
        let output = self.shared.write_out();
        output
            .kept
            .iter()
            .filter_map(|s| match &s.event {
                Event::Call(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    /// The kept events as the file has them (JSON), for tests and quick looks.
    pub fn entries(&self) -> Vec<serde_json::Value> {
        self.entries_where(|_| true)
    }

    /// The kept events of one `event` kind (`call`, `step_finished` …), as JSON.
    pub fn entries_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.entries_where(|e| e.kind() == kind)
    }

    fn entries_where(&self, keep: impl Fn(&Event) -> bool) -> Vec<serde_json::Value> {
        let output = self.shared.write_out();
        output
            .kept
            .iter()
            .filter(|s| keep(&s.event))
            .map(|s| serde_json::to_value(s).unwrap_or_default())
            .collect()
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
        let batch: Vec<Stamped> = events
            .into_iter()
            .map(|(event, ts_ms)| Stamped {
                event: event.redacted(&self.redactor),
                ts_ms,
            })
            .collect();
        if let Some(sink) = output_ref.sink.as_mut() {
            if let Err(e) = sink.write(&batch) {
                output_ref.write_error.get_or_insert_with(|| e.to_string());
            }
        }
        let keep = output_ref.keep;
        output_ref.kept.extend(batch.into_iter().filter(|stamped| match keep {
            Keep::Nothing => false,
            Keep::Calls => matches!(stamped.event, Event::Call(_)),
            Keep::Everything => true,
        }));
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
        let journal = Arc::new(Journal::to_file_keeping(&dir.path().join("j.jsonl"), Redactor::new(), Keep::Everything).unwrap());
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

    #[test]
    fn a_file_journal_writes_entries_and_keeps_none_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let journal = Journal::to_file(&path, Redactor::new()).unwrap();
        for i in 0..10_000 {
            journal.record(started(&format!("s{i}")));
            journal.record(log("s", "a line"));
        }
        journal.flush();
        assert!(journal.events().is_empty(), "nothing is kept for the life of the process");
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 20_000);
    }

    #[test]
    fn readers_get_typed_redacted_events() {
        let redactor = Redactor::new();
        let journal = Journal::in_memory(redactor.clone());
        redactor.add("s3cr3t-value");
        journal.record(log("s", "token s3cr3t-value"));
        journal.record(Event::Call(CallRecord {
            step: "s".into(),
            service: "lambda".into(),
            operation: "GetFunction".into(),
            resource: "arn:aws:lambda:us-east-1:1:function:f".into(),
            identity: "agent".into(),
            outcome: CallOutcome::Ok,
            code: None,
            message: None,
            duration_us: 5,
            request_id: None,
            session_policy: None,
            planned: false,
        }));
        let calls = journal.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!((calls[0].operation.as_str(), calls[0].outcome), ("GetFunction", CallOutcome::Ok));
        match &journal.events()[0].event {
            Event::Log { message, .. } => assert!(message.starts_with("token [REDACTED:"), "{message}"),
            other => panic!("{other:?}"),
        }
    }
}
