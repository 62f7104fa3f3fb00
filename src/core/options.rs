//! Registered options: resolution, writes and sync (docs/design.md
//! "Registered options"), on top of the tiered cache.
//!
//! Names are checked against `limits` first (non-empty, at most 1,024
//! bytes): a name the origin would refuse never reaches it.
//!
//! Read: store value (memory → KV → origin → stale) → config value (unless
//! `storeonly`) → default. When the stores failed and nothing stale was held,
//! the config/default answer is marked `degraded` so a caller can tell "unset"
//! from "could not ask". `nostore` options never touch KV or the origin.
//!
//! Write: validate (known, not immutable, not nostore, right type) → origin →
//! memory → KV. If the origin fails nothing changes and the caller gets the
//! error; a KV failure only clears `cache_updated`.

use std::borrow::Cow;

use serde_json::Value;

use super::config::ConfigValues;
use super::error::Error;
use super::flags::Flags;
use super::key::CacheKey;
use super::lifecycle::Millis;
use super::limits;
use super::registry::{OptionSpec, Registry};
use super::source::Source;
use super::tiered::{read_failure_error, TieredCache};

#[cfg(test)]
mod tests;
use super::ports::{Clock, DurableStore, Io, NetworkCache};

/// The answer to an option read.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionValue {
    /// The option's name.
    pub name: String,
    /// The resolved value (store, config or default).
    pub value: Value,
    /// The tier that produced `value`.
    pub source: Source,
    /// Whether the stores were unreachable, so `value` may not be current.
    pub degraded: bool,
    /// The tier that answered the store lookup, when one did: `Some(Local)`
    /// with `source: Default` is a negative-cache hit in isolate memory.
    pub lookup: Option<Source>,
    /// The origin version of a stored value.
    pub version: Option<u64>,
    /// Whether the option is a credential (shown only to admins).
    pub credential: bool,
    /// A stale value was answered without waiting: refresh the option in the
    /// background (`revalidate`).
    pub refresh: bool,
    /// How old the stored value behind a stale lookup (`Stale`,
    /// `Snapshot`) is, ms, when known.
    pub age_ms: Option<Millis>,
}

/// The outcome of a write the origin accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionWrite {
    /// The option's name.
    pub name: String,
    /// The stored value (`None` after a delete).
    pub value: Option<Value>,
    /// The origin's version of the write.
    pub version: u64,
    /// Whether KV was updated too (if not, the sync job repairs it).
    pub cache_updated: bool,
}

/// The registry and the config tier: everything about options that is fixed
/// for the life of an isolate.
pub struct Options {
    registry: Registry,
    config: ConfigValues,
}

impl Options {
    /// Options resolved against `registry`, with `config` as the settings tier.
    pub fn new(registry: Registry, config: ConfigValues) -> Self {
        Options { registry, config }
    }

