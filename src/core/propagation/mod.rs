//! Propagation: every isolate serves a change within about a second, and
//! never an older version than one it already answered (docs/design.md
//! "Propagation").
//!
//! Isolates cannot be pushed to, and KV's own caching delays a change by a
//! minute or more, so a *beacon* (a Durable Object in the Worker) keeps a
//! bounded log of recent changes (`log`), and each isolate asks it "changes
//! after V" in the background at most once per `BEACON_CHECK_MS` (`view`).
//! The rules a read follows, decided here once:
//!
//! - a copy (memory or KV) below its key's *minimum version* is not current:
//!   a memory entry below it is no longer fresh, a KV copy below it is not
//!   answered while the origin can be asked (the origin's answer is then
//!   written back to KV);
//! - no answer is below the highest version this isolate answered for the
//!   key (`Floor::answered`: the version memory holds while it holds the
//!   key, then, once the entry left, a bounded record of recent ones —
//!   `view`);
//! - a read given `min_version` V answers a copy at V or above, or one
//!   this isolate knows is current through V (it applied every change up to
//!   V and none is above the copy), or asks the origin; when the origin
//!   cannot answer, the best copy held is answered, marked degraded.
//!
//! When the beacon cannot be reached nothing here changes an answer: the
//! time-based lifecycle applies as before.
//!
//! | module | holds |
//! |---|---|
//! | `log` | the beacon's bounded change log and its answer |
//! | `answered` | the answered versions of keys memory no longer holds (bounded, first in, first out) |
//! | `view` | one isolate's minimum and answered versions, check pacing, writes to announce |

pub mod answered;
pub mod log;
pub mod view;

use crate::core::key::CacheKey;
use crate::core::ports::{ChangePage, Changed};

pub use log::{BeaconAnswer, ChangeLog, LoggedChange, LOG_CAPACITY};
pub use view::{Applied, BeaconStats, Floor, View, DEFAULT_CHECK_MS};

/// The cache key a change of the origin's feed is about (what the beacon logs).
pub fn key_of(changed: &Changed) -> CacheKey {
    match changed {
        Changed::Option(name) => CacheKey::option(name),
        Changed::Map(scope) => CacheKey::map(scope),
        Changed::Ownership(project) => CacheKey::ownership(*project),
    }
}

/// Takes one page of the origin's change feed into the beacon's log: each
/// change under its cache key, then the cursor moved to the page's `next`
/// (rows the origin could not read are passed over: the sync job reports them).
pub fn absorb(log: &mut ChangeLog, page: &ChangePage) {
    for change in &page.changes {
        log.record(change.entry.version, key_of(&change.thing).as_str());
    }
    log.polled_through(page.next);
}

/// Whether a copy at `version` is current for a key with `floor`: not below
/// the beacon's minimum, nor below what this isolate already answered.
pub fn current(version: u64, floor: Floor) -> bool {
    version >= floor.min && version >= floor.answered
}

/// Whether a copy at `version` may answer a read that asked for at least
/// `min_version`, in an isolate that applied every change up to `known`.
pub fn satisfies(version: u64, floor: Floor, min_version: Option<u64>, known: u64) -> bool {
    current(version, floor) && min_version.is_none_or(|wanted| version >= wanted || known >= wanted)
}

#[cfg(test)]
mod tests;
