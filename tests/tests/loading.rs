//! Loading plugins: bad files get errors that say what is wrong and what to do;
//! good ones are compiled once and then come from the disk cache.

use scope_host::engine::{EngineOptions, LoadSource, Runtime};
use scope_host_tests::{guest, runtime};

fn load_err(bytes: &[u8]) -> String {
    match runtime().load_bytes(bytes, "bad.wasm") {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn not_wasm_at_all() {
    let e = load_err(b"#!/bin/bash\necho hi\n");
    assert!(e.contains("bad.wasm is not a WebAssembly file"), "{e}");
}

#[test]
fn a_core_module_is_not_a_component() {
    let e = load_err(&wat::parse_str("(module)").unwrap());
    assert!(
        e.contains("core WebAssembly module, not a component") && e.contains("wasm32-wasip2"),
        "{e}"
    );
}

#[test]
fn a_truncated_component_is_invalid() {
    let bytes = std::fs::read(guest("exercise")).unwrap();
    let e = load_err(&bytes[..bytes.len() / 2]);
    // The damage is named, not a missing manifest (whose advice, `plugin pack`,
    // would send the user the wrong way).
    assert!(e.contains("bad.wasm") && e.contains("damaged"), "{e}");
    assert!(!e.contains("plugin pack") && !e.contains("no `scope-step-manifest`"), "{e}");
}

#[test]
fn a_component_without_a_manifest() {
    let e = runtime().load_file(&guest("no-manifest")).err().unwrap().to_string();
    assert!(
        e.contains("no `scope-step-manifest` custom section") && e.contains("plugin pack"),
        "{e}"
    );
}

#[test]
fn a_component_of_the_wrong_world() {
    let e = runtime().load_file(&guest("wrong-world")).err().unwrap().to_string();
    assert!(e.contains("does not export `run`") && e.contains("`step` world"), "{e}");
}

#[test]
fn compiled_once_then_loaded_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let options = || EngineOptions {
        cache_dir: Some(dir.path().to_owned()),
        ..EngineOptions::default()
    };
    let first = Runtime::new(options()).unwrap().load_file(&guest("check-sample")).unwrap();
    assert_eq!(first.source, LoadSource::Compiled);
    let fresh = Runtime::new(options()).unwrap();
    let second = fresh.load_file(&guest("check-sample")).unwrap();
    assert_eq!(second.source, LoadSource::DiskCache);
    assert_eq!(first.digest, second.digest);
    let third = fresh.load_file(&guest("check-sample")).unwrap();
    assert_eq!(
        third.source,
        LoadSource::DiskCache,
        "the in-memory cache hands back the same plugin"
    );
    assert!(std::sync::Arc::ptr_eq(&second, &third));

    // A damaged cache entry is recompiled, not trusted. (Entries are mapped into
    // memory while loaded, so the damage is done to a new file after every user
    // is gone, as the host itself only ever replaces entries by renaming.)
    drop((first, second, third, fresh));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"garbage").unwrap();
    }
    let again = Runtime::new(options()).unwrap().load_file(&guest("check-sample")).unwrap();
    assert_eq!(again.source, LoadSource::Compiled);
}

#[tokio::test]
async fn a_pool_that_resets_slots_in_batches_still_gives_every_step_fresh_memory() {
    use scope_host::cloud::sim::SimCloud;
    use scope_host::sandbox::Limits;
    use scope_host::step::{run_step, StepRequest};
    // The CLI's engine resets freed slots only when it needs them again: with two
    // slots and ten steps, slots are reused, and no step may see another's memory.
    let runtime = Runtime::new(EngineOptions {
        cache_dir: Some(scope_host_tests::target_dir().join("test-compile-cache")),
        max_instances: 2,
        decommit_batch: 2,
        ..EngineOptions::default()
    })
    .unwrap();
    assert!(runtime.pooling, "two 256 MiB slots should always be reservable");
    let plugin = runtime.load_file(&guest("emit")).unwrap();
    let env = scope_host::run::RunBuilder::new(std::sync::Arc::new(SimCloud::new_empty()))
        .build()
        .await
        .unwrap();
    for step in 0..10 {
        let report = run_step(
            env.clone(),
            StepRequest {
                name: format!("step-{step}"),
                plugin: plugin.clone(),
                vars: [("COUNT_RUNS".to_owned(), "1".to_owned())].into(),
                context: "{}".into(),
                limits: Limits::default(),
            },
        )
        .await;
        assert!(report.succeeded(), "step {step}: {:?}", report.failure);
        let runs = report.outputs.iter().find(|o| o.name == "RUNS").map(|o| o.value.as_str());
        assert_eq!(runs, Some("1"), "step {step} ran in memory an earlier step had used");
    }
}
