//! What one step may use: memory, time, output, log, identity handles, and its
//! quotas of cloud calls, refusals, secrets and run record. Shared by the sandbox
//! (which enforces memory and time) and the capabilities (which enforce the rest).

use std::time::Duration;

/// The limits of one step. `Default` gives the documented defaults.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Total linear memory of the step's instance (all memories together). 256 MiB.
    pub memory_bytes: usize,
    /// Wall-clock deadline of the step, host calls included. 15 minutes.
    pub deadline: Duration,
    /// Bytes of stdout and of stderr kept each; the rest is dropped and counted. 1 MiB.
    pub stdio_bytes: usize,
    /// Bytes of log lines (via the `log` interface) kept; the rest is dropped and counted. 1 MiB.
    pub log_bytes: usize,
    /// Size of one log line; longer lines are cut. 16 KiB.
    pub log_line_bytes: usize,
    /// Total bytes of a step's outputs (names and values). 1 MiB.
    pub output_bytes: usize,
    /// Number of outputs. 256.
    pub outputs: usize,
    /// Live identity handles at once. 64.
    pub handles: usize,
    /// Cloud calls sent (waiter polls and role sessions included). 10 000.
    pub calls: u32,
    /// Calls refused before they were sent (denied or malformed). 1 000.
    pub denials: u32,
    /// Secret values registered (written to Secrets Manager). 1 000.
    pub secrets: u32,
    /// Bytes the step adds to the run record (calls, denials, log lines). 16 MiB.
    pub journal_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            deadline: Duration::from_secs(15 * 60),
            stdio_bytes: 1 << 20,
            log_bytes: 1 << 20,
            log_line_bytes: 16 << 10,
            output_bytes: 1 << 20,
            outputs: 256,
            handles: 64,
            calls: 10_000,
            denials: 1_000,
            secrets: 1_000,
            journal_bytes: 16 << 20,
        }
    }
}
