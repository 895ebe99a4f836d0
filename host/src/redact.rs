//! Redaction of secret values the host knows: secret parameters, secret variables,
//! secret outputs of steps that succeeded, values a step wrote to Secrets Manager
//! (once the write succeeded), and key material of assumed roles.
//!
//! Every string that leaves the host towards a person or a file (log lines, outputs,
//! error messages, journal entries) passes through [`Redactor::redact`].
//!
//! Only trusted sources register secrets (see [`Redactor::add`]): were a guest able
//! to make any text a "secret", it could censor its own record — mask the operation
//! names, resources and account ids of calls it made. For the same reason values
//! shaped like the record's structure (ARNs, account ids, `service:Action`) are never
//! registered. A mask carries a short keyed hash of the value, so an auditor can tell
//! that two masks hide the same secret without learning anything about it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

/// What a value withheld as a whole (a secret output, a secret variable) is shown as.
pub const MASK: &str = "[REDACTED]";

/// How every mask inside text starts: `[REDACTED:1a2b3c4d]`.
pub const MASK_PREFIX: &str = "[REDACTED:";

/// Values shorter than this are not redacted: masking every `1` or `on` in every
/// message would make the record unreadable and reveal the value by its absence.
/// A secret that short is flagged when it is registered.
pub const MIN_SECRET_LEN: usize = 4;

/// Why a value was not registered as a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Shorter than [`MIN_SECRET_LEN`].
    TooShort,
    /// An ARN, an account id, an IAM action: the record's own structure.
    Structural,
}

/// A shared, growing set of secret values. Cloning shares the set.
#[derive(Clone, Debug)]
pub struct Redactor {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Debug)]
struct Inner {
    /// The secrets and their masks, in the order registered.
    secrets: Vec<(String, String)>,
    /// One searcher for every secret at once, rebuilt on the first redaction after
    /// a secret is added, so redacting (every string of every record) is one
    /// linear pass.
    searcher: Option<Arc<Searcher>>,
    /// Keys the masks' hashes: per redactor (per run), so a mask cannot be matched
    /// against hashes of guessed values computed elsewhere.
    key: [u8; 32],
}

/// Registered secrets are wiped from memory with the redactor (the last clone of a
/// run's). The searcher's automaton keeps its own tables of their bytes, which
/// aho-corasick frees without wiping.
impl Drop for Inner {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (secret, _) in &mut self.secrets {
            secret.zeroize();
        }
        self.key.zeroize();
    }
}

/// The automaton over every registered form, and the mask of each (by pattern index).
#[derive(Debug)]
struct Searcher {
    automaton: Option<AhoCorasick>,
    masks: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        let mut key = [0u8; 32];
        // Without the OS's randomness the masks still hide the value; only their
        // hashes become guessable for short secrets.
        let _ = getrandom::getrandom(&mut key);
        Redactor {
            inner: Arc::new(RwLock::new(Inner {
                secrets: Vec::new(),
                searcher: None,
                key,
            })),
        }
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value from a trusted source, with its JSON-escaped form
    /// when that differs (a value with quotes or backslashes, inside JSON text).
    /// Returns false (and registers nothing) when the value is too short to redact
    /// safely or shaped like the record's structure; see [`Redactor::try_add`].
    pub fn add(&self, value: &str) -> bool {
        self.try_add(value).is_ok() || value.is_empty()
    }

    /// [`Redactor::add`], saying why a value was refused.
    pub fn try_add(&self, value: &str) -> Result<(), Refused> {
        if value.chars().count() < MIN_SECRET_LEN {
            return Err(Refused::TooShort);
        }
        if is_structural(value) {
            return Err(Refused::Structural);
        }
        let escaped = serde_json::to_string(value).unwrap_or_default();
        let escaped = &escaped[1..escaped.len().saturating_sub(1).max(1)];
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        for form in [value, escaped] {
            if !inner.secrets.iter().any(|(s, _)| s == form) {
                let mask = mask_for(&inner.key, value);
                inner.secrets.push((form.to_owned(), mask));
                inner.searcher = None;
            }
        }
        Ok(())
    }

