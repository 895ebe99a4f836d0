//! `--plan` on the simulated cloud: for every deployment and scope workflow, the
//! plan changes nothing, and its changes are, entry by entry, the changes the real
//! run then makes (step, service, operation, resource, outcome); what it predicts
//! for the function is what the real run leaves.

use scope_host_tests::plan::changes_planned;
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

/// The changes a run made, as its plan's are compared with them.
fn changes_made(run: &Run) -> Vec<scope_host_tests::plan::Entry> {
    scope_host_tests::plan::changes_made(&run.journal)
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

mod applying {
    //! A plan applied by the library: the exercise guest (it calls every interface)
    //! planned, then applied with the same variables and with another image.

    use scope_host::caps::RunEnv;
    use scope_host::cloud::plan::{self, Plan, PlannedChange};
    use scope_host::cloud::record::Inputs;
    use scope_host::cloud::sim::SimCloud;
    use scope_host::cloud::Cloud;
    use scope_host::journal::Event;
    use scope_host::providers::ProviderStore;
    use scope_host::redact::Redactor;
    use scope_host::run::RunBuilder;
    use scope_host::sandbox::Limits;
    use scope_host::step::{run_step, StepReport, StepRequest};
    use scope_host_tests::{fixture, load, scope_vars};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn vars(image: &str) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = scope_vars().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        vars.insert("IMAGE_URI".into(), image.into());
        vars
    }

    async fn run(cloud: Cloud, plan: Option<Plan>, redactor: Redactor, vars: BTreeMap<String, String>) -> (StepReport, Arc<RunEnv>) {
        let context = scope_host::context::load(&fixture("context.json")).unwrap();
        let mut builder = RunBuilder::new(cloud)
            .redactor(redactor)
            .context_secrets(&context)
            .providers(ProviderStore::load(&fixture("providers.json")).unwrap());
        if let Some(plan) = plan {
            builder = builder.plan(plan);
        }
        let env = builder.build().await.unwrap();
        let request = StepRequest {
            name: "exercise".into(),
            plugin: load("exercise"),
            vars,
            context: context.to_string().into(),
            limits: Limits::default(),
        };
        (run_step(env.clone(), request).await, env)
    }

    const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0";

    async fn planned() -> Vec<PlannedChange> {
        let sim = Arc::new(SimCloud::from_fixture_file(&fixture("cloud.json")).unwrap());
        let before = sim.dump_json();
        let (cloud, plan) = plan::plan(Cloud::of(sim.clone()), Inputs::default(), "exercise");
        let (report, _) = run(cloud, Some(plan.clone()), Redactor::new(), vars(IMAGE)).await;
        assert!(report.failure.is_none(), "{report:?}");
        assert_eq!(sim.dump_json()["lambda"], before["lambda"], "the plan changed nothing");
        let changes = plan.changes();
        assert!(changes.iter().any(|c| c.operation == "UpdateFunctionCode"), "{changes:?}");
        changes
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_plans_changes_are_made_and_a_change_it_does_not_list_is_refused_with_nothing_sent_after() {
        let changes = planned().await;

        // The same step, the same variables: every change made.
        let sim = Arc::new(SimCloud::from_fixture_file(&fixture("cloud.json")).unwrap());
        let (cloud, applying) = plan::apply(Cloud::of(sim.clone()), changes.clone(), Redactor::new());
        let (report, _) = run(cloud, None, Redactor::new(), vars(IMAGE)).await;
        assert!(report.failure.is_none(), "{report:?}");
        assert_eq!(applying.applied(), changes.len());
        let f = &sim.dump_json()["lambda"]["functions"][0];
        assert_eq!(f["image_uri"], IMAGE, "the planned image was deployed");

        // Another image than planned: the first change is refused as a denial naming
        // the plan's change, and nothing after it reaches the cloud.
        let sim = Arc::new(SimCloud::from_fixture_file(&fixture("cloud.json")).unwrap());
        let before = sim.dump_json();
        let (cloud, applying) = plan::apply(Cloud::of(sim.clone()), changes.clone(), Redactor::new());
        let other = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:evil";
        let (report, env) = run(cloud, None, Redactor::new(), vars(other)).await;
        let first = changes.iter().position(|c| c.operation == "UpdateFunctionCode").unwrap();
        assert_eq!(applying.applied(), first, "the changes before the divergence were made, none after");
        let denied: Vec<String> = env
            .journal()
            .events()
            .iter()
            .filter_map(|e| match &e.event {
                Event::Denied { reason, action, .. } => Some(format!("{action}: {reason}")),
                _ => None,
            })
            .collect();
        assert!(
            denied.iter().any(
                |d| d.starts_with("lambda:UpdateFunctionCode: not sent: this change is not the plan's")
                    && d.contains(&format!("change #{}", first + 1))
                    && d.contains("code.image_uri: planned 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0, asked")
            ),
            "{denied:?}\n{report:?}"
        );
        let after = sim.dump_json();
        assert_eq!(
            after["lambda"], before["lambda"],
            "nothing of the function changed after the divergence"
        );
    }
}

mod apply_command {
    //! `scope-host apply PLAN`: the plan checked again, then made; a stale plan or
    //! a step that will not ask for the same changes again refused with nothing made.

    use super::{changes_made, example, handle, lambda_service, resources, s};
    use scope_host_tests::{guest_dir, output_text, scope_host_command};
    use serde_json::Value;
    use std::path::Path;

    fn apply(plan: &Path, dir: &Path, extra: &[&str]) -> (Option<i32>, String, Vec<Value>) {
        let journal = dir.join("apply.jsonl");
        let out = scope_host_command()
            .arg("apply")
            .arg(plan)
            .arg("--journal")
            .arg(&journal)
            .args(extra)
            .env_remove("SCOPE_HOST_PLUGINS")
            .output()
            .unwrap();
        let events = std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (out.status.code(), output_text(&out), events)
    }

    /// `handle start-initial --plan-out` on a copy of the example cloud, made in `dir`.
    fn planned(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let state = dir.join("state.json");
        std::fs::copy(lambda_service().join("examples/cloud-state.json"), &state).unwrap();
        let planned = handle("start-initial", &state, dir, true);
        assert!(planned.ok, "{}", planned.text);
        let n = std::fs::read_dir(dir).unwrap().count();
        let plan = dir.join(format!("plan-kept-{n}.json"));
        let made = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("plan-"))
            .unwrap();
        std::fs::rename(made, &plan).unwrap();
        (plan, state)
    }

    #[test]
    fn an_applied_plan_makes_its_changes_and_leaves_what_the_run_itself_would() {
        let dir = tempfile::tempdir().unwrap();
        let (plan, state) = planned(dir.path());
        let after = dir.path().join("applied.json");
        let (code, text, journal) = apply(&plan, dir.path(), &["--dump-state", after.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.contains("✔ the plan holds: the same inputs, the same cloud, the same 5 changes; applying"),
            "{text}"
        );
        assert!(text.contains("applied: 5 of the plan's 5 changes made"), "{text}");
        // The run the plan stood for, made directly, leaves the same cloud.
        let real = handle("start-initial", &state, dir.path(), false);
        assert!(real.ok);
        // (Masked secrets are tagged per run: compared as masked.)
        let unify = scope_host::cloud::plan::unify_masks;
        assert_eq!(unify(&resources(&after)), unify(&resources(&real.after)));
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        let applied = super::Run {
            ok: true,
            text: String::new(),
            after: after.clone(),
            journal,
            plan: None,
        };
        assert_eq!(
            super::changes_planned(&saved),
            changes_made(&applied),
            "the applied run made exactly the plan's changes"
        );
        assert!(applied.journal.iter().all(|e| e["planned"] != true), "an apply's changes are real");
        // The plan's file holds no secret value, and names the secret variables only.
        let text = std::fs::read_to_string(&plan).unwrap();
        assert!(!text.contains("s3cr3t-db-password"));
        let _ = example;
    }

    #[test]
    fn a_function_changed_since_the_plan_makes_apply_refuse_naming_the_function_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let (plan, state) = planned(dir.path());
        let mut cloud: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
        cloud["lambda"]["functions"][0]["memory_size"] = 1024.into();
        assert_eq!(cloud["lambda"]["functions"][0]["name"], super::FUNCTION);
        std::fs::write(&state, cloud.to_string()).unwrap();
        let after = dir.path().join("applied.json");
        let (code, text, journal) = apply(&plan, dir.path(), &["--dump-state", after.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains("✘ apply refused: the plan is stale — nothing was changed; plan again:"),
            "{text}"
        );
        assert!(
            text.contains(":function:11-my-app-my-scope: memory_size was 256 when planned, is 1024 now"),
            "names the function and the field: {text}"
        );
        assert!(!after.exists(), "no run was made");
        assert!(journal.is_empty(), "nothing was journaled as applied");
    }

    #[test]
    fn a_file_that_is_no_plan_is_refused_saying_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("broken.json", "{\"kind\": ", "not JSON"),
            (
                "other.json",
                "{\"kind\": \"fixture\"}",
                "not a plan (a plan is the file `--plan-out FILE` writes",
            ),
            (
                "future.json",
                "{\"kind\": \"scope-host plan\", \"format\": 99}",
                "a plan of format 99, this scope-host reads format 1: plan again",
            ),
        ];
        for (name, text, says) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let (code, text, _) = apply(&path, dir.path(), &[]);
            assert_eq!(code, Some(2), "{text}");
            assert!(text.contains(says), "{name}: {text}");
        }
        let (code, text, _) = apply(&dir.path().join("missing.json"), dir.path(), &[]);
        assert_eq!(code, Some(2));
        assert!(text.contains("reading the plan"), "{text}");
    }

    #[test]
    fn a_step_that_asks_for_other_changes_than_planned_is_refused_and_nothing_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let workflow = dir.path().join("fickle.yaml");
        std::fs::write(&workflow, "steps:\n  - {name: whim, type: wasm, plugin: fickle}\n").unwrap();
        let state = lambda_service().join("examples/cloud-state.json");
        let plan = dir.path().join("plan.json");
        let out = scope_host_command()
            .arg("run")
            .arg(&workflow)
            .arg("--plugins")
            .arg(guest_dir())
            .args(["--var", "LAMBDA_FUNCTION_NAME=11-my-app-my-scope", "--cloud-state"])
            .arg(&state)
            .arg("--plan-out")
            .arg(&plan)
            .output()
            .unwrap();
        let text = output_text(&out);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("plan: 1 change"), "{text}");
        let after = dir.path().join("applied.json");
        let (code, text, _) = apply(&plan, dir.path(), &["--dump-state", after.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains("planning again finds other changes: #1 was lambda PublishVersion") || text.contains("other arguments"),
            "{text}"
        );
        assert!(!after.exists(), "nothing was applied");
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        assert!(s(&saved["changes"][0]["arguments"]["description"]).starts_with("whim "));
    }
}

