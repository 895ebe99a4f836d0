//! fetch_logs (log:read): one page of the function's log events, every argument of
//! the request honoured (the incumbent always read the last hour and dropped the
//! page token): `start_time`/`end_time` (ms since the epoch; default the last
//! hour), `limit` (100; at most 10 000), `filter_pattern`, `next_page_token`. The
//! answer, in the incumbent's shape, is TELEMETRY_RESPONSE:
//! `{"results": [{"datetime", "message"}…], "next_page_token": …}`, oldest first.

use lambda_scope::telemetry::{iso8601, number};
use lambda_scope::Context;
use scope_step::logs;
use scope_step::prelude::*;
use serde_json::{json, Value};

struct FetchLogs;

/// A numeric argument; present but not a whole number is bad input.
fn argument(ctx: &Context, name: &str) -> Result<Option<u64>, StepError> {
    match ctx.value(&format!("/arguments/{name}")) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => number(v)
            .map(Some)
            .ok_or_else(|| StepError::InvalidInput(format!("arguments.{name} is {v}, not a whole number"))),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Step for FetchLogs {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        let group = require_var("LOG_GROUP_NAME")?;
        let end = argument(&ctx, "end_time")?.unwrap_or_else(now_ms);
        let start = argument(&ctx, "start_time")?.unwrap_or(end.saturating_sub(3_600_000));
        if end < start {
            return Err(StepError::InvalidInput(format!(
                "arguments.end_time ({end}) is before arguments.start_time ({start})"
            )));
        }
        let limit = argument(&ctx, "limit")?.unwrap_or(100);
        if !(1..=10_000).contains(&limit) {
            return Err(StepError::InvalidInput(format!(
                "arguments.limit is {limit}: a page holds 1 to 10000 events"
            )));
        }
        let request = logs::FilterRequest {
            log_group_name: group,
            start_time: Some(start),
            end_time: Some(end),
            filter_pattern: ctx.text("/arguments/filter_pattern"),
            limit: Some(limit as u32),
            next_token: ctx.text("/arguments/next_page_token"),
        };
        let page = logs::filter_log_events(&request)?;
        let mut events = page.events;
        events.sort_by_key(|e| e.timestamp);
        let results: Vec<Value> = events
            .into_iter()
            .map(|e| json!({"datetime": iso8601(e.timestamp), "message": e.message}))
            .collect();
        let answer = json!({"results": results, "next_page_token": page.next_token.unwrap_or_default()});
        Ok(vec![output("TELEMETRY_RESPONSE", answer.to_string())])
    }
}

scope_step::step!(
    FetchLogs,
    Manifest {
        name: "fetch-logs",
        version: "0.1.0",
        description: "Answers log:read: one page of the function's log events",
        inputs: &[Input::required("LOG_GROUP_NAME")],
        outputs: &[OutputDecl::plain("TELEMETRY_RESPONSE")],
        capabilities: &[Capability::new(
            "logs:FilterLogEvents",
            "arn:aws:logs:*:*:log-group:${LOG_GROUP_NAME}"
        )],
        ..Manifest::EMPTY
    }
);
