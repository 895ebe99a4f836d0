//! The agent's API as a [`Store`] to read from: `scope-host runs --agent URL` lists,
//! shows, follows and cancels runs through a running agent exactly as it does on
//! the store file. Only what the API serves is here; the rest answers that it is
//! not available this way.

use super::store::{
    ApproveAnswer, CancelAnswer, Claimed, DoneStep, Heartbeat, NewRun, RunFilter, RunState, RunView, Store, StoreError, Submitted,
};
use async_trait::async_trait;
use std::time::Duration;

/// A running agent's API (plain HTTP), with a bearer token if given.
pub struct ApiClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn not_here(what: &str) -> StoreError {
    StoreError::Unavailable(format!("{what} is not done through the agent's API"))
}

impl ApiClient {
    pub fn new(base: &str, token: Option<String>) -> Result<ApiClient, StoreError> {
        if !base.starts_with("http://") {
            return Err(StoreError::Unavailable(format!(
                "--agent {base}: expected http://HOST:PORT (the agent's --listen address; TLS belongs to a proxy in front of it)"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(unavailable)?;
        Ok(ApiClient {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<(u16, serde_json::Value), StoreError> {
        let request = match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let answer = request
            .send()
            .await
            .map_err(|e| unavailable(format!("reaching the agent at {}: {e}", self.base)))?;
        let status = answer.status().as_u16();
        let text = answer.text().await.map_err(unavailable)?;
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        if status == 401 {
            return Err(StoreError::Unavailable(
                "the agent refused the token (401): set SCOPE_HOST_AGENT_TOKEN to a token whose hash it holds".into(),
            ));
        }
        Ok((status, body))
    }

    async fn get(&self, path: &str) -> Result<(u16, serde_json::Value), StoreError> {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }
}

/// A query value, percent-encoded (everything but unreserved characters).
fn escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn refused(status: u16, body: &serde_json::Value) -> StoreError {
    StoreError::Unavailable(format!(
        "the agent answered {status}: {}",
        body["error"].as_str().map(str::to_owned).unwrap_or_else(|| body.to_string())
    ))
}

#[async_trait]
impl Store for ApiClient {
    async fn submit(&self, _: NewRun) -> Result<Submitted, StoreError> {
        Err(not_here("submitting"))
    }
    async fn claim(&self, _: &str, _: Duration, _: u32) -> Result<Vec<Claimed>, StoreError> {
        Err(not_here("claiming"))
    }
    async fn heartbeat(&self, _: &str, _: &[String], _: Duration) -> Result<Heartbeat, StoreError> {
        Err(not_here("a heartbeat"))
    }
    async fn step_finished(&self, _: &str, _: &str, _: DoneStep) -> Result<(), StoreError> {
        Err(not_here("recording a step"))
    }
    async fn set_identity(&self, _: &str, _: &str, _: &serde_json::Value) -> Result<(), StoreError> {
        Err(not_here("recording an identity"))
    }
    async fn append_journal(&self, _: &str, _: &[serde_json::Value]) -> Result<(), StoreError> {
        Err(not_here("writing a journal"))
    }
    async fn finish(&self, _: &str, _: &str, _: RunState, _: Option<&str>) -> Result<(), StoreError> {
        Err(not_here("ending a run"))
    }
    async fn hold_planned(&self, _: &str, _: &str, _: &serde_json::Value) -> Result<(), StoreError> {
        Err(not_here("holding a plan"))
    }
    async fn release(&self, _: &str, _: &[String]) -> Result<u64, StoreError> {
        Err(not_here("releasing runs"))
    }

    async fn approve(&self, run: &str) -> Result<ApproveAnswer, StoreError> {
        let (status, body) = self.send(self.http.post(format!("{}/v1/runs/{run}/approve", self.base))).await?;
        match status {
            200 => Ok(ApproveAnswer::Approved),
            404 => Ok(ApproveAnswer::NotFound),
            409 => Ok(ApproveAnswer::NotPlanned(
                serde_json::from_value(body["state"].clone()).unwrap_or(RunState::Failed),
            )),
            _ => Err(refused(status, &body)),
        }
    }
    async fn interrupt(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(not_here("interrupting a run"))
    }

    async fn request_cancel(&self, run: &str) -> Result<CancelAnswer, StoreError> {
        let (status, body) = self.send(self.http.post(format!("{}/v1/runs/{run}/cancel", self.base))).await?;
        match status {
            200 => Ok(CancelAnswer::Cancelled),
            202 => Ok(CancelAnswer::Requested),
            404 => Ok(CancelAnswer::NotFound),
            409 => Ok(CancelAnswer::AlreadyOver(
                serde_json::from_value(body["state"].clone()).unwrap_or(RunState::Failed),
            )),
            _ => Err(refused(status, &body)),
        }
    }

    async fn run(&self, id: &str) -> Result<Option<RunView>, StoreError> {
        match self.get(&format!("/v1/runs/{id}")).await? {
            (200, body) => serde_json::from_value(body).map(Some).map_err(unavailable),
            (404, _) => Ok(None),
            (status, body) => Err(refused(status, &body)),
        }
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunView>, StoreError> {
        let mut query = vec![("limit", filter.limit.to_string())];
        if let Some(s) = &filter.scope {
            query.push(("scope", s.clone()));
        }
        if let Some(s) = filter.state {
            query.push(("state", s.as_str().to_owned()));
        }
        if let Some(c) = &filter.before {
            query.push(("cursor", c.clone()));
        }
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", escape(v))).collect();
        let (status, body) = self.get(&format!("/v1/runs?{}", query.join("&"))).await?;
        if status != 200 {
            return Err(refused(status, &body));
        }
        serde_json::from_value(body["runs"].clone()).map_err(unavailable)
    }

    async fn journal(&self, run: &str, after: i64, _limit: u32) -> Result<Vec<(i64, serde_json::Value)>, StoreError> {
        match self.get(&format!("/v1/runs/{run}/events?after={after}")).await? {
            (200, body) => Ok(body["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .zip(after.saturating_add(1)..)
                .map(|(e, n)| (n, e))
                .collect()),
            (status, body) => Err(refused(status, &body)),
        }
    }

    async fn queued(&self) -> Result<u64, StoreError> {
        let runs = self
            .runs(&RunFilter {
                state: Some(RunState::Queued),
                limit: 500,
                ..RunFilter::default()
            })
            .await?;
        Ok(runs.len() as u64)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        match self.get("/healthz").await? {
            (200, _) => Ok(()),
            (status, body) => Err(refused(status, &body)),
        }
    }
}
