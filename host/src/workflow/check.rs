//! `scope-host check`: proves, without running anything, that a workflow can run:
//! every step is a component that exists (and matches its pin), every input a
//! step's manifest requires is configured or output by an earlier step, every
//! capability a plugin declares is granted by the operator policy, and no bash step
//! is left.
//!
//! Every run does the same before its first step ([`preflight`], reading manifests
//! rather than compiling), so that a typo in a late step cannot leave a deployment
//! half done.

use super::expand::unresolved;
use super::load::LoadedWorkflow;
use super::model::{OutputKind, Step, StepKind};
use super::plugins::PluginPath;
use crate::engine::{Inspected, Runtime};
use crate::grants::{Grant, Policy};
use crate::manifest::{Kind, Manifest};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Errors stop a run; warnings are worth reading.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Bash steps of the Lambda scope and the components that replace them.
const REPLACEMENTS: [(&str, &str); 14] = [
    ("assume_role", "assume-role"),
    ("build_context", "build-context"),
    ("sync_parameters_to_secrets_manager", "sync-parameters"),
    ("update_function_code", "update-code"),
    ("update_function_configuration", "update-configuration"),
    ("publish_version", "publish-version"),
    ("update_alias", "update-alias"),
    ("wait_provisioned_concurrency", "wait-provisioned-concurrency"),
    ("switch_traffic", "switch-traffic"),
    ("finalize", "finalize"),
    ("rollback", "rollback"),
    ("cleanup_version", "cleanup-version"),
    ("delete_version", "cleanup-version"),
    ("cleanup", "cleanup-version"),
];

/// Why a `script`/`command` step is refused, and what replaces it when known.
pub fn refusal(step: &Step) -> String {
    let what = step.file.as_deref().or(step.command.as_deref()).unwrap_or("");
    let base = what.rsplit('/').next().unwrap_or("").trim_end_matches(".sh");
    let mut m = format!(
        "step `{}` is a `{}` step{}: scope-host runs only components (`type: wasm` with `plugin:`), so steps cannot reach credentials or the host",
        step.name,
        step.kind.as_str(),
        if what.is_empty() { String::new() } else { format!(" ({what})") }
    );
    if let Some((_, plugin)) = REPLACEMENTS.iter().find(|(script, _)| *script == base || *script == step.name) {
        m.push_str(&format!(
            "; the built-in plugin `{plugin}` replaces it: `type: wasm`, `plugin: {plugin}`"
        ));
    } else {
        m.push_str("; write it as a component (see README: writing a step)");
    }
    m
}

