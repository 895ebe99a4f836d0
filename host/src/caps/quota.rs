//! Per-step quotas on what a step can make the host do: cloud calls, refused calls,
//! secrets registered, and bytes of run record. A step that loops on a call (allowed,
//! denied or malformed) would otherwise grow the host's memory and the record without
//! bound and drown the operator's terminal. Past a quota every later call is refused
//! with `call-error.limit` without being sent or recorded again, and the step fails
//! with kind `limit` whatever it returns.

use crate::limits::Limits;
use thiserror::Error;

/// What a step has used so far, and whether a quota ran out.
#[derive(Debug, Default)]
pub struct Usage {
    pub calls: u32,
    pub denials: u32,
    pub secrets: u32,
    pub journal_bytes: usize,
    /// Set when a quota ran out: why, for the step's failure.
    pub exhausted: Option<QuotaExceeded>,
}

/// Which quota a use counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    Calls,
    Denials,
    Secrets,
}

impl Quota {
    /// What the quota counts, as the message names it.
    fn what(self) -> &'static str {
        match self {
            Quota::Calls => "cloud calls",
            Quota::Denials => "refused calls (denied or malformed)",
            Quota::Secrets => "secret values written",
        }
    }

    /// What the step's author can do instead.
    fn hint(self) -> &'static str {
        match self {
            Quota::Calls => "a step that polls should use a waiter",
            Quota::Denials => "a refused call does not succeed by retrying it",
            Quota::Secrets => "write fewer, larger secrets",
        }
    }
}

/// A quota that ran out: the step is stopped, and every later call is refused
/// with this reason.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum QuotaExceeded {
    /// One use too many of a counted quota (calls, refusals, secrets).
    #[error("the step exceeded its quota of {limit} {} and was stopped ({})", .quota.what(), .quota.hint())]
    Count { quota: Quota, limit: u32 },
    /// The step's share of the run record is used up.
    #[error("the step exceeded its quota of {kib} KiB of run record and was stopped")]
    RunRecord { kib: usize },
}

impl Usage {
    /// Counts one use; `Err` with the reason when that use is past the quota (the
    /// first time, the reason is also kept in `exhausted`). Once any quota ran out,
    /// the run record's included, every use gets that first reason.
    pub fn count(&mut self, quota: Quota, limits: &Limits) -> Result<(), QuotaExceeded> {
        if let Some(why) = &self.exhausted {
            return Err(why.clone());
        }
        let (used, limit) = match quota {
            Quota::Calls => (&mut self.calls, limits.calls),
            Quota::Denials => (&mut self.denials, limits.denials),
            Quota::Secrets => (&mut self.secrets, limits.secrets),
        };
        *used = used.saturating_add(1);
        if *used > limit {
            let why = QuotaExceeded::Count { quota, limit };
            self.exhausted = Some(why.clone());
            return Err(why);
        }
        Ok(())
    }

    /// Counts bytes the step adds to the run record; past the quota, `exhausted`.
    pub fn count_journal(&mut self, bytes: usize, limits: &Limits) -> bool {
        self.journal_bytes = self.journal_bytes.saturating_add(bytes);
        if self.journal_bytes > limits.journal_bytes && self.exhausted.is_none() {
            self.exhausted = Some(QuotaExceeded::RunRecord {
                kib: limits.journal_bytes >> 10,
            });
        }
        self.exhausted.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_stops_at_its_limit_and_stays_stopped() {
        let limits = Limits {
            calls: 3,
            ..Limits::default()
        };
        let mut usage = Usage::default();
        for _ in 0..3 {
            usage.count(Quota::Calls, &limits).unwrap();
        }
        let why = usage.count(Quota::Calls, &limits).unwrap_err();
        assert_eq!(
            why.to_string(),
            "the step exceeded its quota of 3 cloud calls and was stopped (a step that polls should use a waiter)"
        );
        // Every other quota is refused too once one ran out.
        assert_eq!(usage.count(Quota::Denials, &limits).unwrap_err(), why);
        assert_eq!(usage.exhausted.as_ref(), Some(&why));
    }

    #[test]
    fn the_run_record_quota_is_counted_in_kib() {
        let limits = Limits {
            journal_bytes: 2048,
            ..Limits::default()
        };
        let mut usage = Usage::default();
        assert!(usage.count_journal(2048, &limits));
        assert!(!usage.count_journal(1, &limits));
        let why = usage.exhausted.as_ref().map(ToString::to_string);
        assert_eq!(
            why.as_deref(),
            Some("the step exceeded its quota of 2 KiB of run record and was stopped")
        );
    }
}
