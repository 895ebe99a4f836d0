//! Which plugins a service's workflows run, and what each declares: every wasm
//! step (pre, post, nested, an executor's hooks) and every check in an executor's
//! folders, read from its manifest without compiling anything.

use super::naming::Naming;
use super::Need;
use crate::workflow::load::LoadedWorkflow;
use crate::workflow::model::StepKind;
use crate::workflow::plugins::{inspect_path, PluginPath};

/// The families of a service folder, in the order `handle` routes them.
pub const FAMILIES: [&str; 5] = ["deployment", "scope", "log", "metric", "instance"];

/// What one workflow needs, and the variables no naming rule knew (each a warning).
pub fn needs_of(wf: &LoadedWorkflow, name: &str, plugins: &PluginPath, naming: &Naming) -> Result<(Vec<Need>, Vec<String>), String> {
    let var = |n: &str| wf.variables.get(n).cloned();
    let mut manifests = Vec::new();
    let mut error = None;
    for step in &wf.workflow.steps {
        step.walk(&mut |s| {
            if error.is_some() {
                return;
            }
            match s.kind {
                StepKind::Wasm => {
                    let Some(spec) = s.plugin.as_deref() else { return };
                    let spec = crate::workflow::expand::expand(spec, &var);
                    match plugins.inspect(None, &spec, &wf.dir) {
                        Ok(found) => manifests.push((s.name.clone(), found.manifest)),
                        Err(e) => error = Some(format!("{name}: step `{}`: {e}", s.name)),
                    }
                }
                StepKind::Executor => match plugins.check_files(&s.folders, &wf.dir, &var) {
                    Ok(files) => {
                        for file in files {
                            match inspect_path(None, &file) {
                                Ok(found) => manifests.push((format!("{}/{}", s.name, found.manifest.name), found.manifest)),
                                Err(e) => error = Some(format!("{name}: step `{}`: {e}", s.name)),
                            }
                        }
                    }
                    Err(e) => error = Some(format!("{name}: step `{}`: {e}", s.name)),
                },
                StepKind::Workflow | StepKind::Script | StepKind::Command => {}
            }
        });
    }
    if let Some(e) = error {
        return Err(e);
    }
    let mut needs = Vec::new();
    let mut warnings = Vec::new();
    for (step, manifest) in manifests {
        for cap in &manifest.capabilities {
            let (resource, unknown) = naming.resolve(&cap.resource);
            for var in unknown {
                warnings.push(format!(
                    "plugin `{}` (step `{step}`): `{}` on `{}` names ${{{var}}}, which no naming rule or configuration value fixes: written as `*`",
                    manifest.name, cap.action, cap.resource
                ));
            }
            needs.push(Need {
                action: cap.action.clone(),
                resource,
                workflow: name.to_owned(),
                step: step.clone(),
                plugin: manifest.name.clone(),
            });
        }
    }
    Ok((needs, warnings))
}
