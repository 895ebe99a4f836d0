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
mod error;
pub mod model;
pub mod prepare;
pub mod run;
pub mod subset;
pub mod verdict;

pub use error::{ScenarioError, ScenarioProblem};
pub use prepare::{load_file, Prepared};
pub use run::{run, Observed};
pub use verdict::{judge, render, Finding};
