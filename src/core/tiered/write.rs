//! The write side: a write goes to the origin first; what the origin
//! accepted goes to memory at once, then to KV; a write whose outcome is
//! unknown drops the cached copies; and the
//! KV writes of the read path (fills), kept to one per second per key and
//! never older than this isolate's last write (`kv_writes`).

use std::future::Future;

use super::failure::origin_write_error;
use super::TieredCache;
use crate::core::envelope;
use crate::core::error::Error;
use crate::core::key::CacheKey;
use crate::core::lifecycle::{Millis, Policy};
use crate::core::ports::{Clock, Io, NetworkCache, TierError};
use crate::core::slot::Versioned;
use crate::core::stats::Counter;

impl TieredCache {
    /// Records what the origin accepted: memory at once, then KV, and the
    /// write is queued for the version beacon. Returns
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
        self.origin_answered();
        let now = clock.now_ms();
        // Older copies are no longer current here, and the beacon is told
        // after the response (`take_announcements`).
        self.note_written(key, written.version, now);
        let written = if written.since == 0 { written.given_at(now) } else { written };
        let entry = self.remember(key, written, policy, now);
        // The version written was answered (a ttl-0 key is not held).
        self.note_answered(key, entry.version);
        self.put_kv(key, &entry, kv, now).await
    }

    /// Sends a write to the origin first (`write`, the origin's call): its
    /// answer when the origin took it; when not, the caller-facing error,
    /// after [`TieredCache::write_failed`] dropped the cached copies if the
    /// write may have been applied anyway. Origin first: a cache never holds
    /// what the origin then refused (the caller then records the answer
    /// with [`TieredCache::after_write`]).
    ///
    /// # Errors
    /// `origin_error`, `unavailable`, `origin_timeout` or the 4xx of a
    /// refusal (`failure`).
    pub async fn origin_first<K, O, C, T>(
        &self,
        key: &CacheKey,
        io: &Io<'_, K, O, C>,
        write: impl Future<Output = Result<T, TierError>>,
    ) -> Result<T, Error>
    where
        K: NetworkCache,
        C: Clock,
    {
        match write.await {
            Ok(answer) => Ok(answer),
            Err(e) => Err(self.write_failed(key, e, io.kv, io.clock).await),
        }
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

    /// A KV write from the read path (a fill): skipped within a second of
    /// this isolate's last write of the key (KV allows one write per second
    /// per key; the value is the same, or the sync job repairs it), and when
    /// it is older than what this isolate last wrote there (`kv_writes`).
    pub(super) async fn fill_kv<K: NetworkCache>(&self, key: &CacheKey, entry: &Versioned, kv: &K, now: Millis) {
        if self.kv_writes.fill_due(key.as_str(), entry.version, now) {
            self.put_kv(key, entry, kv, now).await;
        }
    }

    /// A KV write of `entry`, recorded first (a failed write counts too:
    /// KV may have refused it for the rate).
    async fn put_kv<K: NetworkCache>(&self, key: &CacheKey, entry: &Versioned, kv: &K, now: Millis) -> bool {
        self.kv_writes.wrote(key.as_str(), entry.version, now);
        match kv.put(key.as_str(), envelope::encode(entry), self.kv_retention_secs).await {
            Ok(()) => true,
            Err(_) => {
                self.stats.bump(Counter::KvWriteError);
                false
            }
        }
    }
}
