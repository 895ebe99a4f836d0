//! Workflows on the simulated cloud with small test plugins: output propagation,
//! expansion, overrides, pre/post, nesting, executor with hooks, continue_on_error,
//! identities, secrets downstream, and refusals.

use scope_host::workflow::runner::Status;
use scope_host_tests::run_workflow;

#[tokio::test]
async fn only_declared_outputs_reach_later_steps_and_the_rest_is_reported() {
    let wf = "
steps:
  - name: first
    type: wasm
    plugin: emit
    configuration: {EMIT: 'A=1,B=2'}
    output: [{name: A, type: environment}]
  - name: second
    type: wasm
    plugin: emit
    configuration: {ECHO_VARS: 'A,B'}
";
    let ran = run_workflow(&[("workflow.yaml", wf)], &[], vec![]).await;
    assert!(ran.report.succeeded, "{:#?}", ran.report.steps);
    assert_eq!(ran.report.variables["A"], "1");
    assert!(!ran.report.variables.contains_key("B"));
    assert!(
        ran.sink.text().contains("A=1") && ran.sink.text().contains("B=<unset>"),
        "{}",
        ran.sink.text()
    );
    let first = ran.step("first");
    assert_eq!(first.outputs, ["A"]);
    assert!(
        first
            .warnings
            .iter()
            .any(|w| w.contains("returned B") && w.contains("does not declare")),
        "{:?}",
        first.warnings
    );
    // A declared output the step never returned is reported too.
    let wf2 = "steps:\n  - {name: only, type: wasm, plugin: emit, output: [{name: A}]}\n";
    let ran = run_workflow(&[("workflow.yaml", wf2)], &[], vec![]).await;
    assert!(
        ran.step("only").warnings.iter().any(|w| w.contains("declares output A")),
        "{:?}",
        ran.step("only").warnings
    );
}

