//! Micro-benchmark workloads over the edge-options core, shared by the
//! native `bench-core` binary and the wasm module (feature `wasm`).
//!
//! Each workload is a loop the caller times (natively with `Instant`, under
//! Node with `process.hrtime`), so both runtimes time the same code. The
//! tiers are tiny in-process stand-ins that answer at once: on a fresh
//! isolate-memory hit the core never reaches them, so the loops measure
//! exactly the hit path `Options::get` takes in the Worker.
//!
//! A counting global allocator tracks live heap bytes, for bytes per
//! cached entry (`fill`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use edge_options::core::config::ConfigValues;
use edge_options::core::key::CacheKey;
use edge_options::core::lifecycle::{Millis, Policy};
use edge_options::core::memory::Limits;
use edge_options::core::options::Options;
use edge_options::core::ownership::{evaluate, event_from_json, parse_rules};
use edge_options::core::project_ownership::ProjectOwnership;
use edge_options::core::registry::Registry;
use edge_options::core::scope::{Id, Scope};
use edge_options::core::slot::Versioned;
use edge_options::core::tiered::TieredCache;
use edge_options::tiers::{ChangePage, Clock, DurableStore, Io, NetworkCache, TierError};
use serde_json::{json, Value};

pub mod snapshot;
#[cfg(feature = "wasm")]
pub mod wasm;

/// The system allocator, counting live bytes.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counter is
// only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Live heap bytes (requested sizes; the allocator's own headers not counted).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Polls a future that never waits (the stand-in tiers answer at once).
/// `None` if it is still pending after a few polls (a bug in the workload).
pub fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..16 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

/// A KV that holds nothing and accepts every write.
pub struct NullKv;

impl NetworkCache for NullKv {
    async fn get(&self, _key: &str) -> Result<Option<String>, TierError> {
        Ok(None)
    }
    async fn put(&self, _key: &str, _value: String, _ttl: u64) -> Result<(), TierError> {
        Ok(())
    }
    async fn delete(&self, _key: &str) -> Result<(), TierError> {
        Ok(())
    }
}

/// An origin that answers every option with the same value, and every
/// project's ownership record with `ownership` (absent when `None`).
pub struct ConstOrigin {
    pub value: Value,
    pub ownership: Option<Value>,
    pub calls: Cell<u64>,
}

fn unused() -> TierError {
    TierError::Unreachable("not used by the benchmark".into())
}

impl DurableStore for ConstOrigin {
    async fn get_option(&self, _name: &str) -> Result<Versioned, TierError> {
        self.calls.set(self.calls.get() + 1);
        Ok(Versioned::present(self.value.clone(), 1))
    }
    async fn put_option(&self, _name: &str, _value: &Value) -> Result<Versioned, TierError> {
        Err(unused())
    }
    async fn delete_option(&self, _name: &str) -> Result<Versioned, TierError> {
        Err(unused())
    }
    async fn changes_after(&self, _after: u64, _limit: u32) -> Result<ChangePage, TierError> {
        Err(unused())
    }
    async fn get_map(&self, _scope: &Scope) -> Result<Versioned, TierError> {
        Err(unused())
    }
    async fn put_map_key(&self, _scope: &Scope, _key: &str, _value: &Value) -> Result<Versioned, TierError> {
        Err(unused())
    }
    async fn delete_map_key(&self, _scope: &Scope, _key: &str) -> Result<Option<Versioned>, TierError> {
        Err(unused())
    }
    async fn get_ownership(&self, _project: Id) -> Result<Versioned, TierError> {
        self.calls.set(self.calls.get() + 1);
        Ok(match &self.ownership {
            Some(record) => Versioned::present(record.clone(), 1),
            None => Versioned::absent(0),
        })
    }
    async fn put_ownership(&self, _project: Id, _record: &Value) -> Result<Versioned, TierError> {
        Err(unused())
    }
    async fn delete_ownership(&self, _project: Id) -> Result<Versioned, TierError> {
        Err(unused())
    }
}

/// A clock the workload sets; sleeping returns at once.
#[derive(Default)]
pub struct ManualClock {
    pub now: Cell<Millis>,
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.now.get()
    }
    async fn sleep(&self, ms: Millis) {
        self.now.set(self.now.get() + ms);
    }
}

/// A small and a large option value of the builtin registry's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// `mail.host` = a 16-byte string.
    Small,
    /// `symbolicator.options` = a mapping of 100 strings of 32 bytes (~4.5 KB of JSON).
    Large,
}

impl Size {
    /// The option read, and the value the origin holds for it.
    pub fn option(self) -> (&'static str, Value) {
        match self {
            Size::Small => ("mail.host", json!("smtp.example.com")),
            Size::Large => {
                let map: serde_json::Map<String, Value> =
                    (0..100).map(|i| (format!("k{i:03}"), json!(format!("{:032}", i)))).collect();
                ("symbolicator.options", Value::Object(map))
            }
        }
    }
}

/// One isolate's worth of state around `Options::get`, warmed so the
/// benchmarked option is fresh in isolate memory.
pub struct HitBench {
    options: Options,
    cache: TieredCache,
    kv: NullKv,
    origin: ConstOrigin,
    clock: ManualClock,
    name: &'static str,
}

