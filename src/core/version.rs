//! A cache never moves to an older version.
//!
//! Every value the origin answers carries its version: one global counter
//! that only grows (an absent marker carries its tombstone's). Every tier
//! the edge writes asks [`is_older`] before storing, so a slow read that
//! finishes after a write, or a sync page behind a write, can never bring
//! an old value back:
//!
//! - isolate memory refuses an insert older than what it holds (`memory`),
//!   and a read answers the newer of the two (`tiered`);
//! - a KV copy older than the stale copy in memory is not answered: only
//!   the origin can settle which is current (`tiered`);
//! - this isolate never fills KV with a version older than the one it last
//!   wrote there (`kv_writes`);
//! - the sync job writes into KV only what is newer than KV's copy (`sync`).
//!
//! KV has no compare-and-set, so two isolates can still race (docs/design.md
//! "Versions: a cache never moves backwards"); each tier on its own never
//! moves back.

/// Whether a copy at version `found` is older than the copy at `held`:
/// storing it over that copy would move the cache back. The same version is
/// not older (storing it again only refreshes it).
pub fn is_older(found: u64, held: u64) -> bool {
    found < held
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lower_version_is_older() {
        assert!(is_older(4, 5));
        assert!(!is_older(5, 5), "the same version may be stored again");
        assert!(!is_older(6, 5));
        assert!(!is_older(0, 0), "an absent marker without a tombstone over nothing");
    }
}
