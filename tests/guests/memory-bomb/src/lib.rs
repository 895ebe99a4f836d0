//! Test guest: Allocates until something stops it.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut chunk = vec![0u8; 8 << 20];
            chunk[0] = hoard.len() as u8;
            hoard.push(core::hint::black_box(chunk));
        }
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "memory-bomb",
        version: "0.1.0",
        description: "Allocates until something stops it",
        capabilities: &[],
        ..Manifest::EMPTY
    }
);
