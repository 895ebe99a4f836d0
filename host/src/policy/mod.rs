//! `scope-host policy`: the least-privilege IAM policy an installation's agent role
//! (or the role it assumes) needs to run a service's workflows, computed from what
//! each plugin declares. A manifest's resource patterns name run-time variables
//! (`${LAMBDA_FUNCTION_NAME}`); here each becomes the pattern its naming rule
//! allows ([`naming`]), statements are grouped and minimal, and the conditions AWS
//! needs are added (`iam:PassedToService` on `iam:PassRole`). The platform's
//! actions (`platform:*`) are the host's own and never part of it.

pub mod collect;
pub mod diff;
pub mod naming;

use crate::grants::{drop_covered, glob_contains, group_by_resources, is_platform_action};
use serde_json::{json, Value};

/// One (action, resource) a step needs, and who needs it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    pub action: String,
    /// The resource pattern, variables replaced by what their naming rules allow.
    pub resource: String,
    pub workflow: String,
    pub step: String,
    pub plugin: String,
}

/// Actions AWS authorizes only on `*` (no resource-level permissions): a `*`
/// resource for them is not a wide grant.
const ONLY_STAR: &[&str] = &[
    "sts:GetCallerIdentity",
    "tag:GetResources",
    "cloudwatch:GetMetricStatistics",
    "logs:DescribeLogGroups",
    "secretsmanager:ListSecrets",
    "ecr:GetAuthorizationToken",
    "ec2:Describe*",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "elasticloadbalancing:Describe*",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
];

/// The service AWS passes a role to, for `iam:PassRole`'s condition.
const PASSED_TO: &str = "lambda.amazonaws.com";

/// Warnings for grants wider than their actions need: `*` in an action, or a `*`
/// resource for an action that has resource-level permissions.
pub fn wide_grants(needs: &[Need]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut warnings = Vec::new();
    for n in needs.iter().filter(|n| !is_platform_action(&n.action)) {
        let wide_action = n.action.ends_with(":*") || n.action == "*";
        let wide_resource = n.resource == "*" && !ONLY_STAR.iter().any(|a| a.eq_ignore_ascii_case(&n.action));
        if (wide_action || wide_resource) && seen.insert((n.plugin.clone(), n.action.clone(), n.resource.clone())) {
            let what = if wide_action {
                "every action of the service"
            } else {
                "every resource"
            };
            warnings.push(format!(
                "plugin `{}` (step `{}`) declares `{}` on `{}`: {what}; narrow its manifest if it can",
                n.plugin, n.step, n.action, n.resource
            ));
        }
    }
    warnings
}

/// The IAM policy document (JSON) granting every need, minimal: pairs covered by
/// another dropped, statements sharing a resource list merged, `iam:PassRole` in a
/// statement of its own with its condition.
pub fn document(needs: &[Need]) -> Value {
    let mut pairs: Vec<(String, String)> = needs
        .iter()
        .filter(|n| !is_platform_action(&n.action))
        .map(|n| (n.action.clone(), n.resource.clone()))
        .collect();
    pairs.sort();
    pairs.dedup();
    let pairs = drop_covered(pairs, |outer, inner| {
        glob_contains(&outer.0.to_ascii_lowercase(), &inner.0.to_ascii_lowercase()) && glob_contains(&outer.1, &inner.1)
    });
    let (pass, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(a, _)| a.eq_ignore_ascii_case("iam:PassRole"));
    let mut statements: Vec<Value> = group_by_resources(&rest)
        .into_iter()
        .map(|(mut actions, resources)| {
            actions.sort();
            json!({"Sid": sid(&actions), "Effect": "Allow", "Action": actions, "Resource": resources})
        })
        .collect();
    if !pass.is_empty() {
        let mut resources: Vec<String> = pass.into_iter().map(|(_, r)| r).collect();
        resources.sort();
        statements.push(
            json!({"Sid": "PassExecutionRoleToLambda", "Effect": "Allow", "Action": ["iam:PassRole"],
            "Resource": resources, "Condition": {"StringEquals": {"iam:PassedToService": PASSED_TO}}}),
        );
    }
    statements.sort_by(|a, b| a["Sid"].as_str().cmp(&b["Sid"].as_str()));
    dedup_sids(&mut statements);
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A statement id from its actions' services: `LambdaIam`, `Logs` …
fn sid(actions: &[String]) -> String {
    let mut services: Vec<String> = actions.iter().map(|a| a.split(':').next().unwrap_or_default().to_owned()).collect();
    services.dedup();
    services
        .iter()
        .map(|s| {
            s.split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
                .collect::<String>()
        })
        .collect()
}

/// Statement ids are unique in a policy: repeats get a number.
fn dedup_sids(statements: &mut [Value]) {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for s in statements.iter_mut() {
        let base = s["Sid"].as_str().unwrap_or_default().to_owned();
        let n = counts.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            s["Sid"] = json!(format!("{base}{n}"));
        }
    }
}