#[tokio::test]
async fn variables_expand_in_values_and_step_configuration_wins() {
    let wf = "
include: [\"$SERVICE_PATH/values.yaml\"]
configuration: {X: \"$SERVICE_PATH/x\", SHARED: workflow}
steps:
  - name: echo
    type: wasm
    plugin: emit
    configuration: {Y: \"${X}/y\", SHARED: step, ECHO_VARS: 'X,Y,SHARED,FROM_VALUES,CLI'}
";
    let values = "configuration: {FROM_VALUES: yes-values, SHARED: values}\n";
    let ran = run_workflow(&[("workflow.yaml", wf), ("values.yaml", values)], &[], vec![("CLI", "from-cli")]).await;
    let log = ran.sink.text();
    let svc = ran.dir.path().display().to_string();
    assert!(log.contains(&format!("X={svc}/x")), "{log}");
    assert!(log.contains(&format!("Y={svc}/x/y")), "{log}");
    assert!(log.contains("SHARED=step"), "{log}");
    assert!(log.contains("FROM_VALUES=yes-values"), "{log}");
    assert!(log.contains("CLI=from-cli"), "{log}");
}

const THREE: &str = "
steps:
  - {name: one, type: wasm, plugin: emit}
  - {name: two, type: wasm, plugin: emit, configuration: {FAIL: 'two broke'}}
  - {name: three, type: wasm, plugin: emit}
";

#[tokio::test]
async fn the_first_failure_stops_the_run_unless_continue_on_error() {
    let ran = run_workflow(&[("workflow.yaml", THREE)], &[], vec![]).await;
    assert!(!ran.report.succeeded);
    assert_eq!(
        ran.statuses(),
        [
            ("one".into(), "ok".into()),
            ("two".into(), "failed".into()),
            ("three".into(), "skipped".into())
        ]
    );
    assert_eq!(ran.step("two").failure.as_ref().unwrap().message, "two broke");
    // The journal keeps every completed step and the failure.
    let j = ran.journal_text();
    assert_eq!(j.matches("\"event\":\"step_finished\"").count(), 2, "{j}");
    assert!(j.contains("two broke"));

    let cont = format!("continue_on_error: true\n{THREE}");
    let ran = run_workflow(&[("workflow.yaml", &cont)], &[], vec![]).await;
    assert!(!ran.report.succeeded, "a failure still fails the run");
    assert_eq!(ran.step("three").status, Status::Ok);
}

#[tokio::test]
async fn overrides_merge_replace_skip_and_add() {
    let ov = "
steps:
  - {name: two, configuration: {FAIL: ''}}
  - {name: three, action: skip}
  - {name: added, type: wasm, plugin: emit, after: one, configuration: {EMIT: 'A=added'}, output: [{name: A}]}
  - {name: one, action: replace, type: wasm, plugin: emit, configuration: {ECHO_VARS: A}}
";
    let ran = run_workflow(&[("workflow.yaml", THREE), ("ov.yaml", ov)], &["ov.yaml"], vec![]).await;
    assert!(ran.report.succeeded, "{:#?}", ran.report.steps);
    let order: Vec<_> = ran.statuses().into_iter().map(|(p, _)| p).collect();
    assert_eq!(order, ["one", "added", "two"]);
    assert_eq!(ran.report.variables["A"], "added");
    assert!(ran.sink.text().contains("A=<unset>"), "the replaced step runs before the added one");
}

#[tokio::test]
async fn pre_post_and_nested_workflow_steps() {
    let wf = "
steps:
  - name: main
    type: wasm
    plugin: emit
    configuration: {ECHO_VARS: FROM_PRE}
    pre: {name: before_main, type: wasm, plugin: emit, configuration: {EMIT: 'A=pre'}, output: [{name: A}]}
    post: {name: after_main, type: wasm, plugin: emit, configuration: {ECHO_VARS: A}}
  - name: group
    type: workflow
    steps:
      - {name: inner, type: wasm, plugin: emit, configuration: {EMIT: 'B=inner'}, output: [{name: B}]}
  - {name: last, type: wasm, plugin: emit, configuration: {ECHO_VARS: B}}
";
    let ran = run_workflow(&[("workflow.yaml", wf)], &[], vec![]).await;
    assert!(ran.report.succeeded, "{:#?}", ran.report.steps);
    let order: Vec<_> = ran.statuses().into_iter().map(|(p, _)| p).collect();
    assert_eq!(order, ["before_main", "main", "after_main", "group/inner", "group", "last"]);
    assert!(ran.sink.text().contains("A=pre"));
    assert!(
        ran.sink.text().contains("B=inner"),
        "nested outputs reach later steps: {}",
        ran.sink.text()
    );

    let failing_pre =
        "steps:\n  - {name: main, type: wasm, plugin: emit, pre: {name: p, type: wasm, plugin: emit, configuration: {FAIL: no}}}\n";
    let ran = run_workflow(&[("workflow.yaml", failing_pre)], &[], vec![]).await;
    assert_eq!(ran.statuses(), [("p".into(), "failed".into()), ("main".into(), "skipped".into())]);
}

#[tokio::test]
async fn executor_runs_every_check_between_its_hooks() {
    let checks = tempfile::tempdir().unwrap();
    for g in ["check-sample", "check-warn"] {
        std::fs::copy(scope_host_tests::guest(g), checks.path().join(format!("{g}.wasm"))).unwrap();
    }
    let wf = format!(
        "
continue_on_error: true
steps:
  - name: diagnose
    type: executor
    folders: [\"{}\"]
    before_each: {{name: notify_check_running, type: wasm, plugin: emit, configuration: {{ECHO_VARS: CHECK_NAME}}}}
    after_each: {{name: notify_check_results, type: wasm, plugin: emit, configuration: {{ECHO_VARS: 'CHECK_NAME,CHECK_STATUS'}}}}
",
        checks.path().display()
    );
    let ran = run_workflow(&[("workflow.yaml", &wf)], &[], vec![("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope")]).await;
    let diag = ran.step("diagnose");
    assert_eq!(diag.status, Status::Ok, "{diag:#?}");
    let verdicts: Vec<_> = diag.checks.iter().map(|c| (c.check.as_str(), c.status.as_str())).collect();
    assert_eq!(verdicts, [("check-sample", "pass"), ("check-warn", "warning")]);
    assert_eq!(diag.checks[1].evidence, [("check_name".to_owned(), "check-warn".to_owned())]);
    let log = ran.sink.text();
    assert!(log.contains("CHECK_STATUS=pass") && log.contains("CHECK_STATUS=warning"), "{log}");
    assert_eq!(ran.report.steps.iter().filter(|s| s.name == "notify_check_running").count(), 2);

    let ran = run_workflow(&[("workflow.yaml", &wf)], &[], vec![("LAMBDA_FUNCTION_NAME", "absent")]).await;
    let diag = ran.step("diagnose");
    assert_eq!(diag.status, Status::Failed);
    assert_eq!(diag.checks[0].status, "fail");
    assert_eq!(diag.checks.len(), 2, "every check runs even after a failure");
}

#[tokio::test]
async fn the_assumed_identity_is_used_by_later_steps() {
    let wf = "
steps:
  - {name: assume, type: wasm, plugin: emit, configuration: {ASSUME_ROLE: 'arn:aws:iam::123456789012:role/np-lambda-agent'}}
  - {name: later, type: wasm, plugin: emit}
";
    let ran = run_workflow(&[("workflow.yaml", wf)], &[], vec![]).await;
    assert!(ran.report.succeeded, "{:#?}", ran.report.steps);
    let arn = "arn:aws:sts::123456789012:assumed-role/np-lambda-agent/np-lambda-workflow";
    assert_eq!(ran.step("later").identity.as_deref(), Some(arn));
}

#[tokio::test]
async fn a_secret_output_stays_secret_downstream() {
    let wf = "
steps:
  - {name: make, type: wasm, plugin: emit, configuration: {EMIT_SECRET: 'S=downstream-secret-789'}, output: [{name: S}]}
  - {name: use, type: wasm, plugin: emit, configuration: {ECHO_VARS: S}}
";
    let ran = run_workflow(&[("workflow.yaml", wf)], &[], vec![]).await;
    assert!(ran.report.succeeded);
    assert_eq!(ran.report.variables["S"], "downstream-secret-789", "the value itself flows on");
    assert!(ran.sink.text().contains("S=[REDACTED:"), "{}", ran.sink.text());
    assert!(!ran.journal_text().contains("downstream-secret-789"));
}

#[tokio::test]
async fn bash_steps_missing_plugins_and_wrong_pins_refuse_the_run_with_what_to_do() {
    let wf = "
continue_on_error: true
steps:
  - {name: first, type: wasm, plugin: emit}
  - {name: publish_version, type: script, file: \"$SERVICE_PATH/deployment/scripts/publish_version\"}
  - {name: ghost, type: wasm, plugin: no-such-plugin}
  - {name: pinned, type: wasm, plugin: \"emit@sha256:0000000000000000000000000000000000000000000000000000000000000000\"}
";
    let ran = run_workflow(&[("workflow.yaml", wf)], &[], vec![]).await;
    // Checked before the first step, even with continue_on_error: nothing ran.
    assert!(!ran.report.succeeded);
    assert!(ran.report.steps.is_empty(), "{:#?}", ran.report.steps);
    let refused = &ran.report.refused;
    assert_eq!(refused.len(), 3, "{refused:#?}");
    assert!(refused[0].contains("`publish-version` replaces it"), "{}", refused[0]);
    assert!(
        refused[1].contains("plugin `no-such-plugin` not found") && refused[1].contains("--plugins"),
        "{}",
        refused[1]
    );
    assert!(refused[2].contains("not the pinned sha256:0000"), "{}", refused[2]);
}

/// Compiling a component that is not cached runs on the blocking pool: the async
/// runtime the workflow runs on (here a single thread) goes on with its other tasks
/// meanwhile, instead of stalling for the whole compile.
#[tokio::test]
async fn compiling_a_plugin_does_not_stall_the_async_runtime() {
    use scope_host::workflow::{load, plugins::PluginPath, runner::Runner, WorkflowSource};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    // A component heavy enough to compile for a while (a manifest, and many
    // functions; it has no `run`, so the step fails once it has loaded).
    let manifest = scope_host::pack::step_toml::parse(
        "name = \"heavy\"\nversion = \"0.1.0\"\ncontract = \"0.1.0\"\nkind = \"step\"\ndescription = \"heavy\"\n",
        "step.toml",
    )
    .unwrap();
    let body = "(func (result i32) i32.const 1 i32.const 2 i32.add i32.const 3 i32.mul) ".repeat(20_000);
    let component = wat::parse_str(format!("(component (core module {body}))")).unwrap();
    let (packed, _) = scope_host::pack::embed(&component, "heavy.wasm", &manifest).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("heavy.wasm"), packed).unwrap();
    std::fs::write(
        dir.path().join("workflow.yaml"),
        "steps:\n  - {name: heavy, type: wasm, plugin: ./heavy.wasm}\n",
    )
    .unwrap();
    let loaded = load(
        &WorkflowSource {
            path: dir.path().join("workflow.yaml"),
            ..Default::default()
        },
        &Default::default(),
    )
    .unwrap();
    // A fresh engine without a disk cache: the component is compiled now.
    let runtime = Arc::new(
        scope_host::engine::Runtime::new(scope_host::engine::EngineOptions {
            cache_dir: None,
            pooling: false,
            ..Default::default()
        })
        .unwrap(),
    );
    let env = scope_host::run::RunBuilder::new(Arc::new(scope_host::cloud::sim::SimCloud::new_empty()))
        .build()
        .await
        .unwrap();
    let runner = Runner {
        runtime,
        env,
        plugins: PluginPath { dirs: vec![] },
        limits: scope_host::limits::Limits::default(),
        progress: Arc::new(scope_host::workflow::runner::Quiet),
        context: "{}".into(),
        retry: None,
    };
    let ticks = Arc::new(AtomicU32::new(0));
    let ticking = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            ticking.fetch_add(1, Ordering::Relaxed);
        }
    });
    let started = std::time::Instant::now();
    let report = runner.run(&loaded, Default::default()).await;
    let took = started.elapsed();
    ticker.abort();
    assert!(!report.succeeded, "a component without `run` fails");
    let seen = ticks.load(Ordering::Relaxed);
    assert!(
        took > std::time::Duration::from_millis(100),
        "the compile was too quick to tell ({took:?})"
    );
    // Blocked, the single thread would run the ticker at most once or twice.
    assert!(seen >= 5, "the runtime stalled: {seen} ticks in {took:?}");
}