impl HitBench {
    /// Builds and warms the state (one origin fill at t = 1,000,000 ms).
    pub fn new(size: Size) -> HitBench {
        let registry = Registry::builtin().expect("the builtin registry parses");
        let (config, _) = ConfigValues::parse("", &registry);
        let (name, value) = size.option();
        let bench = HitBench {
            options: Options::new(registry, config),
            cache: TieredCache::new(Limits::default(), 3600),
            kv: NullKv,
            origin: ConstOrigin { value, ownership: None, calls: Cell::new(0) },
            clock: ManualClock { now: Cell::new(1_000_000) },
            name,
        };
        let first = bench.get_once().expect("the warm-up read answers");
        assert_eq!(first, "origin", "the warm-up read fills memory from the origin");
        assert_eq!(bench.get_once().as_deref(), Some("local"), "then memory answers");
        bench
    }

    /// The options (registry + config tier).
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Isolate memory.
    pub fn cache(&self) -> &TieredCache {
        &self.cache
    }

    /// The stand-in I/O.
    pub fn io(&self) -> Io<'_, NullKv, ConstOrigin, ManualClock> {
        Io { kv: &self.kv, origin: &self.origin, clock: &self.clock }
    }

    /// The benchmarked option's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One `Options::get`; the answering tier's name.
    pub fn get_once(&self) -> Option<String> {
        let io = Io { kv: &self.kv, origin: &self.origin, clock: &self.clock };
        let answer = block_on(self.options.get(&self.cache, &io, self.name))?.ok()?;
        Some(answer.source.as_str().to_string())
    }

    /// `n` hits; answers a checksum so the loop cannot be optimised away.
    pub fn run(&self, n: u64) -> u64 {
        let io = Io { kv: &self.kv, origin: &self.origin, clock: &self.clock };
        let mut sum = 0u64;
        for _ in 0..n {
            if let Some(Ok(answer)) = block_on(self.options.get(&self.cache, &io, self.name)) {
                sum = sum.wrapping_add(answer.version.unwrap_or(0));
            }
        }
        assert_eq!(self.origin.calls.get(), 1, "every benchmarked read was a memory hit");
        sum
    }
}

/// A native floor for `HitBench`: a `HashMap<String, Value>` get + clone,
/// the least a map-of-JSON lookup that hands out an owned value can do.
pub struct FloorBench {
    map: std::collections::HashMap<String, Value>,
    name: &'static str,
}

impl FloorBench {
    pub fn new(size: Size) -> FloorBench {
        let (name, value) = size.option();
        let mut map = std::collections::HashMap::new();
        map.insert(name.to_string(), value);
        FloorBench { map, name }
    }

    pub fn run(&self, n: u64) -> u64 {
        let mut sum = 0u64;
        for _ in 0..n {
            if let Some(v) = self.map.get(std::hint::black_box(self.name)) {
                let v = v.clone();
                sum = sum.wrapping_add(u64::from(v.is_string()));
            }
        }
        sum
    }
}

/// What `fill` measured.
#[derive(Debug, Clone, Copy)]
pub struct Filled {
    /// Keys read (each once, each an origin fill).
    pub keys: u64,
    /// Entries isolate memory held afterwards.
    pub entries: u64,
    /// The core's own byte estimate (`stats().bytes`).
    pub accounted_bytes: u64,
    /// Live heap growth measured by the counting allocator.
    pub heap_bytes: u64,
}

/// Reads `keys` distinct small options once each through the tiered cache
/// (the path of `Options::get`, with names the registry would not hold:
/// the cache layer is what holds memory), with isolate-memory limits
/// `limits`, and measures the heap it keeps. `spread_ms` is how far the
/// clock moves between reads (0: every fill in the same millisecond).
pub fn fill(keys: u64, limits: Limits, spread_ms: Millis) -> Filled {
    let names: Vec<CacheKey> = (0..keys).map(|i| CacheKey::option(&format!("bench.option-{i:06}"))).collect();
    let kv = NullKv;
    let clock = ManualClock { now: Cell::new(1_000_000) };
    let before = live_bytes();
    let cache = TieredCache::new(limits, 3600);
    for (i, key) in names.iter().enumerate() {
        clock.now.set(clock.now.get() + spread_ms);
        let value = Versioned::present(json!(format!("value-{i:06}")), 1);
        let read = block_on(cache.read(key, Policy::DEFAULT, &kv, &clock, || async { Ok(value) }));
        assert!(matches!(read, Some(Ok(_))), "fill read {i} answered");
    }
    let heap_bytes = live_bytes().saturating_sub(before) as u64;
    let stats = cache.stats(clock.now.get());
    let filled = Filled { keys, entries: stats.entries, accounted_bytes: stats.bytes, heap_bytes };
    drop(cache);
    filled
}

/// Rules in the owners benchmark's file: the most a rules text may hold.
pub const OWNERS_RULES: usize = edge_options::core::limits::MAX_RULES;

/// Stack frames in the owners benchmark's event.
pub const OWNERS_FRAMES: usize = 50;

