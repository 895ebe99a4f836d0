//! `scope-host test`: runs scenario files and prints one line per scenario, the
//! differences of the failed ones, and `N passed, N failed` last.

use super::{error_chain, exit::parse_timeout, EngineArgs};
use crate::sandbox::Limits;
use crate::scenario::{self, Prepared};
use anyhow::{bail, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub(super) struct TestArgs {
    /// Scenario files (YAML), run in the order given.
    #[arg(required = true, value_name = "SCENARIO.yaml")]
    files: Vec<PathBuf>,
    /// Run only the scenarios whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Each step's deadline, e.g. 30s, 5m. Time in the simulated cloud is virtual
    /// (waiters do not wait), so a step that takes long is stuck.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_timeout)]
    timeout: Duration,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(super) async fn run(args: TestArgs) -> Result<ExitCode> {
    let runtime = std::sync::Arc::new(args.engine.runtime()?);
    // Every file is read and every scenario prepared before any runs: bad input is
    // reported whole, and nothing half-runs.
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in &args.files {
        match scenario::load_file(path, &runtime) {
            Ok(prepared) => files.push((path, prepared)),
            Err(e) => errors.push(error_chain(&anyhow::Error::from(e))),
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            errln!("error: {e}");
        }
        bail!(
            "{} of {} scenario file(s) cannot be run; nothing was run",
            errors.len(),
            args.files.len()
        );
    }
    if let Some(text) = &args.filter {
        for (_, prepared) in &mut files {
            prepared.retain(|p| p.name.contains(text.as_str()));
        }
        if files.iter().all(|(_, p)| p.is_empty()) {
            bail!("no scenario's name contains `{text}`");
        }
    }

    let limits = Limits {
        deadline: args.timeout,
        ..Limits::default()
    };
    let (mut passed, mut failed) = (0, 0);
    let mut details = Vec::new();
    for (path, prepared) in files {
        if prepared.is_empty() {
            continue;
        }
        outln!("running {} scenario(s) from {}", prepared.len(), path.display());
        for p in prepared {
            let (ok, line, detail) = run_one(p, &runtime, &limits).await;
            outln!("{line}");
            let _ = std::io::stdout().flush();
            if ok {
                passed += 1;
            } else {
                failed += 1;
                details.push(detail);
            }
        }
    }
    if !details.is_empty() {
        outln!("\nfailures:");
        for d in &details {
            out!("\n{d}");
        }
    }
    outln!("\n{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Runs one scenario: whether it passed, its result line, and (when failed) what
/// differed.
async fn run_one(mut p: Prepared, runtime: &std::sync::Arc<crate::engine::Runtime>, limits: &Limits) -> (bool, String, String) {
    let (file, name) = (p.file.display().to_string(), p.name.clone());
    let header = format!("--- {file}: {name}\n");
    let started = std::time::Instant::now();
    let expect = std::mem::take(&mut p.expect);
    let observed = match scenario::run(p, runtime, limits).await {
        Ok(o) => o,
        Err(message) => {
            let took = crate::step::human(started.elapsed());
            return (
                false,
                format!("FAILED  {name} ({took})"),
                format!("{header}  the run could not start: {message}\n"),
            );
        }
    };
    let took = crate::step::human(observed.duration);
    let findings = scenario::judge(&expect, &observed);
    if findings.is_empty() {
        (true, format!("ok      {name} ({took})"), String::new())
    } else {
        let detail = format!("{header}{}", scenario::render(&findings, &observed));
        (false, format!("FAILED  {name} ({took})"), detail)
    }
}
