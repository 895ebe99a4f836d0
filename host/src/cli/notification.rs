//! Where `handle` reads its notification: a file, standard input (`-`), or — with
//! neither, as under the platform's agent — the environment variable
//! `NP_ACTION_CONTEXT`, which the agent sets to the notification wrapped in single
//! quotes. The scope id is found where the incumbent's entrypoint finds it.

use anyhow::{bail, Result};
use serde_json::Value;
use std::io::Read as _;
use std::path::Path;

/// The variable the platform's agent passes the notification in.
pub(crate) const ENV_VAR: &str = "NP_ACTION_CONTEXT";

/// A notification and where it came from (for messages).
pub(crate) struct Notification {
    pub origin: String,
    pub doc: Value,
}

/// Reads the notification `arg` names (`-`: stdin), else NP_ACTION_CONTEXT.
pub(crate) fn read(arg: Option<&Path>) -> Result<Notification> {
    let (origin, text) = match arg {
        Some(p) if p == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| anyhow::anyhow!("reading the notification from stdin: {e}"))?;
            ("the notification on stdin".to_owned(), text)
        }
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("reading the notification {}: {e}", p.display()))?;
            (format!("the notification {}", p.display()), text)
        }
        None => {
            let raw = std::env::var(ENV_VAR).unwrap_or_default();
            let text = unquote(&raw);
            if text.trim().is_empty() {
                bail!("{ENV_VAR} is not set (give a notification file, `-` for stdin, or set {ENV_VAR} as the platform's agent does)");
            }
            (ENV_VAR.to_owned(), text.to_owned())
        }
    };
    let doc = crate::workflow::dispatch::parse(&text, &origin).map_err(|e| anyhow::anyhow!(e))?;
    Ok(Notification { origin, doc })
}

/// One surrounding pair of single quotes removed, as the incumbent's entrypoint
/// strips them (the agent quotes the JSON for a shell).
fn unquote(raw: &str) -> &str {
    let trimmed = raw.trim();
    match trimmed.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(inner) => inner,
        None => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pair_of_quotes_is_stripped() {
        assert_eq!(unquote("'{\"a\":1}'"), "{\"a\":1}");
        assert_eq!(unquote("  '{\"a\":1}'\n"), "{\"a\":1}");
        assert_eq!(unquote("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(unquote("''{}''"), "'{}'", "only one pair");
    }
}
