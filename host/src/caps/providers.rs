//! `providers`: provider data visible at an NRN, from the run's provider store.
//! Reading provider data needs no cloud grant: it is the platform's configuration
//! for the scope the step works on.

use super::view::CapsCtx;
use crate::bindings::providers::{Host, Provider};
use crate::bindings::types::CallError;

fn to_wit(p: crate::providers::Provider) -> Provider {
    Provider {
        id: p.id,
        nrn: p.nrn,
        category: p.category,
        specification_slug: p.specification_slug,
        dimensions: p.dimensions.into_iter().collect(),
        attributes: p.attributes.to_string(),
    }
}

fn check_nrn(nrn: &str) -> Result<(), CallError> {
    let ok = !nrn.is_empty()
        && nrn
            .split(':')
            .all(|seg| seg.split_once('=').is_some_and(|(k, v)| !k.is_empty() && !v.is_empty()));
    if ok {
        Ok(())
    } else {
        Err(CallError::InvalidInput(format!(
            "`{nrn}` is not an NRN (`organization=1:account=2:…`)"
        )))
    }
}

impl Host for CapsCtx<'_> {
    async fn by_category(
        &mut self,
        nrn: String,
        categories: Vec<String>,
        dimensions: Vec<(String, String)>,
    ) -> wasmtime::Result<Result<Vec<Provider>, CallError>> {
        if let Err(e) = check_nrn(&nrn) {
            return Ok(Err(e));
        }
        let dims = dimensions.into_iter().collect();
        Ok(Ok(self
            .host
            .env
            .providers
            .by_category(&nrn, &categories, &dims)
            .into_iter()
            .map(to_wit)
            .collect()))
    }

    async fn by_specification(&mut self, nrn: String, specification_slug: String) -> wasmtime::Result<Result<Vec<Provider>, CallError>> {
        if let Err(e) = check_nrn(&nrn) {
            return Ok(Err(e));
        }
        Ok(Ok(self
            .host
            .env
            .providers
            .by_specification(&nrn, &specification_slug)
            .into_iter()
            .map(to_wit)
            .collect()))
    }
}
