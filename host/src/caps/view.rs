//! Capabilities behind a view, as wasmtime-wasi does with `WasiView` and `HasData`:
//! every interface of the contract is implemented on [`CapsCtx`], a borrow of the
//! step's host side and resource table, not on any particular store type. An
//! embedder links the capabilities into its own store by implementing
//! [`CapsView`] for its store data and calling [`add_to_linker`].

use super::StepHost;
use wasmtime::component::{HasData, Linker, ResourceTable};

/// The part of a store the capabilities use: the step's host side (its grant,
/// identity, quotas and the run's environment) and the table of its resources
/// (identity handles).
pub struct CapsCtx<'a> {
    pub host: &'a mut StepHost,
    pub table: &'a mut ResourceTable,
}

/// Store data that offers the capabilities.
pub trait CapsView: Send {
    fn caps(&mut self) -> CapsCtx<'_>;
}

/// The [`HasData`] of the capabilities: what their host functions get to work on.
pub struct HasCaps;

impl HasData for HasCaps {
    type Data<'a> = CapsCtx<'a>;
}

/// Links every interface of every served version of the scope:step contract into
/// `linker` (WASI is linked separately, by wasmtime-wasi): a plugin's imports name
/// their version, and each is linked to the handlers of that version.
pub fn add_to_linker<T: CapsView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    crate::bindings::Host_::add_to_linker::<T, HasCaps>(linker, |t| t.caps())?;
    crate::bindings::v0_1::Host_::add_to_linker::<T, HasCaps>(linker, |t| t.caps())
}
