//! Test guest: Writes 32 MiB to stdout and stderr, then succeeds.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let line = "x".repeat(1023);
        for _ in 0..(16 * 1024) {
            println!("{line}");
            eprintln!("{line}");
        }
        Ok(vec![output("DONE", "yes")])
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "stdout-flood",
        version: "0.1.0",
        description: "Writes 32 MiB to stdout and stderr, then succeeds",
        capabilities: &[],
        ..Manifest::EMPTY
    }
);
