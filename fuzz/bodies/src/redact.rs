//! The redactor: once `add` has taken a secret, no text or JSON document passed
//! through the redactor shows it.
//!
//! The check is exact rather than "the output does not contain the secret": that
//! literal form fails for secrets the mask itself spells (`CTED` is inside
//! `[REDACTED:…]`, `1a2b` may be inside its hash) and for `""` (which `add` accepts
//! and ignores). Instead the output must be the input with every maximal run of
//! overlapping occurrences of a registered form (the secret, and its JSON-escaped
//! form) replaced by one mask `[REDACTED:<8 hex>]` — so no occurrence survives, and
//! nothing else changes. `redact_json` must do that to every string and key, no
//! number may hold a secret, and no `true`, `false` or `null` may be one. (The written JSON text as a whole is not searched:
//! its escapes and punctuation spell what no value holds, `u0000` for a NUL, `a":1`
//! for {"a":1}.)

use crate::finding;
use arbitrary::{Result, Unstructured};
use scope_host::redact::{Redactor, MASK_PREFIX};
use scope_host::terminal::printable;
use serde_json::Value;

/// Characters secrets are made of, often, so that they overlap, repeat and need
/// JSON escaping; any other character may come too.
const ALPHABET: &[char] = &['a', 'b', 'A', '"', '\\', '\n', '1', '2', ':', '[', ']', 'é', '\u{0}', '\u{1b}'];

fn secret(u: &mut Unstructured) -> Result<String> {
    if u.ratio(1, 4)? {
        return u.arbitrary::<String>();
    }
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=10)? {
        s.push(if u.ratio(4, 5)? {
            *u.choose(ALPHABET)?
        } else {
            u.arbitrary::<char>()?
        });
    }
    Ok(s)
}

