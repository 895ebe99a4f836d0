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
    fn bad_flags_are_refused() {
        assert!(Policy::from_flags(&["GetFunction"]).is_err());
        assert!(Policy::from_flags(&["lambda:GetFunction="]).is_err());
        assert_eq!(Policy::from_flags(&["lambda:Get*"]).unwrap().allow[0].resource, "*");
    }
}
