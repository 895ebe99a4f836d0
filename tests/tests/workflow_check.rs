//! `scope-host check` finds each kind of defect before anything runs.

use scope_host::grants::Policy;
use scope_host::workflow::check::check;
use scope_host::workflow::plugins::PluginPath;
use scope_host::workflow::{load, WorkflowSource};
use scope_host_tests::{builtin_dir, guest_dir, output_text, runtime, scope_host_command};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn check_yaml(yaml: &str, policy: Policy, provided: &[&str]) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workflow.yaml");
    std::fs::write(&path, yaml).unwrap();
    let loaded = load(
        &WorkflowSource {
            path,
            ..Default::default()
        },
        &BTreeMap::new(),
    )
    .unwrap();
    let provided: BTreeSet<String> = provided.iter().map(|s| s.to_string()).collect();
    let r = check(
        &loaded,
        runtime(),
        &PluginPath {
            dirs: vec![guest_dir(), builtin_dir()],
        },
        Arc::new(policy),
        &provided,
    );
    (r.errors, r.warnings)
}

#[test]
fn a_sound_workflow_has_no_errors() {
    let yaml = "
configuration: {ROLE_ARN: 'arn:aws:iam::123456789012:role/np-lambda-agent', REPOSITORY: my-app}
steps:
  - {name: names, type: wasm, plugin: emit, configuration: {EMIT: 'A=x'}, output: [{name: A}, {name: LAMBDA_FUNCTION_NAME}]}
  - {name: exercise, type: wasm, plugin: exercise, configuration: {IMAGE_URI: x}}
";
    let (errors, warnings) = check_yaml(yaml, Policy::allow_all(), &[]);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("declares output LAMBDA_FUNCTION_NAME, which plugin `emit` does not declare")),
        "{warnings:#?}"
    );
}

#[test]
fn table_of_defects() {
    let cases: Vec<(&str, &str, Policy, &str)> = vec![
        (
            "script step",
            "steps: [{name: update_alias, type: script, file: x/update_alias}]",
            Policy::allow_all(),
            "`update-alias` replaces it",
        ),
        (
            "unknown plugin",
            "steps: [{name: s, type: wasm, plugin: nope}]",
            Policy::allow_all(),
            "plugin `nope` not found",
        ),
        (
            "no plugin",
            "steps: [{name: s, type: wasm}]",
            Policy::allow_all(),
            "without `plugin:`",
        ),
        (
            "digest mismatch",
            "steps: [{name: s, type: wasm, plugin: 'emit@sha256:1111111111111111111111111111111111111111111111111111111111111111'}]",
            Policy::allow_all(),
            "not the pinned",
        ),
        (
            "missing input",
            "steps: [{name: s, type: wasm, plugin: exercise}]",
            Policy::allow_all(),
            "needs LAMBDA_FUNCTION_NAME, which no earlier step outputs",
        ),
        (
            "not granted",
            "configuration: {ASSUME_ROLE: x}\nsteps: [{name: s, type: wasm, plugin: emit}]",
            Policy::from_flags(&["lambda:GetFunction"]).unwrap(),
            "declares `sts:AssumeRole` on `${ASSUME_ROLE}`, which the operator policy does not grant",
        ),
        (
            "file output",
            "steps: [{name: s, type: wasm, plugin: emit, output: [{name: A, type: file, file: x}]}]",
            Policy::allow_all(),
            "type file",
        ),
        (
            "check as step",
            "steps: [{name: s, type: wasm, plugin: check-sample}]",
            Policy::allow_all(),
            "is a check",
        ),
        (
            "unset variable in plugin",
            "steps: [{name: s, type: wasm, plugin: \"$NOWHERE/x.wasm\"}]",
            Policy::allow_all(),
            "refers to NOWHERE",
        ),
        (
            "executor without folders",
            "steps: [{name: d, type: executor}]",
            Policy::allow_all(),
            "needs `folders:`",
        ),
        (
            "missing check folder",
            "steps: [{name: d, type: executor, folders: [/no/such/dir]}]",
            Policy::allow_all(),
            "cannot be read",
        ),
    ];
    for (what, yaml, policy, expected) in cases {
        let (errors, _) = check_yaml(yaml, policy, &[]);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{what}: no error containing `{expected}` in {errors:#?}"
        );
    }
}

#[test]
fn an_input_provided_at_run_time_or_by_an_earlier_output_is_fine() {
    let yaml = "steps: [{name: c, type: wasm, plugin: exercise}]";
    let (errors, _) = check_yaml(
        yaml,
        Policy::allow_all(),
        &["LAMBDA_FUNCTION_NAME", "ROLE_ARN", "REPOSITORY", "IMAGE_URI"],
    );
    assert!(errors.is_empty(), "{errors:#?}");
    // An output declared by a *later* step does not count.
    let yaml = "
configuration: {ROLE_ARN: r, REPOSITORY: r, IMAGE_URI: i}
steps:
  - {name: c, type: wasm, plugin: exercise}
  - {name: late, type: wasm, plugin: emit, output: [{name: LAMBDA_FUNCTION_NAME}]}
";
    let (errors, _) = check_yaml(yaml, Policy::allow_all(), &[]);
    assert!(errors.iter().any(|e| e.contains("needs LAMBDA_FUNCTION_NAME")), "{errors:#?}");
}

#[test]
fn test_guests_are_not_built_in_plugins() {
    // The hostile test guests are built off the binary's built-in plugin path: a
    // workflow naming one finds nothing, while a built-in plugin is found there.
    for name in ["leaky", "memory-bomb", "gate-abuse"] {
        let file = format!("{}.wasm", name.replace('-', "_"));
        assert!(guest_dir().join(&file).is_file(), "the test guest {name} was built");
        assert!(!builtin_dir().join(&file).exists(), "{name} is beside the built-in plugins");
    }
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("workflow.yaml");
    std::fs::write(
        &workflow,
        "steps:
  - {name: greet, type: wasm, plugin: hello}
  - {name: leak, type: wasm, plugin: leaky}
  - {name: bomb, type: wasm, plugin: memory-bomb}
",
    )
    .unwrap();
    let out = scope_host_command()
        .arg("check")
        .arg(&workflow)
        .env_remove("SCOPE_HOST_PLUGINS")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("plugin `leaky` not found"), "{text}");
    assert!(text.contains("plugin `memory-bomb` not found"), "{text}");
    assert!(
        text.contains(&builtin_dir().display().to_string()),
        "the built-in folder was searched:\n{text}"
    );
    assert!(!text.contains("plugin `hello` not found"), "the built-in hello is found:\n{text}");
}
