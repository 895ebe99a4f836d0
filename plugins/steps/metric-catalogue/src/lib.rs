//! list_metrics (metric:list): the metrics a Lambda scope offers, in the
//! incumbent's shape, with `milliseconds` for durations (the incumbent's catalogue
//! said `ms` where its data said `milliseconds`). No cloud call.

use scope_step::prelude::*;
use serde_json::json;

struct MetricCatalogue;

impl Step for MetricCatalogue {
    fn run() -> Result<Vec<Output>, StepError> {
        let metric = |name: &str, title: &str, unit: &str| json!({"name": name, "title": title, "unit": unit, "available_filters": ["scope_id"], "available_group_by": []});
        let answer = json!({"results": [
            metric("Invocations", "Invocations", "count"),
            metric("Duration", "Duration", "milliseconds"),
            metric("Errors", "Errors", "count"),
            metric("Throttles", "Throttles", "count"),
            metric("ConcurrentExecutions", "Concurrent executions", "count"),
            metric("stream.iterator_age", "Stream iterator age", "milliseconds"),
        ]});
        Ok(vec![output("TELEMETRY_RESPONSE", answer.to_string())])
    }
}

scope_step::step!(
    MetricCatalogue,
    Manifest {
        name: "metric-catalogue",
        version: "0.1.0",
        description: "Answers metric:list: the metrics a Lambda scope offers",
        outputs: &[OutputDecl::plain("TELEMETRY_RESPONSE")],
        ..Manifest::EMPTY
    }
);
