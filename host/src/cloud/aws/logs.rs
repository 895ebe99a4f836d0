//! CloudWatch Logs: log groups and their retention.

use super::{reply, AwsCloud};
use crate::cloud::{CallCtx, CloudResult, FilterLogEvents, LogEvent, LogGroup, LogPage, Reply};
use std::collections::HashMap;

/// A log group's ARN without the `:*` that DescribeLogGroups' `arn` field ends with.
fn group_arn(group: &aws_sdk_cloudwatchlogs::types::LogGroup) -> String {
    match group.log_group_arn() {
        Some(arn) if !arn.is_empty() => arn.to_string(),
        _ => {
            let arn = group.arn().unwrap_or_default();
            arn.strip_suffix(":*").unwrap_or(arn).to_string()
        }
    }
}

#[async_trait::async_trait]
impl crate::cloud::LogsApi for AwsCloud {
    /// CreateLogGroup; tags are sent only when there are some.
    async fn create_log_group(&self, ctx: &CallCtx, name: &str, tags: &[(String, String)]) -> CloudResult<()> {
        let api = self.ctx_api("logs", "CreateLogGroup", ctx);
        let tags: HashMap<String, String> = tags.iter().cloned().collect();
        let out = self
            .for_ctx(ctx)
            .logs()
            .create_log_group()
            .log_group_name(name)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn delete_log_group(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let api = self.ctx_api("logs", "DeleteLogGroup", ctx);
        let out = self
            .for_ctx(ctx)
            .logs()
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn put_retention_policy(&self, ctx: &CallCtx, name: &str, days: u32) -> CloudResult<()> {
        let api = self.ctx_api("logs", "PutRetentionPolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .logs()
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(i32::try_from(days).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn delete_retention_policy(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        let api = self.ctx_api("logs", "DeleteRetentionPolicy", ctx);
        let out = self
            .for_ctx(ctx)
            .logs()
            .delete_retention_policy()
            .log_group_name(name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    /// One page of events; the API's own token says where the next begins.
    async fn filter_log_events(&self, ctx: &CallCtx, req: &FilterLogEvents) -> CloudResult<LogPage> {
        let api = self.ctx_api("logs", "FilterLogEvents", ctx);
        let as_i64 = |v: Option<u64>| v.and_then(|n| i64::try_from(n).ok());
        let out = self
            .for_ctx(ctx)
            .logs()
            .filter_log_events()
            .log_group_name(&req.log_group_name)
            .set_start_time(as_i64(req.start_time))
            .set_end_time(as_i64(req.end_time))
            .set_filter_pattern(req.filter_pattern.clone())
            .set_limit(req.limit.and_then(|l| i32::try_from(l).ok()))
            .set_next_token(req.next_token.clone())
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let page = LogPage {
            events: out
                .events()
                .iter()
                .map(|e| LogEvent {
                    timestamp: e.timestamp().and_then(|t| u64::try_from(t).ok()).unwrap_or(0),
                    message: e.message().unwrap_or_default().to_string(),
                    log_stream_name: e.log_stream_name().unwrap_or_default().to_string(),
                })
                .collect(),
            next_token: out.next_token().filter(|t| !t.is_empty()).map(str::to_string),
        };
        Ok(reply(page, &out))
    }

    /// Every page of the log groups whose name starts with `prefix` (empty: all of
    /// them), in the service's order (by name). The request id is the first page's.
    async fn describe_log_groups(&self, ctx: &CallCtx, prefix: &str) -> CloudResult<Vec<LogGroup>> {
        let api = self.ctx_api("logs", "DescribeLogGroups", ctx);
        let clients = self.for_ctx(ctx);
        let prefix = (!prefix.is_empty()).then(|| prefix.to_string());
        let mut groups = Vec::new();
        let mut request_id = None;
        let mut token: Option<String> = None;
        loop {
            let out = clients
                .logs()
                .describe_log_groups()
                .set_log_group_name_prefix(prefix.clone())
                .set_limit(self.page_size)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            groups.extend(out.log_groups().iter().map(|g| LogGroup {
                name: g.log_group_name().unwrap_or_default().to_string(),
                arn: group_arn(g),
                retention_in_days: g.retention_in_days().and_then(|d| u32::try_from(d).ok()),
                stored_bytes: g.stored_bytes().and_then(|b| u64::try_from(b).ok()).unwrap_or(0),
            }));
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(Reply { value: groups, request_id })
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use aws_sdk_cloudwatchlogs::types::LogGroup as SdkLogGroup;

    #[test]
    fn log_group_arns_lose_the_trailing_star() {
        let arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f";
        let listed = SdkLogGroup::builder().arn(format!("{arn}:*")).build();
        assert_eq!(group_arn(&listed), arn);
        let both = SdkLogGroup::builder().arn(format!("{arn}:*")).log_group_arn(arn).build();
        assert_eq!(group_arn(&both), arn);
    }
}
