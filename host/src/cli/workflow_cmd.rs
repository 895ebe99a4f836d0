//! `run`, `render`, `check` and `handle`: workflows from the command line.

use super::{load_policy, HandleArgs, Opening, RunOptions, Session, WorkflowArgs, WorkflowCheckArgs, WorkflowRunArgs};
use crate::redact::Redactor;
use crate::workflow::check::check as check_workflow;
use crate::workflow::model::Step;
use crate::workflow::plugins::PluginPath;
use crate::workflow::runner::{human_us, Progress, RunReport, Runner, Status, StepRecord};
use crate::workflow::{load, LoadedWorkflow, WorkflowSource};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `--service-path`, else `$SERVICE_PATH`, else the nearest folder above the
/// workflow holding `values.yaml`, else the workflow's folder.
fn service_path(explicit: Option<&Path>, workflow: &Path) -> PathBuf {
    let found = if let Some(p) = explicit {
        p.to_path_buf()
    } else if let Some(p) = std::env::var_os("SERVICE_PATH").filter(|p| !p.is_empty()) {
        PathBuf::from(p)
    } else {
        let dir = workflow.parent().map(Path::to_path_buf).unwrap_or_default();
        dir.ancestors()
            .find(|d| d.join("values.yaml").is_file())
            .map(Path::to_path_buf)
            .unwrap_or(dir)
    };
    // Absolute, so `$SERVICE_PATH/…` means the same from any file that uses it.
    std::path::absolute(&found).unwrap_or(found)
}

fn load_workflow(path: &Path, overrides: Vec<PathBuf>, values: Vec<PathBuf>, service: &Path) -> Result<LoadedWorkflow> {
    let base = BTreeMap::from([("SERVICE_PATH".to_owned(), service.display().to_string())]);
    let loaded = load(
        &WorkflowSource {
            path: path.to_path_buf(),
            overrides,
            values,
        },
        &base,
    );
    match loaded {
        Ok(wf) => Ok(wf),
        // A notification given where a workflow belongs: say which command takes it.
        Err(_) if is_notification(path) => bail!(
            "{} is a platform notification, not a workflow: run it with `scope-host handle {} --service-path <service folder>`, which picks the workflow the notification names",
            path.display(),
            path.display()
        ),
        Err(e) => Err(e.into()),
    }
}

/// Whether the file is JSON with a top-level `notification` member.
fn is_notification(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|doc| doc.get("notification").is_some())
}

pub(super) fn render(args: &WorkflowArgs, explain: bool) -> Result<ExitCode> {
    let service = service_path(args.service_path.as_deref(), &args.workflow);
    let loaded = load_workflow(&args.workflow, args.overrides.clone(), args.values.clone(), &service)?;
    out!("{}", rendered(&loaded, explain)?);
    Ok(ExitCode::SUCCESS)
}

/// The workflow as a run sees it: includes, the workflow's configuration and
/// `--values` files merged into one `configuration:` (what the steps start with),
/// overrides applied; with `explain`, each value followed by the file that set it.
fn rendered(wf: &LoadedWorkflow, explain: bool) -> Result<String> {
    use serde_yaml_ng::Value;
    let mut doc = serde_yaml_ng::to_value(&wf.workflow)?;
    if let Value::Mapping(map) = &mut doc {
        map.remove("include");
        let configuration: serde_yaml_ng::Mapping = wf
            .variables
            .iter()
            .map(|(k, v)| (Value::String(k.clone()), Value::String(v.clone())))
            .collect();
        map.remove("configuration");
        // First, as a run reads it.
        let mut ordered = serde_yaml_ng::Mapping::new();
        ordered.insert("configuration".into(), Value::Mapping(configuration));
        ordered.extend(std::mem::take(map));
        *map = ordered;
    }
    let yaml = serde_yaml_ng::to_string(&doc)?;
    let mut out = format!(
        "# {}: includes, values and overrides applied{}\n",
        wf.path.display(),
        if explain {
            "; after each value, the file that set it"
        } else {
            " (--explain: where each value comes from)"
        }
    );
    let mut in_configuration = false;
    for line in yaml.lines() {
        out.push_str(line);
        if explain {
            if !line.starts_with(' ') {
                in_configuration = line == "configuration:";
            } else if in_configuration {
                let key = line.trim_start();
                let indent = line.len() - key.len();
                if let Some((name, _)) = key.split_once(':').filter(|_| indent == 2) {
                    if let Some(origin) = wf.origins.get(name) {
                        out.push_str(&format!("  # {origin}"));
                    }
                }
            }
        }
        out.push('\n');
    }
    Ok(out)
}

