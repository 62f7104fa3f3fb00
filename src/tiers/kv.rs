//! `NetworkCache` over a Workers KV namespace binding.
//!
//! KV is eventually consistent (a write can take ~60 s to be seen in other
//! locations), takes at most one write per second per key, and refuses
//! expirations under 60 s; the core is built to tolerate all three (the
//! last through `ports::kv_expiration`), and this adapter only translates
//! calls and errors.

use worker::kv::KvStore;

use crate::core::ports::{kv_expiration, NetworkCache, TierError};

/// A KV binding, wrapped for one request.
pub struct WorkersKv(pub KvStore);

fn kv_error(e: worker::kv::KvError) -> TierError {
    TierError::Unreachable(format!("KV: {e}"))
}

impl NetworkCache for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<String>, TierError> {
        self.0.get(key).text().await.map_err(kv_error)
    }

    async fn put(&self, key: &str, value: String, expiration_ttl_secs: u64) -> Result<(), TierError> {
        self.0
            .put(key, value)
            .map_err(kv_error)?
            .expiration_ttl(kv_expiration(expiration_ttl_secs))
            .execute()
            .await
            .map_err(kv_error)
    }

    async fn delete(&self, key: &str) -> Result<(), TierError> {
        self.0.delete(key).await.map_err(kv_error)
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Option<Vec<Option<String>>>, TierError> {
        match self.0.get_bulk(keys).text().await {
            Ok(mut found) => Ok(Some(keys.iter().map(|k| found.remove(k).flatten()).collect())),
            // A runtime without bulk reads: the caller reads key by key (and a
            // KV that is down fails those reads too).
            Err(_) => Ok(None),
        }
    }
}
