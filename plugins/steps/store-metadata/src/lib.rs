//! store_metadata (create): the scope's load-balancer rule priority in its NRN
//! metadata (`lambda.alb_rule_priority`, a number), as the incumbent stored it —
//! only when the scope has a rule. Read first and written only when it differs,
//! so running create again sends nothing. A failed write fails the step.

use scope_step::prelude::*;
use scope_step::{platform, CallError};
use serde_json::{json, Value};

struct StoreMetadata;

impl Step for StoreMetadata {
    fn run() -> Result<Vec<Output>, StepError> {
        let Some(priority) = var("ALB_RULE_PRIORITY").filter(|p| !p.is_empty()) else {
            log::info("the scope has no load-balancer rule: no metadata to store");
            return Ok(vec![]);
        };
        let priority: u64 = priority
            .parse()
            .map_err(|_| StepError::InvalidInput(format!("ALB_RULE_PRIORITY is `{priority}`, not a whole number")))?;
        let stored: Value = serde_json::from_str(&platform::read_metadata("lambda")?)
            .map_err(|e| StepError::Failed(format!("the platform's metadata is not JSON: {e}")))?;
        if stored.get("alb_rule_priority").and_then(Value::as_u64) == Some(priority) {
            log::info(&format!("lambda.alb_rule_priority is {priority} already"));
            return Ok(vec![]);
        }
        platform::patch_metadata(&json!({"lambda.alb_rule_priority": priority}).to_string())
            .map_err(|e| StepError::Failed(format!("Failed to write NRN metadata to the scope: {}", describe(&e))))?;
        log::info(&format!("stored lambda.alb_rule_priority = {priority}"));
        Ok(vec![])
    }
}

fn describe(e: &CallError) -> String {
    match e {
        CallError::Cloud(c) => format!("{}: {}", c.code, c.message),
        CallError::Denied(d) => format!("denied {} on {}: {}", d.action, d.resource, d.reason),
        CallError::InvalidInput(m) | CallError::Limit(m) => m.clone(),
    }
}

scope_step::step!(
    StoreMetadata,
    Manifest {
        name: "store-metadata",
        version: "0.1.0",
        description: "Stores the scope's load-balancer rule priority in its platform metadata",
        inputs: &[Input::optional("ALB_RULE_PRIORITY")],
        capabilities: &[
            Capability::new("platform:ReadMetadata", "*"),
            Capability::new("platform:PatchMetadata", "*"),
        ],
        ..Manifest::EMPTY
    }
);