    /// Whether `value` is a registered secret.
    pub fn is_secret(&self, value: &str) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .secrets
            .iter()
            .any(|(s, _)| s == value)
    }

    /// How many values are registered (each form counts).
    pub fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The searcher over every registered secret, built if a secret was added since.
    fn searcher(&self) -> Option<Arc<Searcher>> {
        {
            let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if inner.secrets.is_empty() {
                return None;
            }
            if let Some(s) = &inner.searcher {
                return Some(s.clone());
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = &inner.searcher {
            return Some(s.clone());
        }
        // A contiguous NFA, not a DFA: secrets arrive one by one through a run (a
        // role session's keys at each step), and a DFA over long tokens costs far
        // more to build than the few strings searched before the next secret.
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(inner.secrets.iter().map(|(s, _)| s.as_str()));
        let built = Arc::new(Searcher {
            // Too many secrets for one automaton (its state ids overflow): fail
            // closed, every text becomes one mask, rather than none redacted.
            automaton: automaton.ok(),
            masks: inner.secrets.iter().map(|(_, m)| m.clone()).collect(),
        });
        inner.searcher = Some(built.clone());
        Some(built)
    }

    /// `text` with every registered secret replaced by its mask. Where secrets
    /// overlap in the text, their union is masked (with the mask of the first), so
    /// neither shows in part.
    pub fn redact(&self, text: &str) -> String {
        let Some(searcher) = self.searcher() else {
            return text.to_owned();
        };
        let Some(automaton) = &searcher.automaton else {
            return MASK.to_owned();
        };
        // Every match, overlapping ones included, ordered by start.
        let mut spans: Vec<(usize, usize, usize)> = automaton
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        if spans.is_empty() {
            return text.to_owned();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut spans = spans.into_iter().peekable();
        while let Some((start, mut end, pattern)) = spans.next() {
            while let Some(&(next_start, next_end, _)) = spans.peek() {
                if next_start >= end {
                    break;
                }
                end = end.max(next_end);
                spans.next();
            }
            // Secrets are whole strings, so every span starts and ends on a char boundary.
            out.push_str(&text[copied..start]);
            out.push_str(&searcher.masks[pattern]);
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// Redacts every string inside a JSON value, keys included: nothing the host
    /// writes may carry a secret, whatever place it takes in a document.
    pub fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            // A secret can be a number (a PIN, a numeric token): its text is masked,
            // and the masked value becomes a string.
            Value::Number(n) => {
                let text = n.to_string();
                let masked = self.redact(&text);
                if masked == text {
                    value.clone()
                } else {
                    Value::String(masked)
                }
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.redact_json(v)).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (self.redact(k), self.redact_json(v))).collect()),
            other => other.clone(),
        }
    }
}

/// `[REDACTED:<8 hex digits of a keyed SHA-256 of the value>]`.
fn mask_for(key: &[u8; 32], value: &str) -> String {
    let mut h = Sha256::new();
    h.update(key);
    h.update(value.as_bytes());
    let digest = h.finalize();
    format!("{MASK_PREFIX}{}]", hex::encode(&digest[..4]))
}

