//! Test guest: Writes 200k log lines, then succeeds.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let line = "y".repeat(100);
        for i in 0..200_000 {
            log::info(&format!("{i} {line}"));
        }
        Ok(vec![output("DONE", "yes")])
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "log-flood",
        version: "0.1.0",
        description: "Writes 200k log lines, then succeeds",
        capabilities: &[],
        ..Manifest::EMPTY
    }
);
