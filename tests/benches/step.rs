//! Step start-up costs: compiling a component, loading it from the compile cache,
//! and instantiating + running a small Rust step with a warm cache (the per-step
//! cost of every workflow step). Run: `cargo bench -p scope-host-tests --bench step`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use scope_host::caps::RunEnv;
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
    let path = scope_host_tests::guest_dir().join("hello.wasm");
    let bytes = std::fs::read(&path).unwrap();
    let plugin = runtime.load_file(&path).unwrap();

    let mut group = c.benchmark_group("component");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.bench_function("compile (cranelift)", |b| {
        b.iter(|| wasmtime::component::Component::new(runtime.engine(), &bytes).unwrap())
    });
    let cached = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    group.bench_function("load from compile cache (mmap)", |b| {
        // SAFETY: the file was written by scope-host's own compile cache just above.
        b.iter(|| unsafe { wasmtime::component::Component::deserialize_file(runtime.engine(), &cached) }.unwrap())
    });
    group.finish();

    // A fresh run environment (and so a fresh in-memory journal) per iteration,
    // made outside the timed part: the journal of a real run is bounded by its steps.
    let new_env = || {
        rt.block_on(async {
            let mut env = RunEnv::with_defaults(Arc::new(SimCloud::new_empty())).await.unwrap();
            env.region = "us-east-1".into();
            Arc::new(env)
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
                    let host = scope_host::caps::StepHost {
                        env: env.clone(),
                        step: "hello".into(),
                        plugin: "hello".into(),
                        grant: scope_host::grants::Grant::new("hello", &[], env.policy.clone()),
                        vars: Arc::new(vars.clone()),
                        context: context.clone(),
                        limits: Limits::default(),
                        identity: env.agent.clone(),
                        log_bytes: 0,
                        log_dropped: 0,
                        handles: 0,
                        denials: Vec::new(),
                    };
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

criterion_group!(benches, bench);
criterion_main!(benches);
