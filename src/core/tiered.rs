//! The read and write paths through the three tiers, for any cached thing.
//!
//! docs/design.md "Entry lifecycle" and "Failure rules" live here, once, for
//! options, option maps and ownership alike:
//!
//! Read: fresh isolate memory → (a fetch of the key already in flight in
//! this isolate: wait for it on a timer of our own, then read memory) → KV
//! (value or absent marker) → origin (200 or 404 = absent, written back to
//! memory and KV) → when KV *and* the origin failed, a stale memory entry
//! within grace → otherwise a failure the caller turns into a degraded
//! default or a clear error. With a stale entry in hand the origin gets only
//! the *soft* timeout before the stale value is answered and a background
//! refresh is asked for; keys marked stale-while-revalidate answer stale at
//! once. The origin is not asked while the key backs off or the breaker is
//! open (`throttle`). An origin that refuses a request as the caller's fault
//! (`TierError::Refused`: 400, 404 where 404 is no answer, 405, 409, 413,
//! 414, 422) is up: the refusal counts toward no backoff and no breaker, is
//! counted apart (`origin_refusals`) and reaches the caller as a 4xx.
//!
//! Write (after the origin accepted it): memory at once, then KV; a KV failure
//! does not fail the write, it is reported (`cache_updated: false`) and left
//! to the sync job. Versions keep every tier from moving backwards.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;

use super::envelope;
use super::error::{Error, Reason};
use super::inflight::{InFlight, Lead, Role};
use super::key::CacheKey;
use super::lifecycle::{Millis, Policy};
use super::memory::{Limits, Lookup, MemoryCache, SWEEP_BUDGET};
use super::race::{race, First};
use super::slot::{Slot, Versioned};
use super::source::Source;
use super::stats::{Counter, Stats, StatsSnapshot};
use super::throttle::{Throttle, ThrottleConfig};
use crate::tiers::{Clock, NetworkCache, TierError};

/// Shortest expiration Workers KV accepts for a put, in seconds.
pub const KV_MIN_EXPIRATION_SECS: u64 = 60;

/// KV takes at most one write per second per key.
const KV_WRITE_INTERVAL_MS: Millis = 1_000;

/// Most keys remembered for KV write debouncing: a hard bound, however many
/// distinct keys are written within one second (see `make_room`).
const KV_WRITES_REMEMBERED: usize = 10_000;

/// How long waits and fetches may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// With a stale value in hand, how long the origin may take before the
    /// stale value is answered (and a background refresh asked for).
    pub soft_ms: Millis,
    /// Hard timeout of a KV read.
    pub kv_ms: Millis,
    /// Hard timeout of an origin call (enforced by the origin client; here
    /// it bounds how long waiters wait for a leader).
    pub origin_ms: Millis,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { soft_ms: 250, kv_ms: 1_000, origin_ms: 5_000 }
    }
}

impl Timeouts {
    /// The longest a leader's fetch can take: KV, then the origin, plus slack.
    fn lease_ms(&self) -> Millis {
        self.kv_ms.saturating_add(self.origin_ms).saturating_add(500)
    }
}

/// A successful read: the entry and the tier that answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The value or absent marker, with its version.
    pub entry: Rc<Versioned>,
    /// `Local`, `Kv`, `Origin` or `Stale`.
    pub source: Source,
    /// A stale value was answered without waiting for the origin: the
    /// caller should refresh the key in the background (`revalidate`).
    pub refresh: bool,
}

/// Nothing servable: both stores failed and memory held nothing within grace.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadFailure {
    /// Why KV could not answer (`None`: KV answered "nothing", or was skipped).
    pub kv: Option<TierError>,
    /// Why the origin could not answer.
    pub origin: TierError,
}

/// Isolate memory plus counters, in-flight fetches and throttling: the state
/// an isolate keeps between requests.
pub struct TieredCache {
    memory: RefCell<MemoryCache<Versioned>>,
    stats: Stats,
    inflight: InFlight,
    throttle: Throttle,
    timeouts: Timeouts,
    kv_expiration_secs: u64,
    /// KV key → when this isolate last wrote it (debouncing read fills).
    kv_writes: RefCell<HashMap<String, Millis>>,
}

/// Ends a lead however the leader's future ends (returns, fails, or is
/// dropped), so waiters never wait for a leader that is gone.
struct LeadGuard<'a> {
    inflight: &'a InFlight,
    lead: Option<Lead>,
}

