//! Account ids out of a recording, consistently; and back in on replay.
//!
//! An account id is found where AWS puts one: the account field of an ARN
//! (`arn:aws:iam::<account>:…`), an ECR registry host (`<account>.dkr.ecr.…`), and
//! a string that is exactly twelve digits (`account_id`, `registry_id`, a provider's
//! `account.id`, a bare principal in a policy). Every twelve-digit run of digits
//! equal to a found account is then replaced, wherever it stands (inside URLs,
//! messages, policy documents, keys), by that account's placeholder. JSON numbers
//! are left alone: account ids are strings in everything AWS and the platform send.
//!
//! Placeholders are `000000000001`, `000000000002` … in order of first appearance,
//! the first being the account the recording's Lambda functions live in; one that
//! happens to be a real account of the run is skipped.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const ACCOUNT_LEN: usize = 12;

/// The runs of ASCII digits in `text` (byte ranges), each whole.
pub(super) fn digit_runs(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    runs
}

pub(super) fn is_account_id(text: &str) -> bool {
    text.len() == ACCOUNT_LEN && text.bytes().all(|b| b.is_ascii_digit())
}

/// The account ids `text` names in an account's place, in order.
pub(super) fn accounts_in(text: &str) -> Vec<String> {
    if is_account_id(text) {
        return vec![text.to_owned()];
    }
    let mut found = Vec::new();
    for (start, _) in text.match_indices("arn:") {
        let mut parts = text[start..].splitn(6, ':');
        let account = parts.nth(4);
        if parts.next().is_some() {
            if let Some(account) = account.filter(|a| is_account_id(a)) {
                found.push(account.to_owned());
            }
        }
    }
    for (at, _) in text.match_indices(".dkr.ecr.") {
        let Some(start) = at.checked_sub(ACCOUNT_LEN) else { continue };
        let before_is_digit = start > 0 && text.as_bytes()[start - 1].is_ascii_digit();
        if text.is_char_boundary(start) && is_account_id(&text[start..at]) && !before_is_digit {
            found.push(text[start..at].to_owned());
        }
    }
    found
}

/// Every string of a JSON value, keys included, in document order.
fn each_string(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| each_string(v, f)),
        Value::Object(map) => {
            for (k, v) in map {
                f(k);
                each_string(v, f);
            }
        }
        _ => {}
    }
}

/// Every string of a JSON value, keys included, rewritten by `f`.
pub(super) fn map_strings(value: &Value, f: &impl Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (f(k), map_strings(v, f))).collect()),
        other => other.clone(),
    }
}

/// `text` with every whole twelve-digit run found in `map` replaced by its value.
pub(super) fn replace_accounts(text: &str, map: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in digit_runs(text) {
        if let Some(to) = map.get(&text[start..end]) {
            out.push_str(&text[last..start]);
            out.push_str(to);
            last = end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// The `n`th placeholder (from 1).
fn placeholder(n: u64) -> String {
    format!("{n:012}")
}

/// Real account → placeholder, for every account `doc` names; `first` (when it is
/// one of them) gets the first placeholder.
pub(super) fn placeholders(doc: &Value, first: Option<&str>) -> BTreeMap<String, String> {
    let mut order: Vec<String> = first.map(str::to_owned).into_iter().collect();
    each_string(doc, &mut |s| {
        for account in accounts_in(s) {
            if !order.contains(&account) {
                order.push(account);
            }
        }
    });
    // A placeholder must never read as one of the run's real accounts.
    let real: BTreeSet<String> = order.iter().cloned().collect();
    let mut map = BTreeMap::new();
    let mut n = 0;
    for account in order {
        let fake = loop {
            n += 1;
            let candidate = placeholder(n);
            if !real.contains(&candidate) {
                break candidate;
            }
        };
        map.insert(account, fake);
    }
    map
}

/// `doc` with every string passed through [`replace_accounts`].
pub(super) fn scrub(doc: &Value, map: &BTreeMap<String, String>) -> Value {
    map_strings(doc, &|s| replace_accounts(s, map))
}

/// `text` with every occurrence of each of `ids` replaced by `with`.
pub(super) fn replace_all(text: &str, ids: &[String], with: &str) -> String {
    let mut out = text.to_owned();
    for id in ids {
        if out.contains(id.as_str()) {
            out = out.replace(id.as_str(), with);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accounts_are_found_in_arns_registry_hosts_and_bare_ids_only() {
        assert_eq!(accounts_in("arn:aws:iam::999988887777:role/x"), ["999988887777"]);
        assert_eq!(
            accounts_in("999988887777.dkr.ecr.us-east-1.amazonaws.com/app:v1 and arn:aws:lambda:us-east-1:444455556666:function:f"),
            ["444455556666", "999988887777"]
        );
        assert_eq!(accounts_in("444455556666"), ["444455556666"]);
        // Not in an account's place: a longer number, a digest, a bare id in prose.
        assert!(accounts_in("1700000000000").is_empty());
        assert!(accounts_in("build 999988887777 done").is_empty());
        assert!(accounts_in("arn:aws:s3:::bucket-999988887777").is_empty());
    }

    #[test]
    fn the_same_account_gets_the_same_placeholder_everywhere_and_longer_numbers_are_untouched() {
        let doc = json!({
            "account_id": "999988887777",
            "arn": "arn:aws:iam::999988887777:role/r",
            "policy": {"Principal": {"AWS": ["444455556666", "arn:aws:iam::999988887777:root"]}},
            "url": "https://sqs.us-east-1.amazonaws.com/999988887777/q",
            "999988887777": "a key too",
            "timestamp": "1999988887777",
        });
        let map = placeholders(&doc, Some("999988887777"));
        assert_eq!(map["999988887777"], "000000000001");
        assert_eq!(map["444455556666"], "000000000002");
        let out = scrub(&doc, &map).to_string();
        assert!(!out.replace("1999988887777", "").contains("999988887777"), "{out}");
        assert!(!out.contains("444455556666"), "{out}");
        assert!(out.contains("/000000000001/q") && out.contains("\"000000000001\":"), "{out}");
        assert!(out.contains("1999988887777"), "a 13-digit number is no account: {out}");
    }

    #[test]
    fn a_placeholder_that_is_a_real_account_of_the_run_is_skipped() {
        let doc = json!({"a": "999988887777", "b": "000000000001"});
        let map = placeholders(&doc, Some("999988887777"));
        assert_eq!(map["999988887777"], "000000000002");
        assert_eq!(map["000000000001"], "000000000003");
    }
}
