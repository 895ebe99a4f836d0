//! Why a scenario cannot be run: the file, one of its scenarios, or the start of
//! its run. `scope-host test` prints these as they are.

use crate::cloud::sim::FixtureError;
use crate::cloud::CloudError;
use crate::context::ContextError;
use crate::grants::PolicyError;
use crate::providers::ProvidersError;
use crate::redact::MIN_SECRET_LEN;
use crate::workflow::WorkflowError;
use std::path::PathBuf;
use thiserror::Error;

/// Why a scenario file cannot be run: bad input, reported before anything runs;
/// or, from [`run`](super::run), why a prepared scenario's run could not start.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The scenario file cannot be read (missing, unreadable, over the size cap).
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
    #[error("{path}: scenario `{scenario}`: {problem}")]
    Scenario {
        path: String,
        scenario: String,
        problem: ScenarioProblem,
    },
    /// The simulated cloud did not say who the agent is, so the run never started.
    #[error("asking the simulated cloud who the agent is: {0}")]
    AgentIdentity(#[source] CloudError),
}

/// What is wrong with one scenario: a rule across its keys, or a file it names.
#[derive(Debug, Error)]
pub enum ScenarioProblem {
    /// `name` is empty or blank.
    #[error("`name` is empty")]
    EmptyName,
    /// Another scenario of the same file has this name.
    #[error("another scenario of this file has the same name; names must be unique")]
    DuplicateName,
    /// Neither `plugin` nor `workflow`.
    #[error("say what to run: `plugin: <path or name>` or `workflow: <file.yaml>`")]
    NothingToRun,
    /// Both `plugin` and `workflow`.
    #[error("`plugin` and `workflow` are both set; a scenario runs one of them")]
    PluginAndWorkflow,
    /// A value given inline and as a file (`context` and `context_file` …).
    #[error("`{inline}` and `{file}` are both set; give the {inline} inline or as a file, not both")]
    InlineAndFile { inline: &'static str, file: &'static str },
    /// A key that only a workflow scenario uses, in a plugin scenario.
    #[error("`{key}` is for workflow scenarios; this one runs `plugin`")]
    WorkflowKeyOnPlugin { key: &'static str },
    /// `expect.check` in a workflow scenario.
    #[error("`expect.check` is for a scenario whose `plugin` is a check; this one runs a workflow")]
    CheckOnWorkflow,
    /// `expect.outcome: success` together with `expect.error`.
    #[error("`expect.outcome: success` contradicts `expect.error` (an error message comes with a failure)")]
    SuccessWithError,
    /// `expect.calls` with none of `ordered`, `include`, `exclude`.
    #[error("`expect.calls` is empty; give `ordered`, `include` or `exclude` (`ordered: []` means no calls)")]
    EmptyCalls,
    /// A `vars` or `secret_vars` name that is not letters, digits and `_`.
    #[error("`{0}` is not a variable name (letters, digits, `_`)")]
    VariableName(String),
    /// A secret value the redactor could not mask reliably.
    #[error(
        "secret_vars: the value of `{0}` is shorter than {min} characters, too short to be redacted reliably",
        min = MIN_SECRET_LEN
    )]
    ShortSecret(String),
    /// The same name in `vars` and `secret_vars`.
    #[error("variable `{0}` is in both `vars` and `secret_vars`")]
    VarAndSecretVar(String),
    /// A folder of `plugins:` that does not exist.
    #[error("plugins: {} is not a folder", .0.display())]
    PluginsNotAFolder(PathBuf),
    /// The plugin cannot be found or loaded; the search path's own words, with its
    /// advice reworded for a scenario file.
    #[error("{0}")]
    Plugin(String),
    /// The workflow (with its overrides and values) does not load.
    #[error("workflow: {0}")]
    Workflow(#[source] WorkflowError),
    /// `context_file` cannot be read or is not a JSON object.
    #[error("context_file: {0}")]
    ContextFile(#[source] ContextError),
    /// `providers_file` cannot be read or is malformed.
    #[error("providers_file: {0}")]
    ProvidersFile(#[source] ProvidersError),
    /// The inline `cloud` does not load; the fixture error names it `cloud`.
    #[error(transparent)]
    Cloud(FixtureError),
    /// `cloud_file` cannot be read or does not load.
    #[error("cloud_file: {0}")]
    CloudFile(#[source] FixtureError),
    /// The inline `policy` is invalid; the policy error names it `(inline)`.
    #[error(transparent)]
    Policy(PolicyError),
    /// `policy_file` cannot be read or is invalid.
    #[error("policy_file: {0}")]
    PolicyFile(#[source] PolicyError),
    /// A `grant` entry is not a valid grant.
    #[error("grant: {0}")]
    Grant(#[source] PolicyError),
}
