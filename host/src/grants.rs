//! Least privilege: a call is allowed only when the plugin declared it *and* the
//! operator's policy grants it. Both sides are lists of (action, resource pattern);
//! patterns use IAM globbing (`*`, `?`) and may name variables (`${NAME}`) that are
//! resolved when the call is made. Anything unresolved or unmatched is denied.

use crate::manifest::Capability;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

/// A refusal: what was asked for, on what, and what would allow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub action: String,
    pub resource: String,
    pub reason: String,
}

/// One statement of the operator policy.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub action: String,
    #[serde(default = "any_resource")]
    pub resource: String,
}

fn any_resource() -> String {
    "*".to_owned()
}

/// The operator's policy: what any plugin may be granted.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub allow: Vec<Statement>,
}

/// Why a policy could not be read.
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("reading policy {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("policy {path} line {line} column {column}: {message} (expected {{\"allow\": [{{\"action\": \"lambda:GetFunction\", \"resource\": \"arn:…\"}}]}})")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("grant `{0}` is not `service:Action[=resource-pattern]` (e.g. `lambda:GetFunction=arn:aws:lambda:*:*:function:my-fn`)")]
    Flag(String),
    #[error("policy {path}: {message}")]
    Invalid { path: String, message: String },
}

impl Policy {
    /// Grants whatever a plugin declares. The default for local runs: the check
    /// against each plugin's own declaration still applies to every call.
    pub fn allow_all() -> Self {
        Policy {
            allow: vec![Statement {
                action: "*".into(),
                resource: "*".into(),
            }],
        }
    }

    /// Reads a JSON policy file: `{"allow": [{"action": …, "resource": …}]}`.
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read { path: p.clone(), source })?;
        let policy: Policy = serde_json::from_str(&text).map_err(|e| PolicyError::Syntax {
            path: p.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        policy.validate(&p)?;
        Ok(policy)
    }

    /// Refuses statements whose action is not `service:Action` (or `*`) or whose
    /// resource pattern has a malformed `${…}`; `origin` names the policy in errors.
    pub fn validate(&self, origin: &str) -> Result<(), PolicyError> {
        for s in &self.allow {
            if !s.action.contains(':') && s.action != "*" {
                return Err(PolicyError::Invalid {
                    path: origin.to_owned(),
                    message: format!("action `{}` is not `service:Action`", s.action),
                });
            }
            pattern_variables(&s.resource).map_err(|e| PolicyError::Invalid {
                path: origin.to_owned(),
                message: format!("resource `{}`: {e}", s.resource),
            })?;
        }
        Ok(())
    }

    /// Builds a policy from `--grant ACTION[=RESOURCE]` flags.
    pub fn from_flags<S: AsRef<str>>(flags: &[S]) -> Result<Self, PolicyError> {
        let mut allow = Vec::new();
        for flag in flags {
            let flag = flag.as_ref();
            let (action, resource) = flag.split_once('=').unwrap_or((flag, "*"));
            if !(action == "*" || action.split_once(':').is_some_and(|(s, a)| !s.is_empty() && !a.is_empty())) || resource.is_empty() {
                return Err(PolicyError::Flag(flag.to_owned()));
            }
            allow.push(Statement {
                action: action.to_owned(),
                resource: resource.to_owned(),
            });
        }
        Ok(Policy { allow })
    }

    /// Adds another policy's statements to this one.
    pub fn extend(&mut self, other: Policy) {
        self.allow.extend(other.allow);
    }
}

/// What one plugin may do in one step: its declaration ∩ the operator policy.
#[derive(Clone, Debug)]
pub struct Grant {
    plugin: String,
    declared: Arc<[Capability]>,
    policy: Arc<Policy>,
}

impl Grant {
    pub fn new(plugin: &str, declared: &[Capability], policy: Arc<Policy>) -> Self {
        Grant {
            plugin: plugin.to_owned(),
            declared: declared.into(),
            policy,
        }
    }

    /// Allows the call, or says which side lacks the grant and how to add it.
    /// `var` resolves `${NAME}` in patterns; an unset variable matches nothing.
    pub fn check(&self, action: &str, resource: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<(), Denial> {
        let deny = |reason: String| Denial {
            action: action.to_owned(),
            resource: resource.to_owned(),
            reason,
        };
        let mut unresolved = Vec::new();
        let declared = self.declared.iter().any(|cap| {
            action_matches(&cap.action, action)
                && match resolve(&cap.resource, var) {
                    Ok(pattern) => glob_matches(&pattern, resource),
                    Err(missing) => {
                        unresolved.push((cap.resource.clone(), missing));
                        false
                    }
                }
        });
        if !declared {
            let mut reason = format!("plugin `{}` does not declare `{action}` on `{resource}`", self.plugin);
            let for_action: Vec<&str> = self
                .declared
                .iter()
                .filter(|c| action_matches(&c.action, action))
                .map(|c| c.resource.as_str())
                .collect();
            if !unresolved.is_empty() {
                let (pattern, var) = &unresolved[0];
                reason.push_str(&format!("; its pattern `{pattern}` needs variable `{var}`, which is not set"));
            } else if for_action.is_empty() {
                reason.push_str(&format!(
                    "; add {{\"action\": \"{action}\", \"resource\": \"{resource}\"}} to the plugin's manifest capabilities"
                ));
            } else {
                reason.push_str(&format!(
                    "; it declares `{action}` only on {}",
                    for_action.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                ));
            }
            return Err(deny(reason));
        }
        let granted = self
            .policy
            .allow
            .iter()
            .any(|s| action_matches(&s.action, action) && resolve(&s.resource, var).is_ok_and(|p| glob_matches(&p, resource)));
        if !granted {
            return Err(deny(format!(
                "the operator policy does not grant `{action}` on `{resource}` to plugin `{}`; add {{\"action\": \"{action}\", \"resource\": \"{resource}\"}} to the policy file (--policy) or pass --grant '{action}={resource}'",
                self.plugin
            )));
        }
        Ok(())
    }

    /// Declared capabilities the operator policy grants nowhere, for `check` and
    /// up-front warnings (variables are not resolved: a statement counts when its
    /// action matches and its resource is `*` or the same pattern).
    pub fn ungranted(&self) -> Vec<Capability> {
        self.declared
            .iter()
            .filter(|cap| {
                !self.policy.allow.iter().any(|s| {
                    action_matches(&s.action, &cap.action)
                        && (s.resource == "*" || s.resource == cap.resource || glob_matches(&s.resource, &cap.resource))
                })
            })
            .cloned()
            .collect()
    }
}

/// AWS's limit on an inline session policy, in characters of compact JSON.
pub const SESSION_POLICY_LIMIT: usize = 2048;

impl Grant {
    /// The grant as an IAM session policy: every declared capability the operator
    /// policy also grants, with variables resolved, narrowed to the more specific of
    /// the two patterns. AWS then enforces the same least privilege the host does, so
    /// a host bug cannot widen what a step's session may do.
    ///
    /// Capabilities whose variables are unset are left out (the host would deny them
    /// too). Where neither pattern contains the other the declaration is kept: the
    /// session is then wider than the grant, never wider than the declaration, and the
    /// host's own check still applies. `None` when nothing is granted.
    pub fn session_policy(&self, var: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for cap in self.declared.iter() {
            let Ok(declared) = resolve(&cap.resource, var) else { continue };
            for s in &self.policy.allow {
                let Ok(granted) = resolve(&s.resource, var) else { continue };
                let action = if action_matches(&s.action, &cap.action) {
                    cap.action.clone()
                } else if action_matches(&cap.action, &s.action) {
                    s.action.clone()
                } else {
                    continue;
                };
                let resource = if glob_matches(&granted, &declared) {
                    declared.clone()
                } else if glob_matches(&declared, &granted) {
                    granted
                } else if patterns_may_overlap(&declared, &granted) {
                    declared.clone()
                } else {
                    continue;
                };
                if !pairs.contains(&(action.clone(), resource.clone())) {
                    pairs.push((action, resource));
                }
            }
        }
        if pairs.is_empty() {
            return Ok(None);
        }
        let grouped = policy_document(group_by_resources(&pairs));
        if grouped.len() <= SESSION_POLICY_LIMIT {
            return Ok(Some(grouped));
        }
        // Too long for AWS: one statement of every action on every resource is
        // shorter, and still inside the declaration's actions and resources.
        let mut actions: Vec<String> = pairs.iter().map(|p| p.0.clone()).collect();
        let mut resources: Vec<String> = pairs.iter().map(|p| p.1.clone()).collect();
        actions.sort();
        actions.dedup();
        resources.sort();
        resources.dedup();
        let flat = policy_document(vec![(actions, resources)]);
        if flat.len() <= SESSION_POLICY_LIMIT {
            return Ok(Some(flat));
        }
        Err(format!(
            "plugin `{}` is granted {} (action, resource) pairs; as a session policy that is {} characters, more than AWS's {SESSION_POLICY_LIMIT}: declare fewer, broader capabilities",
            self.plugin,
            pairs.len(),
            flat.len()
        ))
    }
}

/// Whether two globs could match a common text: their literal prefixes up to the
/// first wildcard agree. (A cheap test; a false "maybe" only keeps a declaration.)
fn patterns_may_overlap(a: &str, b: &str) -> bool {
    let prefix = |p: &str| p.split(['*', '?']).next().unwrap_or("").to_owned();
    let (pa, pb) = (prefix(a), prefix(b));
    pa.starts_with(&pb) || pb.starts_with(&pa)
}

/// Statements sharing a resource list become one: `[(actions, resources)]`.
fn group_by_resources(pairs: &[(String, String)]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut by_action: Vec<(String, Vec<String>)> = Vec::new();
    for (action, resource) in pairs {
        match by_action.iter_mut().find(|(a, _)| a == action) {
            Some((_, rs)) => rs.push(resource.clone()),
            None => by_action.push((action.clone(), vec![resource.clone()])),
        }
    }
    let mut statements: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for (action, mut resources) in by_action {
        resources.sort();
        match statements.iter_mut().find(|(_, rs)| *rs == resources) {
            Some((actions, _)) => actions.push(action),
            None => statements.push((vec![action], resources)),
        }
    }
    statements
}

/// Compact IAM policy JSON.
fn policy_document(statements: Vec<(Vec<String>, Vec<String>)>) -> String {
    let statements: Vec<serde_json::Value> = statements
        .into_iter()
        .map(|(actions, resources)| serde_json::json!({"Effect": "Allow", "Action": actions, "Resource": resources}))
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// IAM action matching: case-insensitive glob over `service:Action`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob_matches(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// IAM globbing: `*` any run of characters (also none), `?` exactly one.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The variable names a pattern uses, or why its `${…}` syntax is wrong.
pub fn pattern_variables(pattern: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("unclosed `${{` in `{pattern}`"))?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`${{{name}}}` is not a variable reference"));
        }
        names.push(name.to_owned());
        rest = &after[end + 1..];
    }
    Ok(names)
}

