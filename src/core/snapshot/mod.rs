//! The last-known-good snapshot: what the origin held, as far as the sync
//! job has seen, kept in KV for isolates that start during an outage.
//!
//! Per-key KV copies live long (`KV_RETENTION_SECS`), but a key nobody
//! read for a month, or a KV copy deleted after a write whose outcome was
//! unknown, is gone from KV; an isolate that starts while the origin is
//! down would then answer a default where the edge once knew the value.
//! The snapshot closes that gap: the sync job merges every change it pages
//! through (options, option maps, ownership records, deletions as absent
//! markers) into it and writes it back under `sync:snapshot` (the head)
//! and `sync:snapshot:<parts>:<i>` (the parts, `codec`), split so no part
//! comes near KV's value-size limit.
//!
//! A snapshot is *complete* once it was built from version 0: then a key
//! of a kind the change feed lists that it does not hold had no value at
//! its version, and the read path can answer "absent" (config or default,
//! from the snapshot) instead of a degraded default. Reads answer from it
//! only when memory, KV and the origin all failed (`source: snapshot`,
//! stale, with the entry's age); the isolate keeps the loaded snapshot for
//! a minute (`held`).

mod codec;
mod held;

pub use codec::{decode_head, decode_part, encode, Encoded, Head, PART_MAX_BYTES};
pub use held::{read as read_snapshot, HeldSnapshot, RELOAD_MS};

use std::collections::BTreeMap;

use super::key::CacheKey;
use super::lifecycle::Millis;
use super::slot::Versioned;
use super::version;

/// Every entry the sync job has seen, by cache key, current to `version`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The entries, each with its own version and the time the origin
    /// gave it (`since`).
    pub entries: BTreeMap<String, Versioned>,
    /// Every change up to this origin version is merged in.
    pub version: u64,
    /// When the sync job last wrote it (ms since the epoch).
    pub since: Millis,
    /// Built from version 0: what it does not hold had no value.
    pub complete: bool,
}

impl Snapshot {
    /// An empty snapshot that will be complete once built from version 0.
    pub fn empty() -> Snapshot {
        Snapshot { complete: true, ..Snapshot::default() }
    }

    /// Merges one change, never moving an entry to an older version.
    /// Returns whether the snapshot changed.
    pub fn merge(&mut self, key: &CacheKey, entry: Versioned) -> bool {
        match self.entries.get(key.as_str()) {
            Some(held) if !version::is_older(held.version, entry.version) => false,
            _ => {
                self.entries.insert(key.as_str().to_string(), entry);
                true
            }
        }
    }

    /// What the snapshot says of `key`: its entry; for a key of a kind the
    /// change feed lists, absent at the snapshot's version when it is
    /// complete; else nothing.
    pub fn lookup(&self, key: &CacheKey) -> Option<Versioned> {
        match self.entries.get(key.as_str()) {
            Some(entry) => Some(entry.clone()),
            None if self.complete && key.in_change_feed() => Some(Versioned::absent(self.version).given_at(self.since)),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests;
