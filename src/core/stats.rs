//! This isolate's counters, for `GET /v1/stats` and the debug log line.
//!
//! Plain `Cell`s: an isolate is single-threaded and counters never hold a
//! borrow, so they are safe to bump from any point of a request.

use std::cell::Cell;

use serde::Serialize;

/// Counters of one isolate since it started.
#[derive(Default)]
pub struct Stats {
    hits_local: Cell<u64>,
    hits_kv: Cell<u64>,
    hits_origin: Cell<u64>,
    stale_served: Cell<u64>,
    misses: Cell<u64>,
    negative_hits: Cell<u64>,
    degraded: Cell<u64>,
    origin_errors: Cell<u64>,
    origin_refusals: Cell<u64>,
    kv_errors: Cell<u64>,
    kv_write_errors: Cell<u64>,
    coalesced: Cell<u64>,
    throttled: Cell<u64>,
    soft_timeouts: Cell<u64>,
    revalidated: Cell<u64>,
    kv_expired: Cell<u64>,
    snapshot_served: Cell<u64>,
}

/// A copy of the counters at one moment, plus the memory figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// Reads answered fresh from isolate memory.
    pub hits_local: u64,
    /// Reads answered by Workers KV.
    pub hits_kv: u64,
    /// Reads answered by the origin.
    pub hits_origin: u64,
    /// Reads answered by a stale isolate-memory entry because the stores failed.
    pub stale_served: u64,
    /// Reads that found nothing fresh in isolate memory.
    pub misses: u64,
    /// Reads whose answer was a cached "absent" (any tier).
    pub negative_hits: u64,
    /// Reads answered from config or default because the stores failed.
    pub degraded: u64,
    /// Origin calls that failed (error, timeout, garbage; not 404, not a
    /// refusal): these count toward backoff and the breaker.
    pub origin_errors: u64,
    /// Origin calls refused as the caller's fault (400, 405, 409, 413, 414,
    /// 422; 404 where it is no answer): counted toward nothing. Many of them
    /// mean the edge and the origin disagree about what is valid.
    pub origin_refusals: u64,
    /// KV reads that failed or returned an unreadable entry.
    pub kv_errors: u64,
    /// KV writes that failed (the value is repaired by the sync job).
    pub kv_write_errors: u64,
    /// Reads that waited for another request's fetch instead of fetching.
    pub coalesced: u64,
    /// Reads that did not ask the origin because it was backing off.
    pub throttled: u64,
    /// Reads answered stale because the origin passed the soft timeout.
    pub soft_timeouts: u64,
    /// Background refreshes that updated a key after a stale answer.
    pub revalidated: u64,
    /// KV copies read past their freshness (`KV_EXPIRATION_SECS`): the
    /// origin was asked, and the copy kept for a stale answer.
    pub kv_expired: u64,
    /// Reads answered from the last-known-good snapshot.
    pub snapshot_served: u64,
    /// Since when (ms since the epoch) the origin has failed every call
    /// this isolate made; `None` while it answers.
    pub origin_down_since: Option<u64>,
    /// The age of the oldest stale answer this isolate gave since the
    /// origin last answered, ms; `None` when there was none.
    pub oldest_stale_age_ms: Option<u64>,
    /// Whether this isolate holds the snapshot now (only during an outage).
    pub snapshot_held: bool,
    /// Fetches in flight in this isolate now.
    pub in_flight: u64,
    /// Whether the origin breaker is open now.
    pub breaker_open: bool,
    /// Entries in isolate memory.
    pub entries: u64,
    /// Approximate bytes in isolate memory.
    pub bytes: u64,
    /// The entry bound of isolate memory.
    pub max_entries: u64,
    /// The byte bound of isolate memory.
    pub max_bytes: u64,
    /// Parsed ownership rules held (one per project and version), beside
    /// isolate memory.
    pub parsed_rules: u64,
    /// Their approximate bytes (bounded by a quarter of `max_bytes`).
    pub parsed_rules_bytes: u64,
    /// Ownership rules texts parsed since the isolate started.
    pub rules_parses: u64,
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    HitLocal,
    HitKv,
    HitOrigin,
    StaleServed,
    Miss,
    NegativeHit,
    Degraded,
    OriginError,
    OriginRefused,
    KvError,
    KvWriteError,
    Coalesced,
    Throttled,
    SoftTimeout,
    Revalidated,
    KvExpired,
    SnapshotServed,
}

impl Stats {
    /// Adds one to `counter`.
    pub fn bump(&self, counter: Counter) {
        let cell = match counter {
            Counter::HitLocal => &self.hits_local,
            Counter::HitKv => &self.hits_kv,
            Counter::HitOrigin => &self.hits_origin,
            Counter::StaleServed => &self.stale_served,
            Counter::Miss => &self.misses,
            Counter::NegativeHit => &self.negative_hits,
            Counter::Degraded => &self.degraded,
            Counter::OriginError => &self.origin_errors,
            Counter::OriginRefused => &self.origin_refusals,
            Counter::KvError => &self.kv_errors,
            Counter::KvWriteError => &self.kv_write_errors,
            Counter::Coalesced => &self.coalesced,
            Counter::Throttled => &self.throttled,
            Counter::SoftTimeout => &self.soft_timeouts,
            Counter::Revalidated => &self.revalidated,
            Counter::KvExpired => &self.kv_expired,
            Counter::SnapshotServed => &self.snapshot_served,
        };
        cell.set(cell.get().saturating_add(1));
    }

    /// The counters now, with memory figures supplied by the caller.
    pub fn snapshot(&self, entries: usize, bytes: usize, max_entries: usize, max_bytes: usize) -> StatsSnapshot {
        StatsSnapshot {
            hits_local: self.hits_local.get(),
            hits_kv: self.hits_kv.get(),
            hits_origin: self.hits_origin.get(),
            stale_served: self.stale_served.get(),
            misses: self.misses.get(),
            negative_hits: self.negative_hits.get(),
            degraded: self.degraded.get(),
            origin_errors: self.origin_errors.get(),
            origin_refusals: self.origin_refusals.get(),
            kv_errors: self.kv_errors.get(),
            kv_write_errors: self.kv_write_errors.get(),
            coalesced: self.coalesced.get(),
            throttled: self.throttled.get(),
            soft_timeouts: self.soft_timeouts.get(),
            revalidated: self.revalidated.get(),
            kv_expired: self.kv_expired.get(),
            snapshot_served: self.snapshot_served.get(),
            origin_down_since: None,
            oldest_stale_age_ms: None,
            snapshot_held: false,
            in_flight: 0,
            breaker_open: false,
            entries: entries as u64,
            bytes: bytes as u64,
            max_entries: max_entries as u64,
            max_bytes: max_bytes as u64,
            parsed_rules: 0,
            parsed_rules_bytes: 0,
            rules_parses: 0,
        }
    }
}
