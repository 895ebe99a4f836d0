//! What the engine agrees to compile. Compiling runs before any step deadline can
//! apply and costs time and memory in proportion to the code: a component of
//! hundreds of thousands of tiny functions would hold the host for many seconds and
//! gigabytes before its step even starts. Components over these bounds are refused
//! before compilation, with what to change. The bounds leave room for the largest
//! real guests (a JavaScript step embeds a whole JS engine: ~13 000 functions,
//! ~10 MB).

use std::fmt;

/// The largest component file read.
pub const MAX_COMPONENT_BYTES: u64 = 128 << 20;
/// The most functions, across every core module of a component.
pub const MAX_FUNCTIONS: usize = 60_000;
/// The most bytes of function bodies, across every core module.
pub const MAX_CODE_BYTES: usize = 96 << 20;

/// Which bound a component exceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    pub what: &'static str,
    pub found: u64,
    pub limit: u64,
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "it has {} {}, more than the {} scope-host compiles; split the step or strip what it does not use",
            self.found, self.what, self.limit
        )
    }
}

/// Checks a file's size before it is read.
pub fn check_file_size(len: u64) -> Result<(), OverBudget> {
    if len > MAX_COMPONENT_BYTES {
        return Err(OverBudget {
            what: "bytes",
            found: len,
            limit: MAX_COMPONENT_BYTES,
        });
    }
    Ok(())
}

/// Counts functions and code bytes without validating anything (the compiler
/// validates); what does not parse is left for the compiler to report.
pub fn check(bytes: &[u8]) -> Result<(), OverBudget> {
    check_file_size(bytes.len() as u64)?;
    let (mut functions, mut code_bytes) = (0usize, 0usize);
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        if let wasmparser::Payload::CodeSectionStart { count, size, .. } = payload {
            functions = functions.saturating_add(count as usize);
            code_bytes = code_bytes.saturating_add(size as usize);
            if functions > MAX_FUNCTIONS {
                return Err(OverBudget {
                    what: "functions",
                    found: functions as u64,
                    limit: MAX_FUNCTIONS as u64,
                });
            }
            if code_bytes > MAX_CODE_BYTES {
                return Err(OverBudget {
                    what: "bytes of code",
                    found: code_bytes as u64,
                    limit: MAX_CODE_BYTES as u64,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component whose one core module has `n` empty functions.
    fn component_with_functions(n: usize) -> Vec<u8> {
        wat::parse_str(format!("(component (core module {}))", "(func) ".repeat(n))).unwrap()
    }

    #[test]
    fn a_component_of_too_many_functions_is_refused_before_compiling() {
        let many = component_with_functions(MAX_FUNCTIONS + 1);
        let e = check(&many).unwrap_err();
        assert_eq!(e.what, "functions");
        assert!(e.to_string().contains("split the step"), "{e}");
        assert!(check(&component_with_functions(100)).is_ok());
    }

    #[test]
    fn the_engine_refuses_it_instead_of_compiling_it() {
        let runtime = crate::engine::Runtime::new(crate::engine::EngineOptions {
            pooling: false,
            cache_dir: None,
            ..crate::engine::EngineOptions::default()
        })
        .unwrap();
        match runtime.compile(&component_with_functions(MAX_FUNCTIONS + 1), "many.wasm") {
            Err(crate::engine::LoadError::TooLarge { over, .. }) => assert_eq!(over.what, "functions"),
            Err(e) => panic!("refused for another reason: {e}"),
            Ok(_) => panic!("compiled"),
        }
    }

    #[test]
    fn a_file_too_big_is_refused_before_reading() {
        assert!(check_file_size(MAX_COMPONENT_BYTES + 1).is_err());
        assert!(check_file_size(10 << 20).is_ok());
    }
}
