//! `scope-host policy`: reads every workflow of a service (or those named), the
//! manifests of the plugins they run, and prints the IAM policy they need.

use crate::policy::collect::{needs_of, FAMILIES};
use crate::policy::naming::Naming;
use crate::policy::{document, terraform, wide_grants};
use crate::workflow::dispatch::service_workflows as workflows;
use crate::workflow::load::{load, WorkflowSource};
use crate::workflow::plugins::PluginPath;
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct PolicyCommand {
    #[command(subcommand)]
    diff: Option<PolicySub>,
    #[command(flatten)]
    args: PolicyArgs,
    /// `json`, an IAM policy document, or `terraform`, an `aws_iam_policy_document`
    /// data source.
    #[arg(long, default_value = "json", value_parser = ["json", "terraform"])]
    format: String,
}

#[derive(Subcommand)]
enum PolicySub {
    /// What a given policy lacks for the workflows (each missing action and
    /// resource, with the steps that need it) and what it grants that no step uses.
    /// Exit status 1 when something is missing.
    Diff(DiffArgs),
}

#[derive(Args)]
struct DiffArgs {
    /// The IAM policy document (JSON) to judge; repeat it for a role with several
    /// policies, judged together as IAM judges them.
    #[arg(long, value_name = "JSON", required = true)]
    against: Vec<PathBuf>,
    #[command(flatten)]
    args: PolicyArgs,
}

#[derive(Args)]
pub(crate) struct PolicyArgs {
    /// The service folder: deployment/, scope/, log/, metric/ and instance/ workflows
    /// (required).
    #[arg(long, value_name = "DIR")]
    service_path: Option<PathBuf>,
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
    /// Whose policy: `both` (one role that assumes nothing), `agent` (what the agent
    /// itself needs: sts:AssumeRole on the role the account's IAM provider names, and
    /// the telemetry workflows, whose notifications name no account and so assume no
    /// role unless ASSUME_ROLE_ARN_DEFAULT is configured), or `assumed-role`
    /// (everything else).
    #[arg(long = "for", value_name = "WHO", default_value = "both", value_parser = ["both", "agent", "assumed-role"])]
    for_role: String,
}

pub(crate) fn run(command: &PolicyCommand) -> Result<ExitCode> {
    match &command.diff {
        Some(PolicySub::Diff(d)) => run_diff(d),
        None => {
            let (needs, warnings) = compute(&command.args)?;
            for w in &warnings {
                errln!("warning: {w}");
            }
            let doc = document(&needs);
            match command.format.as_str() {
                "terraform" => out!("{}", terraform(&doc, "scope_host")),
                _ => outln!("{}", serde_json::to_string_pretty(&doc)?),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_diff(d: &DiffArgs) -> Result<ExitCode> {
    let mut policy = Vec::new();
    for file in &d.against {
        let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        let mut statements = crate::policy::diff::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        if d.against.len() > 1 {
            // Which of the policies grants it, when there are several.
            let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            for s in &mut statements {
                s.sid = format!("{name}:{}", s.sid);
            }
        }
        policy.extend(statements);
    }
    let (needs, _) = compute(&d.args)?;
    let found = crate::policy::diff::diff(&needs, &policy);
    for (action, resource, who) in &found.missing {
        outln!("missing: {action} on {resource} — needed by {}", who.join(", "));
    }
    for (sid, action, resource) in &found.unused {
        outln!("beyond need: `{sid}` grants {action} on {resource}, which no step uses");
    }
    let judged: Vec<String> = d.against.iter().map(|f| f.display().to_string()).collect();
    outln!(
        "{}: {} missing, {} beyond need",
        judged.join(" + "),
        found.missing.len(),
        found.unused.len()
    );
    Ok(if found.missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Whether a workflow runs as the agent's own identity: the platform's telemetry
/// notifications (`log:`, `metric:`) carry no NRN, so assume-role finds no IAM
/// provider for them and only a configured `ASSUME_ROLE_ARN_DEFAULT` gives them a
/// role.
fn runs_as_agent(workflow: &str, config: &BTreeMap<String, String>) -> bool {
    let telemetry = workflow.starts_with("log/") || workflow.starts_with("metric/");
    telemetry && config.get("ASSUME_ROLE_ARN_DEFAULT").is_none_or(|arn| arn.is_empty())
}

/// Every need of the chosen workflows, and the warnings about them.
fn compute(args: &PolicyArgs) -> Result<(Vec<crate::policy::Need>, Vec<String>)> {
    // Optional to clap (the same arguments serve `policy` and `policy diff`), not to us.
    let Some(given) = &args.service_path else {
        bail!("--service-path DIR is required: the service folder whose workflows need the policy");
    };
    let service = &std::fs::canonicalize(given).map_err(|e| anyhow::anyhow!("the service folder {}: {e}", given.display()))?;
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
    let mut as_agent = Vec::new();
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
        if runs_as_agent(name, &wf.variables) {
            as_agent.push(name.clone());
        }
        let (n, w) = needs_of(&wf, name, &plugins, &naming).map_err(|e| anyhow::anyhow!(e))?;
        needs.extend(n);
        warnings.extend(w);
    }
    // Assuming a role is the agent's own act; everything after it is the role's,
    // but for the workflows that find no role to assume.
    let agents = |n: &crate::policy::Need| n.action.eq_ignore_ascii_case("sts:AssumeRole") || as_agent.contains(&n.workflow);
    match args.for_role.as_str() {
        "agent" => needs.retain(agents),
        "assumed-role" => needs.retain(|n| !agents(n)),
        _ => {}
    }
    warnings.extend(wide_grants(&needs));
    warnings.sort();
    warnings.dedup();
    Ok((needs, warnings))
}
