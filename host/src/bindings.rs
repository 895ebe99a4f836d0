//! The generated bindings of the WIT contract, kept in this one module. The rest of
//! the host speaks its own domain types (`cloud::model`) and converts at the edge
//! (`caps`).
//!
//! Only the import side (world `host`) is generated: the exports (`run`, `check`)
//! are looked up by name and called through typed functions in `step`, so one set
//! of host traits serves both worlds.
//!
//! Two versions are served side by side (see docs/contract-versions.md): the
//! newest, from `wit/`, and 0.1.0, from its frozen copy in `wit-frozen/0.1.0/`.
//! For 0.x versions the minor is the breaking part, so wasmtime links a plugin
//! to exactly the version its imports name; the 0.1.0 handlers (`caps::v0_1`)
//! convert and delegate to the newest, so both are checked by the same code.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "scope:step/host",
    imports: { default: async | trappable },
    with: {
        "scope:step/credentials.identity": crate::caps::credentials::IdentityHandle,
    },
});

pub use scope::step::*;

/// Contract 0.1.0, frozen: what plugins built before 0.2.0 import.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit-frozen/0.1.0",
        world: "scope:step/host",
        imports: { default: async | trappable },
        with: {
            "scope:step/credentials.identity": crate::caps::credentials::IdentityHandle,
        },
    });

    pub use scope::step::*;
}

/// The newest version of the contract this host serves (what the SDKs build for).
pub const CONTRACT_VERSION: &str = "0.2.0";

/// Every version served, newest first.
pub const SERVED_CONTRACTS: &[&str] = &[CONTRACT_VERSION, "0.1.0"];

/// Which served contract a plugin was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contract {
    /// 0.2.x, the newest.
    V0_2,
    /// 0.1.x, served through the compatibility handlers.
    V0_1,
}

impl Contract {
    /// The served contract compatible with `version` (already checked by the
    /// manifest check), the newest when it names none served.
    pub fn of(version: &str) -> Self {
        match semver::Version::parse(version) {
            Ok(v) if v.major == 0 && v.minor == 1 => Self::V0_1,
            _ => Self::V0_2,
        }
    }
}
