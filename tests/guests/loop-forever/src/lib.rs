//! Test guest: Spins forever without calling the host.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let mut i: u64 = 0;
        loop {
            i = core::hint::black_box(i.wrapping_add(1));
        }
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "loop-forever",
        version: "0.1.0",
        description: "Spins forever without calling the host",
        capabilities: &[],
        ..Manifest::EMPTY
    }
);
