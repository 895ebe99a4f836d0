//! The redactor: once `add` has taken a secret, no text or JSON document passed
//! through the redactor shows it.
//!
//! The check is exact rather than "the output does not contain the secret": that
//! literal form fails for secrets the mask itself spells (`CTED` is inside
//! `[REDACTED:…]`, `1a2b` may be inside its hash) and for `""` (which `add` accepts
//! and ignores). Instead the output must be the input with every maximal run of
//! overlapping occurrences of a registered form (the secret, and its JSON-escaped
//! form) replaced by one mask `[REDACTED:<8 hex>]` — so no occurrence survives, and
//! nothing else changes.

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
    // The document as written (what the journal and dumps print) shows no secret
    // either, wherever it sat. Secrets with JSON punctuation can be spelt by the
    // document's structure (`a":1` in {"a":1}), so only the others are looked for.
    let written = serde_json::to_string(&out).expect("JSON serialises");
    for s in &secrets {
        if s.chars().any(|c| "\"{}[],: \t\r\n\\".contains(c) || c.is_control()) {
            continue;
        }
        if let Some(at) = unmasked_occurrence(&written, s) {
            let message =
                || format!("redact_json leaves secret {s:?} in the written document at byte {at}:\n{written}\n(input document: {doc})");
            if inside_string(&written, at) {
                panic!("{}", message());
            }
            // Outside every string: in a number, `true`, `false` or `null`.
            finding("redact-json-skips-non-strings", message);
        }
    }
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

/// Where `secret` occurs in `text` outside every mask-shaped run, if it does.
fn unmasked_occurrence(text: &str, secret: &str) -> Option<usize> {
    let mut masks = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find(MASK_PREFIX) {
        let at = from + pos;
        match mask_len(&text[at..]) {
            Some(len) => {
                masks.push((at, at + len));
                from = at + len;
            }
            None => from = at + 1,
        }
    }
    let mut from = 0;
    while let Some(pos) = text[from..].find(secret) {
        let (s, e) = (from + pos, from + pos + secret.len());
        if !masks.iter().any(|(ms, me)| s < *me && *ms < e) {
            return Some(s);
        }
        from = s + text[s..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Whether byte `at` of compact JSON text lies inside a string token.
fn inside_string(json: &str, at: usize) -> bool {
    let (mut inside, mut escaped) = (false, false);
    for (i, b) in json.bytes().enumerate() {
        if i == at {
            return inside;
        }
        match b {
            _ if escaped => escaped = false,
            b'\\' if inside => escaped = true,
            b'"' => inside = !inside,
            _ => {}
        }
    }
    false
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
