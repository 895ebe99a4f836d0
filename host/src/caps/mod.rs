//! Capabilities: one module per WIT interface, implemented on a view
//! ([`view::CapsCtx`]) any store can offer. Every cloud operation goes through the
//! one call gate ([`gate`]): argument checks → quotas → grant check → the step's
//! role session → cloud call → journal record → error mapping with redaction, in a
//! tracing span of its own.

/// Runs a fallible preparation of a capability call, turning its error into the
/// call's answer (declared before the modules, which use it).
macro_rules! try_call {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

pub mod apigateway;
pub mod arn;
pub mod cloudwatch;
pub mod context;
pub mod credentials;
pub mod ecr;
pub mod elb;
pub mod gate;
pub mod iam;
pub mod lambda;
pub mod log;
pub mod logs;
pub mod platform;
pub mod providers;
pub mod quota;
pub mod route53;
pub mod secrets;
pub mod sessions;
pub mod tagging;
pub mod v0_1;
pub mod view;

/// The run a step belongs to (defined with its builder in [`crate::run`]).
pub use crate::run::RunEnv;
pub use view::{add_to_linker, CapsCtx, CapsView, HasCaps};

use crate::cloud::Identity;
use crate::grants::{Denial, Grant};
use crate::limits::Limits;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub use self::log::{LogLevel, LogSink, NullSink};

/// The host side of one running step: what its capability calls may use.
pub struct StepHost {
    pub(crate) env: Arc<RunEnv>,
    /// The step's name in the workflow.
    pub(crate) step: String,
    /// The plugin's manifest name.
    pub(crate) plugin: String,
    pub(crate) grant: Grant,
    pub(crate) vars: Arc<BTreeMap<String, String>>,
    /// The built context, JSON text.
    pub(crate) context: Arc<str>,
    pub(crate) limits: Limits,
    /// The identity this step's calls use now.
    pub(crate) identity: Identity,
    /// Log bytes kept so far and lines dropped past the cap.
    pub(crate) log_bytes: usize,
    pub(crate) log_dropped: u64,
    /// Live identity handles.
    pub(crate) handles: usize,
    /// Denials met during the step, for its summary.
    pub(crate) denials: Vec<Denial>,
    /// The step's own session of `identity` (when the host assumed that identity):
    /// the ARN it was opened for, and the session.
    pub(crate) session: Option<(String, Identity)>,
    /// When the step's deadline passes.
    pub(crate) deadline_at: Instant,
    /// What the step has used of its quotas.
    pub(crate) usage: quota::Usage,
}

/// Service and operation of a call, as AWS names them (`lambda`, `PublishVersion`).
#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub service: &'static str,
    pub operation: &'static str,
}

impl Op {
    /// The IAM action, `service:Operation`.
    pub fn action(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

impl StepHost {
    /// The host side of step `name` running a plugin with `manifest`: its grant
    /// (the manifest's declaration ∩ the run's policy), variables, the workflow's
    /// identity, and the deadline `limits` give it from `started`.
    pub fn new(
        env: &Arc<RunEnv>,
        name: &str,
        manifest: &crate::manifest::Manifest,
        vars: BTreeMap<String, String>,
        context: Arc<str>,
        limits: &Limits,
        started: Instant,
    ) -> StepHost {
        StepHost {
            env: env.clone(),
            step: name.to_owned(),
            plugin: manifest.name.clone(),
            grant: Grant::new(&manifest.name, &manifest.capabilities, env.policy.clone()),
            vars: Arc::new(vars),
            context,
            limits: limits.clone(),
            identity: env.workflow_identity(),
            log_bytes: 0,
            log_dropped: 0,
            handles: 0,
            denials: Vec::new(),
            session: None,
            deadline_at: started + limits.deadline,
            usage: quota::Usage::default(),
        }
    }

    /// The identity the step's calls are signed with now: its own session when one
    /// is open for the current identity, else the identity itself.
    pub fn signing_identity(&self) -> &Identity {
        match &self.session {
            Some((for_arn, session)) if *for_arn == self.identity.arn => session,
            _ => &self.identity,
        }
    }

    /// The account and region resources of this step's calls live in.
    pub fn account(&self) -> &str {
        &self.identity.account
    }

    pub fn region(&self) -> &str {
        &self.env.region
    }
}

/// Every interface of the contract is implemented on the capabilities' view.
impl crate::bindings::types::Host for CapsCtx<'_> {}

/// What a capability call answers the guest: a trap (`Err`), or the contract's result.
pub(crate) type Answer<T> = wasmtime::Result<Result<T, crate::bindings::types::CallError>>;

/// A `(action, resource)` pair for [`StepHost::authorize`].
pub fn need(op: Op, resource: impl Into<String>) -> (String, String) {
    (op.action(), resource.into())
}
