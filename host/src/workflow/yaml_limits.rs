//! Limits on a YAML file's size and shape, checked before it is parsed.
//!
//! The YAML parser's time grows with the square of the flow nesting (each token
//! looks at every open level): 100 000 nested `{a: ` took over 30 seconds, and a
//! line of `- - - …` a second per 4 MiB, before the deserialiser's own depth limit
//! refused them. Workflows, values, overrides and scenario files never come near
//! these limits, so text past them is refused at once, with where and which limit:
//!
//! - at most [`MAX_BYTES`] bytes;
//! - flow collections (`[`, `{`) nested at most [`MAX_FLOW_DEPTH`] deep;
//! - no line indented, and no node of a line started (after its `- `, `? `, `: `
//!   indicators), past column [`MAX_INDENT`].
//!
//! The scan is one pass over the bytes that follows just enough of YAML to count
//! brackets where the parser would: not in quoted scalars, comments or block
//! scalars, and in block context only where a node starts (`key: a[b` is a plain
//! scalar). Where it cannot tell, it counts: a doubt can refuse an absurd file, never
//! let a deep one through unseen.

use std::io::{self, Read};
use std::path::Path;

/// The largest YAML file read or parsed: 4 MiB.
pub const MAX_BYTES: usize = 4 << 20;
/// The deepest nesting of flow collections (`[`, `{`).
pub const MAX_FLOW_DEPTH: usize = 64;
/// The last column a line's indentation, or a node after a line's block
/// indicators, may reach.
pub const MAX_INDENT: usize = 512;

/// Why a text was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Line and column (1-based) where the limit was passed; `None` for the size.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

/// Checks `text` against the limits; see the module's documentation.
pub fn check(text: &str) -> Result<(), Refused> {
    if text.len() > MAX_BYTES {
        return Err(Refused {
            at: None,
            message: too_large(),
        });
    }
    let mut scan = Scan::default();
    for (index, line) in lines(text).enumerate() {
        scan.line(index + 1, line)?;
    }
    Ok(())
}

/// Reads a YAML file as text, refusing one larger than [`MAX_BYTES`] without
/// reading more than that.
pub fn read_capped(path: &Path) -> io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > MAX_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidData, too_large()));
    }
    String::from_utf8(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

fn too_large() -> String {
    format!("larger than {} MiB ({MAX_BYTES} bytes), the limit for a YAML file", MAX_BYTES >> 20)
}

/// The lines of `text` without their breaks: YAML's breaks are `\n`, `\r\n`, `\r`,
/// and (YAML 1.1, as the parser reads it) NEL, LS and PS.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut i = start;
        while i < bytes.len() {
            let (is_break, len) = match bytes[i] {
                b'\n' => (true, 1),
                b'\r' => (true, if bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 }),
                0xC2 if bytes.get(i + 1) == Some(&0x85) => (true, 2),
                0xE2 if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)) => (true, 3),
                _ => (false, 1),
            };
            if is_break {
                let line = &text[start..i];
                start = i + len;
                return Some(line);
            }
            i += len;
        }
        done = true;
        Some(&text[start..])
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Normal,
    DoubleQuoted,
    SingleQuoted,
    /// Inside a `|` or `>` scalar whose parent node starts at column `parent`;
    /// `content` is the indentation of its first line, once seen.
    Block {
        parent: usize,
        content: Option<usize>,
    },
}

/// What the scan carries from line to line.
#[derive(Debug)]
struct Scan {
    mode: Mode,
    /// Open flow collections; 0 is block context.
    depth: usize,
    /// Whether the next non-blank character would start a node (so a quote starts a
    /// quoted scalar and, in block context, a bracket a flow collection).
    node_start: bool,
    /// Column of the last node started in block context: a block scalar's content
    /// must be indented past it.
    node_column: usize,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            mode: Mode::Normal,
            depth: 0,
            node_start: true,
            node_column: 0,
        }
    }
}

fn blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// An indicator (`-`, `?`, `:`) is one when followed by a blank or the line's end.
fn ends_indicator(next: Option<u8>) -> bool {
    next.is_none_or(blank)
}