pub(super) fn check(args: WorkflowCheckArgs) -> Result<ExitCode> {
    let w = &args.workflow;
    let service = service_path(w.service_path.as_deref(), &w.workflow);
    let loaded = load_workflow(&w.workflow, w.overrides.clone(), w.values.clone(), &service)?;
    let runtime = args.engine.runtime()?;
    let plugins = PluginPath::new(&w.plugins, Some(&service));
    let policy = Arc::new(load_policy(args.policy.as_deref(), &args.grants)?);
    let provided: BTreeSet<String> = args
        .vars
        .iter()
        .map(|v| v.split('=').next().unwrap_or_default().to_owned())
        .collect();
    let report = check_workflow(&loaded, &runtime, &plugins, policy, &provided);
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"workflow": w.workflow, "ok": report.errors.is_empty(), "errors": report.errors, "warnings": report.warnings})
            )?
        );
    } else {
        for e in &report.errors {
            outln!("error: {e}");
        }
        for w in &report.warnings {
            outln!("warning: {w}");
        }
        let steps = count_steps(&loaded.workflow.steps);
        outln!(
            "{}: {}, {}, {}",
            w.workflow.display(),
            plural(steps, "step"),
            plural(report.errors.len(), "error"),
            plural(report.warnings.len(), "warning")
        );
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn count_steps(steps: &[Step]) -> usize {
    let mut n = 0;
    for s in steps {
        s.walk(&mut |_| n += 1);
    }
    n
}

pub(super) async fn run(args: WorkflowRunArgs) -> Result<ExitCode> {
    let loading = Session::prepare(&args.run);
    let w = &args.workflow;
    let target = w.workflow.display().to_string();
    // The cloud is reached while the workflow is read.
    let opening = Session::begin(&args.run, loading, &target, None)?;
    let service = service_path(w.service_path.as_deref(), &w.workflow);
    let loaded = load_workflow(&w.workflow, w.overrides.clone(), w.values.clone(), &service)?;
    let plugins = PluginPath::new(&w.plugins, Some(&service));
    execute(&loaded, plugins, &args.run, opening, &target, None).await
}

pub(super) async fn handle(mut args: HandleArgs) -> Result<ExitCode> {
    let loading = Session::prepare(&args.run);
    let super::notification::Notification { origin, doc } = super::notification::read(args.notification.as_deref())?;
    // Under the platform's agent (the notification in NP_ACTION_CONTEXT) against
    // AWS, the platform reported to is the real one unless told otherwise; a
    // developer's run against an emulator reports nowhere real.
    if args.run.platform.is_none() && origin == super::notification::ENV_VAR && args.run.cloud == "aws" {
        args.run.platform = Some("np".into());
    }
    let crate::workflow::dispatch::Dispatch {
        family,
        name,
        workflow,
        overrides,
        context,
        answer,
    } = crate::workflow::dispatch::dispatch(&doc, &args.service_path, &args.overrides_path)
        .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    // A telemetry answer is the response body the platform reads: nothing else
    // may reach stdout from here on.
    if answer.is_some() {
        crate::cli::STDOUT_RESERVED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    if args.run.context.is_none() && context.is_none() {
        bail!("no built context: pass --context <json>, or put a `context` member in the notification (building it from the platform's API is not supported yet)");
    }
    let target = workflow.display().to_string();
    // The cloud is reached while the workflow is read.
    let opening = Session::begin(&args.run, loading, &target, context)?;
    if !args.run.json {
        outln!(
            "notification → {} workflow `{}` ({}){}",
            family.folder(),
            name,
            workflow.display(),
            if overrides.is_empty() {
                String::new()
            } else {
                format!(" with {} override file(s)", overrides.len())
            }
        );
    }
    let service = service_path(Some(&args.service_path), &workflow);
    let loaded = load_workflow(&workflow, overrides, args.values.clone(), &service)?;
    let plugins = PluginPath::new(&args.plugins, Some(&service));
    execute(&loaded, plugins, &args.run, opening, &target, answer).await
}

/// Runs a loaded workflow and reports it; with `answer`, the value of that output
/// is printed alone on stdout (everything else went to stderr).
async fn execute(
    loaded: &LoadedWorkflow,
    plugins: PluginPath,
    opts: &RunOptions,
    mut opening: Opening<'_>,
    target: &str,
    answer: Option<&str>,
) -> Result<ExitCode> {
    if let Some(path) = &opts.apply_plan {
        let saved = crate::cloud::plan::SavedPlan::load(path).map_err(anyhow::Error::msg)?;
        match verify_plan(loaded, &plugins, opts, &opening, &saved, path).await? {
            Some(refused) => return Ok(refused),
            None => opening.mode = super::session::RunMode::Apply(Arc::new(saved.changes)),
        }
    }
    let planned = match &opening.mode {
        super::session::RunMode::Apply(changes) => Some(changes.len()),
        _ => None,
    };
    let first = crate::workflow::runner::first_preparable(loaded, &plugins);
    let mut session = opening.open(plugins.files_of(loaded), first).await?;
    let mut vars = loaded.variables.clone();
    vars.extend(session.vars.clone());
    let progress = Arc::new(TermProgress {
        to_stderr: opts.json,
        redactor: session.redactor.clone(),
    });
    let runner = runner(&session, plugins, progress);
    let first = session.first.take();
    let report = runner.run_from(loaded, vars, first).await;
    let calls = session.finish(report.succeeded, opts.dump_state.as_deref(), opts.plan_out.as_deref())?;
    if opts.json {
        let doc = serde_json::json!({
            "workflow": target,
            "ok": report.succeeded,
            "steps": report.steps,
            "duration_us": report.duration_us,
            "calls": calls,
            "journal": session.journal_path,
            "cloud_state": opts.dump_state,
            "refused": report.refused,
            "stopped": report.stopped.map(|why| why.outcome()),
            "plan": session.plan.as_ref().map(|p| p.changes()),
            "plan_out": opts.plan_out,
        });
        outln!("{}", serde_json::to_string_pretty(&session.redactor.redact_json(&doc))?);
    } else if !report.refused.is_empty() {
        for e in &report.refused {
            outln!("error: {}", crate::terminal::printable(&session.redactor.redact(e)));
        }
        outln!(
            "✘ run refused before its first step: {} · nothing ran, no step's call reached the cloud · `scope-host check` says the same · journal {}",
            plural(report.refused.len(), "error"),
            session.journal_path.display()
        );
    } else {
        summary(
            &report,
            calls.len(),
            &session.journal_path,
            opts.dump_state.as_deref(),
            session.journal.write_error(),
        );
        if let Some(plan) = &session.plan {
            print_plan(&plan.changes(), opts.plan_out.as_deref(), &session.redactor);
        }
        if let (Some(applying), Some(planned)) = (&session.applying, planned) {
            outln!(
                "applied: {} of the plan's {} made{}",
                applying.applied(),
                plural(planned, "change"),
                if applying.applied() < planned {
                    " — the rest were not (see above)"
                } else {
                    ""
                }
            );
        }
    }
    if let (Some(name), true) = (answer, report.succeeded) {
        let Some(value) = report.variables.get(name) else {
            errln!("error: the workflow succeeded but returned no {name} (its last step must output the answer)");
            session.leave_to_exit();
            return Ok(ExitCode::from(1));
        };
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), "{}", session.redactor.redact(value));
    }
    session.leave_to_exit();
    Ok(if let Some(why) = report.stopped {
        ExitCode::from(super::session::exit_code_of(why))
    } else if report.succeeded {
        ExitCode::SUCCESS
    } else if !report.refused.is_empty() {
        // The workflow (the input) is wrong, not a step.
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    })
}

