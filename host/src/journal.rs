//! The run record: every step, every cloud call, every denial and trap, as JSON lines.
//!
//! Entries are buffered and written at step boundaries (and when the journal is
//! dropped), redacted at write time — so a value a step logged and only later
//! returned as a secret output is still masked in the record.

use crate::redact::Redactor;
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
    pending: Vec<serde_json::Value>,
    written: Vec<serde_json::Value>,
    file: Option<BufWriter<File>>,
    write_error: Option<String>,
}

/// A run's journal. Shared by every step of the run (`Arc<Journal>`).
pub struct Journal {
    path: Option<PathBuf>,
    redactor: Redactor,
    inner: Mutex<Inner>,
}

impl Journal {
    /// A journal that writes JSON lines to `path` (created with its parent folders).
    pub fn to_file(path: &Path, redactor: Redactor) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
        Ok(Journal {
            path: Some(path.to_owned()),
            redactor,
            inner: Mutex::new(Inner {
                file: Some(BufWriter::new(file)),
                ..Inner::default()
            }),
        })
    }

    /// A journal kept in memory only (tests, benches).
    pub fn in_memory(redactor: Redactor) -> Self {
        Journal {
            path: None,
            redactor,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Where the journal is written, if anywhere.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends an entry; writes the buffer out at step boundaries.
    pub fn record(&self, event: Event) {
        let boundary = event.is_boundary();
        let mut value =
            serde_json::to_value(&event).unwrap_or_else(|e| serde_json::json!({"event": "unserialisable", "error": e.to_string()}));
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("ts_ms".into(), serde_json::json!(now_ms()));
        }
        let mut inner = self.lock();
        inner.pending.push(value);
        if boundary {
            self.flush_locked(&mut inner);
        }
    }

    /// Writes every buffered entry out (redacted).
    pub fn flush(&self) {
        let mut inner = self.lock();
        self.flush_locked(&mut inner);
    }

    /// Every entry written so far, redacted (flushes first).
    pub fn entries(&self) -> Vec<serde_json::Value> {
        let mut inner = self.lock();
        self.flush_locked(&mut inner);
        inner.written.clone()
    }

    /// The first error met while writing the file, if any: the run goes on, the
    /// CLI reports it.
    pub fn write_error(&self) -> Option<String> {
        self.lock().write_error.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn flush_locked(&self, inner: &mut Inner) {
        let pending = std::mem::take(&mut inner.pending);
        for value in pending {
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
        self.flush();
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

    #[test]
    fn secrets_registered_after_logging_are_still_masked_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let redactor = Redactor::new();
        let journal = Journal::to_file(&path, redactor.clone()).unwrap();
        journal.record(Event::StepStarted {
            step: "s".into(),
            plugin: "p".into(),
            digest: "d".into(),
        });
        journal.record(Event::Log {
            step: "s".into(),
            level: "info".into(),
            message: "pw=topsecret".into(),
        });
        redactor.add("topsecret");
        journal.record(Event::StepFinished {
            step: "s".into(),
            outcome: "ok".into(),
            failure_kind: None,
            error: None,
            outputs: vec![],
            duration_us: 1,
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("topsecret"), "{text}");
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("[REDACTED]"));
    }
}
