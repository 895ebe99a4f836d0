//! `context`: the built context, the variables and the step's name. Read-only.

use super::view::CapsCtx;
use crate::bindings::context::Host;

impl Host for CapsCtx<'_> {
    async fn built_context(&mut self) -> wasmtime::Result<String> {
        Ok(self.host.context.to_string())
    }

    async fn get_var(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.host.vars.get(&name).cloned())
    }

    async fn list_vars(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self.host.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    async fn step_name(&mut self) -> wasmtime::Result<String> {
        Ok(self.host.step.clone())
    }
}
