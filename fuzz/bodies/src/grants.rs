//! The resource-pattern matcher and the grant: IAM globbing against a reference
//! matcher, `${VAR}` syntax, and `Grant::check` / `session_policy` on arbitrary
//! declarations and policies, which must agree with each other.

use arbitrary::{Result, Unstructured};
use scope_host::grants::{action_matches, glob_matches, pattern_variables, Grant, Policy, Statement, SESSION_POLICY_LIMIT};
use scope_host::manifest::Capability;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Pieces patterns, actions and resources are made of, so that inputs look like
/// the real ones often; any other character may come too.
const PIECES: &[&str] = &[
    "*",
    "?",
    "${",
    "}",
    "${V}",
    "${W}",
    ":",
    "/",
    "arn:aws:lambda:",
    "us-east-1",
    "123456789012",
    ":function:",
    "fn",
    "lambda",
    "GetFunction",
    "lambda:",
    "LAMBDA:get",
    "a",
    "b",
    "A",
    "é",
    "ß",
    "\u{130}",
    "",
];

/// Patterns are compared with an O(n·m) reference matcher: keep them short.
const MAX_CHARS: usize = 48;

/// Patterns of a grant are shorter still: intersecting two star-heavy patterns for
/// the session policy costs milliseconds (bounded by grants.rs's piece limits),
/// which would leave the fuzzer a few hundred inputs a second.
const MAX_GRANT_CHARS: usize = 20;

/// And they hold at most this many `*`, as IAM patterns do (`arn:aws:lambda:*:*:function:x-*`):
/// the intersection's cost grows with the stars of both sides, and the matcher's
/// star-heavy cases are fuzzed by `globbing` already.
const MAX_GRANT_STARS: usize = 3;

fn text(u: &mut Unstructured) -> Result<String> {
    text_of(u, MAX_CHARS)
}

fn short(u: &mut Unstructured) -> Result<String> {
    let mut stars = 0;
    Ok(text_of(u, MAX_GRANT_CHARS)?
        .chars()
        .filter(|&c| {
            stars += usize::from(c == '*');
            c != '*' || stars <= MAX_GRANT_STARS
        })
        .collect())
}

fn text_of(u: &mut Unstructured, max: usize) -> Result<String> {
    let mut s = String::new();
    if u.ratio(1, 4)? {
        s = u.arbitrary::<String>()?;
    } else {
        for _ in 0..u.int_in_range(0..=8)? {
            if u.ratio(3, 4)? {
                s.push_str(u.choose(PIECES)?);
            } else {
                s.push(u.arbitrary::<char>()?);
            }
        }
    }
    Ok(s.chars().take(max).collect())
}

pub fn grants(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = globbing(&mut u).and_then(|()| grant(&mut u));
}

fn globbing(u: &mut Unstructured) -> Result<()> {
    let pattern = text(u)?;
    let subject = text(u)?;
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = subject.chars().collect();
    assert_eq!(
        glob_matches(&pattern, &subject),
        reference_glob(&p, &t),
        "glob_matches({pattern:?}, {subject:?}) disagrees with the reference matcher"
    );
    assert!(glob_matches("*", &subject), "`*` does not match {subject:?}");
    if !pattern.contains(['*', '?']) {
        assert!(glob_matches(&pattern, &pattern), "{pattern:?} does not match itself");
    }
    // The pattern with its wildcards filled in matches it.
    let mut filled = String::new();
    for c in &p {
        match c {
            '*' => filled.push_str(&text(u)?),
            '?' => filled.push(u.arbitrary::<char>()?),
            c => filled.push(*c),
        }
    }
    assert!(
        glob_matches(&pattern, &filled),
        "{pattern:?} does not match its instance {filled:?}"
    );
    let (lp, la): (Vec<char>, Vec<char>) = (
        pattern.to_ascii_lowercase().chars().collect(),
        subject.to_ascii_lowercase().chars().collect(),
    );
    assert_eq!(
        action_matches(&pattern, &subject),
        reference_glob(&lp, &la),
        "action_matches({pattern:?}, {subject:?})"
    );
    if let Ok(names) = pattern_variables(&pattern) {
        for name in names {
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "pattern_variables({pattern:?}) returned `{name}`"
            );
        }
    }
    Ok(())
}

