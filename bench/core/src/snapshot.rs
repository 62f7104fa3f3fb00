//! The last-known-good snapshot: how large it is in KV, and how long a new
//! isolate takes to its first answer from it during an outage (KV holding
//! no per-key copy, the origin down): a KV miss, the origin's failure, the
//! snapshot's head and parts read from KV and parsed, the answer.

use std::cell::RefCell;
use std::collections::HashMap;

use edge_options::core::config::ConfigValues;
use edge_options::core::key::CacheKey;
use edge_options::core::memory::Limits;
use edge_options::core::options::Options;
use edge_options::core::registry::Registry;
use edge_options::core::scope::{Id, Scope};
use edge_options::core::slot::Versioned;
use edge_options::core::snapshot::{encode, Snapshot};
use edge_options::core::source::Source;
use edge_options::core::tiered::TieredCache;
use edge_options::tiers::{ChangePage, DurableStore, Io, NetworkCache, TierError};
use serde_json::{json, Value};

use crate::{block_on, ManualClock};

/// An in-memory KV.
#[derive(Default)]
pub struct MapKv(RefCell<HashMap<String, String>>);

impl NetworkCache for MapKv {
    async fn get(&self, key: &str) -> Result<Option<String>, TierError> {
        Ok(self.0.borrow().get(key).cloned())
    }
    async fn put(&self, key: &str, value: String, _ttl: u64) -> Result<(), TierError> {
        self.0.borrow_mut().insert(key.to_string(), value);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), TierError> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
}

/// An origin that is down: every call fails as unreachable.
pub struct DownOrigin;

fn down<T>() -> Result<T, TierError> {
    Err(TierError::Unreachable("the origin is down (benchmark)".into()))
}

impl DurableStore for DownOrigin {
    async fn get_option(&self, _: &str) -> Result<Versioned, TierError> {
        down()
    }
    async fn put_option(&self, _: &str, _: &Value) -> Result<Versioned, TierError> {
        down()
    }
    async fn delete_option(&self, _: &str) -> Result<Versioned, TierError> {
        down()
    }
    async fn changes_after(&self, _: u64, _: u32) -> Result<ChangePage, TierError> {
        down()
    }
    async fn get_map(&self, _: &Scope) -> Result<Versioned, TierError> {
        down()
    }
    async fn put_map_key(&self, _: &Scope, _: &str, _: &Value) -> Result<Versioned, TierError> {
        down()
    }
    async fn delete_map_key(&self, _: &Scope, _: &str) -> Result<Option<Versioned>, TierError> {
        down()
    }
    async fn get_ownership(&self, _: Id) -> Result<Versioned, TierError> {
        down()
    }
    async fn put_ownership(&self, _: Id, _: &Value) -> Result<Versioned, TierError> {
        down()
    }
    async fn delete_ownership(&self, _: Id) -> Result<Versioned, TierError> {
        down()
    }
}

/// A snapshot of `options` small options (a 20-byte string each, under a
/// legacy prefix) in KV, and the options a new isolate resolves against.
pub struct SnapshotBench {
    kv: MapKv,
    options: Options,
    name: String,
    /// Bytes of the snapshot in KV, head and parts.
    pub bytes: usize,
    /// Its parts.
    pub parts: u32,
}

impl SnapshotBench {
    /// Builds the snapshot the sync job would write for `options` options.
    pub fn new(options: usize) -> SnapshotBench {
        let registry = Registry::builtin().expect("the builtin registry parses").with_legacy_prefixes(vec!["bench.".into()]);
        let (config, _) = ConfigValues::parse("", &registry);
        let mut snapshot = Snapshot::empty();
        for i in 0..options {
            let entry = Versioned::present(json!(format!("value-{i:014}")), i as u64 + 1).given_at(1_000);
            snapshot.merge(&CacheKey::option(&format!("bench.option.{i}")), entry);
        }
        snapshot.version = options as u64;
        snapshot.since = 1_000;
        let encoded = encode(&snapshot);
        let kv = MapKv::default();
        let bytes = encoded.head_text.len() + encoded.parts.iter().map(String::len).sum::<usize>();
        for (i, text) in (0u32..).zip(encoded.parts) {
            kv.0.borrow_mut().insert(CacheKey::snapshot_part(encoded.head.parts, i).as_str().into(), text);
        }
        kv.0.borrow_mut().insert(CacheKey::snapshot_head().as_str().into(), encoded.head_text);
        SnapshotBench {
            kv,
            options: Options::new(registry, config),
            name: format!("bench.option.{}", options / 2),
            bytes,
            parts: encoded.head.parts,
        }
    }

    /// A new isolate's first read during the outage; answers the value's
    /// length so the work cannot be optimised away.
    pub fn first_answer(&self) -> usize {
        let cache = TieredCache::new(Limits::default(), 3600);
        let clock = ManualClock::default();
        clock.now.set(10_000_000);
        let io = Io { kv: &self.kv, origin: &DownOrigin, clock: &clock };
        let answer = block_on(self.options.get(&cache, &io, &self.name)).and_then(Result::ok);
        let answer = answer.expect("the first read answers");
        assert_eq!(answer.source, Source::Snapshot, "answered from the snapshot");
        answer.value.as_str().map_or(0, str::len)
    }
}