impl Scan {
    fn line(&mut self, number: usize, full: &str) -> Result<(), Refused> {
        // The parser skips a byte order mark at the start of a line.
        let offset = if full.starts_with('\u{feff}') { 3 } else { 0 };
        let b = &full.as_bytes()[offset..];
        let refuse = |at: usize, message: String| Refused {
            at: Some((number, full[..offset + at].chars().count() + 1)),
            message,
        };
        let indent = b.iter().take_while(|c| blank(**c)).count();
        if indent == b.len() {
            // A blank line changes nothing, whatever is open.
            return Ok(());
        }
        if indent > MAX_INDENT {
            return Err(refuse(
                indent,
                format!("indented {indent} columns, more than the limit of {MAX_INDENT}; refused before parsing"),
            ));
        }
        if let Mode::Block { parent, content } = self.mode {
            // Only spaces indent a block scalar's lines.
            let spaces = b.iter().take_while(|c| **c == b' ').count();
            match content {
                None if spaces > parent => {
                    self.mode = Mode::Block {
                        parent,
                        content: Some(spaces),
                    };
                    return Ok(());
                }
                Some(content) if spaces >= content => return Ok(()),
                _ => self.mode = Mode::Normal,
            }
        }
        let mut i = indent;
        if self.mode == Mode::Normal && self.depth == 0 {
            self.node_start = true;
            if indent == 0 && (b.starts_with(b"---") || b.starts_with(b"...")) && ends_indicator(b.get(3).copied()) {
                i = 3;
            }
            // `- - - x` nests a sequence per `- ` on one line: where the line's node
            // starts counts as its indentation.
            let mut j = i;
            loop {
                while j < b.len() && blank(b[j]) {
                    j += 1;
                }
                if j < b.len() && matches!(b[j], b'-' | b'?' | b':') && ends_indicator(b.get(j + 1).copied()) {
                    j += 1;
                } else {
                    break;
                }
            }
            if j > MAX_INDENT {
                return Err(refuse(
                    j,
                    format!(
                        "a node nested past column {MAX_INDENT} by the `- `/`? ` indicators before it on its line; refused before parsing"
                    ),
                ));
            }
        }
        let mut after_blank = true;
        while i < b.len() {
            let c = b[i];
            let next = b.get(i + 1).copied();
            match self.mode {
                Mode::DoubleQuoted => {
                    match c {
                        // An escape, possibly of the line break: the scalar goes on.
                        b'\\' => i += 1,
                        b'"' => {
                            self.mode = Mode::Normal;
                            self.node_start = false;
                        }
                        _ => {}
                    }
                    i += 1;
                    after_blank = false;
                    continue;
                }
                Mode::SingleQuoted => {
                    if c == b'\'' {
                        if next == Some(b'\'') {
                            i += 1;
                        } else {
                            self.mode = Mode::Normal;
                            self.node_start = false;
                        }
                    }
                    i += 1;
                    after_blank = false;
                    continue;
                }
                Mode::Block { .. } => unreachable!("a block scalar's header ends the line's scan"),
                Mode::Normal => {}
            }
            if blank(c) {
                after_blank = true;
                i += 1;
                continue;
            }
            if c == b'#' && after_blank {
                // A comment, to the end of the line.
                break;
            }
            after_blank = false;
            if self.depth > 0 {
                // Flow context: every bracket outside quotes is a collection.
                match c {
                    b'[' | b'{' => {
                        self.depth += 1;
                        if self.depth > MAX_FLOW_DEPTH {
                            return Err(refuse(
                                i,
                                format!("flow collections (`[`, `{{`) nested more than {MAX_FLOW_DEPTH} deep; refused before parsing"),
                            ));
                        }
                        self.node_start = true;
                    }
                    b']' | b'}' => {
                        self.depth -= 1;
                        self.node_start = false;
                    }
                    b',' => self.node_start = true,
                    b':' if ends_indicator(next) || matches!(next, Some(b',' | b'[' | b']' | b'{' | b'}')) => self.node_start = true,
                    b'-' | b'?' if self.node_start && ends_indicator(next) => {}
                    b'"' if self.node_start => self.mode = Mode::DoubleQuoted,
                    b'\'' if self.node_start => self.mode = Mode::SingleQuoted,
                    b'&' | b'!' if self.node_start => {
                        // An anchor or a tag: the node follows it.
                        while i < b.len() && !blank(b[i]) && !matches!(b[i], b',' | b'[' | b']' | b'{' | b'}') {
                            i += 1;
                        }
                        continue;
                    }
                    _ => self.node_start = false,
                }
            } else if self.node_start {
                match c {
                    b'[' | b'{' => {
                        self.depth = 1;
                        self.node_column = i;
                    }
                    b'"' => {
                        self.mode = Mode::DoubleQuoted;
                        self.node_column = i;
                    }
                    b'\'' => {
                        self.mode = Mode::SingleQuoted;
                        self.node_column = i;
                    }
                    b'|' | b'>' => {
                        // A block scalar: its header (and any comment) ends the line.
                        self.mode = Mode::Block {
                            parent: self.node_column,
                            content: None,
                        };
                        return Ok(());
                    }
                    b'-' | b'?' if ends_indicator(next) => self.node_column = i,
                    b':' if ends_indicator(next) => {}
                    b'&' | b'!' => {
                        // An anchor or a tag, up to the blank after it.
                        while i < b.len() && !blank(b[i]) {
                            i += 1;
                        }
                        continue;
                    }
                    _ => {
                        // A plain scalar (or an alias).
                        self.node_column = i;
                        self.node_start = false;
                    }
                }
            } else if c == b':' && ends_indicator(next) {
                // A mapping's value follows.
                self.node_start = true;
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_at(text: &str) -> (usize, usize) {
        let r = check(text).expect_err("refused");
        r.at.unwrap_or_else(|| panic!("no location: {}", r.message))
    }

    #[test]
    fn deep_flow_nesting_is_refused_where_it_passes_the_limit() {
        // 100 000 levels: the parser alone took over 30 s on the `{a: ` form.
        for unit in ["[", "{a: ", "[a: ", "{", "[{"] {
            let text = unit.repeat(100_000);
            let r = check(&text).unwrap_err();
            let (line, column) = r.at.unwrap();
            assert_eq!(line, 1, "{unit}");
            let opened = text[..column - 1].bytes().filter(|c| matches!(c, b'[' | b'{')).count();
            assert_eq!(
                opened, MAX_FLOW_DEPTH,
                "{unit}: refused at the opening past the limit, column {column}"
            );
            assert!(r.message.contains("nested more than 64 deep"), "{}", r.message);
        }
        // The same depth, over lines and behind a key, an anchor, a tag, a sequence entry.
        let text = format!("key: &a !!seq\n  - {}\n", "[\n".repeat(200_000));
        assert_eq!(refused_at(&text), (2 + MAX_FLOW_DEPTH, 1));
        let text = format!("\u{feff}--- {}", "{a: [".repeat(50_000));
        assert_eq!(refused_at(&text).0, 1);
    }

    #[test]
    fn the_limit_itself_is_allowed() {
        let text = format!("a: {}{}\n", "[".repeat(MAX_FLOW_DEPTH), "]".repeat(MAX_FLOW_DEPTH));
        check(&text).unwrap();
        let text = format!("a: {}{}\n", "[".repeat(MAX_FLOW_DEPTH + 1), "]".repeat(MAX_FLOW_DEPTH + 1));
        assert_eq!(refused_at(&text), (1, 4 + MAX_FLOW_DEPTH));
        // Closed collections do not add up.
        check(&"- [[[[x]]], {a: {b: [1, 2]}}]\n".repeat(10_000)).unwrap();
    }

    #[test]
    fn deep_indentation_is_refused() {
        // Block mappings nested one column per level, 1 000 levels (~500 KB).
        let text: String = (0..1000).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        let r = check(&text).unwrap_err();
        assert_eq!(r.at, Some((MAX_INDENT + 2, MAX_INDENT + 2)));
        assert!(r.message.contains("more than the limit of 512"), "{}", r.message);
        // Sequences nested on one line by their indicators: `- - - … x` over 2 MB
        // (about a second of parsing before).
        let text = format!("{}x\n", "- ".repeat(1_000_000));
        let r = check(&text).unwrap_err();
        assert_eq!(r.at.unwrap().0, 1);
        assert!(r.message.contains("past column 512"), "{}", r.message);
        let text = format!("key:\n  {}x\n", "? ".repeat(1_000_000));
        assert_eq!(refused_at(&text).0, 2);
    }

    #[test]
    fn size_is_capped() {
        let text = format!("a: {}\n", "x".repeat(MAX_BYTES));
        let r = check(&text).unwrap_err();
        assert_eq!(r.at, None);
        assert!(r.message.contains("4 MiB"), "{}", r.message);
        let d = tempfile::tempdir().unwrap();
        let big = d.path().join("big.yaml");
        std::fs::write(&big, &text).unwrap();
        let e = read_capped(&big).unwrap_err();
        assert!(e.to_string().contains("larger than 4 MiB"), "{e}");
        let small = d.path().join("small.yaml");
        std::fs::write(&small, "a: 1\n").unwrap();
        assert_eq!(read_capped(&small).unwrap(), "a: 1\n");
    }

    #[test]
    fn brackets_that_open_nothing_are_not_counted() {
        let deep = "[".repeat(200);
        for text in [
            // Quoted scalars, on one line or several, with their escapes.
            format!("a: \"{deep}\"\nb: '{deep}'\nc: 'it''s {deep}'\nd: \"x\\\"{deep}\"\n"),
            format!("a: \"line\n  {deep}\n  end\"\nb: 'x\n\n  {deep}'\n"),
            format!("- [\"{deep}\", '{deep}', {{k: \"{deep}\"}}]\n"),
            // Comments.
            format!("# {deep}\na: 1 # {deep}\nb: [1, 2] # {deep}\n"),
            // Block scalars, whatever their content.
            format!("run: |\n  {deep}\n    {deep}\n\n  {deep}\nnext: >-\n  {deep}\n- x\n"),
            format!("steps:\n  - name: a\n    script: |\n      {deep}\n  - script: >\n      {deep}\n"),
            // Plain scalars in block context.
            "pattern: a[b\n".repeat(500),
            format!("key: it's {deep}\n"),
        ] {
            check(&text).unwrap_or_else(|r| panic!("{r:?} for {text:?}"));
        }
    }

    #[test]
    fn a_block_scalar_ends_where_its_indentation_does() {
        // The line after the scalar is the mapping's next key, in block context again.
        let text = format!("a: |\n  text\nb: {}", "[".repeat(100));
        assert_eq!(refused_at(&text), (3, 4 + MAX_FLOW_DEPTH));
        let text = format!("- key: |\n    text\n  other: {}", "{".repeat(100));
        assert_eq!(refused_at(&text).0, 3);
        // A first line not indented past the parent is not the scalar's.
        let text = format!("- key: |\n  {}", "[".repeat(100));
        assert_eq!(refused_at(&text).0, 2);
    }

    #[test]
    fn line_breaks_of_every_kind_end_comments() {
        for br in ["\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"] {
            let text = format!("# comment{br}a: {}", "[".repeat(100));
            assert_eq!(refused_at(&text).0, 2, "{br:?}");
        }
    }

    #[test]
    fn the_repository_yaml_files_pass() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut seen = 0;
        let mut stack = vec![root.join("plugins"), root.join("tests"), root.join("docs")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = entry.path();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if p.is_dir() && name != "target" && name != "node_modules" {
                    stack.push(p);
                } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    check(&text).unwrap_or_else(|r| panic!("{}: {r:?}", p.display()));
                    seen += 1;
                }
            }
        }
        assert!(seen > 10, "only {seen} YAML files found");
    }
}
