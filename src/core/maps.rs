//! Option maps per organization, project and user (docs/design.md "Option maps and scopes").
//!
//! The whole map of a scope is the cached value: a read of one key is a read
//! of the map. A write goes to the origin, which answers with the whole map
//! after the write, and that map replaces the cached one in isolate memory
//! and KV (the original design reloads the map on every save and delete).
//! Unlike options, a map has no default to fall back to: when nothing is
//! cached and the stores fail, the read fails clearly (`unavailable`).

use serde_json::{Map, Value};

use super::error::Error;
use super::key::CacheKey;
use super::lifecycle::{Millis, Policy};
use super::limits;
use super::ports::{Clock, DurableStore, Io, NetworkCache};
use super::scope::Scope;
use super::source::Source;
use super::tiered::{origin_write_error, read_failure_error, TieredCache};

/// Longest key accepted in an option map, in bytes (`limits`).
pub use super::limits::MAX_NAME_BYTES as MAX_KEY_BYTES;

/// A map as read.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRead {
    /// Every key set in the scope.
    pub values: Map<String, Value>,
    /// The tier that answered.
    pub source: Source,
    /// The origin version of the map.
    pub version: u64,
    /// A stale map was answered without waiting: refresh it in the background.
    pub refresh: bool,
    /// How old a stale map (`Stale`, `Snapshot`) is, ms, when known.
    pub age_ms: Option<Millis>,
    /// The map answered is known not to be current (the origin could not
    /// be asked for a newer one: `propagation`).
    pub degraded: bool,
}

/// One key of an option map, as read (`value: None` when the key is unset).
#[derive(Debug, Clone, PartialEq)]
pub struct MapKeyRead {
    /// The key asked for.
    pub key: String,
    /// Its value, `None` when unset in the scope.
    pub value: Option<Value>,
    /// The tier that answered for the map.
    pub source: Source,
    /// The origin version of the map.
    pub version: u64,
    /// How old a stale map (`Stale`, `Snapshot`) is, ms, when known.
    pub age_ms: Option<Millis>,
    /// The map answered is known not to be current (`MapRead::degraded`).
    pub degraded: bool,
}

/// The outcome of a write the origin accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct MapWrite {
    /// The whole map after the write.
    pub values: Map<String, Value>,
    /// The origin version of the map after the write.
    pub version: u64,
    /// Whether KV took the new map (if not, the sync job repairs it).
    pub cache_updated: bool,
}

/// The option maps of every scope, with one ttl/grace for all of them.
pub struct OptionMaps {
    policy: Policy,
}

impl OptionMaps {
    /// Maps cached with `policy`.
    pub fn new(policy: Policy) -> Self {
        OptionMaps { policy }
    }

    /// The lifecycle policy of cached maps.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The whole map of `scope`.
    ///
    /// # Errors
    /// `unavailable` / `origin_timeout` when nothing is cached and the
    /// stores fail.
    pub async fn get<K, O, C>(&self, cache: &TieredCache, io: &Io<'_, K, O, C>, scope: &Scope) -> Result<MapRead, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        self.get_at_least(cache, io, scope, None).await
    }

    /// The whole map of `scope`, at `min_version` or later while the origin
    /// can answer (`propagation`).
    ///
    /// # Errors
    /// As [`OptionMaps::get`].
    pub async fn get_at_least<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        scope: &Scope,
        min_version: Option<u64>,
    ) -> Result<MapRead, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let key = CacheKey::map(scope);
        let read =
            cache.read_at_least(&key, self.policy, min_version, io.kv, io.clock, || io.origin.get_map(scope)).await;
        let read = read.map_err(read_failure_error)?;
        Ok(MapRead {
            values: as_map(read.entry.value()),
            source: read.source,
            version: read.entry.version,
            refresh: read.refresh,
            age_ms: read.age_ms,
            degraded: read.degraded,
        })
    }

    /// Refreshes the map of `scope` from the origin in the background.
    pub async fn revalidate<K, O, C>(&self, cache: &TieredCache, io: &Io<'_, K, O, C>, scope: &Scope) -> bool
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let key = CacheKey::map(scope);
        cache.revalidate(&key, self.policy, io.kv, io.clock, || io.origin.get_map(scope)).await
    }

    /// Sets `key` to `value` in `scope`: origin first, then the caches take
    /// the whole map the origin answers.
    pub async fn set<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        scope: &Scope,
        key: &str,
        value: Value,
    ) -> Result<MapWrite, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        check_key(key)?;
        if value.is_null() {
            return Err(Error::InvalidType("null is not a value; DELETE the key to unset it".into()));
        }
        limits::check_origin_value(&value)?;
        let map = cache.origin_first(&CacheKey::map(scope), io, io.origin.put_map_key(scope, key, &value)).await?;
        self.store(cache, io, scope, map).await
    }

    /// Unsets `key` in `scope`. Unsetting a key that is not set succeeds;
    /// the caches then take the map as the origin has it.
    pub async fn delete<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        scope: &Scope,
        key: &str,
    ) -> Result<MapWrite, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        check_key(key)?;
        let deleted = cache.origin_first(&CacheKey::map(scope), io, io.origin.delete_map_key(scope, key)).await?;
        let map = match deleted {
            Some(map) => map,
            // Not set at the origin: whatever is cached may be behind, so
            // take the map as the origin has it now.
            None => io.origin.get_map(scope).await.map_err(origin_write_error)?,
        };
        self.store(cache, io, scope, map).await
    }

    async fn store<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        scope: &Scope,
        map: super::slot::Versioned,
    ) -> Result<MapWrite, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let values = as_map(map.value());
        let version = map.version;
        let cache_updated = cache.after_write(&CacheKey::map(scope), map, self.policy, io.kv, io.clock).await;
        Ok(MapWrite { values, version, cache_updated })
    }
}

/// Checks a map key from the world: non-empty, at most
/// [`limits::MAX_NAME_BYTES`] (the origin's limit too).
pub fn check_key(key: &str) -> Result<(), Error> {
    Ok(limits::check_name("the key", key)?)
}

fn as_map(value: Option<&Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests;
