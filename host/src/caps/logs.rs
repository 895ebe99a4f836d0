//! `logs`: CloudWatch Logs log groups. Authorized on the log group's ARN
//! (`arn:aws:logs:<region>:<account>:log-group:<name>`), except DescribeLogGroups,
//! which IAM authorizes on `*`.

use super::view::CapsCtx;
use super::Answer;
use super::{need, Op, StepHost};
use crate::bindings::logs as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

const fn op(operation: &'static str) -> Op {
    Op {
        service: "logs",
        operation,
    }
}

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// CloudWatch's rule for log group names: 1–512 of `[.\-_/#A-Za-z0-9]`.
fn is_log_group_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 512 && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
}

impl StepHost {
    fn log_group_resource(&mut self, o: Op, name: &str) -> Result<String, CallError> {
        if !is_log_group_name(name) {
            return Err(self.invalid(
                o,
                name,
                format!("`{name}` is not a log group name (1–512 of letters, digits and `._-/#`)"),
            ));
        }
        Ok(format!("arn:aws:logs:{}:{}:log-group:{name}", self.region(), self.account()))
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn create_log_group(&mut self, name: String, tags: Vec<(String, String)>) -> Answer<()> {
        const OP: Op = op("CreateLogGroup");
        let h = &mut *self.host;
        let resource = try_call!(h.log_group_resource(OP, &name));
        let mut needs = vec![need(OP, resource.clone())];
        if !tags.is_empty() {
            needs.push(("logs:TagResource".into(), resource));
        }
        Ok(h.checked(
            OP,
            &needs,
            |c, ctx| async move { c.logs.create_log_group(&ctx, &name, &tags).await },
        )
        .await)
    }

    async fn delete_log_group(&mut self, name: String) -> Answer<()> {
        const OP: Op = op("DeleteLogGroup");
        let h = &mut *self.host;
        let resource = try_call!(h.log_group_resource(OP, &name));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.logs.delete_log_group(&ctx, &name).await
        })
        .await)
    }

    async fn put_retention_policy(&mut self, name: String, retention_in_days: u32) -> Answer<()> {
        const OP: Op = op("PutRetentionPolicy");
        let h = &mut *self.host;
        let resource = try_call!(h.log_group_resource(OP, &name));
        if !RETENTION_DAYS.contains(&retention_in_days) {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("{retention_in_days} days is not a retention CloudWatch Logs accepts; use one of {RETENTION_DAYS:?}"),
            )));
        }
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.logs.put_retention_policy(&ctx, &name, retention_in_days).await
        })
        .await)
    }

    async fn delete_retention_policy(&mut self, name: String) -> Answer<()> {
        const OP: Op = op("DeleteRetentionPolicy");
        let h = &mut *self.host;
        let resource = try_call!(h.log_group_resource(OP, &name));
        Ok(h.checked(OP, &[need(OP, resource)], |c, ctx| async move {
            c.logs.delete_retention_policy(&ctx, &name).await
        })
        .await)
    }

    async fn filter_log_events(&mut self, request: wit::FilterRequest) -> Answer<wit::LogPage> {
        const OP: Op = op("FilterLogEvents");
        let h = &mut *self.host;
        let resource = try_call!(h.log_group_resource(OP, &request.log_group_name));
        if let (Some(start), Some(end)) = (request.start_time, request.end_time) {
            if end < start {
                return Ok(Err(h.invalid(
                    OP,
                    &resource,
                    format!("the end time {end} is before the start time {start}"),
                )));
            }
        }
        if let Some(limit) = request.limit.filter(|l| !(1..=10_000).contains(l)) {
            return Ok(Err(h.invalid(OP, &resource, format!("a page holds 1–10000 events, not {limit}"))));
        }
        let req = m::FilterLogEvents {
            log_group_name: request.log_group_name,
            start_time: request.start_time,
            end_time: request.end_time,
            filter_pattern: request.filter_pattern,
            limit: request.limit,
            next_token: request.next_token,
        };
        let page = h
            .checked(OP, &[need(OP, resource)], |c, ctx| async move {
                c.logs.filter_log_events(&ctx, &req).await
            })
            .await;
        Ok(page.map(|p| wit::LogPage {
            events: p
                .events
                .into_iter()
                .map(|e| wit::LogEvent {
                    timestamp: e.timestamp,
                    message: e.message,
                    log_stream_name: e.log_stream_name,
                })
                .collect(),
            next_token: p.next_token,
        }))
    }

    async fn describe_log_groups(&mut self, prefix: String) -> Answer<Vec<wit::LogGroup>> {
        const OP: Op = op("DescribeLogGroups");
        let h = &mut *self.host;
        if !prefix.is_empty() && !is_log_group_name(&prefix) {
            return Ok(Err(h.invalid(OP, "*", format!("`{prefix}` is not a log group name prefix"))));
        }
        let groups = h
            .checked(OP, &[need(OP, "*")], |c, ctx| async move {
                c.logs.describe_log_groups(&ctx, &prefix).await
            })
            .await;
        Ok(groups.map(|v| {
            v.into_iter()
                .map(|g| wit::LogGroup {
                    name: g.name,
                    arn: g.arn,
                    retention_in_days: g.retention_in_days,
                    stored_bytes: g.stored_bytes,
                })
                .collect()
        }))
    }
}