/// The runner of a session's workflow, showing progress on `progress`.
fn runner(session: &super::session::Session, plugins: PluginPath, progress: Arc<dyn crate::workflow::runner::Progress>) -> Runner {
    Runner {
        runtime: session.runtime.clone(),
        env: session.env.clone(),
        plugins,
        limits: session.limits.clone(),
        progress,
        context: session.context.clone(),
        retry: None,
    }
}

/// Before a plan is applied: the same run planned again, quietly. `None` when it
/// finds what the saved plan says (same inputs, same reads, same changes); else the
/// reasons are printed and the exit code returned — nothing was changed.
async fn verify_plan(
    loaded: &LoadedWorkflow,
    plugins: &PluginPath,
    opts: &RunOptions,
    opening: &Opening<'_>,
    saved: &crate::cloud::plan::SavedPlan,
    path: &Path,
) -> Result<Option<ExitCode>> {
    let given: Vec<String> = opts
        .secret_vars
        .iter()
        .filter_map(|v| v.split_once('='))
        .map(|(n, _)| n.to_owned())
        .collect();
    let missing: Vec<&String> = saved.command.secret_vars.iter().filter(|n| !given.contains(n)).collect();
    if !missing.is_empty() {
        bail!(
            "the plan was made with --secret-var {}: secret values are never saved in a plan; give them to apply again \
             (scope-host apply {} --secret-var NAME=VALUE …)",
            missing.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", "),
            path.display()
        );
    }
    if !opts.json {
        outln!(
            "apply {}: planning again to check the plan still holds (nothing is changed)…",
            path.display()
        );
    }
    let verifying = opening.verification()?;
    let first = crate::workflow::runner::first_preparable(loaded, plugins);
    let mut session = verifying.open(plugins.files_of(loaded), first).await?;
    let mut vars = loaded.variables.clone();
    vars.extend(session.vars.clone());
    let runner = runner(&session, plugins.clone(), Arc::new(crate::workflow::runner::Quiet));
    let first = session.first.take();
    let report = runner.run_from(loaded, vars, first).await;
    session.finish(report.succeeded, None, None)?;
    let plan = session.plan.clone().unwrap_or_default();
    let inputs = session.redactor.redact_json(&session.inputs.to_value());
    let mut reasons = crate::cloud::plan::staleness(saved, &inputs, &plan.changes(), &plan.fingerprints());
    if !report.succeeded {
        reasons.push("planning again failed (its journal says why)".to_owned());
    }
    let journal = session.journal_path.clone();
    let redactor = session.redactor.clone();
    session.leave_to_exit();
    if reasons.is_empty() {
        if !opts.json {
            outln!(
                "✔ the plan holds: the same inputs, the same cloud, the same {}; applying",
                plural(saved.changes.len(), "change")
            );
        }
        return Ok(None);
    }
    let reasons: Vec<String> = reasons.iter().map(|r| crate::terminal::printable(&redactor.redact(r))).collect();
    if opts.json {
        let doc = serde_json::json!({"plan": path, "ok": false, "stale": reasons, "journal": journal});
        outln!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        outln!("✘ apply refused: the plan is stale — nothing was changed; plan again:");
        for reason in &reasons {
            outln!("  - {reason}");
        }
        outln!("  (the check's run: journal {})", journal.display());
    }
    Ok(Some(ExitCode::from(1)))
}

