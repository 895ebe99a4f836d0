//! `$VAR` and `${VAR}` expansion, as the bash engine did it for paths and values.
//! A reference to an unset variable is left as written, so it shows in errors and
//! `scope-host check` can report it.

/// Expands every `$NAME` / `${NAME}` that `lookup` knows.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    scan(text, &mut |piece| match piece {
        Piece::Text(t) => out.push_str(t),
        Piece::Var { name, raw } => match lookup(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(raw),
        },
    });
    out
}

/// The names `text` refers to that `lookup` does not know.
pub fn unresolved(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut missing = Vec::new();
    scan(text, &mut |piece| {
        if let Piece::Var { name, .. } = piece {
            if lookup(name).is_none() && !missing.iter().any(|m| m == name) {
                missing.push(name.to_owned());
            }
        }
    });
    missing
}

enum Piece<'a> {
    Text(&'a str),
    Var { name: &'a str, raw: &'a str },
}

fn scan<'a>(text: &'a str, f: &mut dyn FnMut(Piece<'a>)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let (name_start, braced) = if bytes.get(i + 1) == Some(&b'{') {
            (i + 2, true)
        } else {
            (i + 1, false)
        };
        let mut j = name_start;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        let valid_name = j > name_start && !bytes[name_start].is_ascii_digit();
        let closed = !braced || bytes.get(j) == Some(&b'}');
        if !valid_name || !closed {
            i += 1;
            continue;
        }
        let end = if braced { j + 1 } else { j };
        f(Piece::Text(&text[start..i]));
        f(Piece::Var {
            name: &text[name_start..j],
            raw: &text[i..end],
        });
        i = end;
        start = end;
    }
    f(Piece::Text(&text[start..]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_table() {
        let vars = |n: &str| match n {
            "SERVICE_PATH" => Some("/svc".to_owned()),
            "A" => Some("1".to_owned()),
            _ => None,
        };
        for (input, want) in [
            ("$SERVICE_PATH/values.yaml", "/svc/values.yaml"),
            ("${SERVICE_PATH}/x", "/svc/x"),
            ("a$A-b${A}c", "a1-b1c"),
            ("$MISSING/x", "$MISSING/x"),
            ("${MISSING}", "${MISSING}"),
            ("cost: $5 and $", "cost: $5 and $"),
            ("${A", "${A"),
            ("no vars", "no vars"),
            ("$A$A", "11"),
        ] {
            assert_eq!(expand(input, &vars), want, "{input}");
        }
        assert_eq!(unresolved("$X/${Y}/$A/$X", &vars), ["X", "Y"]);
    }
}