/// IAM globbing by dynamic programming: `*` any run of characters, `?` exactly one.
fn reference_glob(p: &[char], t: &[char]) -> bool {
    let mut dp = vec![vec![false; t.len() + 1]; p.len() + 1];
    dp[0][0] = true;
    for i in 1..=p.len() {
        dp[i][0] = p[i - 1] == '*' && dp[i - 1][0];
        for j in 1..=t.len() {
            dp[i][j] = match p[i - 1] {
                '*' => dp[i - 1][j] || dp[i][j - 1],
                '?' => dp[i - 1][j - 1],
                c => c == t[j - 1] && dp[i - 1][j - 1],
            };
        }
    }
    dp[p.len()][t.len()]
}

fn grant(u: &mut Unstructured) -> Result<()> {
    let mut declared = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        declared.push(Capability {
            action: short(u)?,
            resource: short(u)?,
        });
    }
    let mut allow = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        allow.push(Statement {
            action: short(u)?,
            resource: short(u)?,
        });
    }
    let policy = Policy { allow: allow.clone() };
    let _ = policy.validate("fuzz");
    let mut vars = BTreeMap::new();
    for _ in 0..u.int_in_range(0..=2)? {
        let name = if u.arbitrary()? { "V".to_owned() } else { short(u)? };
        vars.insert(name, short(u)?);
    }
    let var = |n: &str| vars.get(n).cloned();
    let grant = Grant::new("fuzz", &declared, Arc::new(policy));
    let _ = grant.ungranted();
    let mut probes = Vec::new();
    for _ in 0..u.int_in_range(1..=4)? {
        probes.push((short(u)?, short(u)?));
    }
    if crate::show() {
        eprintln!("declared {declared:?}\npolicy {allow:?}\nvars {vars:?}\nprobes {probes:?}");
    }
    let session = grant.session_policy(&var);
    for (action, resource) in &probes {
        let by_host = match grant.check(action, resource, &var) {
            Ok(()) => true,
            Err(denial) => {
                let _ = denial.reason;
                false
            }
        };
        // The session policy allows exactly what the grant allows (grants.rs:
        // "AWS then enforces the same least privilege the host does … and it allows
        // every call the host allows").
        match &session {
            Ok(Some(doc)) => {
                let by_aws = session_allows(doc, action, resource);
                assert_eq!(
                    by_host, by_aws,
                    "host {by_host} / session policy {by_aws} for {action:?} on {resource:?}\ndeclared {declared:?}\nvars {vars:?}\npolicy {doc}"
                );
            }
            Ok(None) => assert!(
                !by_host,
                "no session policy, yet the host allows {action:?} on {resource:?}\ndeclared {declared:?}\nvars {vars:?}"
            ),
            Err(_) => {}
        }
    }
    if let Ok(Some(doc)) = &session {
        assert!(doc.len() <= SESSION_POLICY_LIMIT, "a session policy of {} characters", doc.len());
    }
    Ok(())
}

/// Whether the session policy document allows the call, as IAM reads it (with the
/// host's matchers, which `globbing` checks against the reference).
fn session_allows(doc: &str, action: &str, resource: &str) -> bool {
    let doc: serde_json::Value = serde_json::from_str(doc).unwrap_or_else(|e| panic!("the session policy is not JSON: {e}\n{doc}"));
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("not a list in the session policy: {v}"))
            .iter()
            .map(|s| {
                s.as_str()
                    .unwrap_or_else(|| panic!("not a string in the session policy: {s}"))
                    .to_owned()
            })
            .collect()
    };
    doc["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("no Statement list in the session policy: {doc}"))
        .iter()
        .any(|s| {
            assert_eq!(s["Effect"], "Allow");
            strings(&s["Action"]).iter().any(|a| action_matches(a, action))
                && strings(&s["Resource"]).iter().any(|r| glob_matches(r, resource))
        })
}
