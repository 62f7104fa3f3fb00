//! Fakes of every tier, for native tests of the core. Each can be told to
//! fail in each way the real one can (error, timeout, garbage) and counts
//! the calls it receives, so a test can prove a tier was *not* reached.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::{Beacon, Change, ChangePage, Changed, Clock, DurableStore, NetworkCache, TierError};
use crate::core::lifecycle::Millis;
use crate::core::propagation::{self, BeaconAnswer, ChangeLog};
use crate::core::scope::{Id, Scope};
use crate::core::slot::{Slot, Versioned};

/// How a fake answers its next calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Behave like a healthy tier.
    #[default]
    Healthy,
    /// Fail as unreachable.
    Down,
    /// Fail with a timeout.
    Hanging,
    /// Answer 500 (origin) / an error (KV).
    Erroring,
    /// Answer unreadable content (KV gets only; origin answers).
    Garbage,
    /// The origin applies the call, then its answer is cut off.
    CutOff,
    /// The origin refuses every call as the caller's fault (400 `invalid_body`).
    Refusing,
}

fn failure(mode: Mode) -> Option<TierError> {
    match mode {
        Mode::Healthy | Mode::Garbage | Mode::CutOff => None,
        Mode::Down => Some(TierError::Unreachable("connection refused".into())),
        Mode::Hanging => Some(TierError::Timeout),
        Mode::Erroring => Some(TierError::Status(500, "boom".into())),
        Mode::Refusing => Some(TierError::Refused(400, "invalid_body".into())),
    }
}

/// An in-memory KV whose reads and writes can fail independently.
#[derive(Default)]
pub struct FakeKv {
    pub data: RefCell<HashMap<String, String>>,
    /// Polls each read stays pending before answering (a slow KV).
    pub stall: Cell<u32>,
    pub read_mode: Cell<Mode>,
    pub write_mode: Cell<Mode>,
    pub gets: Cell<u32>,
    pub puts: Cell<u32>,
    pub deletes: Cell<u32>,
    /// Bulk reads asked for (answered or not).
    pub bulk_gets: Cell<u32>,
    /// The store has no bulk read (`get_bulk` answers `None`).
    pub no_bulk: Cell<bool>,
    /// Keys whose puts fail (as a 429 would), whatever the write mode.
    pub refused: RefCell<HashSet<String>>,
    pub last_expiration: Cell<u64>,
    /// Every key put, in order.
    pub put_log: RefCell<Vec<String>>,
}

impl FakeKv {
    /// Reads and writes fail (or recover) together.
    pub fn set_mode(&self, mode: Mode) {
        self.read_mode.set(mode);
        self.write_mode.set(mode);
    }
}

impl NetworkCache for FakeKv {
    async fn get(&self, key: &str) -> Result<Option<String>, TierError> {
        self.gets.set(self.gets.get() + 1);
        stall(self.stall.get()).await;
        if let Some(e) = failure(self.read_mode.get()) {
            return Err(e);
        }
        if self.read_mode.get() == Mode::Garbage {
            return Ok(Some("\u{1}not an envelope".into()));
        }
        Ok(self.data.borrow().get(key).cloned())
    }

