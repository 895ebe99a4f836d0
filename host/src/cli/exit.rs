//! Exit codes, and the values of the command line that are parsed rather than
//! taken as text (durations, sizes), with their bounds.
//!
//! 0: everything succeeded; 1: a step (or scenario) failed; 2: bad arguments or
//! input, nothing ran; 3: the environment failed (the cloud could not be reached,
//! the journal or the cloud state could not be written, the engine did not start).

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

/// A failure of what the command runs on rather than of its input: exit 3.
#[derive(Debug)]
pub(crate) struct EnvironmentFailed(pub String);

impl fmt::Display for EnvironmentFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EnvironmentFailed {}

/// An [`EnvironmentFailed`] error with `message`.
pub(crate) fn environment(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(EnvironmentFailed(message.into()))
}

/// The exit code of a command that ended with `error`.
pub(crate) fn code_of(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|cause| cause.is::<EnvironmentFailed>()) {
        ExitCode::from(3)
    } else {
        ExitCode::from(2)
    }
}

/// The shortest step deadline: the engine checks deadlines at this granularity.
const MIN_TIMEOUT: Duration = crate::engine::EPOCH_TICK;
/// The longest: a day. Longer work belongs in the cloud, with a waiter.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The smallest memory cap a component can start in.
const MIN_MEMORY: u64 = 1 << 20;
/// The largest: what one linear memory of wasm32 can address.
const MAX_MEMORY: u64 = 4 << 30;

/// `--timeout`: `30s`, `5m`, `1h`, `500ms`, `1h 30m` (humantime's syntax),
/// between the engine's tick and a day.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| format!("`{text}` is not a duration like 30s, 5m, 1h or 500ms ({e})"))?;
    if d < MIN_TIMEOUT || d > MAX_TIMEOUT {
        return Err(format!(
            "`{text}` is out of range: a step's deadline is between {} and {}",
            humantime::format_duration(MIN_TIMEOUT),
            humantime::format_duration(MAX_TIMEOUT)
        ));
    }
    Ok(d)
}

/// `--memory`: `256MiB`, `1GiB`, `512 MB` (bytesize's syntax), between 1 MiB and 4 GiB.
pub(crate) fn parse_memory(text: &str) -> Result<usize, String> {
    let size: bytesize::ByteSize = text
        .trim()
        .parse()
        .map_err(|e| format!("`{text}` is not a size like 256MiB or 1GiB ({e})"))?;
    if size.as_u64() < MIN_MEMORY || size.as_u64() > MAX_MEMORY {
        return Err(format!(
            "`{text}` is out of range: a step's memory cap is between 1 MiB and 4 GiB (wasm32 addresses at most 4 GiB)"
        ));
    }
    usize::try_from(size.as_u64()).map_err(|_| format!("`{text}` does not fit this machine's address space"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_within_bounds_parse() {
        assert_eq!(parse_timeout("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_timeout("1h 30m").unwrap(), Duration::from_secs(5400));
    }

    #[test]
    fn absurd_durations_are_refused_not_panicked_on() {
        for bad in [
            "99999999999999999999999h",
            "0.0000000001ms",
            "0s",
            "1ns",
            "25h",
            "-1s",
            "",
            "5 parsecs",
            "1e9s",
        ] {
            let e = parse_timeout(bad).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn sizes_within_bounds_parse() {
        assert_eq!(parse_memory("256MiB").unwrap(), 256 << 20);
        assert_eq!(parse_memory("1GiB").unwrap(), 1 << 30);
    }

    #[test]
    fn absurd_sizes_are_refused_not_wrapped() {
        for bad in ["17179869184GiB", "0", "1KiB", "5GiB", "18446744073709551616", "-1MiB", "lots"] {
            assert!(parse_memory(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn an_environment_failure_exits_3_through_context() {
        use anyhow::Context as _;
        let e = Err::<(), _>(environment("the journal cannot be written"))
            .context("opening the run")
            .unwrap_err();
        assert_eq!(code_of(&e), ExitCode::from(3));
        assert_eq!(code_of(&anyhow::anyhow!("bad input")), ExitCode::from(2));
    }
}
