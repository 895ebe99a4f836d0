//! The platform in memory: what a run reported, kept for the rest of the run (a
//! metadata patch is read back) and for whoever holds the backend (tests, the
//! simulator's users).

use super::{CheckReport, PlatformApi};
use crate::cloud::{CloudResult, Reply};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// What the simulated platform holds.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct SimPlatformState {
    /// NRN metadata by NRN, then namespace (a patch's keys go to the namespace
    /// before their first dot, `lambda.alb_rule_priority` → `lambda`).
    pub metadata: BTreeMap<String, Map<String, Value>>,
    /// Scope patches by scope id, merged.
    pub scopes: BTreeMap<String, Map<String, Value>>,
    /// Check reports in the order they came: (scope id, check, report).
    pub checks: Vec<(String, String, CheckReport)>,
}

#[derive(Default)]
pub struct SimPlatform {
    state: Mutex<SimPlatformState>,
}

impl SimPlatform {
    pub fn new() -> SimPlatform {
        SimPlatform::default()
    }

    /// What has been reported so far.
    pub fn state(&self) -> SimPlatformState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A patch: each key of `body` set in `into`.
fn merge(into: &mut Map<String, Value>, body: &Map<String, Value>) {
    into.extend(body.iter().map(|(k, v)| (k.clone(), v.clone())));
}

fn ok<T>(value: T) -> CloudResult<T> {
    Ok(Reply { value, request_id: None })
}

#[async_trait::async_trait]
impl PlatformApi for SimPlatform {
    fn name(&self) -> &'static str {
        "sim"
    }

    async fn patch_metadata(&self, nrn: &str, body: &Map<String, Value>) -> CloudResult<()> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        merge(st.metadata.entry(nrn.to_owned()).or_default(), body);
        ok(())
    }

    async fn read_metadata(&self, nrn: &str, namespace: &str) -> CloudResult<Map<String, Value>> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = format!("{namespace}.");
        let found = st
            .metadata
            .get(nrn)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|rest| (rest.to_owned(), v.clone())))
                    .collect()
            })
            .unwrap_or_default();
        ok(found)
    }

    async fn patch_scope(&self, scope_id: &str, body: &Map<String, Value>) -> CloudResult<()> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        merge(st.scopes.entry(scope_id.to_owned()).or_default(), body);
        ok(())
    }

    async fn report_check(&self, scope_id: &str, check: &str, report: &CheckReport) -> CloudResult<()> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.checks.push((scope_id.to_owned(), check.to_owned(), report.clone()));
        ok(())
    }
}
