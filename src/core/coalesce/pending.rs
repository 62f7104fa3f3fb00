//! How an abandoned fetch is finished: the exchanges one request has under
//! way, by what they fetch, so a later caller *of the same request* joins
//! one instead of starting another.
//!
//! When the core abandons a read at the soft timeout (the stale value
//! answers the request), the exchange keeps running; the background refresh
//! of the same request asks for the same thing and joins it here, so the
//! fetch finishes in the background and fills the caches (docs/design.md
//! "Background refresh via wait_until"). One table per request (or npm
//! `Store` call), never shared with another: on Workers a request must not
//! await another request's I/O. Which exchanges may be shared is the
//! caller's to say (only reads: `tiers::exchange`).
//!
//! Generic over what an exchange under way is (a JS promise and its abort
//! switch, in the Worker and in the npm package), so the rule lives once
//! and is tested natively.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Exchanges under way, by what they fetch; cheap to clone (one shared table).
pub struct PendingReads<T>(Rc<RefCell<HashMap<String, T>>>);

impl<T> Default for PendingReads<T> {
    fn default() -> Self {
        PendingReads(Rc::new(RefCell::new(HashMap::new())))
    }
}

impl<T> Clone for PendingReads<T> {
    fn clone(&self) -> Self {
        PendingReads(Rc::clone(&self.0))
    }
}

impl<T: Clone> PendingReads<T> {
    /// The exchange for `what` already under way, or a new one from
    /// `start` (recorded, so a later caller can join it).
    ///
    /// # Errors
    /// Whatever `start` fails with (nothing is recorded then).
    pub fn join_or_start<E>(&self, what: &str, start: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        if let Some(found) = self.0.borrow().get(what).cloned() {
            return Ok(found);
        }
        let started = start()?;
        self.0.borrow_mut().insert(what.to_string(), started.clone());
        Ok(started)
    }

    /// Forgets the exchange for `what` once a caller saw it through
    /// (answered, failed or timed out): a later caller starts a fresh one.
    pub fn settled(&self, what: &str) {
        self.0.borrow_mut().remove(what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_joins_the_read_its_request_abandoned() {
        let pending: PendingReads<u32> = PendingReads::default();
        let mut started = 0;
        let first = pending.join_or_start::<()>("/options/a", || {
            started += 1;
            Ok(7)
        });
        let refresh = pending.clone().join_or_start::<()>("/options/a", || {
            started += 1;
            Ok(8)
        });
        assert_eq!((first, refresh, started), (Ok(7), Ok(7), 1), "one exchange for both");
        pending.settled("/options/a");
        assert_eq!(pending.join_or_start::<()>("/options/a", || Ok(9)), Ok(9), "settled: a new read");
    }

    #[test]
    fn other_paths_start_their_own() {
        let pending: PendingReads<u32> = PendingReads::default();
        assert_eq!(pending.join_or_start::<()>("/options/a", || Ok(1)), Ok(1));
        assert_eq!(pending.join_or_start::<()>("/options/b", || Ok(3)), Ok(3));
        assert_eq!(pending.join_or_start::<()>("/options/a", || Ok(4)), Ok(1));
    }

    #[test]
    fn a_failed_start_records_nothing() {
        let pending: PendingReads<u32> = PendingReads::default();
        assert_eq!(pending.join_or_start("/options/a", || Err("refused")), Err("refused"));
        assert_eq!(pending.join_or_start::<()>("/options/a", || Ok(5)), Ok(5));
    }
}