    /// The registry, for listing.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Resolves `name`. Fails only for unknown or over-long names (and when
    /// the origin refuses the read as invalid): when the stores are
    /// down the answer is the config/default value, marked degraded.
    pub async fn get<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        name: &str,
    ) -> Result<OptionValue, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        self.get_at_least(cache, io, name, None).await
    }

    /// Resolves `name` at `min_version` or later while the origin can
    /// answer (`propagation`); a stored value known to be older is marked
    /// degraded.
    pub async fn get_at_least<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        name: &str,
        min_version: Option<u64>,
    ) -> Result<OptionValue, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        limits::check_name("the option name", name)?;
        let (spec, key) = self.registry.lookup_keyed(name)?;
        if spec.flags.contains(Flags::NOSTORE) {
            return Ok(self.fallback(&spec, None, false));
        }
        let read = cache
            .read_at_least(&key, spec.policy, min_version, io.kv, io.clock, || io.origin.get_option(&spec.name))
            .await;
        match read {
            Ok(read) => match read.entry.value() {
                Some(value) if spec.value_type.check(value).is_ok() => Ok(OptionValue {
                    name: spec.name.clone(),
                    value: value.clone(),
                    source: read.source,
                    degraded: read.degraded,
                    lookup: Some(read.source),
                    version: Some(read.entry.version),
                    credential: spec.flags.contains(Flags::CREDENTIAL),
                    refresh: read.refresh,
                    age_ms: read.age_ms,
                }),
                // Absent, or stored under an older type: the store has no
                // usable value, so config and default decide.
                _ => Ok(OptionValue {
                    refresh: read.refresh,
                    age_ms: read.age_ms,
                    ..self.fallback(&spec, Some(read.source), read.degraded)
                }),
            },
            // The origin refused the read as the caller's fault: an answer
            // about the request, not a store being down.
            Err(failure) if failure.origin.is_refusal() => Err(read_failure_error(failure)),
            Err(_) => {
                cache.count_degraded();
                Ok(self.fallback(&spec, None, true))
            }
        }
    }

    /// Refreshes `name` from the origin in the background after a stale
    /// answer (`OptionValue::refresh`).
    pub async fn revalidate<K, O, C>(&self, cache: &TieredCache, io: &Io<'_, K, O, C>, name: &str) -> bool
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let Some(spec) = self.stored_spec(name) else { return false };
        let key = CacheKey::option(&spec.name);
        cache.revalidate(&key, spec.policy, io.kv, io.clock, || io.origin.get_option(&spec.name)).await
    }

    /// Stores `value` for `name`: origin first, then memory and KV.
    pub async fn set<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        name: &str,
        value: Value,
    ) -> Result<OptionWrite, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let spec = self.writable(name)?;
        spec.value_type.check(&value)?;
        limits::check_origin_value(&value)?;
        let key = CacheKey::option(&spec.name);
        let stored = cache.origin_first(&key, io, io.origin.put_option(&spec.name, &value)).await?;
        let version = stored.version;
        let value = stored.value().cloned();
        let cache_updated = cache.after_write(&key, stored, spec.policy, io.kv, io.clock).await;
        Ok(OptionWrite { name: spec.name.clone(), value, version, cache_updated })
    }

    /// Removes the stored value of `name`: origin first, then the caches
    /// learn "absent" (so the next read costs no origin call).
    pub async fn delete<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        name: &str,
    ) -> Result<OptionWrite, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let spec = self.writable(name)?;
        let key = CacheKey::option(&spec.name);
        let gone = cache.origin_first(&key, io, io.origin.delete_option(&spec.name)).await?;
        let version = gone.version;
        let cache_updated = cache.after_write(&key, gone, spec.policy, io.kv, io.clock).await;
        Ok(OptionWrite { name: spec.name.clone(), value: None, version, cache_updated })
    }

    /// The spec of `name` if it is stored at all (known and not `nostore`):
    /// the sync job re-writes only these.
    pub fn stored_spec(&self, name: &str) -> Option<Cow<'_, OptionSpec>> {
        self.registry.lookup(name).ok().filter(|spec| !spec.flags.contains(Flags::NOSTORE))
    }

    fn writable(&self, name: &str) -> Result<Cow<'_, OptionSpec>, Error> {
        limits::check_name("the option name", name)?;
        let spec = self.registry.lookup(name)?;
        if spec.flags.contains(Flags::IMMUTABLE) {
            return Err(Error::Immutable(spec.name.clone()));
        }
        if spec.flags.contains(Flags::NOSTORE) {
            return Err(Error::NoStore(spec.name.clone()));
        }
        Ok(spec)
    }

    /// Config value (unless storeonly), else the default.
    fn fallback(&self, spec: &OptionSpec, lookup: Option<Source>, degraded: bool) -> OptionValue {
        let configured = self.config.value_for(spec);
        let (value, source) = match configured {
            Some(value) => (value.clone(), Source::Config),
            None => (spec.default.clone(), Source::Default),
        };
        OptionValue {
            name: spec.name.clone(),
            value,
            source,
            degraded,
            lookup,
            version: None,
            credential: spec.flags.contains(Flags::CREDENTIAL),
            refresh: false,
            age_ms: None,
        }
    }
}
