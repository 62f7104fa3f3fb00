//! The sync job: re-write into KV everything the origin changed lately.
//!
//! As the original design's periodic task: it repairs KV after cache writes
//! that failed (`cache_updated: false`) and after writes that bypassed the
//! edge. Runs from the cron trigger and `POST /v1/admin/sync`. Isolate
//! memory is updated too (versions keep it from moving backwards).

use serde::Serialize;

use super::error::{Error, Reason};
use super::key::CacheKey;
use super::lifecycle::Policy;
use super::options::Options;
use super::tiered::TieredCache;
use crate::tiers::{Clock, DurableStore, Io, NetworkCache, TierError};

/// The lifecycle of the kinds sync re-writes besides options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindPolicies {
    /// Option maps.
    pub maps: Policy,
    /// Ownership records.
    pub ownership: Policy,
}

/// How many entries of each kind KV took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Options (written or deleted).
    pub options: usize,
    /// Option maps.
    pub maps: usize,
    /// Ownership records (written or deleted).
    pub ownership: usize,
    /// Entries KV refused (left for the next run).
    pub failed: usize,
}

impl SyncReport {
    /// Entries re-written in all.
    pub fn total(&self) -> usize {
        self.options + self.maps + self.ownership
    }
}

/// Re-writes into KV everything the origin changed since `since` (Unix
/// seconds). Unknown and `nostore` option names are skipped.
///
/// # Errors
/// `unavailable` / `origin_timeout` / `origin_error` when the origin cannot
/// list its changes; a KV failure on one entry only counts in `failed`.
pub async fn sync<K, O, C>(
    options: &Options,
    kinds: &KindPolicies,
    cache: &TieredCache,
    io: &Io<'_, K, O, C>,
    since: u64,
) -> Result<SyncReport, Error>
where
    K: NetworkCache,
    O: DurableStore,
    C: Clock,
{
    let changes = io.origin.changes_since(since).await.map_err(|e| match e {
        TierError::Timeout => {
            Error::OriginTimeout(Reason::with_detail("the origin did not list its changes in time", &e))
        }
        TierError::Unreachable(_) => Error::Unavailable(Reason::with_detail("the origin is unreachable", &e)),
        other => Error::OriginError(Reason::with_detail(
            format!("the origin could not list its changes ({})", other.kind()),
            &other,
        )),
    })?;
    let mut report = SyncReport::default();
    for (name, entry) in changes.options {
        let Some(spec) = options.stored_spec(&name) else { continue };
        let key = CacheKey::option(&spec.name);
        tally(
            &mut report.options,
            &mut report.failed,
            cache.after_write(&key, entry, spec.policy, io.kv, io.clock).await,
        );
    }
    for (scope, entry) in changes.maps {
        let key = CacheKey::map(&scope);
        tally(&mut report.maps, &mut report.failed, cache.after_write(&key, entry, kinds.maps, io.kv, io.clock).await);
    }
    for (project, entry) in changes.ownership {
        let key = CacheKey::ownership(project);
        let written = cache.after_write(&key, entry, kinds.ownership, io.kv, io.clock).await;
        tally(&mut report.ownership, &mut report.failed, written);
    }
    Ok(report)
}

fn tally(done: &mut usize, failed: &mut usize, written: bool) {
    if written {
        *done += 1;
    } else {
        *failed += 1;
    }
}