/// The changes a plan found, after the run's summary.
pub(super) fn print_plan(changes: &[crate::cloud::plan::PlannedChange], saved: Option<&Path>, redactor: &crate::redact::Redactor) {
    let failing = changes.iter().filter(|c| c.outcome != "ok").count();
    outln!(
        "\nplan: {} — nothing was changed; each change was made on a simulated copy of what the run read{}",
        match (changes.len(), failing) {
            (0, _) => "no changes".to_owned(),
            (n, 0) => plural(n, "change"),
            (n, f) => format!("{}, {f} of them would fail", plural(n, "change")),
        },
        match saved {
            Some(p) => format!(" · saved to {}", p.display()),
            None => String::new(),
        }
    );
    for line in crate::cloud::plan::render(changes) {
        outln!("{}", crate::terminal::printable(&redactor.redact(&line)));
    }
}

/// `1 error`, `2 errors`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn summary(report: &RunReport, calls: usize, journal: &Path, dump: Option<&Path>, journal_error: Option<String>) {
    outln!(
        "{} {} ok, {} failed, {} skipped · {calls} cloud calls · {} · journal {}",
        match report.stopped {
            Some(why) => format!("⏹ run {}:", why.describe()),
            None if report.succeeded => "✔ run succeeded:".to_owned(),
            None => "✘ run failed:".to_owned(),
        },
        report.count(Status::Ok),
        report.count(Status::Failed),
        report.count(Status::Skipped),
        human_us(report.duration_us),
        journal.display()
    );
    if let Some(e) = journal_error {
        outln!("warning: the journal could not be written completely: {e}");
    }
    if let Some(d) = dump {
        outln!("cloud state: {}", d.display());
    }
}