/// Arbitrary bytes as UTF-8 (lossily), sometimes with a secret inside.
fn noise(u: &mut Unstructured, secrets: &[String]) -> Result<String> {
    let bytes: &[u8] = u.arbitrary()?;
    let mut s = String::from_utf8_lossy(bytes).into_owned();
    if !secrets.is_empty() && u.ratio(1, 3)? {
        let at = u.int_in_range(0..=s.len())?;
        let at = (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s.insert_str(at, u.choose(secrets)?);
    }
    Ok(s)
}

pub fn redact(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
}

fn run(u: &mut Unstructured) -> Result<()> {
    let redactor = Redactor::new();
    let mut secrets = Vec::new();
    for _ in 0..u.int_in_range(1..=3)? {
        let s = secret(u)?;
        if redactor.add(&s) && !s.is_empty() {
            assert!(redactor.is_secret(&s), "add({s:?}) returned true, but it is not a secret");
            secrets.push(s);
        }
    }
    let forms = forms(&secrets);

    let prefix = noise(u, &secrets)?;
    let suffix = noise(u, &secrets)?;
    let middle = if secrets.is_empty() {
        String::new()
    } else {
        u.choose(&secrets)?.clone()
    };
    let text = format!("{prefix}{middle}{suffix}");
    let out = redactor.redact(&text);
    check(&text, &forms, &out);
    let _ = printable(&out);

    let doc = json(u, &secrets, 3)?;
    let out = redactor.redact_json(&doc);
    // Every string, keys included, and every number holding a secret, is redacted as
    // text would be.
    assert_eq!(
        out,
        map_strings(&doc, &|s| redactor.redact(s)),
        "redact_json differs from redact on its strings"
    );
    for_strings(&doc, &mut |s| check(s, &forms, &redactor.redact(s)));
    // Strings and keys are checked above. A number is written as it is: its text may
    // not hold a secret either. `true`, `false` and `null` carry nothing but
    // themselves; they only may not be a secret (`fals` inside `false` is no leak).
    for_scalars(&out, &mut |token| {
        for s in &secrets {
            let leaks = match token.as_str() {
                "true" | "false" | "null" => token == *s,
                _ => token.contains(s.as_str()),
            };
            if leaks {
                finding("redact-json-skips-non-strings", || {
                    format!("redact_json leaves secret {s:?} in the JSON scalar {token}\n(input document: {doc})")
                });
            }
        }
    });
    Ok(())
}

/// The texts the redactor replaces for these secrets: each, and its JSON-escaped form.
fn forms(secrets: &[String]) -> Vec<String> {
    let mut forms: Vec<String> = Vec::new();
    for s in secrets {
        let escaped = serde_json::to_string(s).expect("a string serialises");
        for f in [s.clone(), escaped[1..escaped.len() - 1].to_owned()] {
            if !forms.contains(&f) {
                forms.push(f);
            }
        }
    }
    forms
}

/// Asserts that `out` is `input` with every maximal run of overlapping occurrences
/// of `forms` replaced by one mask.
fn check(input: &str, forms: &[String], out: &str) {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for f in forms {
        let mut from = 0;
        while let Some(pos) = input[from..].find(f.as_str()) {
            let start = from + pos;
            spans.push((start, start + f.len()));
            from = start + input[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let fail = |why: &str| -> ! {
        panic!("redact: {why}\n  secrets (and escaped forms): {forms:?}\n  input:  {input:?}\n  output: {out:?}\n  masked spans of the input: {merged:?}")
    };
    let (mut i, mut o) = (0, 0);
    for (s, e) in &merged {
        let kept = &input[i..*s];
        if !out[o..].starts_with(kept) {
            fail("text outside the secrets changed, or a secret was not masked");
        }
        o += kept.len();
        let Some(len) = mask_len(&out[o..]) else {
            fail("a secret was not replaced by a mask")
        };
        o += len;
        i = *e;
    }
    if out[o..] != input[i..] {
        fail("text after the last secret changed, or a secret was not masked");
    }
}

/// The length of the mask `[REDACTED:<8 lowercase hex>]` at the start of `s`.
fn mask_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix(MASK_PREFIX)?;
    let hex = rest.get(..8)?;
    (hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) && rest[8..].starts_with(']')).then_some(MASK_PREFIX.len() + 9)
}

/// An arbitrary JSON document whose strings, keys and numbers often hold a secret.
fn json(u: &mut Unstructured, secrets: &[String], depth: u32) -> Result<Value> {
    let scalar_only = depth == 0;
    Ok(match u.int_in_range(0..=if scalar_only { 3 } else { 5 })? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => {
            // A secret that is a number (a PIN) may stand in a document as a number.
            let numeric = secrets.iter().find_map(|s| serde_json::from_str::<serde_json::Number>(s).ok());
            match numeric {
                Some(n) if u.arbitrary()? => Value::Number(n),
                _ => Value::from(u.arbitrary::<i64>()?),
            }
        }
        3 => Value::String(noise(u, secrets)?),
        4 => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                items.push(json(u, secrets, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                map.insert(noise(u, secrets)?, json(u, secrets, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|i| map_strings(i, f)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (f(k), map_strings(v, f))).collect()),
        // A number whose text holds a secret becomes the masked text.
        Value::Number(n) => {
            let text = n.to_string();
            let masked = f(&text);
            if masked == text {
                v.clone()
            } else {
                Value::String(masked)
            }
        }
        other => other.clone(),
    }
}

/// Calls `f` with the text of every number, boolean and null in `v`.
fn for_scalars(v: &Value, f: &mut dyn FnMut(String)) {
    match v {
        Value::String(_) => {}
        Value::Array(items) => items.iter().for_each(|i| for_scalars(i, f)),
        Value::Object(map) => map.values().for_each(|v| for_scalars(v, f)),
        other => f(other.to_string()),
    }
}

fn for_strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| for_strings(i, f)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            f(k);
            for_strings(v, f);
        }),
        _ => {}
    }
}