    async fn put(&self, key: &str, value: String, expiration_ttl_secs: u64) -> Result<(), TierError> {
        self.puts.set(self.puts.get() + 1);
        if let Some(e) = failure(self.write_mode.get()) {
            return Err(e);
        }
        if self.refused.borrow().contains(key) {
            return Err(TierError::Status(429, "too many writes to one key".into()));
        }
        self.last_expiration.set(super::kv_expiration(expiration_ttl_secs));
        self.put_log.borrow_mut().push(key.to_string());
        self.data.borrow_mut().insert(key.to_string(), value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), TierError> {
        self.deletes.set(self.deletes.get() + 1);
        if let Some(e) = failure(self.write_mode.get()) {
            return Err(e);
        }
        self.data.borrow_mut().remove(key);
        Ok(())
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Option<Vec<Option<String>>>, TierError> {
        self.bulk_gets.set(self.bulk_gets.get() + 1);
        if self.no_bulk.get() {
            return Ok(None);
        }
        stall(self.stall.get()).await;
        if let Some(e) = failure(self.read_mode.get()) {
            return Err(e);
        }
        let data = self.data.borrow();
        let garbage = self.read_mode.get() == Mode::Garbage;
        Ok(Some(
            keys.iter()
                .map(|k| if garbage { Some("\u{1}not an envelope".into()) } else { data.get(k).cloned() })
                .collect(),
        ))
    }
}

/// An in-memory origin with a global version counter and tombstones.
#[derive(Default)]
pub struct FakeOrigin {
    pub options: RefCell<HashMap<String, Versioned>>,
    /// Polls each call stays pending before answering (a slow origin).
    pub stall: Cell<u32>,
    pub version: Cell<u64>,
    pub mode: Cell<Mode>,
    pub calls: Cell<u32>,
    pub maps: RefCell<HashMap<Scope, Versioned>>,
    pub ownership: RefCell<HashMap<Id, Versioned>>,
    /// Versions of rows the change feed reports as unreadable (`skipped`).
    pub unreadable: RefCell<Vec<u64>>,
    /// Pages of the change feed asked for.
    pub feed_calls: Cell<u32>,
    /// When set, the change feed answers this many more pages, then fails
    /// as unreachable (an origin that goes down in the middle of a sync).
    pub feed_pages_left: Cell<Option<u32>>,
}

impl FakeOrigin {
    /// Writes straight into the origin, bypassing the edge.
    pub fn store(&self, name: &str, value: Value) -> u64 {
        let v = self.version.get() + 1;
        self.version.set(v);
        self.options.borrow_mut().insert(name.into(), Versioned::present(value, v));
        v
    }

    /// A row the origin can no longer read, at the next version: the feed
    /// reports it in `skipped`.
    pub fn corrupt_row(&self) -> u64 {
        let v = self.version.get() + 1;
        self.version.set(v);
        self.unreadable.borrow_mut().push(v);
        v
    }

    fn enter(&self) -> Result<(), TierError> {
        self.calls.set(self.calls.get() + 1);
        failure(self.mode.get()).map_or(Ok(()), Err)
    }

    fn garbage(&self) -> Result<(), TierError> {
        if self.mode.get() == Mode::Garbage {
            return Err(TierError::Garbage("expected value at line 1 column 1".into()));
        }
        Ok(())
    }

    /// After applying a call: its answer is lost on the way back.
    fn cut_off<T>(&self, answer: T) -> Result<T, TierError> {
        if self.mode.get() == Mode::CutOff {
            return Err(TierError::Interrupted("Network connection lost".into()));
        }
        Ok(answer)
    }
}

impl DurableStore for FakeOrigin {
    async fn get_option(&self, name: &str) -> Result<Versioned, TierError> {
        self.calls.set(self.calls.get() + 1);
        stall(self.stall.get()).await;
        self.calls.set(self.calls.get() - 1);
        self.enter()?;
        self.garbage()?;
        self.cut_off(self.options.borrow().get(name).cloned().unwrap_or(Versioned::absent(0)))
    }

    async fn put_option(&self, name: &str, value: &Value) -> Result<Versioned, TierError> {
        self.enter()?;
        self.garbage()?;
        let v = self.store(name, value.clone());
        self.cut_off(Versioned::present(value.clone(), v))
    }

    async fn delete_option(&self, name: &str) -> Result<Versioned, TierError> {
        self.enter()?;
        self.garbage()?;
        let v = self.version.get() + 1;
        self.version.set(v);
        self.options.borrow_mut().insert(name.into(), Versioned::absent(v));
        Ok(Versioned::absent(v))
    }

    async fn changes_after(&self, after: u64, limit: u32) -> Result<ChangePage, TierError> {
        self.feed_calls.set(self.feed_calls.get() + 1);
        if let Some(left) = self.feed_pages_left.get() {
            if left == 0 {
                return Err(TierError::Unreachable("connection refused".into()));
            }
            self.feed_pages_left.set(Some(left - 1));
        }
        self.enter()?;
        self.garbage()?;
        // Every thing at its latest version, and the unreadable rows (None).
        let mut rows: Vec<(u64, Option<Change>)> = Vec::new();
        let mut add = |thing: Changed, entry: &Versioned| {
            if entry.version > after {
                rows.push((entry.version, Some(Change { thing, entry: entry.clone() })));
            }
        };
        for (name, entry) in self.options.borrow().iter() {
            add(Changed::Option(name.clone()), entry);
        }
        for (scope, entry) in self.maps.borrow().iter() {
            add(Changed::Map(*scope), entry);
        }
        for (project, entry) in self.ownership.borrow().iter() {
            add(Changed::Ownership(*project), entry);
        }
        rows.extend(self.unreadable.borrow().iter().filter(|v| **v > after).map(|v| (*v, None)));
        rows.sort_by_key(|(v, _)| *v);
        let limit = limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = rows.last().map_or(after, |(v, _)| *v);
        let unreadable = rows.iter().filter(|(_, c)| c.is_none()).count();
        Ok(ChangePage { changes: rows.into_iter().filter_map(|(_, c)| c).collect(), unreadable, next, more })
    }

    async fn get_map(&self, scope: &Scope) -> Result<Versioned, TierError> {
        stall(self.stall.get()).await;
        self.enter()?;
        self.garbage()?;
        Ok(self.maps.borrow().get(scope).cloned().unwrap_or_else(|| Versioned::present(json!({}), 0)))
    }

    async fn put_map_key(&self, scope: &Scope, key: &str, value: &Value) -> Result<Versioned, TierError> {
        self.enter()?;
        self.garbage()?;
        Ok(self.write_map(scope, |map| {
            map.insert(key.to_string(), value.clone());
        }))
    }

    async fn delete_map_key(&self, scope: &Scope, key: &str) -> Result<Option<Versioned>, TierError> {
        self.enter()?;
        self.garbage()?;
        let held = self.maps.borrow().get(scope).and_then(|m| m.value().map(|v| v.get(key).is_some())).unwrap_or(false);
        if !held {
            return Ok(None);
        }
        Ok(Some(self.write_map(scope, |map| {
            map.remove(key);
        })))
    }

    async fn get_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        self.enter()?;
        self.garbage()?;
        Ok(self.ownership.borrow().get(&project).cloned().unwrap_or(Versioned::absent(0)))
    }

    async fn put_ownership(&self, project: Id, record: &Value) -> Result<Versioned, TierError> {
        self.enter()?;
        self.garbage()?;
        let v = self.next_version();
        let stored = Versioned::present(record.clone(), v);
        self.ownership.borrow_mut().insert(project, stored.clone());
        Ok(stored)
    }

    async fn delete_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        self.enter()?;
        self.garbage()?;
        let v = self.next_version();
        self.ownership.borrow_mut().insert(project, Versioned::absent(v));
        Ok(Versioned::absent(v))
    }
}

