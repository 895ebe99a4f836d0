//! Text bound for a person's terminal. Log lines, denial reasons, output names and
//! check evidence come from guests (and notifications): a control character in them
//! (ESC starting an escape sequence, CR returning to the start of the line) could
//! rewrite what the operator sees — forge a "run succeeded" line, hide a denial. The
//! CLI shows such characters escaped instead.

/// `text` with every control character except newline and tab shown as an escape
/// (`\x1b`, `\r`, `\u{9b}`), so it prints as written.
pub fn printable(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            match c {
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// C0 and C1 controls and DEL (ECMA-48's introducers among them), but not the
/// newline and tab a multi-line message needs; also the bidirectional overrides
/// that reorder what is displayed.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escapes_and_carriage_returns_are_shown_not_obeyed() {
        assert_eq!(printable("plain\ttext\nline 2"), "plain\ttext\nline 2");
        assert_eq!(printable("\x1b[2K\r✔ run ok"), "\\x1b[2K\\r✔ run ok");
        assert_eq!(printable("a\u{9b}31mb"), "a\\x9b31mb");
        assert_eq!(printable("x\u{202e}cod.exe"), "x\\u{202e}cod.exe");
    }
}
