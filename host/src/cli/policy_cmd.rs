//! `scope-host policy`: reads every workflow of a service (or those named), the
//! manifests of the plugins they run, and prints the IAM policy they need.

use crate::policy::collect::{needs_of, FAMILIES};
use crate::policy::naming::Naming;
use crate::policy::{document, terraform, wide_grants};
use crate::workflow::load::{load, WorkflowSource};
use crate::workflow::plugins::PluginPath;
use anyhow::{bail, Result};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub(crate) struct PolicyArgs {
    /// The service folder: deployment/, scope/, log/, metric/ and instance/ workflows.
    #[arg(long, value_name = "DIR")]
    service_path: PathBuf,
    /// Only this workflow, as `scope/create` or `create` (repeatable) [default: every
    /// workflow of the service].
    #[arg(long = "workflow", value_name = "NAME")]
    workflows: Vec<String>,
    /// A values file whose `configuration:` fixes variables (repeatable).
    #[arg(long = "values", value_name = "YAML")]
    values: Vec<PathBuf>,
    /// A folder of plugins, searched first (repeatable).
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
    /// The account to write into ARNs [default: `*`].
    #[arg(long)]
    account: Option<String>,
    /// The region to write into ARNs [default: `*`].
    #[arg(long)]
    region: Option<String>,
    /// `json`, an IAM policy document, or `terraform`, an `aws_iam_policy_document`
    /// data source.
    #[arg(long, default_value = "json", value_parser = ["json", "terraform"])]
    format: String,
}

/// The service's workflow files, as `family/name`.
fn workflows(service: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for family in FAMILIES {
        let Ok(entries) = std::fs::read_dir(service.join(family).join("workflows")) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            found.push((format!("{family}/{stem}"), f));
        }
    }
    found
}

pub(crate) fn run(args: &PolicyArgs) -> Result<ExitCode> {
    let service = &std::fs::canonicalize(&args.service_path)
        .map_err(|e| anyhow::anyhow!("the service folder {}: {e}", args.service_path.display()))?;
    let all = workflows(service);
    if all.is_empty() {
        bail!(
            "{} holds no workflows (expected <family>/workflows/*.yaml for the families {})",
            service.display(),
            FAMILIES.join(", ")
        );
    }
    let chosen: Vec<&(String, PathBuf)> = if args.workflows.is_empty() {
        all.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for wanted in &args.workflows {
            let matched: Vec<&(String, PathBuf)> = all
                .iter()
                .filter(|(name, _)| name == wanted || name.rsplit('/').next() == Some(wanted.as_str()))
                .collect();
            if matched.is_empty() {
                let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
                bail!("no workflow `{wanted}` in {}; there are: {}", service.display(), names.join(", "));
            }
            chosen.extend(matched);
        }
        chosen
    };
    let plugins = PluginPath::new(&args.plugins, Some(service));
    let base = BTreeMap::from([("SERVICE_PATH".to_owned(), service.display().to_string())]);
    let mut needs = Vec::new();
    let mut warnings = Vec::new();
    for (name, path) in chosen {
        let source = WorkflowSource {
            path: path.clone(),
            overrides: vec![],
            values: args.values.clone(),
        };
        let wf = load(&source, &base).map_err(|e| anyhow::anyhow!("{e}"))?;
        let naming = Naming {
            config: wf.variables.clone(),
            account: args.account.clone(),
            region: args.region.clone(),
        };
        let (n, w) = needs_of(&wf, name, &plugins, &naming).map_err(|e| anyhow::anyhow!(e))?;
        needs.extend(n);
        warnings.extend(w);
    }
    warnings.extend(wide_grants(&needs));
    warnings.sort();
    warnings.dedup();
    for w in &warnings {
        errln!("warning: {w}");
    }
    let doc = document(&needs);
    match args.format.as_str() {
        "terraform" => out!("{}", terraform(&doc, "scope_host")),
        _ => outln!("{}", serde_json::to_string_pretty(&doc)?),
    }
    Ok(ExitCode::SUCCESS)
}
