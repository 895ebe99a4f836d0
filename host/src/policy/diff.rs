//! `scope-host policy diff`: what a given IAM policy lacks for the service's
//! workflows (each missing action on each resource, with the steps that need it)
//! and what it grants that no step uses.

use super::Need;
use crate::grants::{glob_contains, is_platform_action};
use serde_json::Value;

/// One `Allow` statement of a policy, as patterns.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub sid: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// The `Allow` statements of an IAM policy document; what the diff cannot judge
/// (`Deny`, `NotAction`, `NotResource`) is refused, saying so.
pub fn parse(text: &str) -> Result<Vec<Statement>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            crate::json_error::message(&e)
        )
    })?;
    let statements = match &doc["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Object(_) => vec![doc["Statement"].clone()],
        _ => return Err("no `Statement`: an IAM policy document is {\"Version\": …, \"Statement\": […]}".into()),
    };
    let strings = |v: &Value, what: &str, at: usize| -> Result<Vec<String>, String> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("statement {at}: `{what}` holds {i}, not a string"))
                })
                .collect(),
            _ => Err(format!("statement {at}: no `{what}`")),
        }
    };
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let at = i + 1;
        for unsupported in ["NotAction", "NotResource", "NotPrincipal"] {
            if s.get(unsupported).is_some() {
                return Err(format!("statement {at} uses `{unsupported}`, which the diff does not judge"));
            }
        }
        match s["Effect"].as_str() {
            Some("Allow") => {}
            Some("Deny") => return Err(format!("statement {at} is a Deny, which the diff does not judge")),
            other => return Err(format!("statement {at}: `Effect` is {other:?}, not Allow")),
        }
        out.push(Statement {
            sid: s["Sid"].as_str().map(str::to_owned).unwrap_or_else(|| format!("statement {at}")),
            actions: strings(&s["Action"], "Action", at)?,
            resources: strings(&s["Resource"], "Resource", at)?,
        });
    }
    Ok(out)
}

/// Whether `pattern` allows every action `action` stands for (both may hold `*`).
fn action_covers(pattern: &str, action: &str) -> bool {
    glob_contains(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// What the policy lacks and what it grants beyond need.
#[derive(Debug, Default, PartialEq)]
pub struct Diff {
    /// (action, resource, who needs it: `workflow step (plugin)`…).
    pub missing: Vec<(String, String, Vec<String>)>,
    /// (statement, action, resource) granting nothing any step needs.
    pub unused: Vec<(String, String, String)>,
}

pub fn diff(needs: &[Need], policy: &[Statement]) -> Diff {
    let mut out = Diff::default();
    for n in needs.iter().filter(|n| !is_platform_action(&n.action)) {
        let covered = policy
            .iter()
            .any(|s| s.actions.iter().any(|a| action_covers(a, &n.action)) && s.resources.iter().any(|r| glob_contains(r, &n.resource)));
        if covered {
            continue;
        }
        let who = format!("{} {} ({})", n.workflow, n.step, n.plugin);
        match out.missing.iter_mut().find(|(a, r, _)| *a == n.action && *r == n.resource) {
            Some((_, _, whos)) => {
                if !whos.contains(&who) {
                    whos.push(who);
                }
            }
            None => out.missing.push((n.action.clone(), n.resource.clone(), vec![who])),
        }
    }
    for s in policy {
        for a in &s.actions {
            for r in &s.resources {
                // Used when some need falls within both patterns (either way round:
                // a need may itself be a pattern).
                let used = needs.iter().any(|n| {
                    (action_covers(a, &n.action) || action_covers(&n.action, a))
                        && (glob_contains(r, &n.resource) || glob_contains(&n.resource, r))
                });
                if !used {
                    out.unused.push((s.sid.clone(), a.clone(), r.clone()));
                }
            }
        }
    }
    out.missing.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(action: &str, resource: &str, step: &str) -> Need {
        Need {
            action: action.into(),
            resource: resource.into(),
            workflow: "scope/delete".into(),
            step: step.into(),
            plugin: step.replace('_', "-"),
        }
    }

    #[test]
    fn a_list_scoped_to_a_secret_is_missing_and_an_unused_grant_is_named() {
        let policy = parse(
            r#"{"Version": "2012-10-17", "Statement": [
                {"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:ListSecrets", "secretsmanager:DeleteSecret"],
                 "Resource": "arn:aws:secretsmanager:*:*:secret:nullplatform/*"},
                {"Sid": "Lambda", "Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
                {"Sid": "Old", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::tfstate/*"}]}"#,
        )
        .unwrap();
        let needs = [
            need("secretsmanager:ListSecrets", "*", "remove_secrets"),
            need(
                "secretsmanager:DeleteSecret",
                "arn:aws:secretsmanager:*:*:secret:nullplatform/*/*",
                "remove_secrets",
            ),
            need("lambda:DeleteFunction", "arn:aws:lambda:*:*:function:*-*-*", "remove_function"),
            need("ec2:DescribeSubnets", "*", "ensure_function"),
        ];
        let d = diff(&needs, &policy);
        let missing: Vec<(&str, &str)> = d.missing.iter().map(|(a, r, _)| (a.as_str(), r.as_str())).collect();
        assert_eq!(missing, [("ec2:DescribeSubnets", "*"), ("secretsmanager:ListSecrets", "*")]);
        assert_eq!(d.missing[1].2, ["scope/delete remove_secrets (remove-secrets)"]);
        assert_eq!(
            d.unused,
            [("Old".to_owned(), "s3:PutObject".to_owned(), "arn:aws:s3:::tfstate/*".to_owned())]
        );
    }

    #[test]
    fn what_the_diff_cannot_judge_is_refused_with_why() {
        assert!(parse(r#"{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#)
            .unwrap_err()
            .contains("Deny"));
        assert!(
            parse(r#"{"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}"#)
                .unwrap_err()
                .contains("NotAction")
        );
        assert!(parse("{").unwrap_err().contains("line 1"));
    }
}
