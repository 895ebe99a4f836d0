//! CloudWatch Logs in the sim: log groups with retention and tags, keyed by
//! (region, name), with CloudWatch's error codes.

use super::errors::{Api, Fault, Service};
use super::state::{LogGroupState, State};
use super::SimCloud;
use crate::cloud::{CallCtx, CloudResult, FilterLogEvents, LogEvent, LogGroup, LogPage, LogsApi};

const fn logs_api(operation: &'static str) -> Api {
    Api::new(Service::Logs, operation)
}

fn not_found() -> Fault {
    Fault::new("ResourceNotFoundException", "The specified log group does not exist.")
}

impl State {
    fn log_group_arn(&self, ctx: &CallCtx, name: &str) -> String {
        format!("arn:aws:logs:{}:{}:log-group:{name}", ctx.region, self.account_id)
    }

    fn log_group_mut(&mut self, ctx: &CallCtx, api: Api, name: &str) -> Result<&mut LogGroupState, Fault> {
        let arn = self.log_group_arn(ctx, name);
        self.authorize(ctx, api, &arn)?;
        self.log_groups
            .get_mut(&(ctx.region.clone(), name.to_string()))
            .ok_or_else(not_found)
    }

    fn logs_create(&mut self, ctx: &CallCtx, api: Api, name: &str, tags: &[(String, String)]) -> Result<(), Fault> {
        let arn = self.log_group_arn(ctx, name);
        self.authorize(ctx, api, &arn)?;
        if !tags.is_empty() {
            self.authorize_action(ctx, api, &api.action_named("TagResource"), &arn)?;
        }
        let key = (ctx.region.clone(), name.to_string());
        if self.log_groups.contains_key(&key) {
            return Err(Fault::new(
                "ResourceAlreadyExistsException",
                "The specified log group already exists",
            ));
        }
        self.log_groups.insert(
            key,
            LogGroupState {
                name: name.to_string(),
                region: ctx.region.clone(),
                retention_in_days: None,
                tags: tags.iter().cloned().collect(),
                stored_bytes: 0,
                events: Vec::new(),
            },
        );
        Ok(())
    }