/// How closely each plugin is looked at.
#[derive(Clone, Copy)]
pub enum Depth<'a> {
    /// Loaded, so compiled: a component that would not link shows too
    /// (`scope-host check`).
    Load(&'a Runtime),
    /// Its digest and manifest only (a run's [`preflight`]); components the runtime
    /// has loaded already are not read again.
    Manifests(Option<&'a Runtime>),
    /// Only what the runtime has loaded already (a `stat` each): the check gives up
    /// at the first component it would have to read ([`preflight_loaded`]).
    Loaded(&'a Runtime),
}

struct Checker<'a> {
    wf: &'a LoadedWorkflow,
    depth: Depth<'a>,
    /// `Depth::Loaded` met a component the runtime has not loaded.
    unread: bool,
    plugins: &'a PluginPath,
    policy: Arc<Policy>,
    report: CheckReport,
}

/// Checks `wf`, loading every plugin; `provided` names variables given at run time
/// (`--var`).
pub fn check(
    wf: &LoadedWorkflow,
    runtime: &Runtime,
    plugins: &PluginPath,
    policy: Arc<Policy>,
    provided: &BTreeSet<String>,
) -> CheckReport {
    check_to(Depth::Load(runtime), wf, plugins, policy, provided)
}

/// What a run checks before its first step: [`check`] reading each plugin's
/// manifest and digest instead of compiling it. `provided` names the variables the
/// run starts with.
pub fn preflight(
    wf: &LoadedWorkflow,
    runtime: Option<&Runtime>,
    plugins: &PluginPath,
    policy: Arc<Policy>,
    provided: &BTreeSet<String>,
) -> CheckReport {
    check_to(Depth::Manifests(runtime), wf, plugins, policy, provided)
}

/// [`preflight`] when every component the workflow names is loaded in `runtime`
/// already (an agent's, a later run's): no file read, so it may run on the async
/// path. `None` as soon as one is not: then [`preflight`] it is.
pub fn preflight_loaded(
    wf: &LoadedWorkflow,
    runtime: &Runtime,
    plugins: &PluginPath,
    policy: Arc<Policy>,
    provided: &BTreeSet<String>,
) -> Option<CheckReport> {
    let mut unread = false;
    let report = check_with(Depth::Loaded(runtime), wf, plugins, policy, provided, &mut unread);
    (!unread).then_some(report)
}

fn check_to(depth: Depth<'_>, wf: &LoadedWorkflow, plugins: &PluginPath, policy: Arc<Policy>, provided: &BTreeSet<String>) -> CheckReport {
    check_with(depth, wf, plugins, policy, provided, &mut false)
}

fn check_with(
    depth: Depth<'_>,
    wf: &LoadedWorkflow,
    plugins: &PluginPath,
    policy: Arc<Policy>,
    provided: &BTreeSet<String>,
    unread: &mut bool,
) -> CheckReport {
    let mut c = Checker {
        wf,
        depth,
        plugins,
        policy,
        unread: false,
        report: CheckReport::default(),
    };
    if wf.workflow.steps.is_empty() {
        c.report.warnings.push(format!("{}: the workflow has no steps", wf.path.display()));
    }
    let mut available: BTreeSet<String> = wf.variables.keys().cloned().collect();
    available.extend(provided.iter().cloned());
    c.steps(&wf.workflow.steps, &mut available, "");
    *unread = c.unread;
    c.report
}

impl Checker<'_> {
    fn steps(&mut self, steps: &[Step], available: &mut BTreeSet<String>, prefix: &str) {
        let mut seen = BTreeSet::new();
        for step in steps {
            if !seen.insert(step.name.as_str()) {
                self.report.warnings.push(format!(
                    "two steps are named `{}`{}: overrides match the first",
                    step.name,
                    at(prefix)
                ));
            }
            self.step(step, available, prefix);
        }
    }

    fn step(&mut self, step: &Step, available: &mut BTreeSet<String>, prefix: &str) {
        let path = super::runner::step_path(prefix, &step.name);
        if let Some(pre) = &step.pre {
            self.step(pre, available, prefix);
        }
        let mut local = available.clone();
        local.extend(step.configuration.keys().cloned());
        match step.kind {
            StepKind::Script | StepKind::Command => self.report.errors.push(refusal(step)),
            StepKind::Wasm => {
                if let Some(plugin) = self.plugin(step, &local, &path) {
                    if plugin.manifest.kind != Kind::Step {
                        self.report.errors.push(format!(
                            "step `{path}`: `{}` is a check; run checks from an executor step's folders",
                            plugin.manifest.name
                        ));
                    }
                    self.inputs_and_grants(&plugin.manifest, &local, &path);
                    for out in &step.output {
                        if out.kind == OutputKind::File {
                            self.report.errors.push(format!(
                                "step `{path}`: output {} has type file, which components cannot write; use type: environment",
                                out.name
                            ));
                        } else if plugin.manifest.output(&out.name).is_none() {
                            self.report.warnings.push(format!(
                                "step `{path}`: the workflow declares output {}, which plugin `{}` does not declare; it may never be set",
                                out.name, plugin.manifest.name
                            ));
                        }
                    }
                }
                available.extend(step.output.iter().map(|o| o.name.clone()));
            }
            StepKind::Workflow => {
                if step.steps.is_empty() {
                    self.report.warnings.push(format!("step `{path}`: a workflow step without steps"));
                }
                let before = local.clone();
                self.steps(&step.steps, &mut local, &path);
                available.extend(local.difference(&before).cloned());
            }
            StepKind::Executor => self.executor(step, &local, &path),
        }
        if let Some(post) = &step.post {
            self.step(post, available, prefix);
        }
    }

    fn plugin(&mut self, step: &Step, vars: &BTreeSet<String>, path: &str) -> Option<Inspected> {
        let Some(spec) = step.plugin.as_deref() else {
            self.report.errors.push(format!(
                "step `{path}` is a wasm step without `plugin:` (a name on the plugin path, or a path to a .wasm file)"
            ));
            return None;
        };
        let values = &self.wf.variables;
        let missing = unresolved(spec, &|n| values.get(n).cloned().or_else(|| vars.contains(n).then(String::new)));
        if !missing.is_empty() {
            self.report.errors.push(format!(
                "step `{path}`: plugin `{spec}` refers to {}, which nothing sets",
                missing.join(", ")
            ));
            return None;
        }
        let spec = super::expand::expand(spec, &|n| values.get(n).cloned());
        let found = match self.depth {
            Depth::Load(runtime) => self.plugins.load(runtime, &spec, &self.wf.dir).map(|p| Inspected::from(p.as_ref())),
            Depth::Manifests(runtime) => self.plugins.inspect(runtime, &spec, &self.wf.dir),
            Depth::Loaded(runtime) => match self.plugins.loaded(runtime, &spec, &self.wf.dir) {
                Some(found) => found.map(|p| Inspected::from(p.as_ref())),
                None => {
                    self.unread = true;
                    return None;
                }
            },
        };
        match found {
            Ok(p) => Some(p),
            Err(e) => {
                self.report.errors.push(format!("step `{path}`: {e}"));
                None
            }
        }
    }

    fn inputs_and_grants(&mut self, manifest: &Manifest, available: &BTreeSet<String>, path: &str) {
        for input in manifest.inputs.iter().filter(|i| i.required) {
            if !available.contains(&input.name) {
                self.report.errors.push(format!(
                    "step `{path}` (plugin `{}`) needs {}, which no earlier step outputs and no configuration provides; declare it in an earlier step's `output:`, set it in `configuration:`, or pass --var {}=…",
                    manifest.name, input.name, input.name
                ));
            }
        }
        let grant = Grant::new(&manifest.name, &manifest.capabilities, self.policy.clone());
        for cap in grant.ungranted() {
            self.report.errors.push(format!(
                "step `{path}` (plugin `{}`) declares `{}` on `{}`, which the operator policy does not grant; add it to the policy or the step will be denied",
                manifest.name, cap.action, cap.resource
            ));
        }
    }

    fn executor(&mut self, step: &Step, available: &BTreeSet<String>, path: &str) {
        if step.folders.is_empty() {
            self.report
                .errors
                .push(format!("step `{path}`: an executor step needs `folders:` of check components"));
        }
        let mut check_vars = available.clone();
        check_vars.extend(["CHECK_NAME".to_owned(), "CHECK_DESCRIPTION".to_owned()]);
        for hook in [&step.before_each, &step.after_each].into_iter().flatten() {
            let mut hook_vars = check_vars.clone();
            hook_vars.extend(["CHECK_STATUS".to_owned(), "CHECK_SUMMARY".to_owned()]);
            self.step(hook, &mut hook_vars, path);
        }
        let values = &self.wf.variables;
        for folder in &step.folders {
            let dir = self
                .plugins
                .folder(&super::expand::expand(folder, &|n| values.get(n).cloned()), &self.wf.dir);
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    self.report
                        .errors
                        .push(format!("step `{path}`: check folder {} cannot be read: {e}", dir.display()));
                    continue;
                }
            };
            let mut files: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
                .collect();
            files.sort();
            if files.is_empty() {
                self.report
                    .warnings
                    .push(format!("step `{path}`: check folder {} holds no .wasm checks", dir.display()));
            }
            for file in files {
                let found = match self.depth {
                    Depth::Load(runtime) => runtime
                        .load_file(&file)
                        .map(|p| Inspected::from(p.as_ref()))
                        .map_err(|e| e.to_string()),
                    Depth::Manifests(runtime) => super::plugins::inspect_path(runtime, &file),
                    Depth::Loaded(runtime) => match runtime.loaded_file(&file) {
                        Some(p) => Ok(Inspected::from(p.as_ref())),
                        None => {
                            self.unread = true;
                            continue;
                        }
                    },
                };
                match found {
                    Ok(p) if p.manifest.kind == Kind::Check => {
                        self.inputs_and_grants(&p.manifest, &check_vars, &format!("{path}/{}", p.manifest.name))
                    }
                    Ok(p) => self.report.errors.push(format!(
                        "step `{path}`: {} (`{}`) is a step, not a check",
                        file.display(),
                        p.manifest.name
                    )),
                    Err(e) => self.report.errors.push(format!("step `{path}`: {e}")),
                }
            }
        }
    }
}

fn at(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!(" inside `{prefix}`")
    }
}
