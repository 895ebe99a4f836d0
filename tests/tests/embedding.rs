//! An embedder links the capabilities into a store of its own (as the agent will,
//! and as wasmtime-wasi's WasiView allows): its store data implements CapsView and
//! WasiView, `scope_host::caps::add_to_linker` links the contract, and a real guest
//! runs against the simulated cloud through the same call gate, journaled.

use scope_host::caps::{CapsCtx, CapsView, StepHost};
use scope_host::cloud::sim::SimCloud;
use scope_host::limits::Limits;
use scope_host_tests::{fixture, load};
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// An embedder's own store data, with something of its own beside the step.
struct MyStore {
    wasi: WasiCtx,
    table: ResourceTable,
    host: StepHost,
    label: &'static str,
}

impl CapsView for MyStore {
    fn caps(&mut self) -> CapsCtx<'_> {
        CapsCtx {
            host: &mut self.host,
            table: &mut self.table,
        }
    }
}

impl WasiView for MyStore {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[tokio::test]
async fn capabilities_link_into_an_embedders_own_store() {
    let plugin = load("gate-abuse");
    let engine = plugin.component.engine().clone();
    let sim = Arc::new(SimCloud::from_fixture_file(&fixture("cloud.json")).unwrap());
    let env = scope_host::run::RunBuilder::new(sim).build().await.unwrap();
    let vars = BTreeMap::from([
        ("LAMBDA_FUNCTION_NAME".to_owned(), "11-my-app-my-scope".to_owned()),
        ("MODE".to_owned(), "call-loop".to_owned()),
        ("COUNT".to_owned(), "3".to_owned()),
    ]);
    let limits = Limits::default();
    let host = StepHost::new(
        &env,
        "embedded",
        &plugin.manifest,
        vars,
        "{}".into(),
        &limits,
        std::time::Instant::now(),
    );

    let mut linker: Linker<MyStore> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    scope_host::caps::add_to_linker(&mut linker).unwrap();
    let mut store = wasmtime::Store::new(
        &engine,
        MyStore {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            host,
            label: "mine",
        },
    );
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = linker.instantiate_async(&mut store, &plugin.component).await.unwrap();
    type Run = (Result<Vec<scope_host::bindings::types::Output>, scope_host::bindings::types::StepError>,);
    let run = instance.get_typed_func::<(), Run>(&mut store, &plugin.export).unwrap();
    let (outputs,) = run.call_async(&mut store, ()).await.unwrap();
    let outputs = outputs.expect("the step succeeded");
    let ok = outputs.iter().find(|o| o.name == "OK").unwrap();
    assert_eq!(ok.value, "3", "three calls went through the embedder's store");
    assert_eq!(store.data().label, "mine");
    // The same gate recorded them, in the run's journal.
    let calls = env.journal().entries_of("call");
    let gets = calls
        .iter()
        .filter(|c| c["operation"] == "GetFunction" && c["step"] == "embedded")
        .count();
    assert_eq!(gets, 3, "{calls:?}");
}