impl Drop for LeadGuard<'_> {
    fn drop(&mut self) {
        if let Some(lead) = self.lead.take() {
            self.inflight.finish(lead);
        }
    }
}

impl TieredCache {
    /// An empty cache with default timeouts and throttling.
    /// `kv_expiration_secs` is how long KV keeps what this isolate writes
    /// (raised to KV's 60 s minimum).
    pub fn new(limits: Limits, kv_expiration_secs: u64) -> Self {
        TieredCache {
            memory: RefCell::new(MemoryCache::new(limits)),
            stats: Stats::default(),
            inflight: InFlight::default(),
            throttle: Throttle::default(),
            timeouts: Timeouts::default(),
            kv_expiration_secs: kv_expiration_secs.max(KV_MIN_EXPIRATION_SECS),
            kv_writes: RefCell::default(),
        }
    }

    /// The same cache with other timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The same cache with other throttling.
    #[must_use]
    pub fn with_throttle(mut self, config: ThrottleConfig) -> Self {
        self.throttle = Throttle::new(config);
        self
    }

    /// When the isolate-memory entry of `key` stops being fresh, if it is
    /// fresh at `now` (a peek: no counters, no recency). Lets the npm
    /// package serve a fresh answer from JS without crossing into wasm.
    pub fn fresh_until(&self, key: &CacheKey, now: Millis) -> Option<Millis> {
        self.memory.borrow().fresh_until(key, now)
    }

    /// Reads `key` through the tiers; `fetch` asks the origin (404 = absent).
    pub async fn read<K, C, F>(
        &self,
        key: &CacheKey,
        policy: Policy,
        kv: &K,
        clock: &C,
        fetch: impl FnOnce() -> F,
    ) -> Result<Read, ReadFailure>
    where
        K: NetworkCache,
        C: Clock,
        F: Future<Output = Result<Versioned, TierError>>,
    {
        let started = clock.now_ms();
        self.sweep(started);
        let stale = match self.memory.borrow_mut().get(key, started) {
            Lookup::Fresh(entry) => {
                self.stats.bump(Counter::HitLocal);
                self.count_negative(&entry);
                return Ok(Read { entry, source: Source::Local, refresh: false });
            }
            Lookup::Stale(entry) if policy.stale_while_revalidate => {
                self.stats.bump(Counter::StaleServed);
                return Ok(Read { entry, source: Source::Stale, refresh: true });
            }
            Lookup::Stale(entry) => Some(entry),
            Lookup::Miss => None,
        };
        self.stats.bump(Counter::Miss);

        // Coalescing: one fetch per key in flight; the others wait on timers
        // of their own and then read memory.
        let lead = loop {
            match self.inflight.join(key, clock.now_ms(), self.timeouts.lease_ms()) {
                Role::Leader(lead) => break lead,
                Role::Waiter { until } => {
                    if let Some(read) = self.wait_for_leader(key, until, started, stale.as_ref(), clock).await {
                        return Ok(read);
                    }
                }
            }
        };
        let _guard = LeadGuard { inflight: &self.inflight, lead: Some(lead) };

        let kv_error = match self.read_kv(key, stale.as_deref(), kv, clock).await {
            Ok(Some(found)) => {
                self.stats.bump(Counter::HitKv);
                let entry = self.remember(key, found, policy, clock.now_ms());
                self.count_negative(&entry);
                return Ok(Read { entry, source: Source::Kv, refresh: false });
            }
            Ok(None) => None,
            Err(e) => Some(e),
        };

        let gate = self.throttle.gate(key, clock.now_ms());
        let answer = if !gate.allows() {
            self.stats.bump(Counter::Throttled);
            Err(TierError::Throttled)
        } else if let Some(stale) = &stale {
            // Only the soft timeout: past it, the stale value answers now and
            // the key is refreshed in the background.
            match race(fetch(), clock.sleep(self.timeouts.soft_ms)).await {
                First::Left(answer) => answer,
                First::Right(()) => {
                    self.stats.bump(Counter::SoftTimeout);
                    self.stats.bump(Counter::StaleServed);
                    return Ok(Read { entry: Rc::clone(stale), source: Source::Stale, refresh: true });
                }
            }
        } else {
            fetch().await
        };

        match answer {
            Ok(found) => {
                self.throttle.succeeded(key);
                self.stats.bump(Counter::HitOrigin);
                let entry = self.remember(key, found, policy, clock.now_ms());
                self.count_negative(&entry);
                self.fill_kv(key, &entry, kv, clock.now_ms()).await;
                Ok(Read { entry, source: Source::Origin, refresh: false })
            }
            // The origin is up and refused the request as the caller's
            // fault: not a failure (no backoff, no breaker, no stale copy
            // in its place); the caller gets a 4xx.
            Err(origin @ TierError::Refused(..)) => {
                self.stats.bump(Counter::OriginRefused);
                Err(ReadFailure { kv: kv_error, origin })
            }
            Err(origin) => {
                if origin != TierError::Throttled {
                    self.stats.bump(Counter::OriginError);
                    self.throttle.failed(key, clock.now_ms());
                }
                // The entry may have died while we waited; look again.
                match self.memory.borrow_mut().get(key, clock.now_ms()) {
                    Lookup::Fresh(entry) | Lookup::Stale(entry) => {
                        self.stats.bump(Counter::StaleServed);
                        return Ok(Read { entry, source: Source::Stale, refresh: false });
                    }
                    Lookup::Miss => {}
                }
                Err(ReadFailure { kv: kv_error, origin })
            }
        }
    }

