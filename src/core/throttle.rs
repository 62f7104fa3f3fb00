//! Not hammering an origin that fails: per-key backoff and an isolate-wide
//! circuit breaker (docs/design.md "Per-key backoff and the breaker").
//!
//! After an origin failure for a key, this isolate does not ask the origin
//! for that key again until a backoff passes (1 s, doubling to 30 s); reads
//! meanwhile get the stale value or the degraded default. When the origin
//! fails for many keys in a row the breaker opens: no origin reads at all,
//! except one probe now and then; a success closes it. Writes never wait on
//! either: they always go to the origin and fail (or succeed) clearly, and a
//! success closes the breaker. Pure: time is passed in.

use std::cell::RefCell;

use super::bounded::BoundedTable;
use super::key::CacheKey;
use super::lifecycle::Millis;

/// The knobs of throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Backoff after a key's first failure.
    pub backoff_start_ms: Millis,
    /// Longest backoff of a key.
    pub backoff_max_ms: Millis,
    /// Consecutive origin failures (any keys) that open the breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open before a probe may pass.
    pub breaker_open_ms: Millis,
}

impl ThrottleConfig {
    /// The default longest backoff of a key.
    pub const DEFAULT_BACKOFF_MAX_MS: Millis = 30_000;
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            backoff_start_ms: 1_000,
            backoff_max_ms: Self::DEFAULT_BACKOFF_MAX_MS,
            breaker_threshold: 5,
            breaker_open_ms: 5_000,
        }
    }
}

/// Whether a read may ask the origin now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Ask it.
    Open,
    /// Ask it: this request is the breaker's probe.
    Probe,
    /// Do not: the key is backing off until this moment.
    KeyBackoff(Millis),
    /// Do not: the breaker is open until this moment.
    BreakerOpen(Millis),
}

impl Gate {
    /// Whether the origin may be called.
    pub fn allows(self) -> bool {
        matches!(self, Gate::Open | Gate::Probe)
    }
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    until: Millis,
    delay: Millis,
}

#[derive(Debug)]
struct State {
    /// Keys backing off. Bounded: past the bound the expired ones are
    /// dropped, and all of them when many keys fail within one window
    /// (their keys may be retried early; the breaker still guards the origin).
    keys: BoundedTable<CacheKey, Backoff>,
    consecutive_failures: u32,
    open_until: Option<Millis>,
}

impl Default for State {
    fn default() -> Self {
        State { keys: BoundedTable::new(MAX_KEYS), consecutive_failures: 0, open_until: None }
    }
}

/// Backoff per key and the breaker, for one isolate.
#[derive(Debug, Default)]
pub struct Throttle {
    config: ThrottleConfig,
    state: RefCell<State>,
}

/// Most keys remembered as backing off (`bounded`).
const MAX_KEYS: usize = 10_000;

impl Throttle {
    /// A throttle with `config`.
    pub fn new(config: ThrottleConfig) -> Self {
        Throttle { config, state: RefCell::default() }
    }

    /// Whether a read of `key` may ask the origin at `now`. When the breaker
    /// is open and its time is up, the first caller becomes the probe and
    /// the breaker's window restarts for everyone else.
    pub fn gate(&self, key: &CacheKey, now: Millis) -> Gate {
        let mut state = self.state.borrow_mut();
        if let Some(open_until) = state.open_until {
            if now < open_until {
                return Gate::BreakerOpen(open_until);
            }
            state.open_until = Some(now.saturating_add(self.config.breaker_open_ms));
            return Gate::Probe;
        }
        match state.keys.get(key) {
            Some(backoff) if now < backoff.until => Gate::KeyBackoff(backoff.until),
            _ => Gate::Open,
        }
    }

    /// The origin answered for `key` (a value or 404): forget its backoff
    /// and close the breaker.
    pub fn succeeded(&self, key: &CacheKey) {
        let mut state = self.state.borrow_mut();
        state.keys.remove(key);
        state.consecutive_failures = 0;
        state.open_until = None;
    }

    /// A write went through: the origin is up.
    pub fn origin_up(&self) {
        let mut state = self.state.borrow_mut();
        state.consecutive_failures = 0;
        state.open_until = None;
    }