    fn logs_describe(&mut self, ctx: &CallCtx, api: Api, prefix: &str) -> Result<Vec<LogGroup>, Fault> {
        self.authorize(ctx, api, "*")?;
        Ok(self
            .log_groups
            .values()
            .filter(|g| g.region == ctx.region && g.name.starts_with(prefix))
            .map(|g| LogGroup {
                name: g.name.clone(),
                arn: self.log_group_arn(ctx, &g.name),
                retention_in_days: g.retention_in_days,
                stored_bytes: g.stored_bytes,
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl LogsApi for SimCloud {
    async fn create_log_group(&self, ctx: &CallCtx, name: &str, tags: &[(String, String)]) -> CloudResult<()> {
        self.call(logs_api("CreateLogGroup"), |st, api| st.logs_create(ctx, api, name, tags))
            .await
    }

    async fn delete_log_group(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        self.call(logs_api("DeleteLogGroup"), |st, api| {
            st.log_group_mut(ctx, api, name)?;
            st.log_groups.remove(&(ctx.region.clone(), name.to_string()));
            Ok(())
        })
        .await
    }

    async fn put_retention_policy(&self, ctx: &CallCtx, name: &str, days: u32) -> CloudResult<()> {
        self.call(logs_api("PutRetentionPolicy"), |st, api| {
            if !crate::caps::logs::RETENTION_DAYS.contains(&days) {
                return Err(Fault::new(
                    "InvalidParameterException",
                    format!("1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set"),
                ));
            }
            st.log_group_mut(ctx, api, name)?.retention_in_days = Some(days);
            Ok(())
        })
        .await
    }

    async fn delete_retention_policy(&self, ctx: &CallCtx, name: &str) -> CloudResult<()> {
        self.call(logs_api("DeleteRetentionPolicy"), |st, api| {
            st.log_group_mut(ctx, api, name)?.retention_in_days = None;
            Ok(())
        })
        .await
    }

    async fn filter_log_events(&self, ctx: &CallCtx, req: &FilterLogEvents) -> CloudResult<LogPage> {
        self.call(logs_api("FilterLogEvents"), |st, api| {
            let group = st.log_group_mut(ctx, api, &req.log_group_name)?;
            let offset = match &req.next_token {
                None => 0,
                Some(t) => t
                    .strip_prefix("sim-token-")
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| Fault::new("InvalidParameterException", "The specified nextToken is invalid."))?,
            };
            let terms = pattern_terms(req.filter_pattern.as_deref().unwrap_or(""));
            let matching: Vec<&LogEvent> = group
                .events
                .iter()
                .filter(|e| req.start_time.is_none_or(|s| e.timestamp >= s))
                .filter(|e| req.end_time.is_none_or(|end| e.timestamp <= end))
                .filter(|e| terms.iter().all(|t| e.message.contains(t.as_str())))
                .collect();
            let limit = req.limit.unwrap_or(10_000) as usize;
            let page: Vec<LogEvent> = matching.iter().skip(offset).take(limit).map(|e| (*e).clone()).collect();
            let next = offset + page.len();
            Ok(LogPage {
                events: page,
                next_token: (next < matching.len()).then(|| format!("sim-token-{next}")),
            })
        })
        .await
    }

    async fn describe_log_groups(&self, ctx: &CallCtx, prefix: &str) -> CloudResult<Vec<LogGroup>> {
        self.call(logs_api("DescribeLogGroups"), |st, api| st.logs_describe(ctx, api, prefix))
            .await
    }
}

/// The terms of a filter pattern, each of which an event must contain: words, or
/// phrases in double quotes (CloudWatch's syntax for unstructured events; its JSON
/// and space-delimited selectors are not simulated).
fn pattern_terms(pattern: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut rest = pattern.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            terms.push(quoted[..end].to_owned());
            rest = quoted.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            terms.push(rest[..end].to_owned());
            rest = rest[end..].trim_start();
        }
    }
    terms.retain(|t| !t.is_empty());
    terms
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, err, ok, sim};
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn log_groups_are_created_once_kept_and_deleted_once() {
        let cloud = sim(json!({}));
        let ctx = agent(&cloud).await;
        let name = "/aws/lambda/11-my-app-my-scope";
        ok(cloud.create_log_group(&ctx, name, &[("k".into(), "v".into())]).await);
        assert_eq!(
            err(cloud.create_log_group(&ctx, name, &[]).await).code,
            "ResourceAlreadyExistsException"
        );
        ok(cloud.put_retention_policy(&ctx, name, 30).await);
        assert_eq!(
            err(cloud.put_retention_policy(&ctx, name, 31).await).code,
            "InvalidParameterException"
        );
        let groups = ok(cloud.describe_log_groups(&ctx, "/aws/lambda/11-").await);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].retention_in_days, Some(30));
        assert_eq!(groups[0].arn, format!("arn:aws:logs:us-east-1:123456789012:log-group:{name}"));
        assert!(ok(cloud.describe_log_groups(&ctx, "/aws/lambda/12-").await).is_empty());
        ok(cloud.delete_log_group(&ctx, name).await);
        assert_eq!(err(cloud.delete_log_group(&ctx, name).await).code, "ResourceNotFoundException");
        // The state round-trips through a dump.
        ok(cloud.create_log_group(&ctx, name, &[]).await);
        let dumped = cloud.dump_json();
        assert_eq!(dumped["logs"]["log_groups"][0]["name"], name);
        let reloaded = SimCloud::from_fixture_json(&dumped.to_string()).unwrap();
        assert_eq!(ok(reloaded.describe_log_groups(&ctx, "").await).len(), 1);
    }
}
