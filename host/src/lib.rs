//! scope-host: runs infrastructure workflow steps as sandboxed WebAssembly
//! components. The host holds every credential and offers the cloud through the
//! typed contract in `wit/`; a step can only do what it declares and the operator
//! grants. See docs/architecture.md for the module map.

pub mod agent;
pub mod bindings;
pub mod cancel;
pub mod caps;
pub mod cli;
pub mod cloud;
pub mod compile_budget;
pub mod compile_cache;
pub mod context;
pub mod engine;
pub mod grants;
pub mod journal;
pub mod json_error;
pub mod limits;
pub mod manifest;
pub mod pack;
pub mod platform;
pub mod policy;
pub mod providers;
pub mod redact;
pub mod run;
pub mod sandbox;
pub mod scaffold;
pub mod scenario;
pub mod step;
pub mod terminal;
pub mod workflow;
