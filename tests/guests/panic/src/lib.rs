//! Test guest: Panics with a message.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let scope = var("SCOPE_ID");
        panic!("boom: the context has no scope id (got {scope:?})");
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "panic",
        version: "0.1.0",
        description: "Panics with a message",
        capabilities: &[],
        ..Manifest::EMPTY
    }
);