    /// Refreshes `key` from the origin in the background (after a stale
    /// answer): skipped when a fetch is already in flight or the origin is
    /// backing off. Returns whether the key was refreshed.
    pub async fn revalidate<K, C, F>(
        &self,
        key: &CacheKey,
        policy: Policy,
        kv: &K,
        clock: &C,
        fetch: impl FnOnce() -> F,
    ) -> bool
    where
        K: NetworkCache,
        C: Clock,
        F: Future<Output = Result<Versioned, TierError>>,
    {
        let Role::Leader(lead) = self.inflight.join(key, clock.now_ms(), self.timeouts.lease_ms()) else {
            return false;
        };
        let _guard = LeadGuard { inflight: &self.inflight, lead: Some(lead) };
        if !self.throttle.gate(key, clock.now_ms()).allows() {
            self.stats.bump(Counter::Throttled);
            return false;
        }
        match fetch().await {
            Ok(found) => {
                self.throttle.succeeded(key);
                self.stats.bump(Counter::Revalidated);
                let entry = self.remember(key, found, policy, clock.now_ms());
                self.fill_kv(key, &entry, kv, clock.now_ms()).await;
                true
            }
            Err(TierError::Refused(..)) => {
                self.stats.bump(Counter::OriginRefused);
                false
            }
            Err(_) => {
                self.stats.bump(Counter::OriginError);
                self.throttle.failed(key, clock.now_ms());
                false
            }
        }
    }

    /// Records what the origin accepted: memory at once, then KV. Returns
    /// whether KV took it (`cache_updated`).
    pub async fn after_write<K: NetworkCache, C: Clock>(
        &self,
        key: &CacheKey,
        written: Versioned,
        policy: Policy,
        kv: &K,
        clock: &C,
    ) -> bool {
        self.throttle.origin_up();
        let now = clock.now_ms();
        let entry = self.remember(key, written, policy, now);
        self.put_kv(key, &entry, kv, now).await
    }

    /// A write failed: the caller-facing error, and when the origin may have
    /// applied it after all (timeout, answer cut off), the key's copy in
    /// memory is made stale and KV's is deleted, so the next read asks the
    /// origin (and serves the old value only, marked stale, if it cannot).
    pub async fn write_failed<K: NetworkCache, C: Clock>(
        &self,
        key: &CacheKey,
        e: TierError,
        kv: &K,
        clock: &C,
    ) -> Error {
        if e.write_outcome_unknown() {
            self.memory.borrow_mut().mark_stale(key, clock.now_ms());
            if kv.delete(key.as_str()).await.is_err() {
                self.stats.bump(Counter::KvWriteError);
            }
        }
        origin_write_error(e)
    }

    /// Counts a read answered by config or default because the stores failed.
    pub fn count_degraded(&self) {
        self.stats.bump(Counter::Degraded);
    }

    /// Frees a few dead entries; called on every read so the work is spread.
    pub fn sweep(&self, now: Millis) {
        self.memory.borrow_mut().sweep(now, SWEEP_BUDGET);
    }

    /// Empties isolate memory (tests, and operators after a bulk repair).
    pub fn clear_memory(&self) {
        self.memory.borrow_mut().clear();
    }

    /// The counters and memory figures now.
    pub fn stats(&self, now: Millis) -> StatsSnapshot {
        let memory = self.memory.borrow();
        let limits = memory.limits();
        let mut snapshot = self.stats.snapshot(memory.len(), memory.bytes(), limits.max_entries, limits.max_bytes);
        snapshot.in_flight = self.inflight.len() as u64;
        snapshot.breaker_open = self.throttle.breaker_open(now);
        snapshot
    }

