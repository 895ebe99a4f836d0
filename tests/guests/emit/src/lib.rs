//! Test guest for workflows. Driven by variables:
//! - `EMIT=A=1,B=2`: returns those outputs; `EMIT_SECRET=S=value`: returns secret outputs;
//! - `ECHO_VARS=X,Y`: logs `X=<value>` and returns `SAW_X` for each (`<unset>` when unset);
//! - `ASSUME_ROLE=<arn>`: assumes the role and makes it the workflow's identity;
//! - `FAIL=<message>`: fails with that message;
//! - `COUNT_RUNS` (any value): returns `RUNS`, how often this instance's memory has
//!   seen `run` (1 unless memory leaked from an earlier instance);
//! - `SLEEP_MS=<n>`: sleeps that long first.
use scope_step::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};

static RUNS: AtomicU32 = AtomicU32::new(0);

struct Emit;

fn pairs(name: &str) -> Vec<(String, String)> {
    var(name)
        .unwrap_or_default()
        .split(',')
        .filter_map(|p| p.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.to_owned())))
        .collect()
}

impl Step for Emit {
    fn run() -> Result<Vec<Output>, StepError> {
        if let Some(message) = var("FAIL").filter(|m| !m.is_empty()) {
            return Err(StepError::Failed(message));
        }
        if let Some(role) = var("ASSUME_ROLE").filter(|r| !r.is_empty()) {
            let id = scope_step::credentials::assume_role(&role, "np-lambda-workflow")?;
            scope_step::credentials::use_for_workflow(&id);
        }
        // A step that takes a while without burning a core (the fleet's tests need
        // runs in hand when a replica is killed): WASI's clock, through the host.
        if let Some(ms) = var("SLEEP_MS").and_then(|m| m.parse::<u64>().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        let mut out = Vec::new();
        let runs = RUNS.fetch_add(1, Ordering::SeqCst) + 1;
        if var("COUNT_RUNS").is_some() {
            out.push(output("RUNS", runs.to_string()));
        }
        for name in var("ECHO_VARS").unwrap_or_default().split(',').filter(|n| !n.is_empty()) {
            let value = var(name).unwrap_or_else(|| "<unset>".into());
            log::info(&format!("{name}={value}"));
            out.push(output(format!("SAW_{name}"), value));
        }
        out.extend(pairs("EMIT").into_iter().map(|(k, v)| output(k, v)));
        out.extend(pairs("EMIT_SECRET").into_iter().map(|(k, v)| secret_output(k, v)));
        Ok(out)
    }
}

scope_step::step!(
    Emit,
    Manifest {
        name: "emit",
        version: "0.1.0",
        description: "Configurable no-op step for workflow tests",
        inputs: &[
            Input::optional("EMIT"),
            Input::optional("EMIT_SECRET"),
            Input::optional("ECHO_VARS"),
            Input::optional("FAIL"),
            Input::optional("ASSUME_ROLE"),
            Input::optional("COUNT_RUNS"),
            Input::optional("SLEEP_MS")
        ],
        outputs: &[OutputDecl::plain("A"), OutputDecl::plain("B"), OutputDecl::secret("S")],
        capabilities: &[Capability::new("sts:AssumeRole", "${ASSUME_ROLE}")],
        ..Manifest::EMPTY
    }
);
