//! Elastic Load Balancing v2: Lambda target groups and the listener rules that
//! forward to them.

use super::{reply, AwsCloud};
use crate::cloud::{CallCtx, CloudResult, CreateRule, CreateTargetGroup, Listener, ListenerRule, Reply, TargetGroup};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, HostHeaderConditionConfig, Matcher, Rule, RuleCondition, Tag, TargetDescription, TargetTypeEnum,
};

/// The condition field that matches host names.
const HOST_HEADER: &str = "host-header";

/// ELB counts are `i32` on the wire.
fn wire_count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The SDK's tags, `None` when there are none (nothing is sent then).
fn tags_of(tags: &[(String, String)]) -> Option<Vec<Tag>> {
    (!tags.is_empty()).then(|| tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

fn target_group_of(g: &aws_sdk_elasticloadbalancingv2::types::TargetGroup) -> TargetGroup {
    TargetGroup {
        arn: g.target_group_arn().unwrap_or_default().to_string(),
        name: g.target_group_name().unwrap_or_default().to_string(),
        target_type: g.target_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        health_check_path: g.health_check_path().map(str::to_string),
    }
}

/// A rule as the model has it: the hosts of its `host-header` conditions (the
/// condition's config, or the legacy `Values` of older rules) and the target groups
/// its forward actions name (directly, or in a forward config).
fn rule_of(r: &Rule) -> ListenerRule {
    let hosts = r
        .conditions()
        .iter()
        .filter(|c| c.field() == Some(HOST_HEADER))
        .flat_map(|c| match c.host_header_config() {
            Some(config) if !config.values().is_empty() => config.values(),
            _ => c.values(),
        })
        .cloned()
        .collect();
    let target_group_arns = r
        .actions()
        .iter()
        .filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
        .flat_map(|a| {
            let direct = a.target_group_arn().map(str::to_string);
            let weighted = a
                .forward_config()
                .map(|f| {
                    f.target_groups()
                        .iter()
                        .filter_map(|t| t.target_group_arn())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_else(Vec::new);
            direct.into_iter().chain(weighted)
        })
        .fold(Vec::new(), |mut arns: Vec<String>, arn| {
            if !arns.contains(&arn) {
                arns.push(arn);
            }
            arns
        });
    ListenerRule {
        arn: r.rule_arn().unwrap_or_default().to_string(),
        priority: r.priority().unwrap_or_default().to_string(),
        hosts,
        target_group_arns,
    }
}

#[async_trait::async_trait]
impl crate::cloud::ElbApi for AwsCloud {
    /// The named target groups (a missing name is AWS's `TargetGroupNotFound`); no
    /// names: every group, every page. The request id is the first page's.
    async fn describe_target_groups(&self, ctx: &CallCtx, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        let api = self.ctx_api("elasticloadbalancing", "DescribeTargetGroups", ctx);
        let clients = self.for_ctx(ctx);
        let names = (!names.is_empty()).then(|| names.to_vec());
        let mut groups = Vec::new();
        let mut request_id = None;
        let mut marker: Option<String> = None;
        loop {
            let out = clients
                .elb()
                .describe_target_groups()
                .set_names(names.clone())
                .set_page_size(self.page_size)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            groups.extend(out.target_groups().iter().map(target_group_of));
            match out.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(Reply { value: groups, request_id })
    }

    /// A target group of type lambda, its health check enabled as asked; tags only
    /// when there are some.
    async fn create_target_group(&self, ctx: &CallCtx, req: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        let api = self.ctx_api("elasticloadbalancing", "CreateTargetGroup", ctx);
        let check = &req.health_check;
        let out = self
            .for_ctx(ctx)
            .elb()
            .create_target_group()
            .name(&req.name)
            .target_type(TargetTypeEnum::Lambda)
            .health_check_enabled(true)
            .health_check_path(&check.path)
            .health_check_interval_seconds(wire_count(check.interval_seconds))
            .health_check_timeout_seconds(wire_count(check.timeout_seconds))
            .healthy_threshold_count(wire_count(check.healthy_threshold))
            .unhealthy_threshold_count(wire_count(check.unhealthy_threshold))
            .matcher(Matcher::builder().http_code(&check.matcher).build())
            .set_tags(tags_of(&req.tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(group) = out.target_groups().first() else {
            return Err(api.client_error("CreateTargetGroup answered without a target group".to_string()));
        };
        Ok(reply(target_group_of(group), &out))
    }

    async fn delete_target_group(&self, ctx: &CallCtx, arn: &str) -> CloudResult<()> {
        let api = self.ctx_api("elasticloadbalancing", "DeleteTargetGroup", ctx);
        let out = self
            .for_ctx(ctx)
            .elb()
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    /// RegisterTargets with the function as the one target.
    async fn register_target(&self, ctx: &CallCtx, target_group_arn: &str, function_arn: &str) -> CloudResult<()> {
        let api = self.ctx_api("elasticloadbalancing", "RegisterTargets", ctx);
        let out = self
            .for_ctx(ctx)
            .elb()
            .register_targets()
            .target_group_arn(target_group_arn)
            .targets(TargetDescription::builder().id(function_arn).build())
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    /// DescribeTargetHealth: the ids of the registered targets (function ARNs here).
    async fn describe_targets(&self, ctx: &CallCtx, target_group_arn: &str) -> CloudResult<Vec<String>> {
        let api = self.ctx_api("elasticloadbalancing", "DescribeTargetHealth", ctx);
        let out = self
            .for_ctx(ctx)
            .elb()
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let ids = out
            .target_health_descriptions()
            .iter()
            .filter_map(|d| d.target().and_then(|t| t.id()))
            .map(str::to_string)
            .collect();
        Ok(reply(ids, &out))
    }

    /// DescribeListeners of the one listener, then DescribeLoadBalancers of its load
    /// balancer for the DNS name. The request id is the first call's.
    async fn describe_listener(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Listener> {
        let api = self.ctx_api("elasticloadbalancing", "DescribeListeners", ctx);
        let clients = self.for_ctx(ctx);
        let out = clients
            .elb()
            .describe_listeners()
            .listener_arns(listener_arn)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(listener) = out.listeners().first() else {
            return Err(api.client_error(format!("DescribeListeners answered without the listener {listener_arn}")));
        };
        let load_balancer_arn = listener.load_balancer_arn().unwrap_or_default().to_string();
        let lb_api = self.ctx_api("elasticloadbalancing", "DescribeLoadBalancers", ctx);
        let balancers = clients
            .elb()
            .describe_load_balancers()
            .load_balancer_arns(&load_balancer_arn)
            .send()
            .await
            .map_err(|e| lb_api.error(e))?;
        let Some(balancer) = balancers.load_balancers().first() else {
            return Err(lb_api.client_error(format!(
                "DescribeLoadBalancers answered without the load balancer {load_balancer_arn}"
            )));
        };
        let value = Listener {
            arn: listener.listener_arn().unwrap_or(listener_arn).to_string(),
            dns_name: balancer.dns_name().unwrap_or_default().to_string(),
            load_balancer_arn,
        };
        Ok(reply(value, &out))
    }

    /// Every page of the listener's rules, the default rule included (priority
    /// `default`). The request id is the first page's.
    async fn describe_rules(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Vec<ListenerRule>> {
        let api = self.ctx_api("elasticloadbalancing", "DescribeRules", ctx);
        let clients = self.for_ctx(ctx);
        let mut rules = Vec::new();
        let mut request_id = None;
        let mut marker: Option<String> = None;
        loop {
            let out = clients
                .elb()
                .describe_rules()
                .listener_arn(listener_arn)
                .set_page_size(self.page_size)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            rules.extend(out.rules().iter().map(rule_of));
            match out.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(Reply { value: rules, request_id })
    }

    /// A rule forwarding requests for the hosts to the target group; tags only when
    /// there are some.
    async fn create_rule(&self, ctx: &CallCtx, req: &CreateRule) -> CloudResult<ListenerRule> {
        let api = self.ctx_api("elasticloadbalancing", "CreateRule", ctx);
        let condition = RuleCondition::builder()
            .field(HOST_HEADER)
            .host_header_config(HostHeaderConditionConfig::builder().set_values(Some(req.hosts.clone())).build())
            .build();
        let forward = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(&req.target_group_arn)
            .build();
        let out = self
            .for_ctx(ctx)
            .elb()
            .create_rule()
            .listener_arn(&req.listener_arn)
            .priority(wire_count(req.priority))
            .conditions(condition)
            .actions(forward)
            .set_tags(tags_of(&req.tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let Some(rule) = out.rules().first() else {
            return Err(api.client_error("CreateRule answered without a rule".to_string()));
        };
        Ok(reply(rule_of(rule), &out))
    }

    async fn delete_rule(&self, ctx: &CallCtx, rule_arn: &str) -> CloudResult<()> {
        let api = self.ctx_api("elasticloadbalancing", "DeleteRule", ctx);
        let out = self
            .for_ctx(ctx)
            .elb()
            .delete_rule()
            .rule_arn(rule_arn)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{ForwardActionConfig, TargetGroupTuple};

    #[test]
    fn rules_read_hosts_and_target_groups_in_every_shape() {
        let legacy = RuleCondition::builder().field(HOST_HEADER).values("old.example.com").build();
        let current = RuleCondition::builder()
            .field(HOST_HEADER)
            .host_header_config(HostHeaderConditionConfig::builder().values("new.example.com").build())
            .build();
        let path = RuleCondition::builder().field("path-pattern").values("/api/*").build();
        let weighted = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-b").weight(1).build())
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-a").weight(1).build())
                    .build(),
            )
            .build();
        let both = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn("tg-a")
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-a").build())
                    .build(),
            )
            .build();
        let fixed = Action::builder().r#type(ActionTypeEnum::FixedResponse).build();
        let rule = Rule::builder()
            .rule_arn("rule-1")
            .priority("10")
            .conditions(legacy)
            .conditions(path)
            .conditions(current)
            .actions(both)
            .actions(weighted)
            .actions(fixed)
            .build();
        assert_eq!(
            rule_of(&rule),
            ListenerRule {
                arn: "rule-1".into(),
                priority: "10".into(),
                hosts: vec!["old.example.com".into(), "new.example.com".into()],
                target_group_arns: vec!["tg-a".into(), "tg-b".into()],
            }
        );
    }
}
