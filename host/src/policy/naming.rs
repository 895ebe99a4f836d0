//! What a run-time variable in a resource pattern may be, as an IAM pattern: the
//! naming rules of the Lambda scope (a function is `<scope id>-<application
//! slug>-<scope slug>`, its log group `/aws/lambda/<function>`, its execution role
//! `<prefix><…>`), values the service's configuration fixes, and the account and
//! region an installation gives.

use std::collections::BTreeMap;

/// How variables are turned into patterns.
#[derive(Clone, Debug, Default)]
pub struct Naming {
    /// The service's configuration (values files): a variable set there is that value.
    pub config: BTreeMap<String, String>,
    /// The account and region to write into ARNs whose manifests leave them `*`.
    pub account: Option<String>,
    pub region: Option<String>,
}

impl Naming {
    /// The pattern `var` stands for; `None` when no rule knows it (the caller uses
    /// `*` and says so).
    pub fn pattern_of(&self, var: &str) -> Option<String> {
        if let Some(v) = self.config.get(var).filter(|v| !v.is_empty()) {
            return Some(v.clone());
        }
        let prefix = || {
            self.config
                .get("LAMBDA_EXECUTION_ROLE_PREFIX")
                .filter(|p| !p.is_empty())
                .cloned()
                .unwrap_or_else(|| "np-lambda-".into())
        };
        Some(match var {
            "LAMBDA_FUNCTION_NAME" => "*-*-*".into(),
            "LOG_GROUP_NAME" => "/aws/lambda/*-*-*".into(),
            "LAMBDA_EXECUTION_ROLE_NAME" => format!("{}*", prefix()),
            "SCOPE_ID" | "DEPLOYMENT_ID" | "APPLICATION_SLUG" | "SCOPE_SLUG" | "NAMESPACE_SLUG" => "*".into(),
            _ => return None,
        })
    }

    /// `pattern` with every `${VAR}` replaced, and the ARN's region and account
    /// filled in where they are `*` and known; the variables no rule knows (written
    /// as `*`).
    pub fn resolve(&self, pattern: &str) -> (String, Vec<String>) {
        let mut unknown = Vec::new();
        let out = crate::grants::replace_vars(pattern, &mut |var| {
            self.pattern_of(var).unwrap_or_else(|| {
                unknown.push(var.to_owned());
                "*".to_owned()
            })
        });
        (self.fill_arn(&out), unknown)
    }

    /// `arn:partition:service:region:account:resource` with `*` region/account
    /// replaced by the installation's (a global service's empty region stays empty).
    fn fill_arn(&self, arn: &str) -> String {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return arn.to_owned();
        }
        let region = match (&self.region, parts[3]) {
            (Some(r), "*") => r.as_str(),
            _ => parts[3],
        };
        let account = match (&self.account, parts[4]) {
            (Some(a), "*") => a.as_str(),
            _ => parts[4],
        };
        format!("arn:{}:{}:{region}:{account}:{}", parts[1], parts[2], parts[5])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_become_what_their_naming_rules_allow() {
        let naming = Naming {
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            ..Naming::default()
        };
        assert_eq!(
            naming.resolve("arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}:*").0,
            "arn:aws:lambda:us-east-1:123456789012:function:*-*-*:*"
        );
        assert_eq!(
            naming.resolve("arn:aws:iam::*:role/${LAMBDA_EXECUTION_ROLE_NAME}").0,
            "arn:aws:iam::123456789012:role/np-lambda-*",
            "IAM has no region"
        );
        let (resolved, unknown) = naming.resolve("arn:aws:s3:::${BUCKET}/x");
        assert_eq!((resolved.as_str(), unknown), ("arn:aws:s3:::*/x", vec!["BUCKET".to_owned()]));
        assert_eq!(naming.resolve("*").0, "*");
    }

    #[test]
    fn the_configuration_fixes_a_variable_and_the_role_prefix() {
        let naming = Naming {
            config: BTreeMap::from([
                ("LAMBDA_EXECUTION_ROLE_PREFIX".to_owned(), "acme-fn-".to_owned()),
                ("REPOSITORY".to_owned(), "placeholders".to_owned()),
            ]),
            ..Naming::default()
        };
        assert_eq!(
            naming.resolve("arn:aws:iam::*:role/${LAMBDA_EXECUTION_ROLE_NAME}").0,
            "arn:aws:iam::*:role/acme-fn-*"
        );
        assert_eq!(
            naming.resolve("arn:aws:ecr:*:*:repository/${REPOSITORY}").0,
            "arn:aws:ecr:*:*:repository/placeholders"
        );
    }
}