/// Prints one line per step as it starts and ends (stderr with --json).
struct TermProgress {
    to_stderr: bool,
    redactor: Redactor,
}

impl TermProgress {
    fn out(&self, text: &str) {
        // Step failures and check verdicts carry guest text: redacted, and with any
        // terminal control shown escaped rather than obeyed.
        let text = crate::terminal::printable(&self.redactor.redact(text));
        if self.to_stderr {
            let _ = writeln!(std::io::stderr(), "{text}");
        } else {
            let _ = writeln!(crate::cli::report_stream(), "{text}");
        }
    }
}

impl Progress for TermProgress {
    fn step_started(&self, path: &str, step: &Step) {
        let what = match &step.plugin {
            Some(p) => format!(" ({p})"),
            None => format!(" ({})", step.kind.as_str()),
        };
        self.out(&format!("▶ {path}{what}"));
    }

    fn step_finished(&self, r: &StepRecord) {
        let took = human_us(r.duration_us);
        match (r.status, &r.failure) {
            (Status::Ok, _) => self.out(&format!(
                "✔ {} ok in {took}{}",
                r.path,
                r.identity
                    .as_ref()
                    .filter(|i| i.contains(":assumed-role/"))
                    .map(|i| format!(" as {i}"))
                    .unwrap_or_default()
            )),
            (Status::Failed, Some(f)) => self.out(&format!("✘ {} failed ({}) in {took}: {}", r.path, f.kind, f.message)),
            (Status::Failed, None) => self.out(&format!("✘ {} failed in {took}", r.path)),
            (Status::Skipped, _) => self.out(&format!("– {} skipped", r.path)),
        }
        for c in &r.checks {
            let mark = match c.status.as_str() {
                "pass" => "✔",
                "warning" => "!",
                "skipped" => "–",
                _ => "✘",
            };
            self.out(&format!("  {mark} {:<8} {}: {}", c.status, c.check, c.summary));
            for (k, v) in &c.evidence {
                self.out(&format!("      {k}: {v}"));
            }
            for a in &c.suggested_actions {
                self.out(&format!("      → {a}"));
            }
        }
        for w in &r.warnings {
            self.out(&format!("  warning: {w}"));
        }
    }
}
