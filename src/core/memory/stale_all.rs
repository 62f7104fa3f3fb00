//! Making every entry stale at once: for an isolate that learns it may be
//! too far behind to know which keys changed, so nothing held may answer as
//! fresh; each entry keeps its grace, to be served only when the stores
//! cannot answer.

use super::{MemoryCache, Weigh};
use crate::core::lifecycle::Millis;

impl<V: Weigh> MemoryCache<V> {
    /// Makes every entry stale at `now`, as `mark_stale` does one: one pass
    /// over the slots, O(n), for a rare event (no index to move: sweeping
    /// reads each entry's death time from its fetch time and policy).
    /// Returns how many entries were aged.
    pub fn mark_all_stale(&mut self, now: Millis) -> usize {
        let mut aged = 0;
        for entry in self.slots.entries_mut() {
            let at = now.saturating_sub(entry.policy.ttl_ms);
            if at < entry.fetched_at {
                entry.fetched_at = at;
                aged += 1;
            }
        }
        aged
    }
}
