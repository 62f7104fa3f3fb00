//! Coalescing: which keys this isolate is already fetching.
//!
//! N concurrent misses of one key should cost one KV read and at most one
//! origin call. On Workers a request must never await a promise or I/O
//! object created by another request (workerd cancels it, or refuses:
//! "Cannot perform I/O on behalf of a different request"), so nothing is
//! shared but this table: the first request to miss becomes the *leader*
//! and fetches; the others are *waiters* that each sleep on a timer of their
//! own and look at isolate memory again when it fires (observed under
//! wrangler dev; docs/design.md "Coalescing on Workers"). A lease expires at a deadline, so a leader that
//! failed or went away without saying so never blocks anyone for long:
//! after it, a waiter fetches for itself.

use std::cell::RefCell;
use std::collections::HashMap;

use super::key::CacheKey;
use super::lifecycle::Millis;

/// Most keys in flight at once; beyond it new misses simply do not coalesce.
const MAX_IN_FLIGHT: usize = 10_000;

/// One fetch in flight: who leads it and until when the lease holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lease {
    id: u64,
    expires_at: Millis,
}

/// Proof of leadership, handed back to `finish`.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a lead must be finished, or other requests wait until its lease expires"]
pub struct Lead {
    key: CacheKey,
    id: u64,
}

/// What a request that missed should do.
#[derive(Debug, PartialEq, Eq)]
pub enum Role {
    /// Fetch, then `finish` the lead.
    Leader(Lead),
    /// Someone else is fetching: wait (on a timer of your own) until the
    /// lease expires at this moment, looking at memory now and then.
    Waiter { until: Millis },
}

/// The keys being fetched in this isolate.
#[derive(Default)]
pub struct InFlight {
    leases: RefCell<HashMap<CacheKey, Lease>>,
    next_id: std::cell::Cell<u64>,
}

impl InFlight {
    /// Becomes the leader for `key` unless a live lease exists. A lease
    /// lasts `lease_ms` (the longest a fetch may take, hard timeouts included).
    pub fn join(&self, key: &CacheKey, now: Millis, lease_ms: Millis) -> Role {
        let mut leases = self.leases.borrow_mut();
        if let Some(lease) = leases.get(key) {
            if lease.expires_at > now {
                return Role::Waiter { until: lease.expires_at };
            }
        }
        if leases.len() >= MAX_IN_FLIGHT {
            leases.retain(|_, lease| lease.expires_at > now);
        }
        let id = self.next_id.get().wrapping_add(1);
        self.next_id.set(id);
        leases.insert(key.clone(), Lease { id, expires_at: now.saturating_add(lease_ms) });
        Role::Leader(Lead { key: key.clone(), id })
    }

    /// Whether a live lease exists for `key` (a waiter keeps waiting while so).
    pub fn is_fetching(&self, key: &CacheKey, now: Millis) -> bool {
        self.leases.borrow().get(key).is_some_and(|lease| lease.expires_at > now)
    }

    /// Ends a lead (success or failure). A lead that expired and was taken
    /// over by another request does not end the newer lead.
    pub fn finish(&self, lead: Lead) {
        let mut leases = self.leases.borrow_mut();
        if leases.get(&lead.key).is_some_and(|lease| lease.id == lead.id) {
            leases.remove(&lead.key);
        }
    }

    /// Keys in flight (for stats and tests).
    pub fn len(&self) -> usize {
        self.leases.borrow().len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.leases.borrow().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CacheKey {
        CacheKey::option("k")
    }

    #[test]
    fn first_miss_leads_and_the_rest_wait_until_the_lease_ends() {
        let f = InFlight::default();
        let lead = match f.join(&key(), 1_000, 500) {
            Role::Leader(lead) => lead,
            other => panic!("{other:?}"),
        };
        assert_eq!(f.join(&key(), 1_100, 500), Role::Waiter { until: 1_500 });
        assert!(f.is_fetching(&key(), 1_100));
        f.finish(lead);
        assert!(!f.is_fetching(&key(), 1_100));
        assert!(matches!(f.join(&key(), 1_200, 500), Role::Leader(_)));
    }

    #[test]
    fn an_expired_lease_is_taken_over_and_the_old_leader_cannot_end_the_new_one() {
        let f = InFlight::default();
        let Role::Leader(old) = f.join(&key(), 0, 100) else { panic!("lead") };
        assert!(!f.is_fetching(&key(), 100), "expired at its deadline");
        let Role::Leader(new) = f.join(&key(), 150, 100) else { panic!("take over") };
        f.finish(old);
        assert!(f.is_fetching(&key(), 160), "the newer lead stands");
        f.finish(new);
        assert!(f.is_empty());
    }

    #[test]
    fn different_keys_do_not_coalesce() {
        let f = InFlight::default();
        let a = f.join(&CacheKey::option("a"), 0, 100);
        let b = f.join(&CacheKey::option("b"), 0, 100);
        assert!(matches!((a, b), (Role::Leader(_), Role::Leader(_))));
        assert_eq!(f.len(), 2);
    }
}
