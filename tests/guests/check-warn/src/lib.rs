//! Test guest: a diagnose check that always returns a warning with evidence.
use scope_step::prelude::*;

struct Warn;

impl Check for Warn {
    fn check() -> Result<CheckResult, StepError> {
        Ok(CheckResult {
            status: CheckStatus::Warning,
            summary: "networking looks unusual".into(),
            evidence: vec![("check_name".into(), var("CHECK_NAME").unwrap_or_default())],
            suggested_actions: vec!["look at the function policy".into()],
        })
    }
}

scope_step::check!(
    Warn,
    Manifest {
        name: "check-warn",
        version: "0.1.0",
        description: "Always warns",
        ..Manifest::EMPTY
    }
);
