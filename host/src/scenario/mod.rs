//! Scenarios: a step or workflow run on the simulated cloud with given inputs, and
//! what must come of it — outputs, cloud calls, a denial or an error, and a subset of
//! the final cloud state. `scope-host test` runs them; docs/scenarios.md is the
//! format's reference.
//!
//! The stages, one module each: `model` (the YAML, typed, with located errors),
//! `prepare` (reading every file a scenario names and resolving its plugin or
//! workflow, before anything runs), `run` (the ordinary step and workflow machinery
//! on a fresh simulated cloud, observed), and `verdict` (expectations against what
//! was observed, with `subset` for JSON and `calls` for call patterns).

pub mod calls;
pub mod model;
pub mod prepare;
pub mod run;
pub mod subset;
pub mod verdict;

pub use prepare::{load_file, Prepared};
pub use run::{run, Observed};
pub use verdict::{judge, render, Finding};

use thiserror::Error;

/// Why a scenario file cannot be run: bad input, reported before anything runs.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// Malformed YAML, an unknown key or a wrong type, where it is.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file as a whole is wrong (empty, no scenarios).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// One scenario is wrong, or a file it names cannot be used.
    #[error("{path}: scenario `{scenario}`: {message}")]
    Scenario { path: String, scenario: String, message: String },
}
