//! The one run assembler. A run is what every step of it shares: the cloud, the
//! operator policy, provider data, the redactor and the journal, the agent's and the
//! workflow's identities, the region, where live lines go, the role sessions the
//! host opened and the platform the scope belongs to. The CLI, scenarios, the tests and the benches all build runs with
//! [`RunBuilder`]; nothing fills a run's fields by hand.

use crate::cancel::Cancel;
use crate::caps::sessions::Sessions;
use crate::caps::{LogSink, NullSink};
use crate::cloud::{Cloud, CloudError, Identity};
use crate::grants::Policy;
use crate::journal::Journal;
use crate::platform::sim::SimPlatform;
use crate::platform::PlatformApi;
use crate::providers::ProviderStore;
use crate::redact::Redactor;
use std::sync::{Arc, Mutex};

/// What every step of a run shares. Built by [`RunBuilder`].
pub struct RunEnv {
    pub(crate) cloud: Cloud,
    pub(crate) policy: Arc<Policy>,
    pub(crate) providers: Arc<ProviderStore>,
    pub(crate) redactor: Redactor,
    pub(crate) journal: Arc<Journal>,
    /// The agent's own identity.
    pub(crate) agent: Identity,
    /// The identity later steps' calls use; set by `use-for-workflow`.
    pub(crate) workflow_identity: Mutex<Identity>,
    /// The region calls go to.
    pub(crate) region: String,
    /// Where live log lines go (the CLI prints them).
    pub(crate) sink: Arc<dyn LogSink>,
    /// Assumed roles and the per-step sessions opened from them.
    pub(crate) sessions: Arc<Sessions>,
    /// Stops the run from outside (a signal, a cancel request).
    pub(crate) cancel: Cancel,
    /// The platform the scope belongs to.
    pub(crate) platform: Arc<dyn PlatformApi>,
    /// Set when the run is a plan (`--plan`): its changes, found on an overlay.
    pub(crate) plan: Option<crate::cloud::plan::Plan>,
}

impl RunEnv {
    /// The identity a new step starts with.
    pub fn workflow_identity(&self) -> Identity {
        self.workflow_identity.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The run's record.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// The run's secrets, and what masks them.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The agent's own identity.
    pub fn agent(&self) -> &Identity {
        &self.agent
    }

    /// The region calls go to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The cloud the run's calls go to.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// The run's stop switch.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// The platform the run reports to.
    pub fn platform(&self) -> &Arc<dyn PlatformApi> {
        &self.platform
    }

    /// The plan, when the run is one.
    pub fn plan(&self) -> Option<&crate::cloud::plan::Plan> {
        self.plan.as_ref()
    }

    /// The operator policy every grant is cut from.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// [`RunEnv::policy`], shared.
    pub fn policy_arc(&self) -> Arc<Policy> {
        self.policy.clone()
    }
}

/// Assembles a [`RunEnv`]. Defaults: a policy granting every plugin what it
/// declares, no provider data, a fresh redactor, an in-memory journal sharing it,
/// the cloud's default region, no live output, and the agent's identity asked of the
/// cloud.
pub struct RunBuilder {
    cloud: Cloud,
    agent: Option<Identity>,
    policy: Policy,
    providers: ProviderStore,
    redactor: Redactor,
    journal: Option<Arc<Journal>>,
    region: Option<String>,
    sink: Arc<dyn LogSink>,
    starting_identity: Option<Identity>,
    cancel: Cancel,
    platform: Option<Arc<dyn PlatformApi>>,
    sessions: Option<Arc<Sessions>>,
    plan: Option<crate::cloud::plan::Plan>,
}

impl RunBuilder {
    pub fn new(cloud: impl Into<Cloud>) -> Self {
        RunBuilder {
            cloud: cloud.into(),
            agent: None,
            policy: Policy::allow_all(),
            providers: ProviderStore::default(),
            redactor: Redactor::new(),
            journal: None,
            region: None,
            sink: Arc::new(NullSink),
            starting_identity: None,
            cancel: Cancel::new(),
            platform: None,
            sessions: None,
            plan: None,
        }
    }

    /// Makes the run a plan: `cloud` must be the [`crate::cloud::plan::plan`] that
    /// `plan` came with. Role sessions then carry read-only session policies.
    pub fn plan(mut self, plan: crate::cloud::plan::Plan) -> Self {
        self.plan = Some(plan);
        self
    }

    /// The role sessions the run opens and reuses (default: its own). An agent
    /// shares one between its runs, so a step kind of a scope pays its AssumeRole
    /// once while the session lasts.
    pub fn sessions(mut self, sessions: Arc<Sessions>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// The switch that stops the run from outside (default: one nobody else holds).
    pub fn cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// The platform the run reports to (default: a simulated one of its own).
    pub fn platform(mut self, platform: Arc<dyn PlatformApi>) -> Self {
        self.platform = Some(platform);
        self
    }

    /// The identity the first step starts with (default: the agent's). Later steps
    /// start with whatever `use-for-workflow` made it.
    pub fn starting_identity(mut self, identity: Identity) -> Self {
        self.starting_identity = Some(identity);
        self
    }

    /// The agent's identity, when already known (else [`RunBuilder::build`] asks).
    pub fn agent(mut self, agent: Identity) -> Self {
        self.agent = Some(agent);
        self
    }

    /// The operator policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Provider data.
    pub fn providers(mut self, providers: ProviderStore) -> Self {
        self.providers = providers;
        self
    }

    /// The redactor the run masks secrets with (a journal given with
    /// [`RunBuilder::journal`] must have been made with the same one).
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Registers the secret parameters of a built context with the run's redactor.
    pub fn context_secrets(self, context: &serde_json::Value) -> Self {
        crate::context::register_secrets(context, &self.redactor);
        self
    }

    /// Where the run is recorded (default: in memory).
    pub fn journal(mut self, journal: Arc<Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The region calls go to (default: the cloud's).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Where live log lines go (default: nowhere).
    pub fn sink(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.sink = sink;
        self
    }

    /// The run, the agent's identity asked of the cloud unless given.
    pub async fn build(mut self) -> Result<Arc<RunEnv>, CloudError> {
        if self.agent.is_none() {
            self.agent = Some(self.cloud.agent_identity().await?.value);
        }
        Ok(self.assemble())
    }

    /// The run, with the agent's identity given (see [`RunBuilder::agent`]); for
    /// a run whose agent is not known yet, a stand-in nobody.
    pub fn build_now(self) -> Arc<RunEnv> {
        self.assemble()
    }

    fn assemble(self) -> Arc<RunEnv> {
        let agent = self.agent.unwrap_or_else(|| Identity {
            arn: String::new(),
            account: String::new(),
            expires_at: None,
            credentials: None,
        });
        let journal = self.journal.unwrap_or_else(|| Arc::new(Journal::in_memory(self.redactor.clone())));
        Arc::new(RunEnv {
            region: self.region.unwrap_or_else(|| self.cloud.default_region()),
            cloud: self.cloud,
            policy: Arc::new(self.policy),
            providers: Arc::new(self.providers),
            redactor: self.redactor,
            journal,
            workflow_identity: Mutex::new(self.starting_identity.unwrap_or_else(|| agent.clone())),
            agent,
            sink: self.sink,
            sessions: self.sessions.unwrap_or_default(),
            cancel: self.cancel,
            platform: self.platform.unwrap_or_else(|| Arc::new(SimPlatform::new())),
            plan: self.plan,
        })
    }
}