    /// The origin failed for `key` at `now`: back the key off (doubling),
    /// and open the breaker after enough failures in a row.
    pub fn failed(&self, key: &CacheKey, now: Millis) {
        let config = self.config;
        let mut state = self.state.borrow_mut();
        let delay = match state.keys.get(key) {
            Some(b) => b.delay.saturating_mul(2).min(config.backoff_max_ms),
            None => config.backoff_start_ms,
        };
        state.keys.insert(key.clone(), Backoff { until: now.saturating_add(delay), delay }, |b| b.until > now);
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        if state.consecutive_failures >= config.breaker_threshold {
            state.open_until = Some(now.saturating_add(config.breaker_open_ms));
        }
    }

    /// Whether the breaker is open at `now` (for stats).
    pub fn breaker_open(&self, now: Millis) -> bool {
        self.state.borrow().open_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> CacheKey {
        CacheKey::option(&format!("k{n}"))
    }

    #[test]
    fn backoffs_stay_bounded_when_more_keys_than_the_bound_fail_in_one_window() {
        let t = Throttle::new(ThrottleConfig { breaker_threshold: u32::MAX, ..ThrottleConfig::default() });
        for n in 0..(MAX_KEYS as u32 * 3 / 2) {
            t.failed(&key(n), 0);
            assert!(t.state.borrow().keys.len() <= MAX_KEYS, "bounded after {n} failures");
        }
        let last = key(MAX_KEYS as u32 * 3 / 2 - 1);
        assert_eq!(t.gate(&last, 1), Gate::KeyBackoff(1_000), "the latest failure still backs off");
    }

    #[test]
    fn failed_key_backs_off_doubling_up_to_the_maximum() {
        let t = Throttle::new(ThrottleConfig { breaker_threshold: 100, ..ThrottleConfig::default() });
        t.failed(&key(1), 0);
        assert_eq!(t.gate(&key(1), 500), Gate::KeyBackoff(1_000));
        assert_eq!(t.gate(&key(1), 1_000), Gate::Open);
        t.failed(&key(1), 1_000);
        assert_eq!(t.gate(&key(1), 2_999), Gate::KeyBackoff(3_000));
        for _ in 0..10 {
            t.failed(&key(1), 10_000);
        }
        assert_eq!(t.gate(&key(1), 10_000), Gate::KeyBackoff(40_000), "capped at 30 s");
        assert_eq!(t.gate(&key(2), 10_000), Gate::Open, "other keys are not held back");
    }

    #[test]
    fn success_forgets_the_backoff() {
        let t = Throttle::default();
        t.failed(&key(1), 0);
        t.succeeded(&key(1));
        assert_eq!(t.gate(&key(1), 1), Gate::Open);
    }

    #[test]
    fn breaker_opens_after_failures_across_keys_and_lets_one_probe_through() {
        let t = Throttle::default();
        for n in 0..5 {
            t.failed(&key(n), 100);
        }
        assert!(t.breaker_open(100));
        assert_eq!(t.gate(&key(99), 200), Gate::BreakerOpen(5_100), "even a key that never failed");
        assert_eq!(t.gate(&key(99), 5_100), Gate::Probe);
        assert_eq!(t.gate(&key(98), 5_101), Gate::BreakerOpen(10_100), "one probe per window");
        t.succeeded(&key(99));
        assert!(!t.breaker_open(5_200));
        assert_eq!(t.gate(&key(98), 5_200), Gate::Open);
    }

    #[test]
    fn failed_probe_keeps_the_breaker_open() {
        let t = Throttle::default();
        for n in 0..5 {
            t.failed(&key(n), 0);
        }
        assert_eq!(t.gate(&key(50), 5_000), Gate::Probe);
        t.failed(&key(50), 5_000);
        assert_eq!(t.gate(&key(51), 5_001), Gate::BreakerOpen(10_000));
    }

    #[test]
    fn a_successful_write_closes_the_breaker() {
        let t = Throttle::default();
        for n in 0..5 {
            t.failed(&key(n), 0);
        }
        t.origin_up();
        assert_eq!(t.gate(&key(9), 1), Gate::Open);
    }
}
