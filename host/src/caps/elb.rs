//! `elb`: Elastic Load Balancing v2, a function behind a listener rule. Describe
//! actions have no resource-level permissions in IAM (checked on `*`); the others
//! are authorized on the target group, listener or rule ARN they change.

use super::view::CapsCtx;
use super::Answer;
use super::{need, Op, StepHost};
use crate::bindings::elb as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

const fn op(operation: &'static str) -> Op {
    Op {
        service: "elasticloadbalancing",
        operation,
    }
}

/// Target group names: 1–32 letters, digits and hyphens, not starting or ending
/// with a hyphen.
fn is_target_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl StepHost {
    /// An ELB ARN of the given kind (`targetgroup`, `listener`, `listener-rule`).
    fn elb_arn(&mut self, o: Op, arn: &str, kind: &str) -> Result<String, CallError> {
        let ok = arn.starts_with("arn:aws:elasticloadbalancing:") && arn.contains(&format!(":{kind}/"));
        if ok {
            Ok(arn.to_owned())
        } else {
            Err(self.invalid(o, arn, format!("`{arn}` is not an ELB {kind} ARN")))
        }
    }
}

fn to_wit_group(g: m::TargetGroup) -> wit::TargetGroup {
    wit::TargetGroup {
        arn: g.arn,
        name: g.name,
        target_type: g.target_type,
        health_check_path: g.health_check_path,
    }
}

