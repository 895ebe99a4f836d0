//! The generated bindings of the WIT contract, kept in this one module. The rest of
//! the host speaks its own domain types (`cloud::model`) and converts at the edge
//! (`caps`).
//!
//! Only the import side (world `host`) is generated: the exports (`run`, `check`)
//! are looked up by name and called through typed functions in `runner`, so one set
//! of host traits serves both worlds.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "scope:step/host",
    imports: { default: async | trappable },
    with: {
        "scope:step/credentials.identity": crate::caps::credentials::IdentityHandle,
    },
});

pub use scope::step::*;

/// The version of the contract this host serves.
pub const CONTRACT_VERSION: &str = "0.1.0";
