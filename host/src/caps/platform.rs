//! `platform`: what a step reports to the platform about the run's scope. The
//! scope is the one the notification names (`.scope.nrn`, `.scope.id` of the built
//! context), never one the step passes; each call is granted as
//! `platform:<Operation>` on the scope's NRN and goes through the call gate
//! ([`super::StepHost::platform_call`]) to the run's platform backend.

use super::view::CapsCtx;
use super::{need, Answer, Op, StepHost};
use crate::bindings::platform as wit;
use crate::bindings::types::{CallError, CheckStatus};
use crate::platform::{CheckReport, ScopeRef};
use serde_json::{Map, Value};

/// The most bytes of a JSON body a step may send.
const BODY_LIMIT: usize = 64 * 1024;

fn op(operation: &'static str) -> Op {
    Op {
        service: "platform",
        operation,
    }
}

/// The incumbent's live lines for a check (its before/after hooks printed them).
pub fn check_line(check: &str, report: &CheckReport) -> String {
    match report {
        CheckReport::Running => format!("Running check: {check}"),
        CheckReport::Finished { status, .. } => {
            let word = match status.as_str() {
                "pass" => "PASSED",
                "warning" => "WARNING",
                "skipped" => "SKIPPED",
                _ => "FAILED",
            };
            format!("{word}: {check}")
        }
    }
}

impl StepHost {
    /// The run's scope, and the resource its grant is checked on (the NRN, else
    /// `scope=<id>`); refused when the notification names neither.
    fn platform_scope(&mut self, op: Op) -> Result<(ScopeRef, String), CallError> {
        let scope = ScopeRef::of_context(&self.context);
        match scope.resource() {
            Some(resource) => Ok((scope, resource)),
            None => Err(self.invalid(
                op,
                "*",
                "the run's notification names no scope (.scope.nrn or .scope.id): there is nothing to report to the platform about".into(),
            )),
        }
    }

    /// A step's JSON object argument.
    fn json_object(&mut self, op: Op, resource: &str, text: &str) -> Result<Map<String, Value>, CallError> {
        if text.len() > BODY_LIMIT {
            return Err(self.invalid(
                op,
                resource,
                format!("the body is {} bytes; the platform takes at most {BODY_LIMIT}", text.len()),
            ));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(self.invalid(
                op,
                resource,
                format!("the body must be a JSON object, not {}", crate::json_error::kind(&other)),
            )),
            Err(e) => Err(self.invalid(op, resource, format!("the body is not JSON: {e}"))),
        }
    }

    /// The scope's NRN, which metadata calls need.
    fn require_nrn(&mut self, op: Op, scope: &ScopeRef, resource: &str) -> Result<String, CallError> {
        match &scope.nrn {
            Some(nrn) => Ok(nrn.clone()),
            None => Err(self.invalid(op, resource, "the run's notification names no scope NRN (.scope.nrn)".into())),
        }
    }

    fn require_id(&mut self, op: Op, scope: &ScopeRef, resource: &str) -> Result<String, CallError> {
        match &scope.id {
            Some(id) => Ok(id.clone()),
            None => Err(self.invalid(op, resource, "the run's notification names no scope id (.scope.id)".into())),
        }
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn patch_metadata(&mut self, body: String) -> Answer<()> {
        let op = op("PatchMetadata");
        let h = &mut *self.host;
        let (scope, resource) = try_call!(h.platform_scope(op));
        let nrn = try_call!(h.require_nrn(op, &scope, &resource));
        let body = try_call!(h.json_object(op, &resource, &body));
        Ok(
            h.platform_call(op, &[need(op, resource)], |p| async move { p.patch_metadata(&nrn, &body).await })
                .await,
        )
    }

    async fn read_metadata(&mut self, namespace: String) -> Answer<String> {
        let op = op("ReadMetadata");
        let h = &mut *self.host;
        let (scope, resource) = try_call!(h.platform_scope(op));
        let nrn = try_call!(h.require_nrn(op, &scope, &resource));
        if namespace.is_empty() || !namespace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Ok(Err(h.invalid(
                op,
                &resource,
                format!("namespace `{namespace}` is not a name (letters, digits, `_`, `-`)"),
            )));
        }
        let read = h
            .platform_call(
                op,
                &[need(op, resource)],
                |p| async move { p.read_metadata(&nrn, &namespace).await },
            )
            .await;
        Ok(read.map(|m| Value::Object(m).to_string()))
    }

    async fn patch_scope_domain(&mut self, domain: String) -> Answer<()> {
        let op = op("PatchScope");
        let h = &mut *self.host;
        let (scope, resource) = try_call!(h.platform_scope(op));
        let id = try_call!(h.require_id(op, &scope, &resource));
        let domain = domain.trim_end_matches('.').to_owned();
        let valid = !domain.is_empty()
            && domain.len() <= 253
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*'));
        if !valid {
            return Ok(Err(h.invalid(op, &resource, format!("`{domain}` is not a domain name"))));
        }
        let mut body = Map::new();
        body.insert("domain".into(), Value::String(domain));
        Ok(
            h.platform_call(op, &[need(op, resource)], |p| async move { p.patch_scope(&id, &body).await })
                .await,
        )
    }

    async fn report_check(&mut self, name: String, report: wit::CheckReport) -> Answer<()> {
        let op = op("ReportCheck");
        let h = &mut *self.host;
        let (scope, resource) = try_call!(h.platform_scope(op));
        let id = try_call!(h.require_id(op, &scope, &resource));
        if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
            return Ok(Err(h.invalid(
                op,
                &resource,
                "a check's name is one line of at most 256 bytes".into(),
            )));
        }
        let report = match report {
            wit::CheckReport::Running => CheckReport::Running,
            wit::CheckReport::Finished((status, summary)) => CheckReport::Finished {
                status: match status {
                    CheckStatus::Pass => "pass",
                    CheckStatus::Fail => "fail",
                    CheckStatus::Warning => "warning",
                    CheckStatus::Skipped => "skipped",
                }
                .into(),
                summary,
            },
        };
        h.live(&check_line(&name, &report));
        Ok(h.platform_call(
            op,
            &[need(op, resource)],
            |p| async move { p.report_check(&id, &name, &report).await },
        )
        .await)
    }

    async fn live_output(&mut self, line: String) -> Answer<()> {
        // Like a log line: no grant, under the step's log cap, redacted, recorded.
        self.host.live(&line);
        Ok(Ok(()))
    }
}
