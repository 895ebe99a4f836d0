//! `scope-host plugin pack`: a component built without the Rust SDK gets its
//! manifest from a step.toml, `plugin inspect` reads it back, and the packed
//! step runs with exactly the capabilities the file declares. Bad files and
//! components are refused with the place and the fix. Also: contract versions a
//! plugin may claim.

use scope_host_tests::{fixture, guest, output_text, scope_host_command};
use std::path::{Path, PathBuf};
use std::process::Output;

const STEP_TOML: &str = r#"name = "function-arn"
version = "1.2.3"
contract = "0.2.0"
description = "Looks FUNCTION up and returns its ARN"

[[inputs]]
name = "FUNCTION"
required = true

[[outputs]]
name = "FUNCTION_ARN"

[[capabilities]]
action = "lambda:GetFunction"
resource = "arn:aws:lambda:*:*:function:${FUNCTION}"
"#;

fn scope_host(args: &[&str]) -> Output {
    scope_host_command().args(args).output().unwrap()
}

/// A folder with `step.toml` holding `toml`.
fn manifest_dir(toml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("step.toml");
    std::fs::write(&path, toml).unwrap();
    (dir, path)
}

/// Packs the manifest-less guest with `toml` into `<dir>/packed.wasm`.
fn pack(toml: &str) -> (tempfile::TempDir, PathBuf, Output) {
    let (dir, manifest) = manifest_dir(toml);
    let out_path = dir.path().join("packed.wasm");
    let out = scope_host(&[
        "plugin",
        "pack",
        guest("no-manifest").to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
    ]);
    (dir, out_path, out)
}

fn inspect_json(path: &Path) -> serde_json::Value {
    let out = scope_host(&["plugin", "inspect", "--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", output_text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn run_function_step(plugin: &Path, function: &str) -> Output {
    let cloud = fixture("cloud.json");
    scope_host(&[
        "step",
        "run",
        plugin.to_str().unwrap(),
        "--cloud-state",
        cloud.to_str().unwrap(),
        "--var",
        &format!("FUNCTION={function}"),
    ])
}

#[test]
fn pack_then_inspect_reads_the_manifest_back() {
    let (_dir, packed, out) = pack(STEP_TOML);
    let t = output_text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("packed function-arn 1.2.3 (step; contract scope:step@0.2.0)") && t.contains("exports `run`"),
        "{t}"
    );

    let doc = inspect_json(&packed);
    let m = &doc["manifest"];
    assert_eq!(m["name"], "function-arn");
    assert_eq!(m["version"], "1.2.3");
    assert_eq!(m["contract"], "0.2.0");
    assert_eq!(m["kind"], "step");
    assert_eq!(m["inputs"][0], serde_json::json!({"name": "FUNCTION", "required": true}));
    assert_eq!(m["capabilities"][0]["resource"], "arn:aws:lambda:*:*:function:${FUNCTION}");

    let text = output_text(&scope_host(&["plugin", "inspect", packed.to_str().unwrap()]));
    assert!(text.starts_with("function-arn 1.2.3 (step; contract scope:step@0.2.0)"), "{text}");
    assert!(
        text.contains("lambda:GetFunction on arn:aws:lambda:*:*:function:${FUNCTION}"),
        "{text}"
    );
}

#[test]
fn packing_again_replaces_the_manifest() {
    let (dir, packed, out) = pack(STEP_TOML);
    assert!(out.status.success(), "{}", output_text(&out));
    let manifest = dir.path().join("v2.toml");
    std::fs::write(&manifest, STEP_TOML.replace("1.2.3", "1.3.0")).unwrap();
    let again = scope_host(&[
        "plugin",
        "pack",
        packed.to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
        "-o",
        packed.to_str().unwrap(),
    ]);
    let t = output_text(&again);
    assert!(
        again.status.success() && t.contains("replaced the manifest it carried before"),
        "{t}"
    );
    // Two different manifest sections would make the plugin unloadable.
    assert_eq!(inspect_json(&packed)["manifest"]["version"], "1.3.0");
}

#[test]
fn the_packed_step_runs_with_the_capabilities_its_file_declares() {
    let (_dir, packed, out) = pack(STEP_TOML);
    assert!(out.status.success(), "{}", output_text(&out));
    let ran = run_function_step(&packed, "11-my-app-my-scope");
    let t = output_text(&ran);
    assert!(ran.status.success(), "{t}");
    assert!(t.contains("✔ function-arn ok"), "{t}");
    assert!(
        t.contains("FUNCTION_ARN = arn:aws:lambda:us-east-1:123456789012:function:11-my-app-my-scope"),
        "{t}"
    );

    // The same component packed without the capability may not make the call.
    let (_dir2, bare, out) = pack(&STEP_TOML[..STEP_TOML.find("[[capabilities]]").unwrap()]);
    assert!(out.status.success(), "{}", output_text(&out));
    let denied = run_function_step(&bare, "11-my-app-my-scope");
    let t = output_text(&denied);
    assert_eq!(denied.status.code(), Some(1), "{t}");
    assert!(t.contains("failed (denied)") && t.contains("lambda:GetFunction"), "{t}");
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let (_dir, packed, out) = pack(&STEP_TOML.replace("required = true", "requierd = true"));
    let t = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("step.toml:8:1: unknown field `requierd`, expected one of `name`, `required`, `description`"),
        "{t}"
    );
    assert!(!packed.exists(), "nothing is written on error");
}

#[test]
fn a_malformed_capability_says_what_is_wrong() {
    let (_dir, _, out) = pack(&STEP_TOML.replace("lambda:GetFunction", "GetFunction"));
    let t = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains(
            "step.toml: the manifest is invalid: capability action `GetFunction` is not `service:Action` (e.g. `lambda:GetFunction`)"
        ),
        "{t}"
    );

    let (_dir, _, out) = pack(&STEP_TOML.replace("${FUNCTION}\"", "${FUNCTION\""));
    let t = output_text(&out);
    assert!(
        t.contains("resource `arn:aws:lambda:*:*:function:${FUNCTION`") && t.contains("unclosed"),
        "{t}"
    );
}