fn to_wit_rule(r: m::ListenerRule) -> wit::Rule {
    wit::Rule {
        arn: r.arn,
        priority: r.priority,
        hosts: r.hosts,
        target_group_arns: r.target_group_arns,
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn describe_target_groups(&mut self, names: Vec<String>) -> Answer<Vec<wit::TargetGroup>> {
        const OP: Op = op("DescribeTargetGroups");
        let h = &mut *self.host;
        if let Some(bad) = names.iter().find(|n| !is_target_group_name(n)) {
            return Ok(Err(h.invalid(OP, "*", format!("`{bad}` is not a target group name"))));
        }
        let found = h
            .checked(OP, &[need(OP, "*")], |c, ctx| async move {
                c.elb.describe_target_groups(&ctx, &names).await
            })
            .await;
        Ok(found.map(|v| v.into_iter().map(to_wit_group).collect()))
    }

    async fn create_target_group(
        &mut self,
        name: String,
        health_check: wit::HealthCheck,
        tags: Vec<(String, String)>,
    ) -> Answer<wit::TargetGroup> {
        const OP: Op = op("CreateTargetGroup");
        let h = &mut *self.host;
        let resource = format!("arn:aws:elasticloadbalancing:{}:{}:targetgroup/{name}/*", h.region(), h.account());
        if !is_target_group_name(&name) {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("`{name}` is not a target group name (1–32 letters, digits and hyphens, no hyphen at either end)"),
            )));
        }
        let mut needs = vec![need(OP, resource.clone())];
        if !tags.is_empty() {
            needs.push(("elasticloadbalancing:AddTags".into(), resource));
        }
        let req = m::CreateTargetGroup {
            name,
            health_check: m::HealthCheck {
                path: health_check.path,
                interval_seconds: health_check.interval_seconds,
                timeout_seconds: health_check.timeout_seconds,
                healthy_threshold: health_check.healthy_threshold,
                unhealthy_threshold: health_check.unhealthy_threshold,
                matcher: health_check.matcher,
            },
            tags,
        };
        let group = h
            .checked(OP, &needs, |c, ctx| async move { c.elb.create_target_group(&ctx, &req).await })
            .await;
        Ok(group.map(to_wit_group))
    }

    async fn delete_target_group(&mut self, target_group_arn: String) -> Answer<()> {
        const OP: Op = op("DeleteTargetGroup");
        let h = &mut *self.host;
        let arn = try_call!(h.elb_arn(OP, &target_group_arn, "targetgroup"));
        Ok(h.checked(OP, &[need(OP, arn)], |c, ctx| async move {
            c.elb.delete_target_group(&ctx, &target_group_arn).await
        })
        .await)
    }

    async fn register_target(&mut self, target_group_arn: String, function_arn: String) -> Answer<()> {
        const OP: Op = op("RegisterTargets");
        let h = &mut *self.host;
        let arn = try_call!(h.elb_arn(OP, &target_group_arn, "targetgroup"));
        if !function_arn.starts_with("arn:aws:lambda:") {
            return Ok(Err(h.invalid(OP, &arn, format!("`{function_arn}` is not a Lambda function ARN"))));
        }
        Ok(h.checked(OP, &[need(OP, arn)], |c, ctx| async move {
            c.elb.register_target(&ctx, &target_group_arn, &function_arn).await
        })
        .await)
    }

    async fn describe_targets(&mut self, target_group_arn: String) -> Answer<Vec<String>> {
        const OP: Op = op("DescribeTargetHealth");
        let h = &mut *self.host;
        try_call!(h.elb_arn(OP, &target_group_arn, "targetgroup"));
        Ok(h.checked(OP, &[need(OP, "*")], |c, ctx| async move {
            c.elb.describe_targets(&ctx, &target_group_arn).await
        })
        .await)
    }

    async fn describe_listener(&mut self, listener_arn: String) -> Answer<wit::Listener> {
        const OP: Op = op("DescribeListeners");
        let h = &mut *self.host;
        try_call!(h.elb_arn(OP, &listener_arn, "listener"));
        try_call!(h.authorize(
            OP,
            &[need(OP, "*"), ("elasticloadbalancing:DescribeLoadBalancers".into(), "*".into())]
        ));
        let found = h
            .send(OP, "*", |c, ctx| async move { c.elb.describe_listener(&ctx, &listener_arn).await })
            .await;
        Ok(found.map(|l| wit::Listener {
            arn: l.arn,
            load_balancer_arn: l.load_balancer_arn,
            dns_name: l.dns_name,
        }))
    }

    async fn describe_rules(&mut self, listener_arn: String) -> Answer<Vec<wit::Rule>> {
        const OP: Op = op("DescribeRules");
        let h = &mut *self.host;
        try_call!(h.elb_arn(OP, &listener_arn, "listener"));
        let found = h
            .checked(OP, &[need(OP, "*")], |c, ctx| async move {
                c.elb.describe_rules(&ctx, &listener_arn).await
            })
            .await;
        Ok(found.map(|v| v.into_iter().map(to_wit_rule).collect()))
    }

    async fn create_rule(
        &mut self,
        listener_arn: String,
        priority: u32,
        hosts: Vec<String>,
        target_group_arn: String,
        tags: Vec<(String, String)>,
    ) -> Answer<wit::Rule> {
        const OP: Op = op("CreateRule");
        let h = &mut *self.host;
        let listener = try_call!(h.elb_arn(OP, &listener_arn, "listener"));
        try_call!(h.elb_arn(OP, &target_group_arn, "targetgroup"));
        if !(1..=50_000).contains(&priority) {
            return Ok(Err(h.invalid(
                OP,
                &listener,
                format!("rule priority {priority} is outside 1–50000"),
            )));
        }
        if hosts.is_empty() || hosts.iter().any(|host| host.is_empty() || host.contains(char::is_whitespace)) {
            return Ok(Err(h.invalid(
                OP,
                &listener,
                format!("{hosts:?} are not host names for a host-header rule"),
            )));
        }
        let mut needs = vec![need(OP, listener.clone())];
        if !tags.is_empty() {
            needs.push(("elasticloadbalancing:AddTags".into(), listener));
        }
        let req = m::CreateRule {
            listener_arn,
            priority,
            hosts,
            target_group_arn,
            tags,
        };
        let rule = h
            .checked(OP, &needs, |c, ctx| async move { c.elb.create_rule(&ctx, &req).await })
            .await;
        Ok(rule.map(to_wit_rule))
    }

    async fn delete_rule(&mut self, rule_arn: String) -> Answer<()> {
        const OP: Op = op("DeleteRule");
        let h = &mut *self.host;
        let arn = try_call!(h.elb_arn(OP, &rule_arn, "listener-rule"));
        Ok(h.checked(
            OP,
            &[need(OP, arn)],
            |c, ctx| async move { c.elb.delete_rule(&ctx, &rule_arn).await },
        )
        .await)
    }
}
