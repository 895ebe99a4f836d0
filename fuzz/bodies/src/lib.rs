//! The bodies of scope-host's fuzz targets, one plain function per target, for
//! every input a user or a plugin controls: workflow YAML (with overrides, values
//! and includes), notifications and contexts, provider data, the manifest section
//! and `plugin pack`, step.toml, scenario files, cloud fixtures and recordings,
//! grant patterns, the redactor, operator policies and the ARN helpers.
//!
//! A body never panics on any input unless scope-host misbehaves: a panic is a
//! finding. Bodies that state a property (the redactor masks every secret, globbing
//! agrees with a reference matcher, a fixture dump loads back …) assert it.
//!
//! The cargo-fuzz binaries in `../fuzz_targets` call these functions under
//! libFuzzer; `tests/tests/fuzz_corpus.rs` replays the committed corpus and
//! regressions through the same functions in the ordinary test suite, without
//! instrumentation.

mod files;
mod grants;
mod parsers;
mod redact;

pub use grants::grants;
pub use parsers::{cloud_fixture, manifest, policy_arn, providers, routing, scenario, step_toml, workflow};
pub use redact::redact;

/// A fuzz target's body.
pub type Body = fn(&[u8]);

/// Every target by name (the name of its binary and of its corpus folder).
pub const TARGETS: &[(&str, Body)] = &[
    ("workflow", workflow),
    ("routing", routing),
    ("providers", providers),
    ("manifest", manifest),
    ("step_toml", step_toml),
    ("scenario", scenario),
    ("cloud_fixture", cloud_fixture),
    ("grants", grants),
    ("redact", redact),
    ("policy_arn", policy_arn),
];

/// Findings reported to scope-host's maintainers and not fixed yet, by id. A body
/// that meets one records it (see [`tolerated`]) instead of panicking, so that long
/// fuzzing runs go on finding other things and the test suite stays green; the
/// committed regression input named after the id (fuzz/regressions/<target>/<id>*)
/// must keep reproducing it, and tests/tests/fuzz_corpus.rs says so when it stops:
/// then remove the id here, and the input guards the fix like any regression.
pub const OPEN_FINDINGS: &[&str] = &[];

thread_local! {
    static TOLERATED: std::cell::RefCell<Vec<&'static str>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The open findings met on this thread since the last call.
pub fn tolerated() -> Vec<&'static str> {
    TOLERATED.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// A property failed: panics, unless `id` is an open finding.
fn finding(id: &'static str, message: impl FnOnce() -> String) {
    if OPEN_FINDINGS.contains(&id) {
        TOLERATED.with(|t| t.borrow_mut().push(id));
        return;
    }
    panic!("finding `{id}`: {}", message());
}

/// Whether to print the structured inputs `grants` and `redact` decode from their
/// bytes (`SCOPE_HOST_FUZZ_SHOW=1`), to read a finding.
fn show() -> bool {
    static SHOW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("SCOPE_HOST_FUZZ_SHOW").is_some())
}

/// The input split at NUL bytes into at most `n` parts (the last keeps any further
/// NULs). Text formats never contain NUL, so a seed without one is a single file.
fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    data.splitn(n, |b| *b == 0).collect()
}
