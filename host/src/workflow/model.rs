//! The workflow YAML dialect, typed. Unknown keys are errors (with their location);
//! the same shapes serve workflows, included values files and override files.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A configuration value: YAML scalars become strings; lists and maps become JSON.
pub type ConfigValue = serde_yaml_ng::Value;

/// A workflow file.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// Values files merged first; their `configuration:` maps become variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Workflow-level variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configuration: BTreeMap<String, ConfigValue>,
    /// Let later steps run after a failure (diagnose workflows).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continue_on_error: bool,
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// What a step is.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// A component named by `plugin`.
    #[default]
    Wasm,
    /// Nested `steps`.
    Workflow,
    /// Every check component in `folders`, each wrapped by `before_each`/`after_each`.
    Executor,
    /// A bash script: refused (steps must be components).
    Script,
    /// A shell command: refused (steps must be components).
    Command,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Wasm => "wasm",
            StepKind::Workflow => "workflow",
            StepKind::Executor => "executor",
            StepKind::Script => "script",
            StepKind::Command => "command",
        }
    }
}

/// How an output reaches later steps.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    /// As a variable.
    #[default]
    Environment,
    /// As a file (bash steps only; refused for components).
    File,
}

/// A declared output.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: OutputKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// One step.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: StepKind,
    /// The component: a name on the plugin search path (optionally pinned
    /// `name@sha256:<hex>`) or a path to a `.wasm` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// The bash script of a `script` step (refused, kept for the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The command of a `command` step (refused, kept for the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Step-scoped variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configuration: BTreeMap<String, ConfigValue>,
    /// Outputs that reach later steps; others are reported, not propagated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<OutputSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre: Option<Box<Step>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<Box<Step>>,
    /// Nested steps of a `workflow` step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_each: Option<Box<Step>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_each: Option<Box<Step>>,
    /// Folders of check components of an `executor` step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<String>,
}

/// An included values file: only configuration (and further includes).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuesFile {
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub configuration: BTreeMap<String, ConfigValue>,
}

/// What an override does to the step with its name.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OverrideAction {
    /// Deep-merge into the step (the default).
    #[default]
    Merge,
    /// Replace the step whole.
    Replace,
    /// Remove the step.
    Skip,
}

/// One entry of an overrides file, checked for unknown keys; applied on the YAML tree.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read only to validate the file's shape with locations
pub struct OverrideStep {
    pub name: String,
    #[serde(default)]
    pub action: Option<OverrideAction>,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<StepKind>,
    pub plugin: Option<String>,
    pub file: Option<String>,
    pub command: Option<String>,
    pub description: Option<String>,
    pub configuration: Option<BTreeMap<String, ConfigValue>>,
    pub output: Option<Vec<OutputSpec>>,
    pub pre: Option<Box<OverrideStep>>,
    pub post: Option<Box<OverrideStep>>,
    pub steps: Option<Vec<OverrideStep>>,
    pub before_each: Option<Box<OverrideStep>>,
    pub after_each: Option<Box<OverrideStep>>,
    pub folders: Option<Vec<String>>,
}

/// An overrides file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read only to validate the file's shape with locations
pub struct OverridesFile {
    #[serde(default)]
    pub configuration: BTreeMap<String, ConfigValue>,
    pub continue_on_error: Option<bool>,
    #[serde(default)]
    pub steps: Vec<OverrideStep>,
}

/// A configuration value as a variable's string.
pub fn config_string(v: &ConfigValue) -> String {
    match v {
        serde_yaml_ng::Value::Null => String::new(),
        serde_yaml_ng::Value::Bool(b) => b.to_string(),
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        serde_yaml_ng::Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

impl Step {
    /// Calls `f` on this step and every step inside it (pre, post, nested steps,
    /// before_each, after_each), depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Step)) {
        f(self);
        for s in [&self.pre, &self.before_each, &self.after_each, &self.post].into_iter().flatten() {
            s.walk(f);
        }
        for s in &self.steps {
            s.walk(f);
        }
    }
}