/// The document as a Terraform `aws_iam_policy_document` data source.
pub fn terraform(doc: &Value, name: &str) -> String {
    let mut out = format!("data \"aws_iam_policy_document\" \"{name}\" {{\n");
    for s in doc["Statement"].as_array().into_iter().flatten() {
        out.push_str("  statement {\n");
        out.push_str(&format!("    sid       = {}\n", s["Sid"]));
        out.push_str("    effect    = \"Allow\"\n");
        out.push_str(&format!("    actions   = {}\n", hcl_list(&s["Action"])));
        out.push_str(&format!("    resources = {}\n", hcl_list(&s["Resource"])));
        if let Some(conditions) = s["Condition"].as_object() {
            for (test, vars) in conditions {
                for (variable, values) in vars.as_object().into_iter().flatten() {
                    out.push_str("    condition {\n");
                    out.push_str(&format!("      test     = {}\n", json!(test)));
                    out.push_str(&format!("      variable = {}\n", json!(variable)));
                    let values = if values.is_array() { values.clone() } else { json!([values]) };
                    out.push_str(&format!("      values   = {}\n", hcl_list(&values)));
                    out.push_str("    }\n");
                }
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// A JSON array of strings as an HCL list; `${` is escaped (`$${`) so Terraform
/// does not read a resource pattern as an interpolation.
fn hcl_list(v: &Value) -> String {
    let items: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| json!(s.as_str().unwrap_or_default()).to_string().replace("${", "$${"))
        .collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(action: &str, resource: &str) -> Need {
        Need {
            action: action.into(),
            resource: resource.into(),
            workflow: "scope/create".into(),
            step: "s".into(),
            plugin: "p".into(),
        }
    }

    #[test]
    fn statements_are_grouped_minimal_and_pass_role_carries_its_condition() {
        let doc = document(&[
            need("lambda:GetFunction", "arn:aws:lambda:*:*:function:*-*-*"),
            need("lambda:UpdateFunctionCode", "arn:aws:lambda:*:*:function:*-*-*"),
            need("lambda:GetFunction", "arn:aws:lambda:*:*:function:1-a-b"),
            need("iam:PassRole", "arn:aws:iam::*:role/np-lambda-*"),
            need("platform:PatchScope", "*"),
            need("sts:GetCallerIdentity", "*"),
        ]);
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 3, "{doc}");
        let lambda = statements.iter().find(|s| s["Sid"] == "Lambda").unwrap();
        assert_eq!(lambda["Action"], json!(["lambda:GetFunction", "lambda:UpdateFunctionCode"]));
        assert_eq!(
            lambda["Resource"],
            json!(["arn:aws:lambda:*:*:function:*-*-*"]),
            "the covered pair is dropped"
        );
        let pass = statements.iter().find(|s| s["Action"] == json!(["iam:PassRole"])).unwrap();
        assert_eq!(pass["Condition"]["StringEquals"]["iam:PassedToService"], "lambda.amazonaws.com");
        assert!(!doc.to_string().contains("platform:"), "the platform's actions are the host's");
    }

    #[test]
    fn wide_grants_are_named_once_and_star_only_actions_are_not() {
        let warnings = wide_grants(&[
            need("ecr:*", "arn:aws:ecr:*:*:repository/x"),
            need("ecr:*", "arn:aws:ecr:*:*:repository/x"),
            need("iam:GetRole", "*"),
            need("tag:GetResources", "*"),
        ]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("`ecr:*`") && warnings[0].contains("every action"));
        assert!(warnings[1].contains("`iam:GetRole` on `*`: every resource"));
    }

    #[test]
    fn terraform_escapes_interpolation_and_keeps_conditions() {
        let doc = document(&[need("iam:PassRole", "arn:aws:iam::*:role/${X}")]);
        let tf = terraform(&doc, "scope_host");
        assert!(tf.contains("data \"aws_iam_policy_document\" \"scope_host\" {"), "{tf}");
        assert!(tf.contains("$${X}"), "{tf}");
        assert!(tf.contains("variable = \"iam:PassedToService\""), "{tf}");
    }
}