    /// Waits (on this request's own timer) while another request fetches
    /// `key`. Answers from memory as soon as the leader filled it; answers
    /// the stale value once the soft timeout has passed; `None` when the
    /// leader finished without a fresh value or its lease ran out, so the
    /// caller fetches for itself.
    async fn wait_for_leader<C: Clock>(
        &self,
        key: &CacheKey,
        until: Millis,
        started: Millis,
        stale: Option<&Rc<Versioned>>,
        clock: &C,
    ) -> Option<Read> {
        let mut step: Millis = 2;
        loop {
            let now = clock.now_ms();
            if now >= until {
                return None;
            }
            if let Some(stale) = stale {
                if now.saturating_sub(started) >= self.timeouts.soft_ms {
                    self.stats.bump(Counter::StaleServed);
                    return Some(Read { entry: Rc::clone(stale), source: Source::Stale, refresh: false });
                }
            }
            clock.sleep(step.min(until - now)).await;
            step = (step * 2).min(25);
            if let Lookup::Fresh(entry) = self.memory.borrow_mut().get(key, clock.now_ms()) {
                self.stats.bump(Counter::Coalesced);
                self.count_negative(&entry);
                return Some(Read { entry, source: Source::Local, refresh: false });
            }
            if !self.inflight.is_fetching(key, clock.now_ms()) {
                return None;
            }
        }
    }

    /// One KV read, with its hard timeout. `Ok(None)`: nothing usable (a
    /// miss, or a copy older than the stale one in memory, which only the
    /// origin can settle).
    async fn read_kv<K: NetworkCache, C: Clock>(
        &self,
        key: &CacheKey,
        stale: Option<&Versioned>,
        kv: &K,
        clock: &C,
    ) -> Result<Option<Versioned>, TierError> {
        let got = match race(kv.get(key.as_str()), clock.sleep(self.timeouts.kv_ms)).await {
            First::Left(got) => got,
            First::Right(()) => Err(TierError::Timeout),
        };
        match got {
            Ok(Some(text)) => match envelope::decode(&text) {
                Ok(found) if stale.is_some_and(|s| s.version > found.version) => Ok(None),
                Ok(found) => Ok(Some(found)),
                Err(e) => {
                    self.stats.bump(Counter::KvError);
                    Err(TierError::Garbage(e.0))
                }
            },
            Ok(None) => Ok(None),
            Err(e) => {
                self.stats.bump(Counter::KvError);
                Err(e)
            }
        }
    }

    /// Stores `found` in memory unless memory holds a newer version, and
    /// answers whichever is newest: a slow read never resurrects old data.
    fn remember(&self, key: &CacheKey, found: Versioned, policy: Policy, now: Millis) -> Rc<Versioned> {
        let mut memory = self.memory.borrow_mut();
        if let Lookup::Fresh(held) | Lookup::Stale(held) = memory.get(key, now) {
            if held.version > found.version {
                return held;
            }
        }
        let found = Rc::new(found);
        memory.insert(key.clone(), Rc::clone(&found), policy, now);
        found
    }

    /// A KV write from the read path: skipped when this isolate wrote the
    /// key within the last second (KV allows one write per second per key;
    /// the value is the same, or the sync job repairs it).
    async fn fill_kv<K: NetworkCache>(&self, key: &CacheKey, entry: &Versioned, kv: &K, now: Millis) {
        let recent =
            self.kv_writes.borrow().get(key.as_str()).is_some_and(|at| now.saturating_sub(*at) < KV_WRITE_INTERVAL_MS);
        if recent {
            return;
        }
        self.put_kv(key, entry, kv, now).await;
    }

    async fn put_kv<K: NetworkCache>(&self, key: &CacheKey, entry: &Versioned, kv: &K, now: Millis) -> bool {
        {
            let mut writes = self.kv_writes.borrow_mut();
            if writes.len() >= KV_WRITES_REMEMBERED && !writes.contains_key(key.as_str()) {
                make_room(&mut writes, now);
            }
            writes.insert(key.as_str().to_string(), now);
        }
        match kv.put(key.as_str(), envelope::encode(entry), self.kv_expiration_secs).await {
            Ok(()) => true,
            Err(_) => {
                self.stats.bump(Counter::KvWriteError);
                false
            }
        }
    }

    fn count_negative(&self, entry: &Versioned) {
        if entry.slot == Slot::Absent {
            self.stats.bump(Counter::NegativeHit);
        }
    }
}

