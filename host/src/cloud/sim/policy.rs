//! The small part of IAM policy evaluation the sim needs: wildcard matching, session
//! policies (Action and Resource) and role trust policies (Principal.AWS).
//!
//! Statements that carry a `Condition`, `NotAction`, `NotResource` or `NotPrincipal`
//! are skipped: the sim has no request context to evaluate them, and skipping an
//! `Allow` errs on the side of refusing, as AWS would without the context.

use serde_json::Value;

/// IAM wildcard matching (`*` any run of characters, `?` exactly one): the one
/// matcher of the host, the grants' own, so that the simulated AWS and the host's
/// grant check can never disagree on what a pattern covers. Actions compare
/// case-insensitively, ARNs exactly.
pub(super) fn glob_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if ignore_case {
        crate::grants::action_matches(pattern, text)
    } else {
        crate::grants::glob_matches(pattern, text)
    }
}

/// The outcome of evaluating a policy for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// A policy's statements: `Statement` may be one object or a list.
fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// A string-or-list-of-strings element (`Action`, `Resource`, `Principal.AWS`).
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn effect(statement: &Value) -> Option<Decision> {
    match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Some(Decision::Allow),
        Some("Deny") => Some(Decision::ExplicitDeny),
        _ => None,
    }
}

/// Whether the sim can evaluate the statement at all (see the module docs).
fn evaluable(statement: &Value) -> bool {
    ["Condition", "NotAction", "NotResource", "NotPrincipal"]
        .iter()
        .all(|k| statement.get(k).is_none())
}

fn matches_action(statement: &Value, action: &str) -> bool {
    strings(statement.get("Action")).iter().any(|p| glob_match(p, action, true))
}

/// Evaluates an identity-style policy (a session policy) for `action` on `resource`:
/// an explicit deny wins, then any allow.
pub(super) fn evaluate(policy: &Value, action: &str, resource: &str) -> Decision {
    let mut decision = Decision::ImplicitDeny;
    for statement in statements(policy).into_iter().filter(|s| evaluable(s)) {
        let Some(effect) = effect(statement) else {
            continue;
        };
        let resource_matches = strings(statement.get("Resource")).iter().any(|p| glob_match(p, resource, false));
        if !(matches_action(statement, action) && resource_matches) {
            continue;
        }
        if effect == Decision::ExplicitDeny {
            return Decision::ExplicitDeny;
        }
        decision = Decision::Allow;
    }
    decision
}

/// Whether a role's trust policy lets a caller known by `principals` (its account id,
/// `arn:aws:iam::<acct>:root`, its ARN, and for a role session the role's ARN) call
/// `sts:AssumeRole`. An explicit deny wins; a `*` principal matches anyone.
pub(super) fn trust_allows(policy: &Value, principals: &[String]) -> bool {
    let mut allowed = false;
    for statement in statements(policy).into_iter().filter(|s| evaluable(s)) {
        let Some(effect) = effect(statement) else {
            continue;
        };
        if !matches_action(statement, "sts:AssumeRole") {
            continue;
        }
        let named: Vec<&str> = match statement.get("Principal") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Object(map)) => strings(map.get("AWS")),
            _ => Vec::new(),
        };
        if !named.iter().any(|p| *p == "*" || principals.iter().any(|c| c == p)) {
            continue;
        }
        if effect == Decision::ExplicitDeny {
            return false;
        }
        allowed = true;
    }
    allowed
}

/// Whether `policy` is shaped like an IAM policy: an object with a `Statement` list.
pub(super) fn has_statement_list(policy: &Value) -> bool {
    matches!(policy.get("Statement"), Some(Value::Array(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn glob_matching_follows_iam_wildcards() {
        let cases = [
            ("lambda:*", "lambda:GetFunction", true, true),
            ("lambda:Get*", "lambda:GetFunction", true, true),
            ("lambda:Get*", "lambda:UpdateAlias", true, false),
            ("LAMBDA:getfunction", "lambda:GetFunction", true, true),
            ("LAMBDA:getfunction", "lambda:GetFunction", false, false),
            ("lambda:GetFunctio?", "lambda:GetFunction", true, true),
            ("lambda:GetFunctio?", "lambda:GetFunctionConfiguration", true, false),
            ("*", "anything:AtAll", true, true),
            ("ecr:*Policy", "ecr:GetRepositoryPolicy", true, true),
            ("ecr:*Policy", "ecr:GetRepositoryPolicyX", true, false),
            ("a*b*c", "aXXbYYc", false, true),
            ("a*b*c", "aXXbYY", false, false),
            ("", "", false, true),
            ("", "x", false, false),
        ];
        for (pattern, text, ignore_case, want) in cases {
            assert_eq!(glob_match(pattern, text, ignore_case), want, "{pattern} vs {text}");
        }
    }

    #[test]
    fn session_policy_evaluation_denies_by_default_and_on_explicit_deny() {
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["lambda:Get*"], "Resource": "arn:aws:lambda:*:*:function:app*"},
            {"Effect": "Deny", "Action": "lambda:GetPolicy", "Resource": "*"},
            {"Effect": "Allow", "Action": "lambda:*", "Resource": "*", "Condition": {"Bool": {"x": "true"}}}
        ]});
        let arn = "arn:aws:lambda:us-east-1:1:function:app";
        assert_eq!(evaluate(&policy, "lambda:GetFunction", arn), Decision::Allow);
        assert_eq!(
            evaluate(&policy, "lambda:GetFunction", "arn:aws:lambda:us-east-1:1:function:other"),
            Decision::ImplicitDeny
        );
        assert_eq!(evaluate(&policy, "lambda:GetPolicy", arn), Decision::ExplicitDeny);
        // The conditional allow is skipped rather than granted.
        assert_eq!(evaluate(&policy, "lambda:UpdateAlias", arn), Decision::ImplicitDeny);
    }

    #[test]
    fn trust_policy_matches_principals_in_every_form() {
        let me = vec!["111111111111".to_string(), "arn:aws:iam::111111111111:user/me".to_string()];
        let trusts = |principal: Value, action: &str| json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]});
        assert!(trust_allows(&trusts(json!({"AWS": "111111111111"}), "sts:AssumeRole"), &me));
        assert!(trust_allows(
            &trusts(json!({"AWS": ["x", "arn:aws:iam::111111111111:user/me"]}), "sts:*"),
            &me
        ));
        assert!(trust_allows(&trusts(json!("*"), "*"), &me));
        assert!(trust_allows(&trusts(json!({"AWS": "*"}), "sts:AssumeRole"), &me));
        assert!(!trust_allows(&trusts(json!({"AWS": "222222222222"}), "sts:AssumeRole"), &me));
        assert!(!trust_allows(
            &trusts(json!({"Service": "lambda.amazonaws.com"}), "sts:AssumeRole"),
            &me
        ));
        assert!(!trust_allows(&trusts(json!({"AWS": "111111111111"}), "sts:TagSession"), &me));
        let denied = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}
        ]});
        assert!(!trust_allows(&denied, &me));
    }
}