/// The session a plan opens for a step that deploys code may read the function
/// but not change it: AWS (here the simulated cloud, which evaluates session
/// policies as AWS does) refuses the change itself — what a host bug sending a
/// plan's change to the cloud would meet.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_sent_under_a_plans_session_is_refused_by_the_cloud_itself() {
    use scope_host::cloud::sim::SimCloud;
    use scope_host::cloud::{AssumeRoleRequest, CallCtx, CloudBase, CodeSource, LambdaApi, StsApi, UpdateCode};
    let dir = tempfile::tempdir().unwrap();
    let state = lambda_service().join("examples/cloud-state.json");
    let planned = handle("start-initial", &state, dir.path(), true);
    assert!(planned.ok, "{}", planned.text);
    let call = planned
        .journal
        .iter()
        .find(|e| e["operation"] == "AssumeRole" && e["step"] == "update_function_code")
        .expect("the deploying step's session");
    let policy = s(&call["session_policy"]);
    assert!(!policy.contains("UpdateFunctionCode"), "{policy}");

    let sim = SimCloud::from_fixture_file(&state).unwrap();
    let agent = CallCtx {
        identity: sim.agent_identity().await.unwrap().value,
        region: sim.default_region(),
    };
    let request = AssumeRoleRequest {
        role_arn: s(&call["resource"]),
        session_name: "np-lambda-11.update_function_code".into(),
        session_policy: Some(policy),
        duration_seconds: 900,
    };
    let ctx = CallCtx {
        identity: sim.assume_role(&agent, &request).await.unwrap().value,
        region: sim.default_region(),
    };
    let read = sim.get_function(&ctx, FUNCTION, None).await;
    assert!(read.is_ok(), "the plan's session reads the function: {read:?}");
    let write = sim
        .update_function_code(
            &ctx,
            &UpdateCode {
                function_name: FUNCTION.into(),
                code: CodeSource::Image("123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:v1.0.0".into()),
                architectures: None,
                revision_id: None,
            },
        )
        .await
        .expect_err("a change under a plan's session");
    assert_eq!(write.code, "AccessDeniedException");
    assert!(write.message.contains("session policy"), "{}", write.message);
}
