//! Test guest: Returns a 2 MiB output.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        Ok(vec![output("HUGE", "z".repeat(2 << 20))])
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "big-output",
        version: "0.1.0",
        description: "Returns a 2 MiB output",
        capabilities: &[],
        ..Manifest::EMPTY
    }
);
