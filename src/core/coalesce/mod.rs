//! Coalescing: N concurrent misses of one key cost one KV read and at most
//! one origin call (docs/design.md "Coalescing on Workers").
//!
//! On Workers a request must never await a promise or I/O object created by
//! another request (workerd cancels it, or refuses: "Cannot perform I/O on
//! behalf of a different request"), so the rule has three parts, each here:
//!
//! - **who leads** (this file): nothing is shared between requests but a
//!   table of leases; the first request to miss becomes the *leader* and
//!   fetches, and its lead ends however its future ends ([`Leading`]). A
//!   lease expires at a deadline, so a leader that failed or went away
//!   without saying so never blocks anyone for long;
//! - **how waiters wait** (`wait`): each on a timer of its own, looking at
//!   isolate memory again when it fires (observed under wrangler dev), until
//!   the leader filled it, the soft timeout passed with a stale copy in
//!   hand, or the lease ran out (then it fetches for itself);
//! - **how an abandoned fetch is finished** (`pending`): a read the core
//!   abandons at the soft timeout keeps running, and the background refresh
//!   of the *same request* joins it instead of sending a second one.

pub mod pending;
pub mod wait;

use std::cell::RefCell;

pub use pending::PendingReads;
pub use wait::{wait_for_leader, Waited};

use super::bounded::BoundedTable;
use super::key::CacheKey;
use super::lifecycle::Millis;

/// Most keys in flight at once (`bounded`): past it expired leases are
/// dropped, then all of them if too many are live, and those misses simply
/// do not coalesce.
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
pub struct InFlight {
    leases: RefCell<BoundedTable<CacheKey, Lease>>,
    next_id: std::cell::Cell<u64>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight { leases: RefCell::new(BoundedTable::new(MAX_IN_FLIGHT)), next_id: std::cell::Cell::new(0) }
    }
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
        let id = self.next_id.get().wrapping_add(1);
        self.next_id.set(id);
        leases.insert(key.clone(), Lease { id, expires_at: now.saturating_add(lease_ms) }, |l| l.expires_at > now);
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

    /// Joins the fetch of `key` as a leader or a waiter; a leader's lead is
    /// held by the returned [`Leading`], which ends it when dropped.
    pub fn lead(&self, key: &CacheKey, now: Millis, lease_ms: Millis) -> Result<Leading<'_>, Millis> {
        match self.join(key, now, lease_ms) {
            Role::Leader(lead) => Ok(Leading { inflight: self, lead: Some(lead) }),
            Role::Waiter { until } => Err(until),
        }
    }
}

/// A lead held for the length of a fetch: ends it however the leader's
/// future ends (returns, fails, or is dropped), so waiters never wait for a
/// leader that is gone.
#[must_use = "the lead ends when this is dropped"]
pub struct Leading<'a> {
    inflight: &'a InFlight,
    lead: Option<Lead>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if let Some(lead) = self.lead.take() {
            self.inflight.finish(lead);
        }
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
    fn a_lead_ends_when_its_holder_is_dropped_however_the_fetch_ended() {
        let f = InFlight::default();
        let leading = f.lead(&key(), 0, 1_000).map_err(|_| "lead");
        assert_eq!(f.lead(&key(), 10, 1_000).err(), Some(1_000), "a second caller waits");
        drop(leading);
        assert!(!f.is_fetching(&key(), 10), "dropped: ended");
        assert!(f.lead(&key(), 20, 1_000).is_ok());
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