impl FakeOrigin {
    fn next_version(&self) -> u64 {
        let v = self.version.get() + 1;
        self.version.set(v);
        v
    }

    fn write_map(&self, scope: &Scope, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Versioned {
        let mut map = match self.maps.borrow().get(scope).and_then(|m| m.value().cloned()) {
            Some(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        change(&mut map);
        let v = self.next_version();
        let stored = Versioned::present(Value::Object(map), v);
        self.maps.borrow_mut().insert(*scope, stored.clone());
        stored
    }

    /// Whether the origin holds a value for `name`.
    pub fn holds(&self, name: &str) -> Option<Value> {
        match self.options.borrow().get(name).map(|v| v.slot.clone()) {
            Some(Slot::Present(v)) => Some(v),
            _ => None,
        }
    }
}

/// A version beacon over an in-memory change log, up or down on command,
/// counting what it is asked.
#[derive(Default)]
pub struct FakeBeacon {
    pub log: RefCell<ChangeLog>,
    pub mode: Cell<Mode>,
    /// "Changes after" asked.
    pub asks: Cell<u32>,
    /// Writes told.
    pub tells: Cell<u32>,
}

impl FakeBeacon {
    /// One run of the beacon's alarm: pages of the origin's feed into the log.
    pub async fn poll(&self, origin: &FakeOrigin) -> Result<(), TierError> {
        loop {
            let cursor = self.log.borrow().cursor();
            let page = origin.changes_after(cursor, 50).await?;
            propagation::absorb(&mut self.log.borrow_mut(), &page);
            if !page.more {
                return Ok(());
            }
        }
    }
}

impl Beacon for FakeBeacon {
    async fn changes_after(&self, after: u64) -> Result<BeaconAnswer, TierError> {
        self.asks.set(self.asks.get() + 1);
        failure(self.mode.get()).map_or(Ok(()), Err)?;
        Ok(self.log.borrow().changes_after(after))
    }

    async fn announce(&self, changes: &[(u64, String)]) -> Result<(), TierError> {
        self.tells.set(self.tells.get() + 1);
        failure(self.mode.get()).map_or(Ok(()), Err)?;
        let mut log = self.log.borrow_mut();
        for (version, key) in changes {
            log.record(*version, key);
        }
        Ok(())
    }
}

/// A clock the test moves by hand.
pub struct ManualClock(pub Cell<Millis>);

impl ManualClock {
    pub fn at(ms: Millis) -> Self {
        ManualClock(Cell::new(ms))
    }

    pub fn advance_secs(&self, secs: u64) {
        self.0.set(self.0.get() + secs * 1000);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.get()
    }

    /// Yields once, so other futures polled by the same executor run in
    /// between, then moves the clock *to* this sleep's deadline if it is not
    /// there yet (simulated time, no real sleeping). Sleeps that overlap do
    /// not add up, as concurrent timers do not.
    async fn sleep(&self, ms: Millis) {
        let deadline = self.0.get() + ms;
        YieldOnce(false).await;
        if self.0.get() < deadline {
            self.0.set(deadline);
        }
    }
}

/// Stays pending for `polls` polls (a slow tier), waking itself each time.
pub async fn stall(polls: u32) {
    for _ in 0..polls {
        YieldOnce(false).await;
    }
}

/// A future that is pending once, then ready: a turn for the others.
pub struct YieldOnce(pub bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// A thing under test (`subject`: options, maps, ownership, a sync run's
/// inputs) on fake tiers; derefs to the tiers, so a test reads `w.kv`,
/// `w.origin`, `w.clock`, `w.cache`. Each test module adds its own helpers
/// with an `impl Rig<Its subject>` block.
pub struct Rig<T> {
    pub subject: T,
    pub tiers: FakeTiers,
}

impl<T> Rig<T> {
    /// `subject` on healthy fake tiers with the clock at `now_ms`.
    pub fn at(subject: T, now_ms: Millis) -> Self {
        Rig { subject, tiers: FakeTiers::at(now_ms) }
    }
}

impl<T> std::ops::Deref for Rig<T> {
    type Target = FakeTiers;

    fn deref(&self) -> &FakeTiers {
        &self.tiers
    }
}

/// Every fake tier plus an empty isolate cache: what each core test builds
/// its world on (`Rig`).
pub struct FakeTiers {
    pub cache: crate::core::tiered::TieredCache,
    pub kv: FakeKv,
    pub origin: FakeOrigin,
    pub clock: ManualClock,
}

impl FakeTiers {
    /// Healthy fakes, an empty cache with default limits (KV expiry 300 s),
    /// and the clock at `now_ms`.
    pub fn at(now_ms: Millis) -> Self {
        FakeTiers {
            cache: crate::core::tiered::TieredCache::new(crate::core::memory::Limits::default(), 300),
            kv: FakeKv::default(),
            origin: FakeOrigin::default(),
            clock: ManualClock::at(now_ms),
        }
    }

    /// The I/O bundle the core's calls take.
    pub fn io(&self) -> super::Io<'_, FakeKv, FakeOrigin, ManualClock> {
        super::Io { kv: &self.kv, origin: &self.origin, clock: &self.clock }
    }
}
