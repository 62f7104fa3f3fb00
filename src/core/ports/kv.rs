//! Workers KV as the core sees it: a key-value network cache that may fail,
//! may be stale, and is never the source of truth.

use super::TierError;

/// Most keys one KV bulk read takes.
pub const KV_BULK_KEYS: usize = 100;

/// Shortest expiration Workers KV accepts for a put, in seconds.
pub const KV_MIN_EXPIRATION_SECS: u64 = 60;

/// The expiration a KV put is given for `asked_secs`: raised to KV's 60 s
/// minimum (KV refuses a put with less). Every `NetworkCache` over KV calls
/// this, so a caller may ask for any expiry and the put still succeeds.
pub fn kv_expiration(asked_secs: u64) -> u64 {
    asked_secs.max(KV_MIN_EXPIRATION_SECS)
}

/// Workers KV, or anything that acts like it.
#[allow(async_fn_in_trait)]
pub trait NetworkCache {
    /// The text stored under `key`, `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<String>, TierError>;
    /// Stores `value` under `key`, expiring after `expiration_ttl_secs`
    /// (implementations raise it with [`kv_expiration`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expirations_under_a_minute_are_raised_to_kvs_minimum_and_longer_ones_kept() {
        assert_eq!(kv_expiration(0), 60);
        assert_eq!(kv_expiration(59), 60);
        assert_eq!(kv_expiration(60), 60);
        assert_eq!(kv_expiration(90 * 86_400), 90 * 86_400);
    }
}
