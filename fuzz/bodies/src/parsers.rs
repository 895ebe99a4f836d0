//! Targets over text and bytes that users and plugins write: each parses the input
//! through the public entry point scope-host uses, then drives what a run does next
//! with the result (expansion, routing, lookups, judging, dumping), so that a value
//! the parser accepts is also exercised downstream.

use crate::files::{fresh_folder, in_dir, put};
use crate::{finding, split};
use scope_host::caps::arn;
use scope_host::cloud::record::{load_sim, Inputs};
use scope_host::cloud::sim::SimCloud;
use scope_host::context;
use scope_host::grants::Policy;
use scope_host::manifest::{self, Manifest};
use scope_host::pack;
use scope_host::providers::ProviderStore;
use scope_host::redact::Redactor;
use scope_host::scenario::{self, calls::Call, model::Outcome, Observed};
use scope_host::step::CheckVerdict;
use scope_host::terminal::printable;
use scope_host::workflow::check::refusal;
use scope_host::workflow::expand::{expand, unresolved};
use scope_host::workflow::load::apply_configuration;
use scope_host::workflow::model::config_string;
use scope_host::workflow::plugins::PluginPath;
use scope_host::workflow::routing::{route, Family, DEPLOYMENT_SLUGS};
use scope_host::workflow::runner::{first_preparable, step_path};
use scope_host::workflow::{load, StepKind, WorkflowSource};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Workflow YAML with its overrides, values and includes. The input is split at NUL
/// bytes: `wf.yaml`, then (each optional: absent when missing or empty) an overrides
/// file, a `--values` file and `values.yaml` at the service root, which workflows
/// include as `$SERVICE_PATH/values.yaml`. All four live in one folder, the service
/// folder.
pub fn workflow(data: &[u8]) {
    let parts = split(data, 4);
    let part = |i: usize| parts.get(i).copied().filter(|p| !p.is_empty());
    in_dir("workflow", |dir| {
        let wf = put(dir, "wf.yaml", Some(parts[0]));
        let overrides = put(dir, "overrides.yaml", part(1));
        let values = put(dir, "extra.yaml", part(2));
        put(dir, "values.yaml", part(3));
        let src = WorkflowSource {
            path: wf,
            overrides: part(1).map(|_| overrides).into_iter().collect(),
            values: part(2).map(|_| values).into_iter().collect(),
        };
        let base = BTreeMap::from([("SERVICE_PATH".to_owned(), dir.display().to_string())]);
        let loaded = match load(&src, &base) {
            Ok(loaded) => loaded,
            Err(e) => {
                let _ = e.to_string();
                return;
            }
        };
        // What `check` and the runner do with a loaded workflow before any engine
        // is involved: expand plugin specs and configuration, refuse bash steps,
        // resolve plugins on a search path (an empty one: no real component is read).
        let var = |n: &str| loaded.variables.get(n).cloned();
        let plugins = PluginPath { dirs: Vec::new() };
        for top in &loaded.workflow.steps {
            top.walk(&mut |step| {
                if matches!(step.kind, StepKind::Script | StepKind::Command) {
                    let _ = refusal(step);
                }
                if let Some(spec) = &step.plugin {
                    let spec = expand(spec, &var);
                    let _ = unresolved(&spec, &var);
                    let _ = plugins.resolve(&spec, &loaded.dir);
                }
                let mut local = loaded.variables.clone();
                apply_configuration(&step.configuration, &mut local);
                for value in step.configuration.values() {
                    let _ = unresolved(&config_string(value), &var);
                }
                let _ = step_path("outer", &step.name);
            });
        }
        let _ = first_preparable(&loaded, &plugins);
        let _ = plugins.files_of(&loaded);
    });
}