/// A rules text of `rules` rules, the four matcher kinds in turn, each
/// with a glob and one or two owners: `path:src/service17/*.py #team-17
/// dev17@example.com`, `module:app.service18.*`, `url:…/api/v19/*`,
/// `tags.service:svc20`.
pub fn owners_rules(rules: usize) -> String {
    (0..rules)
        .map(|i| {
            let team = i % 50;
            match i % 4 {
                0 => format!("path:src/service{i}/*.py #team-{team} dev{i}@example.com\n"),
                1 => format!("module:app.service{i}.* #team-{team}\n"),
                2 => format!("url:https://example.com/api/v{i}/* #team-{team}\n"),
                _ => format!("tags.service:svc{i} #team-{team} dev{i}@example.com\n"),
            }
        })
        .collect()
}

/// An event with `frames` frames (filename, abs_path, module), a URL and
/// ten tags; a few rules of [`owners_rules`] match it.
pub fn owners_event(frames: usize) -> Value {
    let frames: Vec<Value> = (0..frames)
        .map(|k| {
            let n = k * 37;
            json!({
                "filename": format!("src/service{n}/handler.py"),
                "abs_path": format!("/srv/app/src/service{n}/handler.py"),
                "module": format!("app.service{}.handler", n + 1),
            })
        })
        .collect();
    let tags: Vec<Value> = (0..10).map(|t| json!(["service", format!("svc{}", t * 100 + 3)])).collect();
    json!({
        "exception": {"values": [{"stacktrace": {"frames": frames}}]},
        "request": {"url": "https://example.com/api/v2/checkout"},
        "tags": tags,
    })
}

/// `POST …/owners` for one project whose cached record holds a
/// [`OWNERS_RULES`]-rule file: `ProjectOwnership::owners` on an
/// isolate-memory hit, as the Worker calls it.
pub struct OwnersBench {
    ownership: ProjectOwnership,
    cache: TieredCache,
    kv: NullKv,
    origin: ConstOrigin,
    clock: ManualClock,
    raw: String,
    event: Value,
}

impl OwnersBench {
    /// Builds and warms the state: the record read once from the origin.
    pub fn new(rules: usize, frames: usize) -> OwnersBench {
        let raw = owners_rules(rules);
        let record = json!({"raw": raw, "fallthrough": true, "auto_assignment": true, "is_active": true});
        let bench = OwnersBench {
            ownership: ProjectOwnership::new(Policy::DEFAULT),
            cache: TieredCache::new(Limits::default(), 3600),
            kv: NullKv,
            origin: ConstOrigin { value: Value::Null, ownership: Some(record), calls: Cell::new(0) },
            clock: ManualClock { now: Cell::new(1_000_000) },
            raw,
            event: owners_event(frames),
        };
        assert_eq!(bench.owners_once().map(|(source, _)| source).as_deref(), Some("origin"), "warm-up");
        let (source, owners) = bench.owners_once().expect("owners");
        assert_eq!(source, "local", "then memory answers");
        assert!(owners > 0, "some rules match the event");
        bench
    }

    /// One owners call: the answering tier and how many owners it found.
    pub fn owners_once(&self) -> Option<(String, usize)> {
        let io = Io { kv: &self.kv, origin: &self.origin, clock: &self.clock };
        let answer = block_on(self.ownership.owners(&self.cache, &io, 1, &self.event))?.ok()?;
        let owners = match serde_json::to_value(&answer.evaluation).ok()?["owners"].as_array() {
            Some(list) => list.len(),
            None => 0,
        };
        Some((answer.source.as_str().to_string(), owners))
    }

    /// `n` owners calls, as the Worker makes them (the parse is kept).
    pub fn run(&self, n: u64) -> u64 {
        let io = Io { kv: &self.kv, origin: &self.origin, clock: &self.clock };
        let mut sum = 0u64;
        for _ in 0..n {
            if let Some(Ok(answer)) = block_on(self.ownership.owners(&self.cache, &io, 1, &self.event)) {
                sum = sum.wrapping_add(answer.evaluation.rules.len() as u64);
            }
        }
        assert_eq!(self.origin.calls.get(), 1, "every benchmarked call was a memory hit");
        assert_eq!(self.ownership.rules_cache().parses(), 1, "the rules were parsed once");
        sum
    }

    /// `n` calls of what an owners call cost before the parse was kept:
    /// parse the rules, then evaluate the event.
    pub fn run_reparsing(&self, n: u64) -> u64 {
        let mut sum = 0u64;
        for _ in 0..n {
            let rules = parse_rules(std::hint::black_box(&self.raw)).unwrap_or_default();
            if let Ok(event) = event_from_json(&self.event) {
                sum = sum.wrapping_add(evaluate(&rules, &event, true, true).rules.len() as u64);
            }
        }
        sum
    }

    /// `n` parses of the rules text alone.
    pub fn run_parse_only(&self, n: u64) -> u64 {
        let mut sum = 0u64;
        for _ in 0..n {
            sum = sum.wrapping_add(parse_rules(std::hint::black_box(&self.raw)).map_or(0, |r| r.len() as u64));
        }
        sum
    }
}
