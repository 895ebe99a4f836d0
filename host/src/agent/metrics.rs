//! `/metrics`, in Prometheus's text format (prometheus-client). Almost everything is
//! counted from the runs' journals as they are stored — every call, denial and step
//! is in the journal already, so no part of the host counts a second time and a
//! plugin cannot hide from the metrics what it cannot hide from the record.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::Mutex;

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn seconds_histogram() -> Histogram {
    // 1 ms to about half an hour.
    Histogram::new(exponential_buckets(0.001, 2.0, 22))
}

/// The agent's metrics.
pub struct Metrics {
    registry: Registry,
    runs: Family<Labels, Counter>,
    run_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    step_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    step_failures: Family<Labels, Counter>,
    calls: Family<Labels, Counter>,
    call_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    denials: Family<Labels, Counter>,
    notifications: Family<Labels, Counter>,
    queue_depth: Gauge,
    runs_in_hand: Gauge,
    sessions: Family<Labels, Counter>,
    /// Session cache counts already reported, to add only what is new.
    sessions_seen: Mutex<(u64, u64)>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("scope_host");
        let m = Metrics {
            runs: Family::default(),
            run_seconds: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            step_seconds: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            step_failures: Family::default(),
            calls: Family::default(),
            call_seconds: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            denials: Family::default(),
            notifications: Family::default(),
            queue_depth: Gauge::default(),
            runs_in_hand: Gauge::default(),
            sessions: Family::default(),
            sessions_seen: Mutex::new((0, 0)),
            registry: Registry::default(),
        };
        registry.register("runs", "Runs ended, by workflow and outcome", m.runs.clone());
        registry.register("run_duration_seconds", "How long runs took, by workflow", m.run_seconds.clone());
        registry.register("step_duration_seconds", "How long steps took, by plugin", m.step_seconds.clone());
        registry.register(
            "step_failures",
            "Steps that failed, by kind (cloud, denied, timeout, trap, limit …)",
            m.step_failures.clone(),
        );
        registry.register("cloud_calls", "Cloud calls, by service, operation and outcome", m.calls.clone());
        registry.register(
            "cloud_call_duration_seconds",
            "Cloud call latency, by service",
            m.call_seconds.clone(),
        );
        registry.register("denials", "Calls the host refused, by plugin", m.denials.clone());
        registry.register("notifications", "Notifications received, by answer", m.notifications.clone());
        registry.register("queue_depth", "Runs waiting to start", m.queue_depth.clone());
        registry.register("runs_in_hand", "Runs this agent is running", m.runs_in_hand.clone());
        registry.register(
            "role_sessions",
            "Per-step role sessions: reused from the cache (hit) or opened (miss)",
            m.sessions.clone(),
        );
        Metrics { registry, ..m }
    }

    /// A notification answered `answer` (accepted, duplicate, refused, queue_full, unauthorized).
    pub fn notification(&self, answer: &str) {
        self.notifications.get_or_create(&labels(&[("answer", answer)])).inc();
    }

    /// A run ended.
    pub fn run_ended(&self, workflow: &str, outcome: &str, seconds: f64) {
        self.runs
            .get_or_create(&labels(&[("workflow", workflow), ("outcome", outcome)]))
            .inc();
        self.run_seconds.get_or_create(&labels(&[("workflow", workflow)])).observe(seconds);
    }

    /// Counts what one journal entry of a run says; `plugins` maps the run's step
    /// names to their plugins (filled from `step_started`).
    pub fn observe(&self, entry: &serde_json::Value, plugins: &mut HashMap<String, String>) {
        let text = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        let micros = |k: &str| entry.get(k).and_then(|v| v.as_u64()).unwrap_or(0) as f64 / 1e6;
        match text("event") {
            "step_started" => {
                plugins.insert(text("step").to_owned(), text("plugin").to_owned());
            }
            "step_finished" => {
                let plugin = plugins.get(text("step")).map(String::as_str).unwrap_or("-");
                self.step_seconds
                    .get_or_create(&labels(&[("plugin", plugin)]))
                    .observe(micros("duration_us"));
                if let Some(kind) = entry.get("failure_kind").and_then(|v| v.as_str()) {
                    self.step_failures.get_or_create(&labels(&[("kind", kind)])).inc();
                }
            }
            "call" => {
                let (service, operation, outcome) = (text("service"), text("operation"), text("outcome"));
                self.calls
                    .get_or_create(&labels(&[("service", service), ("operation", operation), ("outcome", outcome)]))
                    .inc();
                self.call_seconds
                    .get_or_create(&labels(&[("service", service)]))
                    .observe(micros("duration_us"));
            }
            "denied" => {
                let plugin = plugins.get(text("step")).map(String::as_str).unwrap_or("-");
                self.denials.get_or_create(&labels(&[("plugin", plugin)])).inc();
            }
            _ => {}
        }
    }

    /// The text exposition, with the gauges and session counts as of now.
    pub fn render(&self, queue_depth: u64, in_hand: usize, sessions: (u64, u64)) -> String {
        self.queue_depth.set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
        self.runs_in_hand.set(i64::try_from(in_hand).unwrap_or(i64::MAX));
        {
            let mut seen = self.sessions_seen.lock().unwrap_or_else(|e| e.into_inner());
            let (hits, misses) = sessions;
            self.sessions
                .get_or_create(&labels(&[("result", "hit")]))
                .inc_by(hits.saturating_sub(seen.0));
            self.sessions
                .get_or_create(&labels(&[("result", "miss")]))
                .inc_by(misses.saturating_sub(seen.1));
            *seen = (hits.max(seen.0), misses.max(seen.1));
        }
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
