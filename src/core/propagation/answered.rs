//! The answered versions of keys isolate memory does not hold (`view`):
//! the versions of entries that left memory and of answers memory did not
//! take, so no later answer goes below them while they are recorded.
//! First in, first out, bounded; forgetting the oldest is silent (it makes
//! nothing stale). Keyed by the key's 64-bit hash (`key_hash`).

use std::collections::{HashMap, VecDeque};

use crate::core::key_hash::PrehashedState;

/// Most answered versions recorded for keys memory does not hold: 7/8 of
/// 4,096, the most a hash table of 4,096 buckets holds (about 130 KB in
/// wasm32 when full, 13 bytes per held entry at the default memory bound).
/// At a steady 100 evictions a second that is the last ~35 s of departures.
pub const ANSWERED_MAX: usize = 3_584;

/// The answered versions of keys memory does not hold: first in, first
/// out, the last [`ANSWERED_MAX`] records.
#[derive(Debug, Default)]
pub struct Answered {
    /// Key hash → (highest version recorded, its records still in `order`).
    versions: HashMap<u64, (u64, u32), PrehashedState>,
    /// Key hashes in the order recorded (a key once per record).
    order: VecDeque<u64>,
}

impl Answered {
    /// The highest version recorded for the key of `hash` (0: none).
    pub fn get(&self, hash: u64) -> u64 {
        self.versions.get(&hash).map_or(0, |&(version, _)| version)
    }

    /// Records `version` for the key of `hash` (never lowering it), as the
    /// newest record; past [`ANSWERED_MAX`] the oldest record is forgotten
    /// (a key's version goes with its last record).
    pub fn record(&mut self, hash: u64, version: u64) {
        let held = self.versions.entry(hash).or_insert((0, 0));
        held.0 = held.0.max(version);
        held.1 += 1;
        self.order.push_back(hash);
        while self.order.len() > ANSWERED_MAX {
            let Some(oldest) = self.order.pop_front() else { break };
            if let Some(held) = self.versions.get_mut(&oldest) {
                held.1 -= 1;
                if held.1 == 0 {
                    self.versions.remove(&oldest);
                }
            }
        }
    }

    /// Keys recorded.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}
