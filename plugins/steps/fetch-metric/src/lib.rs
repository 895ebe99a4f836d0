//! fetch_metric (metric:data, and any `metric:` action but `metric:list`): one
//! CloudWatch metric of the scope's function (namespace AWS/Lambda, dimension
//! FunctionName) over a window, in the incumbent's shape:
//! `{"metric", "type": "gauge", "period_in_seconds", "unit", "results":
//! [{"selector": {"FunctionName"}, "data": [{"timestamp", "value"}…]}]}`.
//!
//! Arguments: `metric` (default Invocations), `period` (seconds, default 300, a
//! multiple of 60), `start_time`/`end_time` (ISO-8601, or milliseconds since the
//! epoch as log:read takes them; default the hour before the end, the end
//! defaulting to now). Unlike the incumbent, a bad argument or a failed query is
//! an error (stderr, exit 1) rather than an empty answer, and a window over
//! CloudWatch's datapoint cap is refused by the host with why, not silently empty.

use lambda_scope::telemetry::{iso8601_offset, number, parse_iso8601};
use lambda_scope::Context;
use scope_step::cloudwatch::{self, MetricQuery, Statistic};
use scope_step::prelude::*;
use serde_json::{json, Value};

struct FetchMetric;

/// What the platform calls a metric → CloudWatch's name, statistic and the unit
/// the answer states.
fn lambda_metric(name: &str) -> (&str, Statistic, &'static str) {
    match name {
        "Invocations" | "Errors" | "Throttles" => (name, Statistic::Sum, "count"),
        "Duration" => (name, Statistic::Average, "milliseconds"),
        "ConcurrentExecutions" => (name, Statistic::Maximum, "count"),
        "stream.iterator_age" => ("IteratorAge", Statistic::Maximum, "milliseconds"),
        other => (other, Statistic::Sum, "unknown"),
    }
}

/// A time argument in seconds since the epoch: an ISO-8601 date-time, or a
/// whole number of milliseconds.
fn time_argument(ctx: &Context, name: &str) -> Result<Option<u64>, StepError> {
    match ctx.value(&format!("/arguments/{name}")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if !s.trim().bytes().all(|c| c.is_ascii_digit()) => parse_iso8601(s)
            .map(Some)
            .map_err(|e| StepError::InvalidInput(format!("arguments.{name}: {e}"))),
        Some(v) => number(v)
            .map(|ms| Some(ms / 1000))
            .ok_or_else(|| StepError::InvalidInput(format!("arguments.{name} is {v}: give an ISO-8601 date-time"))),
    }
}

fn period_argument(ctx: &Context) -> Result<u32, StepError> {
    let Some(v) = ctx
        .value("/arguments/period")
        .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
    else {
        return Ok(300);
    };
    let period = number(v)
        .and_then(|p| u32::try_from(p).ok())
        .ok_or_else(|| StepError::InvalidInput(format!("arguments.period is {v}, not a whole number of seconds")))?;
    if period == 0 || !period.is_multiple_of(60) {
        return Err(StepError::InvalidInput(format!(
            "arguments.period is {period}: CloudWatch's Lambda metrics need a multiple of 60 seconds"
        )));
    }
    Ok(period)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Step for FetchMetric {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        let function = require_var("LAMBDA_FUNCTION_NAME")?;
        let metric = ctx.text("/arguments/metric").unwrap_or_else(|| "Invocations".into());
        let period = period_argument(&ctx)?;
        let end = time_argument(&ctx, "end_time")?.unwrap_or_else(now_secs);
        let start = time_argument(&ctx, "start_time")?.unwrap_or(end.saturating_sub(3600));
        if end <= start {
            return Err(StepError::InvalidInput(format!(
                "arguments.end_time ({}) is not after arguments.start_time ({})",
                iso8601_offset(end),
                iso8601_offset(start)
            )));
        }
        let (cloudwatch_name, statistic, unit) = lambda_metric(&metric);
        let query = MetricQuery {
            namespace: "AWS/Lambda".into(),
            metric_name: cloudwatch_name.into(),
            dimensions: vec![("FunctionName".into(), function.clone())],
            start_time: start,
            end_time: end,
            period,
            statistic,
        };
        let points = cloudwatch::get_metric_statistics(&query)?;
        let results = if points.is_empty() {
            json!([])
        } else {
            let data: Vec<Value> = points
                .iter()
                .map(|p| json!({"timestamp": iso8601_offset(p.timestamp), "value": p.value}))
                .collect();
            json!([{"selector": {"FunctionName": function}, "data": data}])
        };
        let answer = json!({
            "metric": metric,
            "type": "gauge",
            "period_in_seconds": period,
            "unit": unit,
            "results": results,
        });
        Ok(vec![output("TELEMETRY_RESPONSE", answer.to_string())])
    }
}

scope_step::step!(
    FetchMetric,
    Manifest {
        name: "fetch-metric",
        version: "0.1.0",
        description: "Answers metric:data: one metric of the scope's function over a window",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME")],
        outputs: &[OutputDecl::plain("TELEMETRY_RESPONSE")],
        // GetMetricStatistics has no resource-level permissions.
        capabilities: &[Capability::new("cloudwatch:GetMetricStatistics", "*")],
        ..Manifest::EMPTY
    }
);
