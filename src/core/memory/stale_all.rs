//! Making every entry stale at once: the beacon said this isolate is too
//! far behind to know which keys changed (`propagation`), so nothing held
//! may answer as fresh; each entry keeps its grace, to be served only when
//! the stores cannot answer.

use std::rc::Rc;

use super::{MemoryCache, Weigh};
use crate::core::lifecycle::Millis;

impl<V: Weigh> MemoryCache<V> {
    /// Makes every entry stale at `now`, as `mark_stale` does one. O(n log n),
    /// for a rare event. Returns how many entries were aged.
    pub fn mark_all_stale(&mut self, now: Millis) -> usize {
        let mut aged = 0;
        for (key, entry) in self.entries.iter_mut() {
            let at = now.saturating_sub(entry.policy.ttl_ms);
            if at < entry.fetched_at {
                entry.fetched_at = at;
                let held = self.by_death.remove(&entry.death).unwrap_or_else(|| Rc::clone(key));
                entry.death = (entry.policy.dies_at(at), entry.death.1);
                self.by_death.insert(entry.death, held);
                aged += 1;
            }
        }
        aged
    }
}
