//! What one sync run did, as `POST /v1/admin/sync` answers it, the cron
//! trigger logs it and the npm package's `sync()` resolves it.

use serde::Serialize;

/// What one run did and where the next one starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Entries written into KV in all (`options + maps + ownership`).
    pub synced: usize,
    /// Options written (values and deletions).
    pub options: usize,
    /// Option maps written.
    pub maps: usize,
    /// Ownership records written (records and deletions).
    pub ownership: usize,
    /// Writes KV refused: the cursor stays before the first of them, so
    /// the next run writes them again.
    pub failed: usize,
    /// Changes deliberately not written: KV already held them at the same
    /// or a newer version, or the option is not stored at the edge
    /// (unknown name, `nostore`).
    pub skipped: usize,
    /// Changes nobody could read: rows the origin reported unreadable and
    /// entries of its answer that break the contract. Passed over.
    pub unreadable: usize,
    /// KV operations this run made (bulk reads count once), the cursor's
    /// included; at most `SYNC_MAX_KV_OPS`.
    pub kv_ops: u32,
    /// Origin calls this run made; at most `SYNC_MAX_ORIGIN_CALLS`.
    pub origin_calls: u32,
    /// The origin version the next run continues after (saved in KV).
    pub cursor: u64,
    /// Whether changes are left for the next run (the budget ran out, a
    /// write failed, or the origin stopped answering).
    pub more: bool,
    /// What went wrong without failing the run, for the operator.
    pub problems: Vec<String>,
}

impl SyncReport {
    /// Entries written into KV in all.
    pub fn total(&self) -> usize {
        self.options + self.maps + self.ownership
    }
}
