//! Test guest: a step that never asks for the same change twice. It publishes a
//! version of `LAMBDA_FUNCTION_NAME` whose description is a random number (from
//! the sandbox's random source, through the standard library's hasher keys), as a
//! step would whose behaviour depends on something outside its inputs — so a plan
//! of it can never be applied.
use scope_step::lambda;
use scope_step::prelude::*;
use std::hash::{BuildHasher, Hasher};

struct Fickle;

impl Step for Fickle {
    fn run() -> Result<Vec<Output>, StepError> {
        let function = require_var("LAMBDA_FUNCTION_NAME")?;
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u8(0);
        let description = format!("whim {:016x}", hasher.finish());
        let version = lambda::publish_version(&function, &description, None)?;
        Ok(vec![output("VERSION", version.version)])
    }
}

scope_step::step!(
    Fickle,
    Manifest {
        name: "fickle",
        version: "0.1.0",
        description: "Publishes a version described by a random number",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        outputs: &[OutputDecl::plain("VERSION")],
        capabilities: &[Capability::new(
            "lambda:PublishVersion",
            "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
