//! Step start-up costs: compiling a component, loading it from the compile cache,
//! and instantiating + running a small Rust step with a warm cache (the per-step
//! cost of every workflow step). Run: `cargo bench -p scope-host-tests --bench step`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use scope_host::cloud::sim::SimCloud;
use scope_host::engine::{EngineOptions, Runtime};
use scope_host::sandbox::Limits;
use scope_host::step::{run_step, StepRequest};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(EngineOptions {
        cache_dir: Some(dir.path().to_owned()),
        ..EngineOptions::default()
    })
    .unwrap();
    println!("pooling allocator: {}", runtime.pooling);
    let path = scope_host_tests::guest("hello");
    let bytes = std::fs::read(&path).unwrap();
    let plugin = runtime.load_file(&path).unwrap();

    let mut group = c.benchmark_group("component");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.bench_function("compile (cranelift)", |b| {
        b.iter(|| wasmtime::component::Component::new(runtime.engine(), &bytes).unwrap())
    });
    group.bench_function("load from compile cache (read, MAC checked, deserialized)", |b| {
        b.iter(|| {
            let (_, source) = runtime.compile(&bytes, "hello.wasm").unwrap();
            assert_eq!(source, scope_host::engine::LoadSource::DiskCache);
        })
    });
    group.finish();

    // A fresh run environment (and so a fresh in-memory journal) per iteration,
    // made outside the timed part: the journal of a real run is bounded by its steps.
    let new_env = || {
        rt.block_on(async {
            scope_host::run::RunBuilder::new(Arc::new(SimCloud::new_empty()))
                .region("us-east-1")
                .build()
                .await
                .unwrap()
        })
    };
    let context: Arc<str> = "{}".into();
    let vars = BTreeMap::from([("WHO".to_owned(), "bench".to_owned())]);
    let mut group = c.benchmark_group("step");
    group.bench_function("instantiate + run hello (warm cache)", |b| {
        b.iter_batched(
            || {
                (
                    new_env(),
                    StepRequest {
                        name: "hello".into(),
                        plugin: plugin.clone(),
                        vars: vars.clone(),
                        context: context.clone(),
                        limits: Limits::default(),
                    },
                )
            },
            |(env, req)| {
                let report = rt.block_on(run_step(env, req));
                assert!(report.succeeded());
            },
            BatchSize::SmallInput,
        )
    });
    // The wasmtime floor under the step runner: a store with the same sandbox,
    // instantiate and call `run`, nothing recorded.
    group.bench_function("floor: bare instantiate + call", |b| {
        b.iter_batched(
            new_env,
            |env| {
                rt.block_on(async {
                    let host = scope_host::caps::StepHost::new(
                        &env,
                        "hello",
                        &plugin.manifest,
                        vars.clone(),
                        context.clone(),
                        &Limits::default(),
                        std::time::Instant::now(),
                    );
                    let out = scope_host::sandbox::CappedPipe::new(1 << 20);
                    let state = scope_host::sandbox::StepState {
                        wasi: scope_host::sandbox::wasi_ctx(&out, &out),
                        table: wasmtime::component::ResourceTable::new(),
                        memory: scope_host::sandbox::MemoryCap::new(256 << 20),
                        host,
                    };
                    let mut store = wasmtime::Store::new(runtime.engine(), state);
                    store.set_epoch_deadline(1000);
                    let instance = plugin.pre.instantiate_async(&mut store).await.unwrap();
                    let f = instance
                        .get_typed_func::<(), (Result<Vec<scope_host::bindings::types::Output>, scope_host::bindings::types::StepError>,)>(
                            &mut store,
                            &plugin.export,
                        )
                        .unwrap();
                    let (result,) = f.call_async(&mut store, ()).await.unwrap();
                    assert!(result.is_ok());
                })
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// A workflow of six no-op steps: the host's own overhead per workflow, in process
/// and as a whole `scope-host run` process (warm compile cache).
fn workflow(c: &mut Criterion) {
    use scope_host::workflow::{load, plugins::PluginPath, runner::Runner, WorkflowSource};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let steps: String = (1..=6)
        .map(|i| format!("  - {{name: step{i}, type: wasm, plugin: emit}}\n"))
        .collect();
    let path = dir.path().join("workflow.yaml");
    std::fs::write(&path, format!("steps:\n{steps}")).unwrap();
    let cache = dir.path().join("cache");
    let runtime = Arc::new(
        Runtime::new(EngineOptions {
            cache_dir: Some(cache.clone()),
            ..EngineOptions::default()
        })
        .unwrap(),
    );
    let loaded = load(
        &WorkflowSource {
            path: path.clone(),
            ..Default::default()
        },
        &BTreeMap::new(),
    )
    .unwrap();
    let new_env = || {
        rt.block_on(async {
            scope_host::run::RunBuilder::new(Arc::new(SimCloud::new_empty()))
                .build()
                .await
                .unwrap()
        })
    };
    let mut group = c.benchmark_group("workflow");
    group.bench_function("6 no-op steps, in process", |b| {
        b.iter_batched(
            new_env,
            |env| {
                let runner = Runner {
                    runtime: runtime.clone(),
                    env,
                    plugins: PluginPath {
                        dirs: vec![scope_host_tests::guest_dir(), scope_host_tests::builtin_dir()],
                    },
                    limits: Limits::default(),
                    progress: Arc::new(scope_host::workflow::runner::Quiet),
                    context: "{}".into(),
                    retry: None,
                };
                let report = rt.block_on(runner.run(&loaded, loaded.variables.clone()));
                assert!(report.succeeded);
            },
            BatchSize::SmallInput,
        )
    });
    let bin = scope_host_tests::target_dir().join("release/scope-host");
    if bin.exists() {
        let journal = dir.path().join("run.jsonl");
        let run = || {
            let out = std::process::Command::new(&bin)
                .args(["run", path.to_str().unwrap(), "--journal", journal.to_str().unwrap()])
                .env("SCOPE_HOST_CACHE", &cache)
                .env(
                    "SCOPE_HOST_PLUGINS",
                    std::env::join_paths([scope_host_tests::guest_dir(), scope_host_tests::builtin_dir()]).unwrap(),
                )
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        };
        run(); // warm the compile cache for this binary's engine
        group.sample_size(30);
        group.bench_function("6 no-op steps, whole `scope-host run` process", |b| b.iter(run));
        // The main job: the initial deployment of the sample Lambda scope.
        let svc = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda");
        let ex = svc.join("examples");
        let initial = || {
            let out = std::process::Command::new(&bin)
                .arg("handle")
                .arg(ex.join("notifications/start-initial.json"))
                .arg("--service-path")
                .arg(&svc)
                .arg("--providers")
                .arg(ex.join("providers.json"))
                .arg("--cloud-state")
                .arg(ex.join("cloud-state.json"))
                .arg("--journal")
                .arg(&journal)
                .env("SCOPE_HOST_CACHE", &cache)
                .env("SCOPE_HOST_PLUGINS", scope_host_tests::builtin_dir())
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        };
        initial();
        group.bench_function(
            "initial deployment of the sample Lambda scope, whole `scope-host handle` process",
            |b| b.iter(initial),
        );
    } else {
        println!("skipping the whole-process benches: build the binary first with `cargo build --release -p scope-host`");
    }
    group.finish();
}

criterion_group!(benches, bench, workflow);
criterion_main!(benches);