#[test]
fn an_unpacked_component_is_refused_with_the_command_that_fixes_it() {
    let out = run_function_step(&guest("no-manifest"), "11-my-app-my-scope");
    let t = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("no `scope-step-manifest` custom section") && t.contains("scope-host plugin pack <wasm> --manifest <step.toml>"),
        "{t}"
    );
}

#[test]
fn a_manifest_of_the_wrong_world_is_refused_at_pack_time() {
    let (_dir, packed, out) = pack(&STEP_TOML.replace("description =", "kind = \"check\"\ndescription ="));
    let t = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("declares kind `check` but does not export `check`"), "{t}");
    assert!(!packed.exists());
}

#[test]
fn a_component_whose_code_carries_another_manifest_is_refused() {
    let (dir, manifest) = manifest_dir(STEP_TOML);
    let out = scope_host(&[
        "plugin",
        "pack",
        guest("emit").to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
        "-o",
        dir.path().join("x.wasm").to_str().unwrap(),
    ]);
    let t = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("already carries a different manifest inside its code"), "{t}");
}

// Contract versions.

/// The manifest-less guest with `manifest` appended as its manifest section, as
/// a newer SDK (or a hand edit) would leave it: `plugin pack` itself refuses
/// such a manifest.
fn claiming_contract(contract: &str) -> (tempfile::TempDir, PathBuf) {
    use wasm_encoder::ComponentSection as _;
    let mut bytes = std::fs::read(guest("no-manifest")).unwrap();
    let manifest = serde_json::json!({"name": "from-the-future", "version": "0.1.0", "contract": contract});
    wasm_encoder::CustomSection {
        name: "scope-step-manifest".into(),
        data: manifest.to_string().into_bytes().into(),
    }
    .append_to_component(&mut bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.wasm");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[test]
fn a_plugin_for_a_newer_contract_is_refused_with_what_to_do() {
    for contract in ["1.0.0", "0.3.0"] {
        let (_dir, plugin) = claiming_contract(contract);
        for args in [vec!["step", "run"], vec!["plugin", "inspect"]] {
            let mut args = args.clone();
            args.push(plugin.to_str().unwrap());
            let out = scope_host(&args);
            let t = output_text(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {t}");
            assert!(
                t.contains(&format!(
                    "the plugin was built for contract scope:step@{contract}, but this host serves 0.2.0, 0.1.0: the plugin is newer than this host; upgrade scope-host"
                )),
                "{args:?}: {t}"
            );
        }
    }
}

#[test]
fn pack_refuses_a_contract_the_host_does_not_serve_or_the_component_does_not_import() {
    let (_dir, _, out) = pack(&STEP_TOML.replace("contract = \"0.2.0\"", "contract = \"1.0.0\""));
    let t = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("built for contract scope:step@1.0.0") && t.contains("upgrade scope-host"),
        "{t}"
    );

    // 0.1.1 is served, but this component imports 0.2.0: the manifest would lie.
    let (_dir, _, out) = pack(&STEP_TOML.replace("contract = \"0.2.0\"", "contract = \"0.1.1\""));
    let t = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("the manifest says contract 0.1.1, but") && t.contains("imports scope:step@0.2.0; set `contract = \"0.2.0\"`"),
        "{t}"
    );
}
