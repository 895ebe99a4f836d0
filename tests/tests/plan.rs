//! `--plan` on the simulated cloud: for every deployment and scope workflow, the
//! plan changes nothing, and its changes are, entry by entry, the changes the real
//! run then makes (step, service, operation, resource, outcome); what it predicts
//! for the function is what the real run leaves.

use scope_host_tests::{lambda_service, output_text, scope_host_command};
use serde_json::Value;
use std::path::{Path, PathBuf};

const FUNCTION: &str = "11-my-app-my-scope";

struct Run {
    ok: bool,
    text: String,
    after: PathBuf,
    journal: Vec<Value>,
    plan: Option<Value>,
}

fn example(slug: &str) -> PathBuf {
    lambda_service().join(format!("examples/notifications/{slug}.json"))
}

/// `handle` of an example notification on `state`; with `plan`, as a plan saved to a file.
fn handle(slug: &str, state: &Path, dir: &Path, plan: bool) -> Run {
    let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    let after = dir.join(format!("after-{n}.json"));
    let journal = dir.join(format!("run-{n}.jsonl"));
    let plan_file = dir.join(format!("plan-{n}.json"));
    let mut cmd = scope_host_command();
    cmd.arg("handle")
        .arg(example(slug))
        .arg("--service-path")
        .arg(lambda_service())
        .arg("--providers")
        .arg(lambda_service().join("examples/providers.json"))
        .arg("--cloud-state")
        .arg(state)
        .arg("--dump-state")
        .arg(&after)
        .arg("--journal")
        .arg(&journal)
        .env_remove("SCOPE_HOST_PLUGINS");
    if plan {
        cmd.arg("--plan-out").arg(&plan_file);
    }
    let out = cmd.output().unwrap();
    let journal = std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let plan = plan.then(|| serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap());
    Run {
        ok: out.status.success(),
        text: output_text(&out),
        after,
        journal,
        plan,
    }
}

/// A cloud state without its id counters (they move with every call).
fn resources(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("counters");
    v
}

/// The state a fixture loads as, dumped: what a run that changes nothing leaves.
fn loaded(path: &Path, dir: &Path) -> Value {
    let sim = scope_host::cloud::sim::SimCloud::from_fixture_file(path).unwrap();
    let out = dir.join("loaded.json");
    std::fs::write(&out, sim.dump_json().to_string()).unwrap();
    resources(&out)
}

/// A call's place in a comparison: step, service, operation, resource, outcome.
type Entry = (String, String, String, String, String);

/// The calls of a run that change something (as the plan counts them: every
/// operation that is not a read, sessions and the platform aside).
fn changes_made(run: &Run) -> Vec<Entry> {
    run.journal
        .iter()
        .filter(|e| e["event"] == "call" && e["service"] != "platform" && e["service"] != "sts")
        .filter(|e| e["outcome"] == "ok" || e["outcome"] == "cloud_error")
        .filter(|e| !scope_host::grants::is_read_action(&format!("{}:{}", s(&e["service"]), s(&e["operation"]))))
        .map(|e| {
            let outcome = if e["outcome"] == "ok" { "ok".to_owned() } else { s(&e["code"]) };
            (s(&e["step"]), s(&e["service"]), s(&e["operation"]), s(&e["resource"]), outcome)
        })
        .collect()
}

fn changes_planned(plan: &Value) -> Vec<Entry> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                s(&c["step"]),
                s(&c["service"]),
                s(&c["operation"]),
                s(&c["resource"]),
                s(&c["outcome"]),
            )
        })
        .collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn function(state: &Value) -> Option<&Value> {
    state["lambda"]["functions"].as_array()?.iter().find(|f| f["name"] == FUNCTION)
}

