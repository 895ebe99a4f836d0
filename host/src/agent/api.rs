//! The agent's HTTP API (axum): notifications in, runs and their journals out.
//!
//! - `POST /v1/notifications` — the platform's notification JSON, as `handle`
//!   takes it: `202 {"run_id"}`; the same notification again (same id, else same
//!   content): `200` with the run it made, never a second run. Malformed or
//!   unroutable: `400` with `handle`'s message, nothing stored. Over the body limit:
//!   `413`. Queue full: `429` with `Retry-After`.
//! - `GET /v1/runs/{id}`, `GET /v1/runs?scope=&state=&limit=&cursor=`,
//!   `GET /v1/runs/{id}/events` (`Accept: text/event-stream` follows a live run),
//!   `POST /v1/runs/{id}/cancel`.
//! - `GET /healthz` (the process answers), `GET /readyz` (the store answers and
//!   the engine is ready).
//!
//! Every `/v1` request needs `Authorization: Bearer <token>` when tokens are
//! configured ([`super::auth`]); a refused one is logged with where it came from,
//! and answered `401` with nothing about which tokens exist.

use super::auth::Tokens;
use super::scheduler::Scheduler;
use super::store::{ApproveAnswer, CancelAnswer, NewRun, RunFilter, RunState, StoreError, Submitted};
use crate::workflow::dispatch;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What the handlers share.
pub struct Api {
    pub scheduler: Arc<Scheduler>,
    pub tokens: RwLock<Tokens>,
    pub max_queued: u64,
    pub max_body: usize,
    /// The service's plugins are compiled.
    pub warmed: std::sync::atomic::AtomicBool,
}

