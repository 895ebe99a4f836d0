//! `log`: the step's log lines, capped, redacted, shown live and journaled.

use super::view::CapsCtx;
use super::StepHost;
use crate::bindings::log::{Host, Level};
use crate::journal::Event;

/// Importance of a line (mirrors the contract's `level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// Where live log lines go. Lines arrive already redacted.
pub trait LogSink: Send + Sync {
    fn line(&self, step: &str, level: LogLevel, message: &str);

    /// A line of the action's live output (the platform shows it as the action
    /// runs): printed as it is, where a log line is prefixed.
    fn live(&self, step: &str, line: &str) {
        self.line(step, LogLevel::Info, line);
    }
}

/// A sink that drops every line (benches, quiet runs).
pub struct NullSink;

impl LogSink for NullSink {
    fn line(&self, _: &str, _: LogLevel, _: &str) {}
}

impl StepHost {
    /// Writes one line from the step (or from the host about the step), under the
    /// log cap: past it, lines are counted and dropped.
    pub fn log(&mut self, level: LogLevel, message: &str) {
        if let Some(message) = self.show(level, message) {
            self.record(Event::Log {
                step: self.step.clone(),
                level: level.as_str().into(),
                message,
            });
        }
    }

    /// Shows one line live (redacted, cut to the line cap) under the step's log cap
    /// without recording it (the caller records what it stands for); the line as
    /// shown, or `None` when it was dropped past the cap.
    pub(crate) fn show(&mut self, level: LogLevel, message: &str) -> Option<String> {
        let message = self.admit_line(message)?;
        self.env.sink.line(&self.step, level, &message);
        Some(message)
    }

    /// A line of the action's live output, under the same cap as log lines and
    /// recorded as a log entry of level `live`.
    pub fn live(&mut self, line: &str) {
        if let Some(line) = self.admit_line(line) {
            self.env.sink.live(&self.step, &line);
            self.record(Event::Log {
                step: self.step.clone(),
                level: "live".into(),
                message: line,
            });
        }
    }

    /// A line redacted and cut to the line cap, counted against the step's log
    /// cap; `None` past the cap (counted as dropped).
    fn admit_line(&mut self, message: &str) -> Option<String> {
        let mut message = self.env.redactor.redact(message);
        if message.len() > self.limits.log_line_bytes {
            let mut cut = self.limits.log_line_bytes;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" …[line cut]");
        }
        if self.log_bytes + message.len() > self.limits.log_bytes {
            self.log_dropped += 1;
            return None;
        }
        self.log_bytes += message.len();
        Some(message)
    }
}

impl Host for CapsCtx<'_> {
    async fn write(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.host.log(level, &message);
        Ok(())
    }
}
