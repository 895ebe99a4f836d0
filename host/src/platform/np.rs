//! The platform through its `np` CLI, as the incumbent scope calls it (the same
//! commands and arguments). The CLI finds the platform's API key in the host's
//! environment (`NP_API_KEY`, set by the platform's agent); nothing a step passes
//! becomes anything but a JSON body or a namespace, and the key is never an
//! argument.

use super::{error, CheckReport, PlatformApi};
use crate::cloud::{CloudResult, Reply};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt as _;

/// How long one `np` command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of a command's output read.
const OUTPUT_LIMIT: u64 = 1 << 20;

/// The `np` CLI at `program` (a path, or a name looked up on PATH).
pub struct NpCli {
    program: PathBuf,
}

impl NpCli {
    pub fn new(program: impl Into<PathBuf>) -> NpCli {
        NpCli { program: program.into() }
    }

    /// Runs `np args…`; its stdout when it exits 0.
    async fn run(&self, operation: &str, args: &[&str]) -> CloudResult<String> {
        let mut child = tokio::process::Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                error(
                    operation,
                    "PlatformCliUnavailable",
                    format!(
                        "cannot run the platform CLI `{}`: {e} (install it, or give its path with --np)",
                        self.program.display()
                    ),
                )
            })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(error(operation, "PlatformCliFailed", "the platform CLI's output could not be read"));
        };
        let read = async {
            let mut out = String::new();
            let mut err = String::new();
            let (mut stdout, mut stderr) = (stdout.take(OUTPUT_LIMIT), stderr.take(OUTPUT_LIMIT));
            let (a, b) = tokio::join!(stdout.read_to_string(&mut out), stderr.read_to_string(&mut err));
            let status = child.wait().await;
            (a.and(b).and(status), out, err)
        };
        let (status, out, err) = tokio::time::timeout(COMMAND_TIMEOUT, read).await.map_err(|_| {
            error(
                operation,
                "PlatformCliTimeout",
                format!("`np {}` did not finish within {} s", args[..2].join(" "), COMMAND_TIMEOUT.as_secs()),
            )
        })?;
        let status = status.map_err(|e| error(operation, "PlatformCliFailed", format!("the platform CLI: {e}")))?;
        if !status.success() {
            let why = err.trim();
            let why = if why.is_empty() { out.trim() } else { why };
            return Err(error(
                operation,
                "PlatformCliFailed",
                format!("`np {}` failed ({status}): {why}", args[..2].join(" ")),
            ));
        }
        Ok(Reply {
            value: out,
            request_id: None,
        })
    }
}

#[async_trait::async_trait]
impl PlatformApi for NpCli {
    fn name(&self) -> &'static str {
        "np"
    }

    async fn patch_metadata(&self, nrn: &str, body: &Map<String, Value>) -> CloudResult<()> {
        let body = Value::Object(body.clone()).to_string();
        self.run(
            "PatchMetadata",
            &["nrn", "patch", "--nrn", nrn, "--body", &body, "--format", "json"],
        )
        .await
        .map(|r| Reply {
            value: (),
            request_id: r.request_id,
        })
    }

    async fn read_metadata(&self, nrn: &str, namespace: &str) -> CloudResult<Map<String, Value>> {
        let reply = self
            .run(
                "ReadMetadata",
                &["nrn", "read", "--nrn", nrn, "--namespace", namespace, "--format", "json"],
            )
            .await?;
        let text = reply.value.trim();
        let value = if text.is_empty() {
            Map::new()
        } else {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    return Err(error(
                        "ReadMetadata",
                        "PlatformCliFailed",
                        format!("`np nrn read` answered {other}, not a JSON object"),
                    ))
                }
                Err(e) => {
                    return Err(error(
                        "ReadMetadata",
                        "PlatformCliFailed",
                        format!("`np nrn read` answered something that is not JSON ({e})"),
                    ))
                }
            }
        };
        Ok(Reply {
            value,
            request_id: reply.request_id,
        })
    }

    async fn patch_scope(&self, scope_id: &str, body: &Map<String, Value>) -> CloudResult<()> {
        let body = Value::Object(body.clone()).to_string();
        self.run(
            "PatchScope",
            &["scope", "patch", "--id", scope_id, "--body", &body, "--format", "json"],
        )
        .await
        .map(|r| Reply {
            value: (),
            request_id: r.request_id,
        })
    }

    /// The platform's CLI has no command for a check's state: the incumbent's
    /// lines in the action's live output are the report (the capability prints
    /// them whatever the backend), so nothing more is sent.
    async fn report_check(&self, _scope_id: &str, _check: &str, _report: &CheckReport) -> CloudResult<()> {
        Ok(Reply {
            value: (),
            request_id: None,
        })
    }
}
