//! Cloud calls in scenarios: the calls a run made (from its journal), patterns that
//! describe calls, and the `ordered` / `include` / `exclude` expectations.
//!
//! A pattern reads like the calls are printed, so an actual call can be pasted into a
//! scenario as is: `lambda:PublishVersion on arn:aws:lambda:*:function:fn -> ok`.

use super::model::CallsExpect;
use super::verdict::Finding;
use crate::grants::{action_matches, glob_matches};
use std::fmt;
use thiserror::Error;

/// How a call ended, as the journal records it.
const OUTCOMES: [&str; 5] = ["ok", "denied", "cloud_error", "invalid_input", "limit"];

/// One call the run made.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub step: String,
    pub service: String,
    pub operation: String,
    pub resource: String,
    /// ok, denied, cloud_error, invalid_input or limit.
    pub outcome: String,
    /// The error code of a refused or failed call.
    pub code: Option<String>,
}

impl Call {
    /// The calls among journal entries, in the order they were made.
    pub fn from_journal(events: &[crate::journal::Stamped]) -> Vec<Call> {
        events
            .iter()
            .filter_map(|s| match &s.event {
                crate::journal::Event::Call(c) => Some(Call {
                    step: c.step.clone(),
                    service: c.service.clone(),
                    operation: c.operation.clone(),
                    resource: c.resource.clone(),
                    outcome: c.outcome.as_str().to_owned(),
                    code: c.code.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

impl fmt::Display for Call {
    /// In pattern syntax. A denial's code (`HostDenied`) says nothing the outcome does
    /// not, so only cloud errors show theirs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)?;
        if !self.resource.is_empty() {
            write!(f, " on {}", self.resource)?;
        }
        write!(f, " -> {}", self.outcome)?;
        match &self.code {
            Some(code) if self.outcome == "cloud_error" => write!(f, " {code}"),
            _ => Ok(()),
        }
    }
}

/// Why a call pattern does not parse. Each variant holds the pattern as written.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CallPatternError {
    /// No `service:Operation` (or whitespace in it), or `on` without a resource.
    #[error("`{0}`: a call is `service:Operation[ on <resource>][ -> <outcome>[ <code>]]`, e.g. `lambda:PublishVersion -> ok`")]
    Malformed(String),
    /// The word after `->` is not one of [`OUTCOMES`].
    #[error("`{0}`: the outcome after `->` is one of {outcomes}", outcomes = OUTCOMES.join(", "))]
    UnknownOutcome(String),
    /// A code after an outcome other than `cloud_error`, or more than one word.
    #[error("`{0}`: only `cloud_error` takes a code (`-> cloud_error ResourceNotFoundException`)")]
    MisplacedCode(String),
}

/// `service:Operation[ on <resource>][ -> <outcome>[ <code>]]`; `*` and `?` glob.
#[derive(Clone, Debug, PartialEq)]
pub struct CallPattern {
    /// `service:Operation`, matched like IAM actions (case-insensitive).
    action: String,
    resource: Option<String>,
    outcome: Option<String>,
    code: Option<String>,
    text: String,
}

/// Parsed in a visitor rather than through `String`, so that the YAML parser points
/// at the malformed entry itself (`calls.ordered[1]`, its line), not at the list.
impl<'de> serde::Deserialize<'de> for CallPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = CallPattern;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a call, `service:Operation[ on <resource>][ -> <outcome>]`")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<CallPattern, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl std::str::FromStr for CallPattern {
    type Err = CallPatternError;

    fn from_str(text: &str) -> Result<Self, CallPatternError> {
        let (call, result) = match text.rsplit_once("->").or_else(|| text.rsplit_once('→')) {
            Some((call, result)) => (call.trim(), Some(result.trim())),
            None => (text.trim(), None),
        };
        let (action, resource) = match call.split_once(" on ") {
            Some((a, r)) => (a.trim(), Some(r.trim().to_owned())),
            None => (call, None),
        };
        let well_formed = action
            .split_once(':')
            .is_some_and(|(s, o)| !s.is_empty() && !o.is_empty() && !action.contains(char::is_whitespace));
        if !well_formed || resource.as_deref() == Some("") {
            return Err(CallPatternError::Malformed(text.to_owned()));
        }
        let (outcome, code) = match result {
            None => (None, None),
            Some(r) => {
                let mut words = r.split_whitespace();
                let outcome = words.next().map(|w| w.replace('-', "_")).unwrap_or_default();
                if !OUTCOMES.contains(&outcome.as_str()) {
                    return Err(CallPatternError::UnknownOutcome(text.to_owned()));
                }
                let code = words.next().map(str::to_owned);
                if words.next().is_some() || (code.is_some() && outcome != "cloud_error") {
                    return Err(CallPatternError::MisplacedCode(text.to_owned()));
                }
                (Some(outcome), code)
            }
        };
        Ok(CallPattern {
            action: action.to_owned(),
            resource,
            outcome,
            code,
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for CallPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.trim())
    }
}

impl CallPattern {
    pub fn matches(&self, call: &Call) -> bool {
        action_matches(&self.action, &format!("{}:{}", call.service, call.operation))
            && self.resource.as_ref().is_none_or(|r| glob_matches(r, &call.resource))
            && self.outcome.as_ref().is_none_or(|o| *o == call.outcome)
            && self
                .code
                .as_ref()
                .is_none_or(|c| call.code.as_ref().is_some_and(|actual| glob_matches(c, actual)))
    }
}

/// Checks the call expectations against the calls made, in the order
/// ordered → include → exclude.
pub fn check(expect: &CallsExpect, calls: &[Call]) -> Vec<Finding> {
    let mut found = Vec::new();
    if let Some(ordered) = &expect.ordered {
        found.extend(check_ordered(ordered, calls));
    }
    found.extend(check_include(&expect.include, calls));
    for (i, pattern) in expect.exclude.iter().enumerate() {
        for (n, call) in calls.iter().enumerate().filter(|(_, c)| pattern.matches(c)) {
            found.push(Finding::new(
                format!("calls.exclude[{i}]"),
                format!("`{pattern}` matches call {}: `{call}`", n + 1),
            ));
        }
    }
    found
}

/// Position by position; the first difference is reported (an extra or missing call
/// shifts every later one, so later differences would only repeat it).
fn check_ordered(ordered: &[CallPattern], calls: &[Call]) -> Option<Finding> {
    for (i, pattern) in ordered.iter().enumerate() {
        match calls.get(i) {
            None => {
                return Some(Finding::new(
                    format!("calls.ordered[{i}]"),
                    format!("expected `{pattern}`, but the run made only {} call(s)", calls.len()),
                ))
            }
            Some(call) if !pattern.matches(call) => {
                return Some(Finding::new(
                    format!("calls.ordered[{i}]"),
                    format!("expected `{pattern}`, got `{call}`"),
                ))
            }
            Some(_) => {}
        }
    }
    calls.get(ordered.len()).map(|extra| {
        Finding::new(
            "calls.ordered".to_owned(),
            format!(
                "expected {} call(s), the run made {}; the first unexpected one is `{extra}`",
                ordered.len(),
                calls.len()
            ),
        )
    })
}

/// Each pattern needs a call of its own: a maximum matching of patterns to calls
/// (so a broad pattern listed first does not take the call a narrow one needs).
fn check_include(include: &[CallPattern], calls: &[Call]) -> Vec<Finding> {
    let mut owner: Vec<Option<usize>> = vec![None; calls.len()];
    for p in 0..include.len() {
        let mut seen = vec![false; calls.len()];
        assign(p, include, calls, &mut owner, &mut seen);
    }
    let mut found = Vec::new();
    for (i, pattern) in include.iter().enumerate() {
        if owner.contains(&Some(i)) {
            continue;
        }
        let candidates = calls.iter().filter(|c| pattern.matches(c)).count();
        let message = if candidates == 0 {
            format!("no call matches `{pattern}`")
        } else {
            format!(
                "`{pattern}` matches {candidates} call(s), each needed by another `include` entry (every entry needs a call of its own)"
            )
        };
        found.push(Finding::new(format!("calls.include[{i}]"), message));
    }
    found
}

/// Kuhn's augmenting path: gives pattern `p` a call, moving earlier patterns to other
/// calls when that frees one.
fn assign(p: usize, patterns: &[CallPattern], calls: &[Call], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for c in 0..calls.len() {
        if seen[c] || !patterns[p].matches(&calls[c]) {
            continue;
        }
        seen[c] = true;
        let free = match owner[c] {
            None => true,
            Some(other) => assign(other, patterns, calls, owner, seen),
        };
        if free {
            owner[c] = Some(p);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: &str, resource: &str, outcome: &str) -> Call {
        let (service, operation) = op.split_once(':').unwrap();
        Call {
            step: "s".into(),
            service: service.into(),
            operation: operation.into(),
            resource: resource.into(),
            outcome: outcome.into(),
            code: (outcome == "cloud_error").then(|| "ResourceNotFoundException".into()),
        }
    }

    fn pattern(text: &str) -> CallPattern {
        text.parse().unwrap()
    }

    #[test]
    fn patterns_parse_and_match() {
        let publish = call("lambda:PublishVersion", "arn:aws:lambda:us-east-1:1:function:fn", "ok");
        let missing = call("lambda:GetFunction", "arn:aws:lambda:us-east-1:1:function:x", "cloud_error");
        for (p, c, want) in [
            ("lambda:PublishVersion", &publish, true),
            ("lambda:publishversion", &publish, true),
            ("lambda:Publish*", &publish, true),
            ("lambda:PublishVersion on arn:*:function:fn", &publish, true),
            ("lambda:PublishVersion on arn:*:function:other", &publish, false),
            ("lambda:PublishVersion -> ok", &publish, true),
            ("lambda:PublishVersion → denied", &publish, false),
            ("lambda:GetFunction -> cloud_error ResourceNotFound*", &missing, true),
            ("lambda:GetFunction -> cloud-error AccessDenied*", &missing, false),
            ("ecr:*", &publish, false),
        ] {
            assert_eq!(pattern(p).matches(c), want, "{p} vs {c}");
        }
        // An actual call, printed, is a pattern that matches it.
        assert!(pattern(&missing.to_string()).matches(&missing), "{missing}");
        for bad in [
            "PublishVersion",
            "lambda:",
            "lambda:Publish Version",
            "lambda:X on ",
            "lambda:X -> done",
            "lambda:X -> ok Code",
        ] {
            assert!(bad.parse::<CallPattern>().is_err(), "{bad}");
        }
        let message = |bad: &str| bad.parse::<CallPattern>().unwrap_err().to_string();
        assert_eq!(
            message("lambda:"),
            "`lambda:`: a call is `service:Operation[ on <resource>][ -> <outcome>[ <code>]]`, e.g. `lambda:PublishVersion -> ok`"
        );
        assert_eq!(
            message("lambda:X -> done"),
            "`lambda:X -> done`: the outcome after `->` is one of ok, denied, cloud_error, invalid_input, limit"
        );
        assert_eq!(
            message("lambda:X -> ok Code"),
            "`lambda:X -> ok Code`: only `cloud_error` takes a code (`-> cloud_error ResourceNotFoundException`)"
        );
    }

    #[test]
    fn ordered_reports_the_first_difference() {
        let calls = [
            call("sts:AssumeRole", "r", "ok"),
            call("lambda:PublishVersion", "f", "ok"),
            call("lambda:UpdateAlias", "f", "ok"),
        ];
        let ordered = |list: &[&str]| CallsExpect {
            ordered: Some(list.iter().map(|p| pattern(p)).collect()),
            ..CallsExpect::default()
        };
        assert!(check(&ordered(&["sts:*", "lambda:PublishVersion", "lambda:UpdateAlias -> ok"]), &calls).is_empty());
        let f = check(&ordered(&["sts:*", "lambda:UpdateAlias"]), &calls);
        assert_eq!(
            f[0].to_string(),
            "calls.ordered[1]: expected `lambda:UpdateAlias`, got `lambda:PublishVersion on f -> ok`"
        );
        let f = check(&ordered(&["sts:*", "lambda:PublishVersion"]), &calls);
        assert!(f[0]
            .message
            .contains("expected 2 call(s), the run made 3; the first unexpected one is `lambda:UpdateAlias"));
        let f = check(&ordered(&["sts:*", "lambda:*", "lambda:*", "lambda:*"]), &calls);
        assert_eq!(f[0].path, "calls.ordered[3]");
        assert!(check(&ordered(&[]), &[]).is_empty());
    }

    #[test]
    fn include_gives_every_entry_its_own_call_and_exclude_names_the_culprit() {
        let calls = [call("lambda:PublishVersion", "f", "ok"), call("lambda:UpdateAlias", "f", "ok")];
        let expect = |include: &[&str], exclude: &[&str]| CallsExpect {
            ordered: None,
            include: include.iter().map(|p| pattern(p)).collect(),
            exclude: exclude.iter().map(|p| pattern(p)).collect(),
        };
        // The broad entry first must not starve the narrow one.
        assert!(check(&expect(&["lambda:*", "lambda:PublishVersion"], &[]), &calls).is_empty());
        let f = check(&expect(&["lambda:*", "lambda:*", "lambda:*"], &[]), &calls);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("each needed by another `include` entry"), "{}", f[0]);
        let f = check(&expect(&["lambda:DeleteFunction"], &["lambda:Update*"]), &calls);
        assert_eq!(f[0].to_string(), "calls.include[0]: no call matches `lambda:DeleteFunction`");
        assert_eq!(
            f[1].to_string(),
            "calls.exclude[0]: `lambda:Update*` matches call 2: `lambda:UpdateAlias on f -> ok`"
        );
    }
}
