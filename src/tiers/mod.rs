//! The I/O the core needs, as small traits, and their implementations.
//!
//! The core (`crate::core`) is generic over these traits: the Worker
//! implements them over Workers KV and `fetch` (`kv`, `origin`, behind the
//! `worker` feature), the tests with fakes that fail on command. The traits
//! use `async fn` without `Send` bounds on purpose: a Worker isolate is
//! single-threaded and its JS futures are not `Send`.
//!
//! The origin contract (verbs, paths, answer parsing) lives once, in
//! `origin_api` and `origin_wire`; the Worker's client and the npm
//! package's (`crate::js`) only implement one HTTP exchange.

pub mod origin_api;
pub mod origin_wire;
pub mod pending;

#[cfg(test)]
pub mod fake;

#[cfg(feature = "worker")]
pub mod clock;
#[cfg(feature = "worker")]
pub mod kv;
#[cfg(feature = "worker")]
pub mod origin;

use serde_json::Value;

pub use origin_wire::{Change, ChangePage, Changed};

use crate::core::lifecycle::Millis;
use crate::core::scope::{Id, Scope};
use crate::core::slot::Versioned;

/// How a call to KV or the origin failed. A 404 from the origin is not a
/// failure (it is an answer: absent) and never appears here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// No connection, DNS failure, reset: nobody answered.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No answer within the hard timeout. For a write, the origin may or
    /// may not have applied it.
    #[error("timed out")]
    Timeout,
    /// The origin started answering (a status arrived) and the answer was
    /// then cut off. For a write, the origin may well have applied it.
    #[error("answer cut off: {0}")]
    Interrupted(String),
    /// An answer with an unexpected status (5xx, 401, 403, 408, 429, …):
    /// the origin, or the edge's own configuration, is at fault. Counts
    /// toward the key's backoff and the breaker.
    #[error("status {0}: {1}")]
    Status(u16, String),
    /// The origin refused the request as the caller's fault (400, 405, 409,
    /// 413, 414, 422, and 404 where 404 is not an answer): the origin is up,
    /// the input was not acceptable. Counts toward no backoff and no breaker
    /// (else a caller could hold the origin back for everyone with a few bad
    /// requests) and reaches the caller as a 4xx. Holds the status and the
    /// origin's error code when it gave a plain one (`invalid_id`), else "".
    #[error("refused with status {0} {1}")]
    Refused(u16, String),
    /// An answer that does not parse or break the contract.
    #[error("unreadable answer: {0}")]
    Garbage(String),
    /// Not asked at all: this isolate is backing off after origin failures
    /// (per key, or the whole origin while the breaker is open).
    #[error("not asked: backing off after origin failures")]
    Throttled,
}

impl TierError {
    /// A few words for what went wrong that never quote the origin (its
    /// status number and code at most): safe to put in an answer to a caller.
    pub fn kind(&self) -> String {
        match self {
            TierError::Unreachable(_) => "unreachable".into(),
            TierError::Timeout => "timed out".into(),
            TierError::Interrupted(_) => "answer cut off".into(),
            TierError::Status(status, _) => format!("status {status}"),
            TierError::Garbage(_) => "unreadable answer".into(),
            TierError::Throttled => "backing off".into(),
            TierError::Refused(status, _) => format!("refused with status {status}"),
        }
    }

    /// Whether the origin refused the request as the caller's fault
    /// ([`TierError::Refused`]): not a failure of the origin.
    pub fn is_refusal(&self) -> bool {
        matches!(self, TierError::Refused(..))
    }

    /// Whether a write that failed this way may still have been applied by
    /// the origin (so the caches can no longer be trusted for that key): no
    /// answer in time, an answer cut off, or a 2xx whose body is unreadable.
    pub fn write_outcome_unknown(&self) -> bool {
        matches!(self, TierError::Timeout | TierError::Interrupted(_) | TierError::Garbage(_))
    }
}

