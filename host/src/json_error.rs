//! serde_json's error text without the position it appends (`… at line 3 column
//! 46`): every message that shows a JSON error names the file, line and column
//! itself, and should not say them twice. And what a value is, for messages that
//! say which kind was expected.

/// The error's message, its trailing ` at line L column C` removed.
pub fn message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

/// What a JSON value is, for messages: `an array`, `a string`, `null` …
pub fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Object(_) => "an object",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Null => "null",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_position_is_said_once() {
        let err = serde_json::from_str::<serde_json::Value>("{\"a\": 1,}").unwrap_err();
        assert_eq!((err.line(), err.column()), (1, 9));
        assert_eq!(super::message(&err), "trailing comma");
    }
}
