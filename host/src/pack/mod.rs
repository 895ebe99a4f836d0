//! Packing: gives a component built by any toolchain (componentize-py,
//! componentize-js, cargo …) its manifest. The manifest, read from a `step.toml`,
//! is validated, written into the component's `scope-step-manifest` section
//! (replacing an earlier one), and the result is loaded exactly as a run would
//! load it, so a component of the wrong world or with imports this host does not
//! serve fails here and not at its first run.

mod section;
pub mod step_toml;

use crate::engine::{LoadError, Plugin, Runtime};
use crate::manifest::{self, Manifest, ManifestError};
use std::sync::Arc;
use thiserror::Error;

/// Why a component could not be packed.
#[derive(Debug, Error)]
pub enum PackError {
    #[error("reading the manifest {file}: {source}")]
    ReadManifest { file: String, source: std::io::Error },
    #[error("{file}:{line}:{column}: {message}\n  hint: {hint}")]
    Toml {
        file: String,
        line: usize,
        column: usize,
        message: String,
        hint: String,
    },
    #[error("{file}: {source}")]
    Invalid { file: String, source: ManifestError },
    #[error("{origin} is not a component: {message}")]
    Malformed { origin: String, message: String },
    #[error("{origin} already carries a different manifest inside its code (the Rust SDK's `step!`/`check!` writes one); change it there instead of packing")]
    ManifestInCode { origin: String },
    #[error("the manifest says contract {claimed}, but {origin} imports scope:step@{imported}; set `contract = \"{imported}\"` (or rebuild the component against scope:step@{claimed})")]
    ContractMismatch { origin: String, claimed: String, imported: String },
    #[error("the packed component would not load: {0}")]
    Check(#[source] LoadError),
}

/// A packed component, checked by loading it.
pub struct Packed {
    pub bytes: Vec<u8>,
    pub manifest: Manifest,
    /// How many earlier manifest sections were replaced.
    pub replaced: usize,
    /// The packed component as the host loaded it.
    pub plugin: Arc<Plugin>,
}

/// Writes `manifest` into the component and loads the result on `runtime` (which
/// compiles it, or finds it in the compile cache). `origin` names the component
/// in errors.
pub fn pack(runtime: &Runtime, component: &[u8], origin: &str, manifest: &Manifest) -> Result<Packed, PackError> {
    let (bytes, replaced) = embed(component, origin, manifest)?;
    let plugin = runtime.load_bytes(&bytes, origin).map_err(PackError::Check)?;
    Ok(Packed {
        bytes,
        manifest: manifest.clone(),
        replaced,
        plugin,
    })
}

/// The component's bytes with `manifest` as its only manifest section, and how
/// many sections it replaced. Checks the bytes are a component and that the
/// manifest's contract is the one the component imports; does not compile.
pub fn embed(component: &[u8], origin: &str, manifest: &Manifest) -> Result<(Vec<u8>, usize), PackError> {
    crate::engine::check_is_component(component, origin).map_err(PackError::Check)?;
    let scanned = section::scan(component).map_err(|e| PackError::Malformed {
        origin: origin.into(),
        message: e.to_string(),
    })?;
    if let Some(imported) = scanned.contract_imports.iter().find(|v| **v != manifest.contract) {
        return Err(PackError::ContractMismatch {
            origin: origin.into(),
            claimed: manifest.contract.clone(),
            imported: imported.clone(),
        });
    }
    let json = serde_json::to_vec(manifest).expect("a manifest always serialises");
    let bytes = section::rebuild(component, &scanned, &json);
    match manifest::read_from_wasm(&bytes) {
        Ok(_) => Ok((bytes, scanned.dropped_manifests)),
        Err(ManifestError::Ambiguous(_)) => Err(PackError::ManifestInCode { origin: origin.into() }),
        // The top level scanned cleanly, but a nested module or component is damaged.
        Err(ManifestError::Damaged(message)) => Err(PackError::Malformed {
            origin: origin.into(),
            message,
        }),
        Err(e) => Err(PackError::Invalid {
            file: origin.into(),
            source: e,
        }),
    }
}
