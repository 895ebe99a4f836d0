//! instance_data (instance:data): a Lambda scope has no instances the platform
//! could list; the answer is the empty list, as the incumbent's. No cloud call.

use scope_step::prelude::*;

struct InstanceData;

impl Step for InstanceData {
    fn run() -> Result<Vec<Output>, StepError> {
        Ok(vec![output("TELEMETRY_RESPONSE", r#"{"results":[]}"#)])
    }
}

scope_step::step!(
    InstanceData,
    Manifest {
        name: "instance-data",
        version: "0.1.0",
        description: "Answers instance:data: a Lambda scope has no instances to list",
        outputs: &[OutputDecl::plain("TELEMETRY_RESPONSE")],
        ..Manifest::EMPTY
    }
);