/// Makes room in the KV write debouncing map: forgets the writes older than
/// the debouncing interval and then, if more than half the bound is still
/// recent (a burst of distinct keys within one second), every write.
///
/// Forgetting only loses precision: at worst one extra KV write of a key
/// (which KV may refuse with a 429; a read never fails on it). Leaving at
/// most half the bound means at least half the bound of inserts before the
/// next scan, so the scan costs O(1) per write amortized, where pruning only
/// the old writes left a full map rescanned on every insert.
fn make_room(writes: &mut HashMap<String, Millis>, now: Millis) {
    writes.retain(|_, at| now.saturating_sub(*at) < KV_WRITE_INTERVAL_MS);
    if writes.len() > KV_WRITES_REMEMBERED / 2 {
        writes.clear();
    }
}

/// The caller-facing error for a write the origin did not take: nothing was
/// changed anywhere, and the code says why. The message is the edge's own;
/// what the origin or the runtime said stays in the error's `detail` (the
/// operator's log).
pub fn origin_write_error(e: TierError) -> Error {
    let message = match &e {
        TierError::Unreachable(_) => "the origin is unreachable; nothing was changed".to_string(),
        TierError::Timeout => {
            return Error::OriginTimeout(Reason::with_detail(
                "the origin did not answer in time; the write may or may not have been applied there \
                 (the edge dropped its cached copy, so the next read asks the origin)",
                &e,
            ))
        }
        TierError::Interrupted(_) => "the origin's answer was cut off; the write may have been applied there \
                                      (the edge dropped its cached copy, so the next read asks the origin)"
            .to_string(),
        TierError::Status(status, _) => {
            format!("the origin refused the write with status {status}; nothing was changed")
        }
        TierError::Garbage(_) => "the origin answered the write with something unreadable; it may have been applied \
                                  there (the edge dropped its cached copy, so the next read asks the origin)"
            .to_string(),
        TierError::Throttled => return Error::Unavailable("the origin is backing off after failures".into()),
        TierError::Refused(status, code) => return refusal_error(*status, code, "nothing was changed"),
    };
    match e {
        TierError::Unreachable(_) => Error::Unavailable(Reason::with_detail(message, &e)),
        _ => Error::OriginError(Reason::with_detail(message, &e)),
    }
}

/// The caller-facing 4xx for a request the origin refused as the caller's
/// fault (`TierError::Refused`): the origin's code when it is one of ours
/// (`invalid_id`, `too_large`, …), else one chosen by status (413 and 414
/// `too_large`, 404 `not_found`, any other `invalid_body`). The message is
/// ours; `outcome` says what followed ("nothing was changed").
pub fn refusal_error(status: u16, code: &str, outcome: &str) -> Error {
    let shown = if code.is_empty() { String::new() } else { format!(", {code}") };
    let message = format!("the origin refused this request (status {status}{shown}); {outcome}");
    match (code, status) {
        ("invalid_id", _) => Error::InvalidId(message),
        ("invalid_scope", _) => Error::InvalidScope(message),
        ("invalid_type", _) => Error::InvalidType(message),
        ("invalid_rules", _) => Error::InvalidRules(message),
        ("too_large", _) | (_, 413 | 414) => Error::TooLarge(message),
        ("not_found", _) | (_, 404) => Error::NotFound(message),
        _ => Error::InvalidBody(message),
    }
}

/// The caller-facing error for a read with nothing to serve: no fresh or
/// stale copy, and neither KV nor the origin could answer. As for writes,
/// what the tiers said goes to `detail`, not to the caller.
pub fn read_failure_error(failure: ReadFailure) -> Error {
    let detail = match &failure.kv {
        Some(kv) => format!("origin: {}; KV: {kv}", failure.origin),
        None => format!("origin: {}", failure.origin),
    };
    match failure.origin {
        TierError::Timeout => Error::OriginTimeout(Reason::with_detail(
            "the origin did not answer in time and no cached copy was available",
            detail,
        )),
        TierError::Throttled => Error::Unavailable(Reason::with_detail(
            "no cached copy was available and the origin is not being asked for a moment after failures",
            detail,
        )),
        TierError::Refused(status, code) => refusal_error(status, &code, "nothing was read"),
        other => Error::Unavailable(Reason::with_detail(
            format!("no cached copy was available and the origin could not answer ({})", other.kind()),
            detail,
        )),
    }
}

#[cfg(test)]
mod tests;
