//! What left isolate memory, for the caller to learn from: the key's hash
//! and the version it held.
//!
//! Why: while memory holds a key, the entry's version is the lowest this
//! isolate may answer for it (memory never replaces an entry with an older
//! version), so the version beacon's view keeps no per-key record of what
//! was answered. When an entry leaves (least recently used, dead, swept,
//! dropped for a ttl-0 policy), that floor would be lost; the tiered cache
//! drains these departures after each memory operation into the view's
//! small record of departed versions (`propagation::view`).
//!
//! Off unless asked for (`MemoryCache::with_departures`): the parsed
//! ownership rules use the same map and need none. Costs nothing per entry:
//! the key's hash is computed only when an entry leaves, and the queue is
//! emptied by the caller (bounded all the same, [`PENDING_MAX`], keeping
//! the newest, should a caller not drain it).

use std::collections::VecDeque;

use crate::core::key_hash;

/// Most departures held between two drains.
pub const PENDING_MAX: usize = 4_096;

/// One entry that left memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Departed {
    /// The key's hash (`key_hash::of`).
    pub key_hash: u64,
    /// The version the entry held.
    pub version: u64,
}

/// The queue of departures (empty and off by default).
#[derive(Debug, Default)]
pub(super) struct Departures {
    on: bool,
    pending: VecDeque<Departed>,
}

impl Departures {
    /// Starts recording departures.
    pub(super) fn turn_on(&mut self) {
        self.on = true;
    }

    /// Records that the entry of `key` at `version` left memory.
    pub(super) fn left(&mut self, key: &str, version: u64) {
        if !self.on {
            return;
        }
        if self.pending.len() >= PENDING_MAX {
            self.pending.pop_front();
        }
        self.pending.push_back(Departed { key_hash: key_hash::of(key), version });
    }

    /// The departures since the last drain, oldest first.
    pub(super) fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, Departed> {
        self.pending.drain(..)
    }
}
