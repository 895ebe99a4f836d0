//! Everything a scenario names, read and checked before any scenario runs: the
//! context, provider data, cloud fixture and policy (inline or from files relative to
//! the scenario file), and the plugin or workflow, found as `scope-host run` finds
//! them. A problem here is bad input, not a failed scenario.

use super::model::{self, Expect, Scenario};
use super::{ScenarioError, ScenarioProblem};
use crate::cloud::sim::SimCloud;
use crate::engine::{Plugin, Runtime};
use crate::grants::Policy;
use crate::providers::ProviderStore;
use crate::workflow::plugins::PluginPath;
use crate::workflow::{LoadedWorkflow, WorkflowSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A scenario ready to run.
pub struct Prepared {
    /// The scenario file, as given.
    pub file: PathBuf,
    pub name: String,
    pub target: Target,
    /// The built context (a JSON object).
    pub context: serde_json::Value,
    pub vars: BTreeMap<String, String>,
    pub secret_vars: BTreeMap<String, String>,
    pub providers: ProviderStore,
    /// The starting state; each scenario has its own.
    pub cloud: SimCloud,
    pub policy: Policy,
    pub expect: Expect,
}

/// What a scenario runs.
pub enum Target {
    Step(Arc<Plugin>),
    Workflow { loaded: Box<LoadedWorkflow>, plugins: PluginPath },
}

/// Reads and prepares every scenario of a file; the first problem is the error.
pub fn load_file(path: &Path, runtime: &Runtime) -> Result<Vec<Prepared>, ScenarioError> {
    let shown = path.display().to_string();
    let text = crate::workflow::yaml_limits::read_capped(path).map_err(|source| ScenarioError::Read {
        path: shown.clone(),
        source,
    })?;
    let file = model::parse(&text, &shown)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    file.scenarios
        .into_iter()
        .map(|s| {
            let name = s.name.clone();
            prepare(s, path, &dir, runtime).map_err(|problem| ScenarioError::Scenario {
                path: shown.clone(),
                scenario: name,
                problem,
            })
        })
        .collect()
}

fn prepare(s: Scenario, file: &Path, dir: &Path, runtime: &Runtime) -> Result<Prepared, ScenarioProblem> {
    let rel = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { dir.join(p) };
    let plugin_dirs: Vec<PathBuf> = s.plugins.iter().map(|p| rel(p)).collect();
    for d in &plugin_dirs {
        if !d.is_dir() {
            return Err(ScenarioProblem::PluginsNotAFolder(d.clone()));
        }
    }
    let target = match (&s.plugin, &s.workflow) {
        (Some(spec), _) => Target::Step(
            PluginPath::new(&plugin_dirs, None)
                .load(runtime, spec, dir)
                // The search path's advice is worded for the command line.
                .map_err(|e| ScenarioProblem::Plugin(e.replace("with --plugins DIR", "with `plugins: [DIR]`")))?,
        ),
        (None, Some(wf)) => {
            let wf = rel(wf);
            let service = match &s.service_path {
                Some(p) => rel(p),
                None => default_service_path(&wf),
            };
            let service = std::path::absolute(&service).unwrap_or(service);
            let base = BTreeMap::from([("SERVICE_PATH".to_owned(), service.display().to_string())]);
            let source = WorkflowSource {
                path: wf,
                overrides: s.overrides.iter().map(|p| rel(p)).collect(),
                values: s.values.iter().map(|p| rel(p)).collect(),
            };
            let loaded = crate::workflow::load(&source, &base).map_err(ScenarioProblem::Workflow)?;
            Target::Workflow {
                loaded: Box::new(loaded),
                plugins: PluginPath::new(&plugin_dirs, Some(&service)),
            }
        }
        // model::parse refuses a scenario with neither.
        (None, None) => return Err(ScenarioProblem::NothingToRun),
    };
    let context = match (s.context, &s.context_file) {
        (Some(map), _) => serde_json::Value::Object(map),
        (None, Some(f)) => crate::context::load(&rel(f)).map_err(ScenarioProblem::ContextFile)?,
        (None, None) => serde_json::json!({}),
    };
    let providers = match (s.providers, &s.providers_file) {
        (Some(list), _) => ProviderStore::new(list),
        (None, Some(f)) => ProviderStore::load(&rel(f)).map_err(ScenarioProblem::ProvidersFile)?,
        (None, None) => ProviderStore::default(),
    };
    let cloud = match (s.cloud, &s.cloud_file) {
        (Some(fixture), _) => SimCloud::from_fixture(fixture, "cloud").map_err(ScenarioProblem::Cloud)?,
        (None, Some(f)) => SimCloud::from_fixture_file(&rel(f)).map_err(ScenarioProblem::CloudFile)?,
        (None, None) => SimCloud::new_empty(),
    };
    let policy = policy(s.policy, s.policy_file.map(|f| rel(&f)), &s.grant)?;
    Ok(Prepared {
        file: file.to_path_buf(),
        name: s.name,
        target,
        context,
        vars: s.vars,
        secret_vars: s.secret_vars,
        providers,
        cloud,
        policy,
        expect: s.expect,
    })
}

/// As `scope-host run`: no policy and no grants means plugins get what they declare.
fn policy(inline: Option<Policy>, file: Option<PathBuf>, grants: &[String]) -> Result<Policy, ScenarioProblem> {
    let mut policy = match (inline, &file) {
        (Some(p), _) => {
            p.validate("(inline)").map_err(ScenarioProblem::Policy)?;
            p
        }
        (None, Some(f)) => Policy::from_file(f).map_err(ScenarioProblem::PolicyFile)?,
        (None, None) if grants.is_empty() => return Ok(Policy::allow_all()),
        (None, None) => Policy { allow: vec![] },
    };
    policy.extend(Policy::from_flags(grants).map_err(ScenarioProblem::Grant)?);
    Ok(policy)
}

/// The nearest folder above the workflow holding values.yaml, else the workflow's
/// folder. Unlike `scope-host run`, `$SERVICE_PATH` is not read: a scenario means the
/// same on every machine.
fn default_service_path(workflow: &Path) -> PathBuf {
    let dir = workflow.parent().map(Path::to_path_buf).unwrap_or_default();
    dir.ancestors()
        .find(|d| d.join("values.yaml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or(dir)
}