/// Substitutes `${NAME}`; the first unset name is the error. A value's own glob
/// characters are kept literal by refusing them (a variable cannot widen a grant).
fn resolve(pattern: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return Err(after.to_owned()) };
        let name = &after[..end];
        match var(name) {
            Some(v) if !v.is_empty() && !v.contains(['*', '?']) => out.push_str(&v),
            _ => return Err(name.to_owned()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(action: &str, resource: &str) -> Capability {
        Capability {
            action: action.into(),
            resource: resource.into(),
        }
    }

    #[test]
    fn glob_table() {
        for (p, t, want) in [
            ("*", "", true),
            ("arn:*:function:f", "arn:aws:lambda:us-east-1:1:function:f", true),
            ("arn:*:function:f", "arn:aws:lambda:us-east-1:1:function:f:3", false),
            ("arn:*:function:f:*", "arn:aws:lambda:us-east-1:1:function:f:3", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ] {
            assert_eq!(glob_matches(p, t), want, "{p} vs {t}");
        }
        assert!(action_matches("lambda:get*", "lambda:GetFunction"));
        assert!(!action_matches("lambda:Get*", "lambda:UpdateAlias"));
    }

    #[test]
    fn grant_needs_declaration_and_policy() {
        let vars = |n: &str| (n == "FN").then(|| "11-app-web".to_owned());
        let declared = [cap("lambda:PublishVersion", "arn:aws:lambda:*:*:function:${FN}")];
        let arn = "arn:aws:lambda:us-east-1:1:function:11-app-web";
        let other = "arn:aws:lambda:us-east-1:1:function:other";
        let open = Grant::new("p", &declared, Arc::new(Policy::allow_all()));
        assert!(open.check("lambda:PublishVersion", arn, &vars).is_ok());
        let err = open.check("lambda:PublishVersion", other, &vars).unwrap_err();
        assert!(err.reason.contains("declares `lambda:PublishVersion` only on"), "{}", err.reason);
        let err = open.check("lambda:DeleteFunction", arn, &vars).unwrap_err();
        assert!(err.reason.contains("add {\"action\": \"lambda:DeleteFunction\""), "{}", err.reason);
        let err = open.check("lambda:PublishVersion", arn, &|_| None).unwrap_err();
        assert!(err.reason.contains("needs variable `FN`"), "{}", err.reason);
        let narrow = Grant::new("p", &declared, Arc::new(Policy::from_flags(&["lambda:GetFunction"]).unwrap()));
        let err = narrow.check("lambda:PublishVersion", arn, &vars).unwrap_err();
        assert!(err.reason.contains("operator policy does not grant"), "{}", err.reason);
        assert_eq!(narrow.ungranted(), declared.to_vec());
    }

    #[test]
    fn a_variable_cannot_widen_a_pattern() {
        let declared = [cap("lambda:GetFunction", "arn:aws:lambda:*:*:function:${FN}")];
        let g = Grant::new("p", &declared, Arc::new(Policy::allow_all()));
        assert!(g
            .check("lambda:GetFunction", "arn:aws:lambda:r:1:function:x", &|_| Some("*".into()))
            .is_err());
    }

    #[test]
    fn the_session_policy_is_the_grant_resolved_and_narrowed() {
        let vars = |n: &str| (n == "FN").then(|| "11-app-web".to_owned());
        let declared = [
            cap("lambda:PublishVersion", "arn:aws:lambda:*:*:function:${FN}"),
            cap("lambda:GetFunction", "arn:aws:lambda:*:*:function:*"),
            cap("lambda:UpdateAlias", "arn:aws:lambda:*:*:function:${UNSET}"),
            cap("ecr:GetRepositoryPolicy", "arn:aws:ecr:*:*:repository/*"),
        ];
        let policy = Policy {
            allow: vec![
                Statement {
                    action: "lambda:*".into(),
                    resource: "arn:aws:lambda:us-east-1:1:function:11-*".into(),
                },
                Statement {
                    action: "*".into(),
                    resource: "arn:aws:ecr:*".into(),
                },
            ],
        };
        let g = Grant::new("p", &declared, Arc::new(policy));
        let doc: serde_json::Value = serde_json::from_str(&g.session_policy(&vars).unwrap().unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["lambda:PublishVersion"], "Resource": ["arn:aws:lambda:*:*:function:11-app-web"]},
                {"Effect": "Allow", "Action": ["lambda:GetFunction"], "Resource": ["arn:aws:lambda:us-east-1:1:function:11-*"]},
                {"Effect": "Allow", "Action": ["ecr:GetRepositoryPolicy"], "Resource": ["arn:aws:ecr:*:*:repository/*"]},
            ]})
        );
        // Nothing granted: no policy at all (the step makes no call a session could serve).
        let none = Grant::new("p", &declared, Arc::new(Policy::from_flags(&["s3:GetObject"]).unwrap()));
        assert_eq!(none.session_policy(&vars).unwrap(), None);
    }

    #[test]
    fn a_session_policy_too_long_for_aws_is_flattened_then_refused() {
        let many: Vec<Capability> = (0..40)
            .map(|i| cap(&format!("lambda:Action{i}"), &format!("arn:aws:lambda:*:*:function:fn-{i}")))
            .collect();
        let g = Grant::new("p", &many[..20], Arc::new(Policy::allow_all()));
        let text = g.session_policy(&|_| None).unwrap().unwrap();
        assert!(text.len() <= SESSION_POLICY_LIMIT, "{}", text.len());
        let wide: Vec<Capability> = (0..60)
            .map(|i| {
                cap(
                    &format!("lambda:SomeLongActionName{i}"),
                    &format!("arn:aws:lambda:*:*:function:function-name-{i}"),
                )
            })
            .collect();
        let err = Grant::new("p", &wide, Arc::new(Policy::allow_all()))
            .session_policy(&|_| None)
            .unwrap_err();
        assert!(err.contains("more than AWS's 2048"), "{err}");
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(Policy::from_flags(&["GetFunction"]).is_err());
        assert!(Policy::from_flags(&["lambda:GetFunction="]).is_err());
        assert_eq!(Policy::from_flags(&["lambda:Get*"]).unwrap().allow[0].resource, "*");
    }
}
