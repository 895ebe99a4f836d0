//! Redaction of secret values the host knows: secret parameters, secret outputs,
//! values written to Secrets Manager, and key material of assumed roles.
//!
//! Every string that leaves the host towards a person or a file (log lines, outputs,
//! error messages, journal entries) passes through [`Redactor::redact`].

use memchr::memmem;
use std::sync::{Arc, RwLock};

/// What a redacted value is replaced with.
pub const MASK: &str = "[REDACTED]";

/// Values shorter than this are not redacted: masking every `1` or `on` in every
/// message would make the record unreadable and reveal the value by its absence.
/// A secret that short is flagged when it is registered.
pub const MIN_SECRET_LEN: usize = 4;

/// A shared, growing set of secret values. Cloning shares the set.
#[derive(Clone, Default, Debug)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<Secret>>>,
}

/// A secret and a searcher for it, built once. Every string of every journal
/// entry, log line and message is redacted, against dozens of secrets (two per role
/// session): a substring search set up afresh per secret per string cost more than
/// the steps themselves.
#[derive(Debug)]
struct Secret {
    value: String,
    finder: memmem::Finder<'static>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value. Returns false (and registers nothing) when it is
    /// too short to be redacted safely, so the caller can warn.
    pub fn add(&self, value: &str) -> bool {
        if value.chars().count() < MIN_SECRET_LEN {
            return value.is_empty();
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if !secrets.iter().any(|s| s.value == value) {
            secrets.push(Secret {
                value: value.to_owned(),
                finder: memmem::Finder::new(value.as_bytes()).into_owned(),
            });
        }
        true
    }

    /// Whether `value` is a registered secret.
    pub fn is_secret(&self, value: &str) -> bool {
        self.secrets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|s| s.value == value)
    }

    /// `text` with every registered secret replaced by [`MASK`]. Where secrets
    /// overlap in the text, their union is masked, so neither shows in part.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let haystack = text.as_bytes();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for secret in secrets.iter() {
            spans.extend(secret.finder.find_iter(haystack).map(|at| (at, at + secret.value.len())));
        }
        if spans.is_empty() {
            return text.to_owned();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut spans = spans.into_iter().peekable();
        while let Some((start, mut end)) = spans.next() {
            while let Some(&(next_start, next_end)) = spans.peek() {
                if next_start >= end {
                    break;
                }
                end = end.max(next_end);
                spans.next();
            }
            // Secrets are whole strings, so every span starts and ends on a char boundary.
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// Redacts every string inside a JSON value, keys included.
    pub fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.redact_json(v)).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (self.redact(k), self.redact_json(v))).collect()),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_and_longest_first() {
        let r = Redactor::new();
        assert!(r.add("s3cr3t"));
        assert!(r.add("s3cr3t-and-more"));
        assert_eq!(r.redact("a s3cr3t-and-more b s3cr3t"), format!("a {MASK} b {MASK}"));
    }

    #[test]
    fn overlapping_secrets_and_many_of_them_are_all_masked() {
        let r = Redactor::new();
        for i in 0..50 {
            assert!(r.add(&format!("key-{i:03}-material")));
        }
        assert!(r.add("abcdef"));
        assert!(r.add("cdefgh-longer"));
        let text = "x key-007-material y key-049-material z abcdefgh-longer";
        assert_eq!(r.redact(text), format!("x {MASK} y {MASK} z {MASK}"));
        assert_eq!(r.redact("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn short_values_are_refused_not_registered() {
        let r = Redactor::new();
        assert!(!r.add("abc"));
        assert_eq!(r.redact("abc"), "abc");
    }

    #[test]
    fn json_keys_and_nested_values_are_masked() {
        let r = Redactor::new();
        r.add("hunter22");
        let v = serde_json::json!({"hunter22": ["x hunter22"], "n": 1});
        let out = r.redact_json(&v).to_string();
        assert!(!out.contains("hunter22"), "{out}");
    }
}