/// A notification (routing to a workflow) and a built context (JSON).
pub fn routing(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(doc) = serde_json::from_str::<Value>(text) {
        match route(&doc) {
            Ok(r) => {
                let name = &r.workflow;
                match r.family {
                    // A notification's field names a file under the service folder:
                    // it must never be a path.
                    Family::Scope => assert!(
                        !name.is_empty()
                            && !name.starts_with('-')
                            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                        "route() let `{name}` through as a scope workflow name"
                    ),
                    Family::Deployment => assert!(
                        DEPLOYMENT_SLUGS.iter().any(|(_, w)| w == name),
                        "route() made up deployment workflow `{name}`"
                    ),
                    // Telemetry workflows are the fixed few, whatever the action says.
                    Family::Log | Family::Metric | Family::Instance => assert!(
                        ["read", "list", "data"].contains(&name.as_str()),
                        "route() made up telemetry workflow `{name}`"
                    ),
                }
                let _ = r.family.folder();
            }
            Err(e) => {
                let _ = printable(&e.to_string());
            }
        }
        // `handle` reads the context a notification carries.
        if let Some(ctx) = doc.get("context") {
            context_text(&ctx.to_string());
        }
    }
    context_text(text);
}

fn context_text(text: &str) {
    match context::parse(text, "context.json") {
        Ok(ctx) => {
            let redactor = Redactor::new();
            context::register_secrets(&ctx, &redactor);
            let _ = redactor.redact_json(&ctx);
            let _ = ProviderStore::default().scope_region(&ctx);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Provider data: one JSON file, or (input split at NUL bytes) a folder of up to
/// four; then the lookups steps make.
pub fn providers(data: &[u8]) {
    let parts = split(data, 4);
    in_dir("providers", |dir| {
        let path = if parts.len() == 1 {
            put(dir, "providers.json", Some(parts[0]))
        } else {
            let folder = fresh_folder(dir, "providers");
            for (i, part) in parts.iter().enumerate() {
                put(&folder, &format!("{i}.json"), Some(part));
            }
            folder
        };
        let store = match ProviderStore::load(&path) {
            Ok(store) => store,
            Err(e) => {
                let _ = e.to_string();
                return;
            }
        };
        for p in store.all().iter().take(4) {
            let found = store.by_category(&p.nrn, std::slice::from_ref(&p.category), &p.dimensions);
            // A provider is visible where it is attached, with its own dimensions.
            if !p.nrn.is_empty() {
                assert!(found.contains(p), "provider {p:?} is not visible at its own NRN");
            }
            let _ = store.by_specification(&p.nrn, &p.specification_slug);
            let _ = store.scope_region(&json!({"scope": {"nrn": p.nrn, "dimensions": p.dimensions}}));
            let _ = store.scope_region(&json!({"scope": {"nrn": p.nrn, "region": p.id}}));
        }
    });
}

/// The smallest component: its preamble and nothing else.
const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

/// A manifest every host of this contract accepts.
fn fixed_manifest() -> Manifest {
    Manifest::from_json(
        format!(
            r#"{{"name":"fuzz","version":"0.1.0","contract":"{}","capabilities":[{{"action":"lambda:GetFunction","resource":"*"}}]}}"#,
            scope_host::bindings::CONTRACT_VERSION
        )
        .as_bytes(),
    )
    .expect("the fixed manifest is valid")
}

/// The manifest: wasm bytes (a module or component carrying the
/// `scope-step-manifest` section; `plugin pack` writes one into them), or, for an
/// input that is not wasm, the section's JSON.
pub fn manifest(data: &[u8]) {
    if data.starts_with(b"\0asm") {
        let _ = manifest::read_from_wasm(data).map_err(|e| e.to_string());
        embed_checked(data, &fixed_manifest());
    } else {
        match Manifest::from_json(data) {
            Ok(m) => {
                json_round_trip(&m);
                embed_checked(EMPTY_COMPONENT, &m);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

/// `plugin pack` without compiling: whatever embed accepts carries exactly the
/// manifest it was given, and packing the result again changes nothing.
fn embed_checked(component: &[u8], m: &Manifest) {
    let bytes = match pack::embed(component, "fuzz.wasm", m) {
        Ok((bytes, _replaced)) => bytes,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    match manifest::read_from_wasm(&bytes) {
        Ok(read) if read == *m => {}
        Ok(read) => {
            return finding("embed-keeps-nested-manifest", || {
                format!("pack::embed returned Ok, but its output reads as manifest {read:?}, not the one packed, {m:?}")
            })
        }
        Err(e) => panic!("embed's output has no readable manifest: {e}"),
    }
    match pack::embed(&bytes, "fuzz.wasm", m) {
        Ok((again, replaced)) => {
            assert_eq!(replaced, 1, "packing a packed component replaced {replaced} sections, not 1");
            assert!(again == bytes, "packing a packed component again changed its bytes");
        }
        Err(e) => panic!("packing a packed component again fails: {e}"),
    }
}

/// A valid manifest is read back from its own JSON (what `plugin pack` embeds).
fn json_round_trip(m: &Manifest) {
    let json = serde_json::to_vec(m).expect("a manifest serialises");
    match Manifest::from_json(&json) {
        Ok(back) => assert_eq!(&back, m, "the manifest changed through its JSON"),
        Err(e) => panic!("a valid manifest does not read back from its JSON: {e}"),
    }
}

/// step.toml, the manifest of plugins built without the Rust SDK.
pub fn step_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match pack::step_toml::parse(text, "step.toml") {
        Ok(m) => {
            json_round_trip(&m);
            embed_checked(EMPTY_COMPONENT, &m);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// A scenario file; then what `scope-host test` does with each scenario before and
/// after the run: load its inline cloud, providers and policy, register its
/// secrets, and judge its expectations against an observation made of its own
/// inputs (so that expectations meet values shaped like themselves).
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = match scenario::model::parse(text, "scenario.yaml") {
        Ok(file) => file,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    for s in file.scenarios.iter().take(8) {
        let redactor = Redactor::new();
        for v in s.secret_vars.values() {
            redactor.add(v);
        }
        let context = Value::Object(s.context.clone().unwrap_or_default());
        context::register_secrets(&context, &redactor);
        let providers = ProviderStore::new(s.providers.clone().unwrap_or_default());
        let _ = providers.scope_region(&context);
        if let Some(p) = &s.policy {
            let _ = p.validate("scenario.yaml");
        }
        let _ = Policy::from_flags(&s.grant);
        let state = match &s.cloud {
            Some(c) => match SimCloud::from_fixture(c.clone(), "scenario.yaml") {
                Ok(sim) => sim.dump_json(),
                Err(e) => {
                    let _ = e.to_string();
                    Value::Null
                }
            },
            None => s.expect.cloud.clone().map(Value::Object).unwrap_or(Value::Null),
        };
        let e = &s.expect;
        let observed = Observed {
            succeeded: e.outcome() == Outcome::Success,
            failure: e.error.clone(),
            failure_kind: e.error.as_ref().map(|_| "cloud"),
            outputs: s.vars.clone(),
            secret_outputs: s.secret_vars.keys().cloned().collect(),
            calls: e.calls.as_ref().map(calls_like).unwrap_or_default(),
            denials: e
                .denied
                .iter()
                .map(|d| (d.action.clone(), d.resource.clone().unwrap_or_default()))
                .collect(),
            steps: e.steps.iter().map(|(name, status)| (name.clone(), status.as_str())).collect(),
            check: e.check.as_ref().map(|c| CheckVerdict {
                status: c.status.clone().unwrap_or_default(),
                summary: c.summary.clone().unwrap_or_default(),
                evidence: Vec::new(),
                suggested_actions: Vec::new(),
            }),
            logs: e.logs.clone(),
            state,
            redactor,
            duration: Duration::ZERO,
        };
        let findings = scenario::judge(e, &observed);
        let _ = scenario::render(&findings, &observed);
    }
}

/// Calls shaped like the patterns that describe them (`svc:Op on res -> outcome code`).
fn calls_like(expect: &scenario::model::CallsExpect) -> Vec<Call> {
    let patterns = expect.ordered.iter().flatten().chain(&expect.include).chain(&expect.exclude);
    patterns
        .map(|p| {
            let text = p.to_string();
            let (call, result) = text.rsplit_once("->").unwrap_or((&text, ""));
            let (action, resource) = call.split_once(" on ").unwrap_or((call, ""));
            let (service, operation) = action.trim().split_once(':').unwrap_or(("", ""));
            let mut words = result.split_whitespace();
            Call {
                step: "fuzz".into(),
                service: service.into(),
                operation: operation.into(),
                resource: resource.trim().into(),
                outcome: words.next().unwrap_or("ok").replace('-', "_"),
                code: words.next().map(str::to_owned),
            }
        })
        .collect()
}

/// A simulated cloud's fixture (`--cloud-state`), or a recording of a run against
/// AWS replayed with a run's inputs. Split at NUL bytes: the fixture, then the
/// replaying run's context and provider data (JSON, optional).
pub fn cloud_fixture(data: &[u8]) {
    let parts = split(data, 3);
    let Ok(text) = std::str::from_utf8(parts[0]) else { return };
    match SimCloud::from_fixture_json(text) {
        Ok(sim) => {
            // A dump "loads back to the same cloud" (cloud/sim/mod.rs).
            let dump = sim.dump_json();
            match SimCloud::from_fixture_json(&dump.to_string()) {
                Ok(again) => assert_eq!(again.dump_json(), dump, "a dump does not load back to the same cloud"),
                Err(e) => panic!("a dump does not load back: {e}\n{dump:#}"),
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // A recording takes the replay path, which reads a file.
    let is_recording = serde_json::from_str::<Value>(text).is_ok_and(|doc| doc.get("recording").is_some());
    if !is_recording {
        return;
    }
    let json = |i: usize| {
        parts
            .get(i)
            .and_then(|p| serde_json::from_slice::<Value>(p).ok())
            .unwrap_or(Value::Null)
    };
    let inputs = Inputs {
        context: json(1),
        providers: json(2),
        vars: BTreeMap::new(),
    };
    in_dir("cloud_fixture", |dir| {
        let path = put(dir, "state.json", Some(parts[0]));
        match load_sim(&path, &inputs) {
            Ok(sim) => {
                let _ = sim.dump_json();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    });
}

/// Operator policies (`--policy` JSON, `--grant` flags, one per line) and the ARN
/// checks applied to a guest's arguments (one per line).
pub fn policy_arn(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = serde_json::from_str::<Policy>(text) {
        let _ = p.validate("policy.json").map_err(|e| e.to_string());
    }
    let lines: Vec<&str> = text.lines().take(32).collect();
    match Policy::from_flags(&lines) {
        Ok(p) => {
            let _ = p.validate("--grant");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    for line in lines {
        if let Ok(f) = arn::parse_function(line) {
            // An ARN built for a function names the same function.
            let built = arn::function_arn(&f, "us-east-1", "123456789012", None);
            match arn::parse_function(&built) {
                Ok(back) => {
                    assert_eq!(back.name, f.name, "{built}");
                    assert_eq!(back.region.as_deref(), Some(f.region.as_deref().unwrap_or("us-east-1")), "{built}");
                    assert_eq!(
                        back.account.as_deref(),
                        Some(f.account.as_deref().unwrap_or("123456789012")),
                        "{built}"
                    );
                }
                Err(e) => panic!("the ARN built for {f:?} does not parse: {e}"),
            }
        }
        let _ = arn::check_qualifier(line);
        if arn::check_repository_name(line).is_ok() {
            let _ = arn::ecr_repository_arn("us-east-1", "123456789012", line);
        }
        if arn::check_role_arn(line).is_ok() {
            assert!(line.starts_with("arn:aws:iam::"), "{line}");
        }
        let _ = arn::secret_arn("us-east-1", "123456789012", line);
        let _ = arn::role_arn("123456789012", line);
        let _ = arn::s3_object_arn(line, line);
        let _ = manifest::is_plugin_name(line);
        // Text shown on a terminal keeps no control character but newline and tab,
        // and no bidirectional override.
        let shown = printable(line);
        assert!(
            !shown
                .chars()
                .any(|c| (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
            "printable({line:?}) = {shown:?}"
        );
    }
}
