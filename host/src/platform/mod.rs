//! The platform the scope belongs to (nullplatform), held by the host like the
//! cloud: a step reports through the contract's `platform` interface and never
//! sees the platform's API key or CLI. Two backends: [`np::NpCli`] runs the
//! platform's `np` CLI (whose key is in the host's own environment), and
//! [`sim::SimPlatform`] keeps what was reported in memory (runs on the simulated
//! cloud, tests).
//!
//! Every call concerns one scope, named by the host from the notification
//! ([`ScopeRef::of_context`]), never by the step.

pub mod np;
pub mod sim;

/// The platform a run reports to: the platform's CLI at `np` (its key stays in this
/// process's environment, `NP_API_KEY`; should it ever come back in an answer, the
/// run's `redactor` masks it), else the simulated platform.
pub fn choose(np: Option<&std::path::Path>, redactor: &crate::redact::Redactor) -> std::sync::Arc<dyn PlatformApi> {
    let Some(np) = np else {
        return std::sync::Arc::new(sim::SimPlatform::new());
    };
    if let Some(key) = std::env::var("NP_API_KEY").ok().filter(|k| !k.is_empty()) {
        redactor.add(&key);
    }
    std::sync::Arc::new(np::NpCli::new(np.to_path_buf()))
}

use crate::cloud::{CloudError, CloudResult};
use async_trait::async_trait;
use serde_json::{Map, Value};

/// The scope a run concerns, as the platform names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeRef {
    /// `organization=1:account=2:namespace=3:application=4:scope=5`.
    pub nrn: Option<String>,
    pub id: Option<String>,
}

impl ScopeRef {
    /// The scope of a built context: `.scope.nrn` and `.scope.id` (a number or a
    /// string).
    pub fn of_context(context: &str) -> ScopeRef {
        let Ok(v) = serde_json::from_str::<Value>(context) else {
            return ScopeRef { nrn: None, id: None };
        };
        let text = |pointer: &str| match v.pointer(pointer) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        ScopeRef {
            nrn: text("/scope/nrn"),
            id: text("/scope/id"),
        }
    }
}

impl ScopeRef {
    /// What a platform call's grant is checked on and recorded against: the NRN,
    /// else `scope=<id>`; `None` when the notification names neither.
    pub fn resource(&self) -> Option<String> {
        self.nrn.clone().or_else(|| self.id.as_ref().map(|id| format!("scope={id}")))
    }
}

/// A diagnose check's state as reported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum CheckReport {
    Running,
    /// `status` is pass, fail, warning or skipped.
    Finished {
        status: String,
        summary: String,
    },
}

/// What the platform offers a run. Errors are [`CloudError`]s of service
/// `platform`, so that they travel the call gate like any other.
#[async_trait]
pub trait PlatformApi: Send + Sync + 'static {
    /// Which backend this is (`np`, `sim`), for the run record.
    fn name(&self) -> &'static str;
    /// Merges `body` into the NRN's metadata.
    async fn patch_metadata(&self, nrn: &str, body: &Map<String, Value>) -> CloudResult<()>;
    /// The NRN's metadata in `namespace` (`{}` when none).
    async fn read_metadata(&self, nrn: &str, namespace: &str) -> CloudResult<Map<String, Value>>;
    /// Merges `body` into the scope (e.g. its `domain`).
    async fn patch_scope(&self, scope_id: &str, body: &Map<String, Value>) -> CloudResult<()>;
    /// Reports a diagnose check of the scope.
    async fn report_check(&self, scope_id: &str, check: &str, report: &CheckReport) -> CloudResult<()>;
}

/// A platform failure in the shape every call error takes.
pub fn error(operation: &str, code: &str, message: impl Into<String>) -> CloudError {
    CloudError {
        service: "platform".into(),
        operation: operation.into(),
        code: code.into(),
        message: message.into(),
        request_id: None,
        retryable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_is_read_from_the_context_alone() {
        let s = ScopeRef::of_context(r#"{"scope":{"id":11,"nrn":"organization=1:account=2:namespace=3:application=4:scope=11"}}"#);
        assert_eq!(s.id.as_deref(), Some("11"));
        assert_eq!(
            s.nrn.as_deref(),
            Some("organization=1:account=2:namespace=3:application=4:scope=11")
        );
        assert_eq!(ScopeRef::of_context("{}"), ScopeRef { nrn: None, id: None });
        assert_eq!(ScopeRef::of_context("not json").id, None);
    }
}
