//! Per-step quotas on what a step can make the host do: cloud calls, refused calls,
//! secrets registered, and bytes of run record. A step that loops on a call (allowed,
//! denied or malformed) would otherwise grow the host's memory and the record without
//! bound and drown the operator's terminal. Past a quota every later call is refused
//! with `call-error.limit` without being sent or recorded again, and the step fails
//! with kind `limit` whatever it returns.

use crate::limits::Limits;

/// What a step has used so far, and whether a quota ran out.
#[derive(Debug, Default)]
pub struct Usage {
    pub calls: u32,
    pub denials: u32,
    pub secrets: u32,
    pub journal_bytes: usize,
    /// Set when a quota ran out: why, for the step's failure.
    pub exhausted: Option<String>,
}

/// Which quota a use counts against.
#[derive(Clone, Copy, Debug)]
pub enum Quota {
    Calls,
    Denials,
    Secrets,
}

impl Usage {
    /// Counts one use; `Err` with the reason when that use is past the quota (the
    /// first time, the reason is also kept in `exhausted`).
    pub fn count(&mut self, quota: Quota, limits: &Limits) -> Result<(), String> {
        if let Some(why) = &self.exhausted {
            return Err(why.clone());
        }
        let (used, limit, what, hint) = match quota {
            Quota::Calls => (
                &mut self.calls,
                limits.calls,
                "cloud calls",
                "a step that polls should use a waiter",
            ),
            Quota::Denials => (
                &mut self.denials,
                limits.denials,
                "refused calls (denied or malformed)",
                "a refused call does not succeed by retrying it",
            ),
            Quota::Secrets => (
                &mut self.secrets,
                limits.secrets,
                "secret values written",
                "write fewer, larger secrets",
            ),
        };
        *used = used.saturating_add(1);
        if *used > limit {
            let why = format!("the step exceeded its quota of {limit} {what} and was stopped ({hint})");
            self.exhausted = Some(why.clone());
            return Err(why);
        }
        Ok(())
    }

    /// Counts bytes the step adds to the run record; past the quota, `exhausted`.
    pub fn count_journal(&mut self, bytes: usize, limits: &Limits) -> bool {
        self.journal_bytes = self.journal_bytes.saturating_add(bytes);
        if self.journal_bytes > limits.journal_bytes && self.exhausted.is_none() {
            self.exhausted = Some(format!(
                "the step exceeded its quota of {} KiB of run record and was stopped",
                limits.journal_bytes >> 10
            ));
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
        assert!(why.contains("quota of 3 cloud calls"), "{why}");
        // Every other quota is refused too once one ran out.
        assert_eq!(usage.count(Quota::Denials, &limits).unwrap_err(), why);
        assert_eq!(usage.exhausted.as_deref(), Some(why.as_str()));
    }
}
