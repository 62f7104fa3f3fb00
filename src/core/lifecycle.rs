//! Freshness of a cached entry as pure functions of an explicit time.
//!
//! docs/design.md "Entry lifecycle": an entry fetched at `t` is *fresh* while
//! `now - t < ttl`, *stale* while `now - t < ttl + grace`, and *dead* after.
//! Fresh entries are served without I/O; stale ones only when the network
//! cache and the origin both fail; dead ones never. `ttl = 0` turns isolate
//! memory off for the key. Time is always passed in (milliseconds since the
//! Unix epoch), never read here, so every rule is testable without sleeping.

/// Milliseconds since the Unix epoch, as handed in by the I/O layer's clock.
pub type Millis = u64;

/// How long an entry stays fresh, and how long after that it may still be
/// served when the stores fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Fresh for this long after it was fetched. Zero disables isolate memory.
    pub ttl_ms: Millis,
    /// After `ttl`, still servable for this long if the stores fail.
    pub grace_ms: Millis,
    /// Stale-while-revalidate: past `ttl` but within grace, answer the
    /// stale value at once and refresh in the background, for keys whose
    /// staleness is acceptable.
    pub stale_while_revalidate: bool,
}

/// Where an entry stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Served from memory with no I/O.
    Fresh,
    /// Served only when the network cache and the origin both fail.
    Stale,
    /// Never served; evict it.
    Dead,
}

impl Policy {
    /// The defaults of the original design: fresh for 10 s, grace 60 s.
    pub const DEFAULT: Policy = Policy::from_secs(10, 60);

    /// A policy from whole seconds, the unit the registry and config use.
    pub const fn from_secs(ttl: u64, grace: u64) -> Policy {
        Policy { ttl_ms: ttl.saturating_mul(1000), grace_ms: grace.saturating_mul(1000), stale_while_revalidate: false }
    }

    /// The same policy with stale-while-revalidate on or off.
    #[must_use]
    pub const fn with_stale_while_revalidate(self, on: bool) -> Policy {
        Policy { stale_while_revalidate: on, ..self }
    }

    /// Whether isolate memory holds this key at all (`ttl = 0` means no).
    pub fn uses_memory(&self) -> bool {
        self.ttl_ms > 0
    }

    /// The freshness at `now` of an entry fetched at `fetched_at`. A clock
    /// that went backwards counts as age zero rather than as a huge age.
    pub fn freshness(&self, fetched_at: Millis, now: Millis) -> Freshness {
        let age = now.saturating_sub(fetched_at);
        if age < self.ttl_ms {
            Freshness::Fresh
        } else if age < self.ttl_ms.saturating_add(self.grace_ms) {
            Freshness::Stale
        } else {
            Freshness::Dead
        }
    }

    /// The moment from which an entry fetched at `fetched_at` is dead.
    pub fn dies_at(&self, fetched_at: Millis) -> Millis {
        fetched_at.saturating_add(self.ttl_ms).saturating_add(self.grace_ms)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy::from_secs(10, 60);

    #[test]
    fn entry_is_fresh_until_ttl() {
        assert_eq!(P.freshness(1_000, 1_000), Freshness::Fresh);
        assert_eq!(P.freshness(1_000, 10_999), Freshness::Fresh);
    }

    #[test]
    fn entry_is_stale_from_ttl_until_ttl_plus_grace() {
        assert_eq!(P.freshness(1_000, 11_000), Freshness::Stale);
        assert_eq!(P.freshness(1_000, 70_999), Freshness::Stale);
    }

    #[test]
    fn entry_is_dead_from_ttl_plus_grace() {
        assert_eq!(P.freshness(1_000, 71_000), Freshness::Dead);
        assert_eq!(P.dies_at(1_000), 71_000);
    }

    #[test]
    fn zero_ttl_means_no_isolate_memory() {
        assert!(!Policy::from_secs(0, 60).uses_memory());
        assert!(P.uses_memory());
    }

    #[test]
    fn zero_grace_goes_straight_from_fresh_to_dead() {
        let p = Policy::from_secs(10, 0);
        assert_eq!(p.freshness(0, 9_999), Freshness::Fresh);
        assert_eq!(p.freshness(0, 10_000), Freshness::Dead);
    }

    #[test]
    fn clock_going_backwards_counts_as_fresh_not_dead() {
        assert_eq!(P.freshness(50_000, 1_000), Freshness::Fresh);
    }

    #[test]
    fn huge_policies_saturate_instead_of_overflowing() {
        let p = Policy::from_secs(u64::MAX, u64::MAX);
        assert_eq!(p.freshness(u64::MAX - 1, u64::MAX), Freshness::Fresh);
        assert_eq!(p.dies_at(u64::MAX - 1), u64::MAX);
    }
}
