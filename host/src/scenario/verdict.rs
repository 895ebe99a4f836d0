//! Expectations against what a run did: each difference is a [`Finding`] with the
//! path of what differs, and [`render`] prints them with the actual values a reader
//! needs to fix the scenario or the plugin — always through the run's redactor.

use super::calls::{self, Call};
use super::model::{Expect, Outcome, StepStatus};
use super::run::Observed;
use super::subset;
use crate::grants::{action_matches, glob_matches};
use crate::redact::MASK;
use serde_json::Value;
use std::fmt;

/// One difference between the expectation and the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Where: `outcome`, `outputs.VERSION`, `calls.include[2]`, `cloud.lambda.functions[name=fn].memory_size` …
    pub path: String,
    pub message: String,
}

impl Finding {
    pub fn new(path: String, message: String) -> Finding {
        Finding { path, message }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Log lines shown under a failed scenario (the last ones: where it went wrong).
const LOG_TAIL: usize = 20;

/// Every difference between `expect` and `observed`; none means the scenario passed.
pub fn judge(expect: &Expect, observed: &Observed) -> Vec<Finding> {
    let mut found = Vec::new();
    outcome(expect, observed, &mut found);
    outputs(expect, observed, &mut found);
    if let Some(c) = &expect.calls {
        found.extend(calls::check(c, &observed.calls));
    }
    if let Some(d) = &expect.denied {
        let met = observed
            .denials
            .iter()
            .any(|(action, resource)| action_matches(&d.action, action) && d.resource.as_ref().is_none_or(|r| glob_matches(r, resource)));
        if !met {
            let wanted = match &d.resource {
                Some(r) => format!("`{}` on `{r}`", d.action),
                None => format!("`{}`", d.action),
            };
            let got = if observed.denials.is_empty() {
                "none".to_owned()
            } else {
                observed
                    .denials
                    .iter()
                    .map(|(a, r)| format!("`{a}` on `{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            found.push(Finding::new("denied".into(), format!("expected a denial of {wanted}, got {got}")));
        }
    }
    if let Some(cloud) = &expect.cloud {
        subset::check(&Value::Object(cloud.clone()), Some(&observed.state), "cloud", &mut found);
    }
    for (i, want) in expect.logs.iter().enumerate() {
        if !observed.logs.iter().any(|l| l.contains(want.as_str())) {
            found.push(Finding::new(format!("logs[{i}]"), format!("no log line contains {}", quoted(want))));
        }
    }
    for (path, want) in &expect.steps {
        let got = observed.steps.iter().find(|(p, _)| p == path).map(|(_, s)| *s).unwrap_or("absent");
        if got != want.as_str() {
            let known = observed.steps.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ");
            let note = if *want != StepStatus::Absent && got == "absent" {
                format!(" (the run's steps: {known})")
            } else {
                String::new()
            };
            found.push(Finding::new(
                format!("steps.{path}"),
                format!("expected {}, got {got}{note}", want.as_str()),
            ));
        }
    }
    if let Some(c) = &expect.check {
        match &observed.check {
            None => found.push(Finding::new(
                "check".into(),
                "expected a verdict, but the plugin returned none (a step, or a check that failed to run)".into(),
            )),
            Some(v) => {
                if let Some(status) = c.status.as_ref().filter(|s| **s != v.status) {
                    found.push(Finding::new("check.status".into(), format!("expected {status}, got {}", v.status)));
                }
                if let Some(summary) = c.summary.as_ref().filter(|s| !v.summary.contains(s.as_str())) {
                    found.push(Finding::new(
                        "check.summary".into(),
                        format!("expected it to contain {}, got {}", quoted(summary), quoted(&v.summary)),
                    ));
                }
            }
        }
    }
    found
}

fn outcome(expect: &Expect, observed: &Observed, found: &mut Vec<Finding>) {
    match (expect.outcome(), observed.succeeded) {
        (Outcome::Success, false) => found.push(Finding::new(
            "outcome".into(),
            format!("expected success, got {}", failure_text(observed)),
        )),
        (Outcome::Failure, true) => found.push(Finding::new("outcome".into(), "expected failure, but the run succeeded".into())),
        _ => {}
    }
    if let Some(want) = &expect.error {
        match &observed.failure {
            Some(message) if message.contains(want.as_str()) => {}
            Some(message) => found.push(Finding::new(
                "error".into(),
                format!("expected the failure message to contain {}, got {}", quoted(want), quoted(message)),
            )),
            None => found.push(Finding::new(
                "error".into(),
                format!(
                    "expected a failure whose message contains {}, but there was no failure",
                    quoted(want)
                ),
            )),
        }
    }
}

/// A scalar is compared as text; a map or list with the output parsed as JSON; null
/// means the output must be absent. A secret output's values are never shown.
fn outputs(expect: &Expect, observed: &Observed, found: &mut Vec<Finding>) {
    for (name, want) in &expect.outputs {
        let path = subset::join("outputs", name);
        let got = observed.outputs.get(name);
        let mut here = Vec::new();
        match (want, got) {
            (Value::Null, None) => {}
            (Value::Null, Some(v)) => here.push(Finding::new(path.clone(), format!("expected no such output, got {}", quoted(v)))),
            // The outputs there are follow the findings.
            (_, None) => here.push(Finding::new(
                path.clone(),
                format!("expected {}, got no such output", subset::show(want)),
            )),
            (Value::Object(_) | Value::Array(_), Some(text)) => match serde_json::from_str::<Value>(text) {
                Ok(parsed) => subset::check(want, Some(&parsed), &path, &mut here),
                Err(_) => here.push(Finding::new(
                    path.clone(),
                    format!("expected JSON matching {}, got {} (not JSON)", subset::show(want), quoted(text)),
                )),
            },
            (scalar, Some(text)) => {
                let want_text = match scalar {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if want_text != *text {
                    here.push(Finding::new(
                        path.clone(),
                        format!("expected {}, got {}", quoted(&want_text), quoted(text)),
                    ));
                }
            }
        }
        if observed.secret_outputs.contains(name) {
            for f in &mut here {
                f.message = format!("differs from the expected value ({name} is secret: values are not shown)");
            }
        }
        found.extend(here);
    }
}

/// `failure (kind): message`, as the step's result line reads.
fn failure_text(observed: &Observed) -> String {
    let kind = observed.failure_kind.map(|k| format!(" ({k})")).unwrap_or_default();
    match &observed.failure {
        Some(message) => format!("failure{kind}: {message}"),
        None => format!("failure{kind}"),
    }
}

fn quoted(text: &str) -> String {
    subset::show(&Value::String(text.to_owned()))
}

/// The findings and the actual values around them, one line each, indented by two
/// spaces, every secret the run knows masked.
pub fn render(findings: &[Finding], observed: &Observed) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str("  ");
        out.push_str(text);
        out.push('\n');
    };
    for f in findings {
        line(&f.to_string());
    }
    let about = |prefix: &str| findings.iter().any(|f| f.path.starts_with(prefix));
    if !observed.succeeded && !about("outcome") && !about("error") {
        line(&format!("the run ended in {}", failure_text(observed)));
    }
    if about("outputs") {
        if observed.outputs.is_empty() {
            line("outputs: none");
        } else {
            line("outputs:");
            for (name, value) in &observed.outputs {
                let shown = if observed.secret_outputs.contains(name) {
                    MASK.to_owned()
                } else {
                    quoted(value)
                };
                line(&format!("  {name} = {shown}"));
            }
        }
    }
    if about("calls") || about("denied") {
        calls_list(&observed.calls, &mut line);
    }
    if !observed.logs.is_empty() {
        let skip = observed.logs.len().saturating_sub(LOG_TAIL);
        let title = if skip > 0 {
            format!("log (last {LOG_TAIL} of {} lines):", observed.logs.len())
        } else {
            "log:".to_owned()
        };
        line(&title);
        for l in &observed.logs[skip..] {
            line(&format!("  {l}"));
        }
    }
    observed.redactor.redact(&out)
}

fn calls_list(calls: &[Call], line: &mut impl FnMut(&str)) {
    if calls.is_empty() {
        line("calls: none");
        return;
    }
    line(&format!("calls ({}):", calls.len()));
    let width = calls.len().to_string().len();
    for (i, c) in calls.iter().enumerate() {
        line(&format!("  {:>width$}. {c}   (step {})", i + 1, c.step));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;
    use std::collections::{BTreeMap, BTreeSet};

    fn observed(outputs: &[(&str, &str)], secret: &[&str]) -> Observed {
        Observed {
            succeeded: true,
            failure: None,
            failure_kind: None,
            outputs: outputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            secret_outputs: secret.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
            calls: vec![],
            denials: vec![],
            steps: vec![],
            check: None,
            logs: vec![],
            state: serde_json::json!({}),
            redactor: Redactor::new(),
            duration: std::time::Duration::ZERO,
        }
    }

    fn expect_outputs(yaml: &str) -> Expect {
        Expect {
            outputs: serde_yaml_ng::from_str::<BTreeMap<String, Value>>(yaml).unwrap(),
            ..Expect::default()
        }
    }

    #[test]
    fn outputs_by_text_json_subset_and_absence() {
        let o = observed(
            &[("N", "2"), ("FLAG", "true"), ("TAGS", r#"{"a":"1","b":"2"}"#), ("GONE", "x")],
            &[],
        );
        let ok = expect_outputs("{N: 2, FLAG: true, TAGS: {a: '1'}, MISSING: null}");
        assert_eq!(judge(&ok, &o), vec![]);
        let bad = expect_outputs("{N: '3', TAGS: {a: '2'}, GONE: null}");
        let found: Vec<String> = judge(&bad, &o).iter().map(|f| f.to_string()).collect();
        assert_eq!(
            found,
            [
                "outputs.GONE: expected no such output, got \"x\"",
                "outputs.N: expected \"3\", got \"2\"",
                "outputs.TAGS.a: expected \"2\", got \"1\"",
            ]
        );
    }

    #[test]
    fn a_secret_output_shows_where_it_differs_never_what() {
        let o = observed(
            &[("TOKEN", "tok-value-1"), ("JSON", r#"{"key":"inner-secret"}"#)],
            &["TOKEN", "JSON"],
        );
        let e = expect_outputs("{TOKEN: tok-value-2, JSON: {key: other}}");
        let found = judge(&e, &o);
        let text = render(&found, &o);
        assert!(
            text.contains("outputs.JSON.key: differs from the expected value (JSON is secret"),
            "{text}"
        );
        assert!(text.contains("TOKEN = [REDACTED]"), "{text}");
        for secret in ["tok-value-1", "inner-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn context_follows_the_findings_it_explains() {
        let mut o = observed(&[], &[]);
        o.logs = (1..=25).map(|i| format!("s: info line {i}")).collect();
        let text = render(&[Finding::new("logs[0]".into(), "no log line contains \"x\"".into())], &o);
        assert!(
            text.contains("log (last 20 of 25 lines):") && !text.contains("line 5\n") && text.contains("line 25"),
            "{text}"
        );
        assert!(!text.contains("calls") && !text.contains("outputs"), "{text}");
    }
}
