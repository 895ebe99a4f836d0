//! One role session per step, narrowed to that step's grant.
//!
//! When a step assumes a role and hands it to the workflow (`use-for-workflow`), the
//! host remembers how the identity was made. Every later step whose calls use that
//! identity does not get the assumed keys themselves: at its first cloud call the host
//! opens a session of the same role, from the same source identity, whose inline
//! session policy is the step's own grant ([`crate::grants::Grant::session_policy`]).
//! AWS then enforces per step what the host enforces per call.
//!
//! The choice, against one session per workflow with the union of every step's grant:
//! a step's keys can do only what that step may do, and the journal names the step in
//! the session name. It costs one AssumeRole per step that calls the cloud; sessions
//! are cached (by source, role, session name and policy) and reused while they outlive
//! the step's remaining deadline, so an agent handling many notifications in one
//! process pays it once per step kind and scope.

use crate::cloud::Identity;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// AWS's shortest session.
pub const MIN_SESSION_SECONDS: u32 = 900;
/// The longest session the host asks for: a role's default MaxSessionDuration, and
/// the cap AWS puts on chained roles. A longer step refreshes its session mid-way.
pub const MAX_SESSION_SECONDS: u32 = 3600;
/// A session is refreshed when it has less than this left.
pub const REFRESH_MARGIN_SECONDS: u64 = 60;

/// How an assumed identity was made.
#[derive(Clone)]
pub struct AssumedRole {
    /// The identity that called AssumeRole; its keys sign the step sessions.
    pub source: Identity,
    pub role_arn: String,
    pub session_name: String,
}

/// What makes two step sessions interchangeable.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub source: String,
    pub role_arn: String,
    pub session_name: String,
    pub policy: Option<String>,
}

/// Assumed identities and the step sessions opened from them. Lives as long as the
/// process that handles runs (share it between runs to reuse sessions).
#[derive(Default)]
pub struct Sessions {
    assumed: Mutex<HashMap<String, AssumedRole>>,
    open: Mutex<HashMap<SessionKey, Identity>>,
    /// Sessions reused from the cache, and looked for in vain (an agent's metrics).
    hits: std::sync::atomic::AtomicU64,
    misses: std::sync::atomic::AtomicU64,
}

impl Sessions {
    /// Remembers how `identity` was assumed, so steps using it get sessions of their own.
    pub fn remember(&self, identity: &Identity, how: AssumedRole) {
        lock(&self.assumed).insert(identity.arn.clone(), how);
    }

    /// How the identity with this ARN was assumed, if the host assumed it.
    pub fn how_assumed(&self, arn: &str) -> Option<AssumedRole> {
        lock(&self.assumed).get(arn).cloned()
    }

    /// A cached session that stays valid until `needed_until` (cloud clock).
    pub fn reuse(&self, key: &SessionKey, needed_until: u64) -> Option<Identity> {
        let found = lock(&self.open)
            .get(key)
            .filter(|s| s.expires_at.is_none_or(|e| e >= needed_until))
            .cloned();
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        found
    }

    /// How many lookups found a session to reuse, and how many did not.
    pub fn cache_counts(&self) -> (u64, u64) {
        (
            self.hits.load(std::sync::atomic::Ordering::Relaxed),
            self.misses.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Caches a session; expired ones are dropped on the way.
    pub fn keep(&self, key: SessionKey, session: Identity, now: u64) {
        let mut open = lock(&self.open);
        open.retain(|_, s| s.expires_at.is_none_or(|e| e > now));
        open.insert(key, session);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The duration to ask for: the step's remaining deadline plus a margin, within
/// AWS's minimum and the host's maximum.
pub fn session_duration(remaining: Duration) -> u32 {
    let wanted = remaining.as_secs().saturating_add(2 * REFRESH_MARGIN_SECONDS);
    u32::try_from(wanted)
        .unwrap_or(u32::MAX)
        .clamp(MIN_SESSION_SECONDS, MAX_SESSION_SECONDS)
}

/// `<base>.<step>` in AWS's session-name alphabet, at most 64 characters: CloudTrail
/// then shows which step of which scope made each call.
pub fn step_session_name(base: &str, step: &str) -> String {
    let clean: String = step
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name = format!("{base}.{clean}");
    name.truncate(64);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(arn: &str, expires_at: u64) -> Identity {
        Identity {
            arn: arn.into(),
            account: "1".into(),
            expires_at: Some(expires_at),
            credentials: None,
        }
    }

    #[test]
    fn durations_follow_the_deadline_within_aws_bounds() {
        assert_eq!(session_duration(Duration::from_secs(10)), 900);
        assert_eq!(session_duration(Duration::from_secs(15 * 60)), 1020);
        assert_eq!(session_duration(Duration::from_secs(5 * 3600)), 3600);
    }

    #[test]
    fn session_names_name_the_step_and_stay_within_aws_rules() {
        assert_eq!(step_session_name("np-lambda-11", "publish_version"), "np-lambda-11.publish_version");
        assert_eq!(step_session_name("s", "a step/with:odd chars"), "s.a-step-with-odd-chars");
        assert_eq!(step_session_name(&"x".repeat(60), "publish_version").len(), 64);
    }

    #[test]
    fn a_cached_session_is_reused_only_while_it_outlives_the_need() {
        let sessions = Sessions::default();
        let key = SessionKey {
            source: "agent".into(),
            role_arn: "role".into(),
            session_name: "s.step".into(),
            policy: Some("{}".into()),
        };
        sessions.keep(key.clone(), session("a", 2000), 1000);
        assert_eq!(sessions.reuse(&key, 1900).map(|s| s.arn), Some("a".into()));
        assert!(sessions.reuse(&key, 2001).is_none(), "would expire before the step's deadline");
        let other = SessionKey {
            policy: Some("{\"x\":1}".into()),
            ..key.clone()
        };
        assert!(sessions.reuse(&other, 0).is_none(), "another policy is another session");
        // Keeping a session drops the expired ones.
        sessions.keep(other.clone(), session("b", 5000), 3000);
        assert!(sessions.reuse(&key, 0).is_none());
    }
}