/// What the plan says the function's top-level settings and aliases become, checked
/// against the state the real run left.
fn assert_predicted(plan: &Value, real_after: &Value, what: &str) -> usize {
    let Some(real) = function(real_after) else { return 0 };
    let mut checked = 0;
    for change in plan["changes"].as_array().unwrap() {
        if change["service"] != "lambda" || !s(&change["resource"]).ends_with(&format!(":function:{FUNCTION}")) || change["outcome"] != "ok"
        {
            continue;
        }
        for field in change["changes"].as_array().into_iter().flatten() {
            let path = s(&field["path"]);
            let after = &field["after"];
            if after == "[REDACTED]" {
                continue;
            }
            let actual = match path.split('.').collect::<Vec<_>>().as_slice() {
                [top] if ["memory_size", "timeout", "image_uri", "reserved_concurrency"].contains(top) => real[*top].clone(),
                ["aliases", alias, "function_version"] => real["aliases"]
                    .as_array()
                    .and_then(|a| a.iter().find(|x| x["name"] == *alias))
                    .map_or(Value::Null, |a| a["function_version"].clone()),
                _ => continue,
            };
            // A later change of the same field wins: compare the last one only.
            let last = plan["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| s(&c["resource"]).ends_with(&format!(":function:{FUNCTION}")) && c["outcome"] == "ok")
                .flat_map(|c| c["changes"].as_array().into_iter().flatten())
                .rfind(|f| f["path"] == path.as_str())
                .unwrap();
            assert_eq!(
                last["after"], actual,
                "{what}: the plan predicts {path} = {after}, the run left {actual}"
            );
            checked += 1;
        }
    }
    checked
}

/// Plans `slug` on `state`, then runs it for real on the same state: the plan
/// changed nothing, its changes are the run's, and its predictions hold. Returns
/// the state the real run left and how many changes succeeded.
fn plan_then_run(slug: &str, state: &Path, dir: &Path) -> (PathBuf, usize) {
    let planned = handle(slug, state, dir, true);
    let real = handle(slug, state, dir, false);
    assert_eq!(
        planned.ok, real.ok,
        "{slug}: the plan and the run differ in outcome\nplan:\n{}\nrun:\n{}",
        planned.text, real.text
    );
    assert_eq!(
        resources(&planned.after),
        loaded(state, dir),
        "{slug}: the plan changed the cloud\n{}",
        planned.text
    );
    assert!(
        planned.journal.iter().filter(|e| e["event"] == "call").all(|e| {
            let write = e["service"] != "sts"
                && e["service"] != "platform"
                && !scope_host::grants::is_read_action(&format!("{}:{}", s(&e["service"]), s(&e["operation"])));
            !write || e["planned"] == true
        }),
        "{slug}: a change in the plan's journal is not marked planned"
    );
    let plan = planned.plan.as_ref().unwrap();
    assert_eq!(
        changes_planned(plan),
        changes_made(&real),
        "{slug}: the plan's changes are not the run's\nplan:\n{}\nrun:\n{}",
        planned.text,
        real.text
    );
    let predicted = assert_predicted(plan, &resources(&real.after), slug);
    if slug == "start-initial" {
        assert!(predicted >= 2, "the image, memory and alias the plan predicts were compared");
    }
    let made = changes_made(&real).iter().filter(|c| c.4 == "ok").count();
    (real.after, made)
}

#[test]
fn every_deployment_workflow_plans_exactly_the_changes_its_run_makes() {
    let dir = tempfile::tempdir().unwrap();
    let state = lambda_service().join("examples/cloud-state.json");
    let mut planned_any = 0;
    let mut count = |made: usize| planned_any += usize::from(made > 0);
    let (initial, made) = plan_then_run("start-initial", &state, dir.path());
    count(made);
    let (blue_green, made) = plan_then_run("start-blue-green", &initial, dir.path());
    count(made);
    for slug in ["switch-traffic", "finalize-blue-green"] {
        count(plan_then_run(slug, &blue_green, dir.path()).1);
    }
    for slug in ["rollback-deployment", "delete-deployment"] {
        count(plan_then_run(slug, &initial, dir.path()).1);
    }
    assert!(
        planned_any >= 3,
        "only {planned_any} deployment workflows changed anything: the comparison would prove little"
    );
}

#[test]
fn the_scope_lifecycle_plans_exactly_the_changes_its_runs_make() {
    let dir = tempfile::tempdir().unwrap();
    let empty = lambda_service().join("examples/scope-cloud-state.json");
    let (created, _) = plan_then_run("create-scope", &empty, dir.path());
    assert!(function(&resources(&created)).is_some(), "create made the function");
    for slug in ["update-scope", "adjust-reserved-concurrency", "adjust-provisioned-concurrency"] {
        plan_then_run(slug, &created, dir.path());
    }
    let (deleted, _) = plan_then_run("delete-scope", &created, dir.path());
    assert!(function(&resources(&deleted)).is_none(), "delete removed the function");
}

#[test]
fn the_plan_shows_what_changes_with_secrets_masked_and_its_sessions_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let state = lambda_service().join("examples/cloud-state.json");
    let planned = handle("start-initial", &state, dir.path(), true);
    assert!(planned.ok, "{}", planned.text);
    let text = &planned.text;
    assert!(text.contains("plan: 5 changes — nothing was changed"), "{text}");
    assert!(text.contains("memory_size: 256 → 512"), "{text}");
    assert!(text.contains("aliases.main.function_version: 1 → 2"), "{text}");
    assert!(
        text.contains("my-app:v0.9.0 → 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0"),
        "{text}"
    );
    // The environment's names are shown, never its values.
    assert!(text.contains("environment.DB_PASSWORD: (none) → [REDACTED]"), "{text}");
    let file = serde_json::to_string(planned.plan.as_ref().unwrap()).unwrap();
    let context: Value = serde_json::from_str(&std::fs::read_to_string(example("start-initial")).unwrap()).unwrap();
    let secret = context.pointer("/context/parameters/results").and_then(|r| {
        r.as_array()?
            .iter()
            .find(|p| p["secret"] == true)
            .and_then(|p| p["values"][0]["value"].as_str().map(str::to_owned))
    });
    if let Some(secret) = secret {
        assert!(!file.contains(&secret), "a secret parameter's value is in the plan file");
        assert!(!text.contains(&secret), "a secret parameter's value is in the output");
    }
    // Every role session the plan opened allowed only reads.
    let policies: Vec<String> = planned
        .journal
        .iter()
        .filter(|e| e["operation"] == "AssumeRole")
        .map(|e| s(&e["session_policy"]))
        .collect();
    assert!(!policies.is_empty());
    for policy in &policies {
        let doc: Value = serde_json::from_str(policy).unwrap();
        for statement in doc["Statement"].as_array().unwrap() {
            if statement["Effect"] == "Deny" {
                continue;
            }
            for action in statement["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                let operation = action.split(':').nth(1).unwrap();
                assert!(
                    ["Get", "List", "Describe", "BatchGet", "Filter"]
                        .iter()
                        .any(|p| operation.to_ascii_lowercase().starts_with(&p.to_ascii_lowercase())),
                    "a plan's session allows {action}"
                );
            }
        }
    }
}