impl Api {
    fn tokens(&self) -> Tokens {
        self.tokens.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

type Shared = Arc<Api>;

/// The API's routes.
pub fn router(api: Shared) -> Router {
    let max_body = api.max_body;
    let v1 = Router::new()
        .route("/v1/notifications", post(notify))
        .route("/v1/runs", get(list_runs))
        .route("/v1/runs/{id}", get(show_run))
        .route("/v1/runs/{id}/events", get(events))
        .route("/v1/runs/{id}/cancel", post(cancel))
        .route("/v1/runs/{id}/approve", post(approve))
        .layer(axum::middleware::from_fn_with_state(api.clone(), authenticate));
    Router::new()
        .merge(v1)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(api)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn store_error(e: StoreError) -> Response {
    match e {
        StoreError::QueueFull { queued, limit } => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!("the agent's queue is full ({queued} runs waiting, --max-queued {limit}): send it again later"),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
        other => {
            tracing::error!(error = %other, "the store refused a request");
            error(StatusCode::SERVICE_UNAVAILABLE, format!("{other}"))
        }
    }
}

async fn authenticate(State(api): State<Shared>, request: Request, next: Next) -> Response {
    let tokens = api.tokens();
    if tokens.is_empty() {
        return next.run(request).await;
    }
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if tokens.admits(given) {
        return next.run(request).await;
    }
    let from = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "unknown".into());
    tracing::warn!(
        from = %from,
        method = %request.method(),
        path = %request.uri().path(),
        presented = given.is_some(),
        "refused: no valid bearer token"
    );
    api.scheduler.shared().metrics.notification("unauthorized");
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "a valid bearer token is required (Authorization: Bearer <token>)",
    );
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

#[derive(Deserialize, Default)]
struct NotifyQuery {
    /// `true`: plan the run only; it ends `planned` and waits for
    /// `POST /v1/runs/{id}/approve` to apply the plan.
    #[serde(default)]
    plan: bool,
}

async fn notify(State(api): State<Shared>, Query(q): Query<NotifyQuery>, body: Bytes) -> Response {
    let metrics = api.scheduler.shared().metrics.clone();
    let Ok(text) = std::str::from_utf8(&body) else {
        metrics.notification("refused");
        return error(
            StatusCode::BAD_REQUEST,
            "the request body is not UTF-8 text (expected the notification's JSON)",
        );
    };
    let doc = match dispatch::parse(text, "the request body") {
        Ok(doc) => doc,
        Err(e) => {
            metrics.notification("refused");
            return error(StatusCode::BAD_REQUEST, e);
        }
    };
    let settings = api.scheduler.shared().settings();
    let routed = match dispatch::dispatch(&doc, &settings.service, &settings.overrides) {
        Ok(r) => r,
        Err(e) => {
            metrics.notification("refused");
            return error(StatusCode::BAD_REQUEST, format!("the request body: {e}"));
        }
    };
    if routed.context.is_none() {
        metrics.notification("refused");
        return error(
            StatusCode::BAD_REQUEST,
            "no built context: put a `context` member in the notification (building it from the platform's API is not supported yet)",
        );
    }
    let run = NewRun {
        id: crate::journal::new_run_id(),
        dedupe_key: dispatch::dedupe_key(&doc),
        scope: dispatch::scope_key(&doc),
        family: routed.family.folder().into(),
        workflow: routed.name.clone(),
        notification: doc.to_string(),
        max_queued: api.max_queued,
        plan_only: q.plan,
    };
    match api.scheduler.shared().store.submit(run).await {
        Ok(Submitted::Created(id)) => {
            metrics.notification("accepted");
            api.scheduler.wake();
            tracing::info!(run = %id, family = routed.family.folder(), workflow = %routed.name, "notification accepted");
            (StatusCode::ACCEPTED, Json(json!({"run_id": id, "state": "queued", "plan": q.plan}))).into_response()
        }
        Ok(Submitted::Existing(id)) => {
            metrics.notification("duplicate");
            (StatusCode::OK, Json(json!({"run_id": id, "duplicate": true}))).into_response()
        }
        Err(e) => {
            metrics.notification(if matches!(e, StoreError::QueueFull { .. }) {
                "queue_full"
            } else {
                "store_unavailable"
            });
            store_error(e)
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    scope: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_runs(State(api): State<Shared>, Query(q): Query<ListQuery>) -> Response {
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => match RunState::parse(s) {
            Some(s) => Some(s),
            None => {
                let known: Vec<&str> = RunState::ALL.iter().map(|s| s.as_str()).collect();
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown state `{s}`; one of: {}", known.join(", ")),
                );
            }
        },
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let filter = RunFilter {
        scope: q.scope.filter(|s| !s.is_empty()),
        state,
        limit,
        before: q.cursor.filter(|c| !c.is_empty()),
    };
    match api.scheduler.shared().store.runs(&filter).await {
        Ok(runs) => {
            let next = (runs.len() == limit as usize).then(|| runs.last().map(|r| r.id.clone())).flatten();
            Json(json!({"runs": runs, "next_cursor": next})).into_response()
        }
        Err(e) => store_error(e),
    }
}

async fn show_run(State(api): State<Shared>, Path(id): Path<String>) -> Response {
    match api.scheduler.shared().store.run(&id).await {
        Ok(Some(run)) => Json(run).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no run `{id}`")),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    after: Option<i64>,
}

async fn events(State(api): State<Shared>, Path(id): Path<String>, Query(q): Query<EventsQuery>, headers: HeaderMap) -> Response {
    let store = api.scheduler.shared().store.clone();
    match store.run(&id).await {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no run `{id}`")),
        Err(e) => return store_error(e),
    }
    let after = q.after.unwrap_or(0);
    let follow = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if !follow {
        return match store.journal(&id, after, 100_000).await {
            Ok(entries) => {
                let events: Vec<serde_json::Value> = entries.into_iter().map(|(_, e)| e).collect();
                Json(json!({"run_id": id, "events": events})).into_response()
            }
            Err(e) => store_error(e),
        };
    }
    // Follows the run: what is stored, then what is stored next, until it is over
    // and everything has been sent.
    let scheduler = api.scheduler.clone();
    let stream = futures_util::stream::unfold((store, id, after, false), move |(store, id, after, done)| {
        let scheduler = scheduler.clone();
        async move {
            if done {
                return None;
            }
            let mut after = after;
            loop {
                // The agent stopping lets followers go (the run resumes at the next start).
                if scheduler.draining() {
                    return None;
                }
                let state = match store.run(&id).await {
                    Ok(Some(r)) => r.state,
                    _ => return None,
                };
                let batch = store.journal(&id, after, 500).await.unwrap_or_default();
                if let Some((last, _)) = batch.last() {
                    after = *last;
                    let events: Vec<Result<SseEvent, std::convert::Infallible>> = batch
                        .into_iter()
                        .map(|(seq, e)| Ok(SseEvent::default().id(seq.to_string()).data(e.to_string())))
                        .collect();
                    return Some((futures_util::stream::iter(events), (store, id, after, false)));
                }
                // A planned run waits for approval: its stream ends here too.
                if state.is_final() || state == RunState::Planned {
                    let end = SseEvent::default().event("end").data(json!({"state": state}).to_string());
                    return Some((futures_util::stream::iter(vec![Ok(end)]), (store, id, after, true)));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    Sse::new(futures_util::StreamExt::flatten(stream))
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn cancel(State(api): State<Shared>, Path(id): Path<String>) -> Response {
    match api.scheduler.shared().store.request_cancel(&id).await {
        Ok(CancelAnswer::Cancelled) => (StatusCode::OK, Json(json!({"run_id": id, "state": "cancelled"}))).into_response(),
        Ok(CancelAnswer::Requested) => {
            // Here, at once; on another agent, at its next heartbeat.
            api.scheduler.cancel(&id);
            (
                StatusCode::ACCEPTED,
                Json(json!({"run_id": id, "state": "running", "cancel_requested": true})),
            )
                .into_response()
        }
        Ok(CancelAnswer::AlreadyOver(state)) => (
            StatusCode::CONFLICT,
            Json(
                json!({"error": format!("run `{id}` is over already ({}): nothing to cancel", state.as_str()),
                "state": state}),
            ),
        )
            .into_response(),
        Ok(CancelAnswer::NotFound) => error(StatusCode::NOT_FOUND, format!("no run `{id}`")),
        Err(e) => store_error(e),
    }
}

/// A planned run's plan approved: the run is queued again and applies it.
async fn approve(State(api): State<Shared>, Path(id): Path<String>) -> Response {
    match api.scheduler.shared().store.approve(&id).await {
        Ok(ApproveAnswer::Approved) => {
            api.scheduler.wake();
            tracing::info!(run = %id, "plan approved");
            (StatusCode::OK, Json(json!({"run_id": id, "state": "queued", "approved": true}))).into_response()
        }
        Ok(ApproveAnswer::NotPlanned(state)) => (
            StatusCode::CONFLICT,
            Json(json!({
                "error": format!("run `{id}` is {}: only a planned run (posted with ?plan=true, now `planned`) is approved", state.as_str()),
                "state": state,
            })),
        )
            .into_response(),
        Ok(ApproveAnswer::NotFound) => error(StatusCode::NOT_FOUND, format!("no run `{id}`")),
        Err(e) => store_error(e),
    }
}

async fn metrics(State(api): State<Shared>) -> Response {
    let shared = api.scheduler.shared();
    let queued = shared.store.queued().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "metrics: the queue depth could not be read");
        0
    });
    let body = shared
        .metrics
        .render(queued, api.scheduler.in_hand(), shared.sessions.cache_counts());
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn ready(State(api): State<Shared>) -> Response {
    if !api.warmed.load(std::sync::atomic::Ordering::SeqCst) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "compiling the service's plugins");
    }
    match api.scheduler.shared().store.ping().await {
        Ok(()) if api.scheduler.store_ok() => (StatusCode::OK, "ready\n").into_response(),
        Ok(()) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store did not answer the scheduler's last request",
        ),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("{e}")),
    }
}