/// Workers KV, or anything that acts like it: a key-value network cache
/// that may fail, may be stale, and is never the source of truth.
#[allow(async_fn_in_trait)]
pub trait NetworkCache {
    /// The text stored under `key`, `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<String>, TierError>;
    /// Stores `value` under `key`, expiring after `expiration_ttl_secs` (KV's
    /// minimum is 60 s; implementations raise smaller values to it).
    async fn put(&self, key: &str, value: String, expiration_ttl_secs: u64) -> Result<(), TierError>;
    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<(), TierError>;
    /// The texts of at most [`KV_BULK_KEYS`] keys in ONE operation (KV's
    /// bulk read), aligned with `keys`; `Ok(None)` when this store has no
    /// bulk read, so the caller reads key by key. A caller that counts its
    /// operations (the sync job: an invocation may make at most 1,000
    /// subrequests) counts this call as one whatever it answers.
    async fn get_bulk(&self, _keys: &[String]) -> Result<Option<Vec<Option<String>>>, TierError> {
        Ok(None)
    }
    /// The texts of many keys, aligned with `keys`: bulk reads of
    /// [`KV_BULK_KEYS`] where the store has them, one read per key otherwise.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>, TierError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(KV_BULK_KEYS) {
            match self.get_bulk(chunk).await? {
                Some(found) if found.len() == chunk.len() => out.extend(found),
                _ => {
                    for key in chunk {
                        out.push(self.get(key).await?);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Most keys one KV bulk read takes.
pub const KV_BULK_KEYS: usize = 100;

/// The origin API (openapi/origin.yaml): options, option maps, ownership
/// records and the change feed.
#[allow(async_fn_in_trait)]
pub trait DurableStore {
    /// The option's value, or absent (404) with the tombstone version if any.
    async fn get_option(&self, name: &str) -> Result<Versioned, TierError>;
    /// Stores a value; answers what was stored with its new version.
    async fn put_option(&self, name: &str, value: &Value) -> Result<Versioned, TierError>;
    /// Removes a value; answers absent with the delete's version (or the
    /// tombstone's, or 0, when there was nothing to delete).
    async fn delete_option(&self, name: &str) -> Result<Versioned, TierError>;
    /// One page of the change feed: the changes with a version above
    /// `after`, in version order, at most `limit` (`GET /changes`).
    async fn changes_after(&self, after: u64, limit: u32) -> Result<ChangePage, TierError>;
    /// A whole option map (empty with version 0 when nothing was ever set).
    async fn get_map(&self, scope: &Scope) -> Result<Versioned, TierError>;
    /// Sets one key; answers the whole map after the write.
    async fn put_map_key(&self, scope: &Scope, key: &str, value: &Value) -> Result<Versioned, TierError>;
    /// Unsets one key; answers the whole map after the write, or `None` when
    /// the key was not set.
    async fn delete_map_key(&self, scope: &Scope, key: &str) -> Result<Option<Versioned>, TierError>;
    /// A project's ownership record, or absent.
    async fn get_ownership(&self, project: Id) -> Result<Versioned, TierError>;
    /// Replaces a project's ownership record (`{raw, fallthrough, auto_assignment, is_active}`).
    async fn put_ownership(&self, project: Id, record: &Value) -> Result<Versioned, TierError>;
    /// Removes a project's ownership record; answers absent with the delete's version.
    async fn delete_ownership(&self, project: Id) -> Result<Versioned, TierError>;
}

/// The time, handed to the core (which never reads a clock itself), and a
/// way to wait: waiting is I/O too. On Workers each waiting request must hold
/// a timer of its own (a request with no pending I/O of its own is cancelled
/// as hung), which is exactly what `sleep` gives it.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
    /// Resolves after `ms` milliseconds.
    async fn sleep(&self, ms: Millis);
}

/// The I/O one request may use: its KV binding, its origin client, a clock.
/// Built per request by the Worker (bindings belong to a request), while the
/// caches it feeds live for the isolate.
pub struct Io<'a, K, O, C> {
    /// The network cache (Workers KV).
    pub kv: &'a K,
    /// The durable store (the origin API).
    pub origin: &'a O,
    /// The time source.
    pub clock: &'a C,
}