/// Values shaped like the record's own structure, which a secret never is: an ARN,
/// a 12-digit account id, an IAM action (`service:Action`), or a mask.
pub fn is_structural(value: &str) -> bool {
    let v = value.trim();
    if v.starts_with("arn:") || v.starts_with(MASK_PREFIX) || v == MASK {
        return true;
    }
    // JSON's own literals: masking them would rewrite every document's structure.
    if matches!(v, "true" | "false" | "null") {
        return true;
    }
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    if let Some((service, action)) = v.split_once(':') {
        let service_like = !service.is_empty() && service.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let action_like = !action.is_empty()
            && action.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*')
            && action.starts_with(|c: char| c.is_ascii_uppercase() || c == '*');
        if service_like && action_like {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        // The hash part differs per redactor: compare the shape.
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(MASK_PREFIX) {
            out.push_str(&rest[..at]);
            out.push_str(MASK);
            let after = &rest[at..];
            rest = &after[after.find(']').map_or(after.len(), |e| e + 1)..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn masks_every_occurrence_and_longest_first() {
        let r = Redactor::new();
        assert!(r.add("s3cr3t"));
        assert!(r.add("s3cr3t-and-more"));
        assert_eq!(masked(&r.redact("a s3cr3t-and-more b s3cr3t")), format!("a {MASK} b {MASK}"));
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
        assert_eq!(masked(&r.redact(text)), format!("x {MASK} y {MASK} z {MASK}"));
        assert_eq!(r.redact("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn the_same_secret_gets_the_same_mask_and_others_another() {
        let r = Redactor::new();
        r.add("first-secret");
        r.add("second-secret");
        let text = r.redact("first-secret second-secret first-secret");
        let masks: Vec<&str> = text.split(' ').collect();
        assert_eq!(masks[0], masks[2]);
        assert_ne!(masks[0], masks[1]);
        assert!(
            masks[0].starts_with(MASK_PREFIX) && masks[0].len() == MASK_PREFIX.len() + 9,
            "{text}"
        );
        // Another run's redactor hashes with another key.
        let other = Redactor::new();
        other.add("first-secret");
        assert_ne!(other.redact("first-secret"), masks[0]);
    }

    #[test]
    fn short_values_are_refused_not_registered() {
        let r = Redactor::new();
        assert!(!r.add("abc"));
        assert_eq!(r.try_add("abc"), Err(Refused::TooShort));
        assert_eq!(r.redact("abc"), "abc");
    }

    #[test]
    fn structural_tokens_are_never_secrets() {
        let r = Redactor::new();
        for token in [
            "arn:aws:lambda:us-east-1:123456789012:function:fn",
            "123456789012",
            "lambda:GetFunction",
            "secretsmanager:PutSecretValue",
            "[REDACTED]",
        ] {
            assert_eq!(r.try_add(token), Err(Refused::Structural), "{token}");
        }
        assert!(r.is_empty());
        // Ordinary secrets with colons still register.
        assert!(r.add("user:p4ssw0rd"));
        assert!(r.add("postgres://u:p@db:5432/x"));
    }

    #[test]
    fn quoted_and_backslashed_secrets_are_masked_inside_json_text_too() {
        let r = Redactor::new();
        assert!(r.add(r#"pa"ss\word"#));
        let json = serde_json::json!({"v": r#"pa"ss\word"#}).to_string();
        assert!(!r.redact(&json).contains("ss"), "{}", r.redact(&json));
        assert!(!r.redact(r#"raw pa"ss\word"#).contains("ss"));
    }

    #[test]
    fn numeric_secrets_are_masked_in_json_numbers_too() {
        let r = Redactor::new();
        assert!(r.add("48151623"));
        let v = serde_json::json!({"pin": 48151623, "other": 7, "text": "pin 48151623"});
        let out = r.redact_json(&v).to_string();
        assert!(!out.contains("48151623"), "{out}");
        assert!(out.contains("\"other\":7"), "{out}");
        assert_eq!(r.try_add("null"), Err(Refused::Structural));
    }

    #[test]
    fn json_keys_and_nested_values_are_masked() {
        let r = Redactor::new();
        r.add("hunter22");
        let v = serde_json::json!({"hunter22": ["x hunter22"], "n": 1});
        let out = r.redact_json(&v).to_string();
        assert!(!out.contains("hunter22"), "{out}");
    }

    #[test]
    fn many_secrets_redact_in_one_pass() {
        let r = Redactor::new();
        for i in 0..5000 {
            r.add(&format!("refused-secret-{i:05}"));
        }
        let text = "refused-secret-04999 and refused-secret-00000 ".repeat(100);
        let out = r.redact(&text);
        assert!(!out.contains("refused-secret"), "{out}");
    }
}
