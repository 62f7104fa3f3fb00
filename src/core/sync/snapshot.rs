//! The sync job's side of the last-known-good snapshot (`core::snapshot`):
//! read it at the start of a run, merge every change the run pages
//! through, write it back at the end, all within the run's budget.
//!
//! The snapshot keeps the version it is current to, and a run starts at
//! the lower of the sync cursor and that version, so a run that could not
//! write the snapshot (KV failed, no budget) leaves it behind and the next
//! run catches it up: changes are never lost to it. With no snapshot in KV
//! yet the run starts from version 0 and builds a complete one (a first
//! pass over a large origin takes several runs; KV's per-key copies that
//! are already current are skipped, not rewritten).

use crate::core::key::CacheKey;
use crate::core::lifecycle::Millis;
use crate::core::ports::NetworkCache;
use crate::core::snapshot::{decode_head, decode_part, encode, Snapshot};

use super::budget::Budget;

/// What a run keeps for at least one page of changes besides the
/// snapshot: the page's bulk read and one write.
const PAGE_OPS: u32 = 2;

/// How long KV keeps the snapshot: ten years, in effect "until replaced",
/// so an outage of any length still finds it (KV's puts need an expiry).
pub const EXPIRATION_SECS: u64 = 10 * 365 * 24 * 3600;

/// The snapshot a run works on, and the KV operations kept to write it.
pub struct Working {
    /// The snapshot read from KV (or a new empty one), merged into.
    pub snapshot: Snapshot,
    /// How many parts KV holds now (0: none), to delete an old split.
    held_parts: u32,
    /// Whether an entry changed since it was read.
    pub changed: bool,
    /// KV operations already taken from the budget for writing it back.
    reserved: u32,
}

/// Reads the snapshot for a run. `Ok(None)`: the run goes without it (KV
/// failed, or the budget cannot hold reading and writing it), with the
/// reason for the report. A head or part that does not decode starts a new
/// snapshot from version 0.
pub async fn load<K: NetworkCache>(kv: &K, budget: &mut Budget) -> Result<Working, String> {
    // The head, a new snapshot's part and head, and still a page: its bulk
    // read and one write. A budget too small for both serves the page.
    if budget.kv_left() < 1 + 2 + PAGE_OPS || !budget.take_kv(1) {
        return Err(too_few_ops());
    }
    let text = kv
        .get(CacheKey::snapshot_head().as_str())
        .await
        .map_err(|e| format!("KV could not read the snapshot ({}); the next run updates it", e.kind()))?;
    let Some(text) = text else {
        return fresh(0, budget);
    };
    let Ok(head) = decode_head(&text) else {
        return fresh(0, budget);
    };
    // Reading the parts, and writing them back with the head.
    let reserved = head.parts.saturating_add(1);
    let needed = head.parts.saturating_add(reserved);
    if budget.kv_left() < needed.saturating_add(PAGE_OPS) || !budget.take_kv(needed) {
        return Err(too_few_ops());
    }
    let mut snapshot =
        Snapshot { version: head.version, since: head.since, complete: head.complete, ..Snapshot::default() };
    for index in 0..head.parts {
        // One read per part (a part is large; a bulk read gains nothing).
        let text = kv
            .get(CacheKey::snapshot_part(head.parts, index).as_str())
            .await
            .map_err(|e| format!("KV could not read the snapshot ({}); the next run updates it", e.kind()))?;
        let readable = text.is_some_and(|t| decode_part(&t, &mut snapshot).is_ok());
        if !readable {
            return Ok(Working { snapshot: Snapshot::empty(), held_parts: head.parts, changed: true, reserved });
        }
    }
    Ok(Working { snapshot, held_parts: head.parts, changed: false, reserved })
}

/// A new snapshot, built from version 0, with the operations to write one
/// part and the head kept.
fn fresh(held_parts: u32, budget: &mut Budget) -> Result<Working, String> {
    if !budget.take_kv(2) {
        return Err(too_few_ops());
    }
    Ok(Working { snapshot: Snapshot::empty(), held_parts, changed: true, reserved: 2 })
}

fn too_few_ops() -> String {
    "too few KV operations to bring the snapshot up to date besides a page of changes; raise SYNC_MAX_KV_OPS".into()
}

/// Writes the snapshot back, current to `through`, confirmed by the origin
/// at `now`: the parts when an entry changed (before the head, so a reader
/// of the new head finds them), the head always (its time says when the
/// origin last confirmed the whole), then the parts of an older split.
/// [`load`] kept operations for the usual case; more parts than that take
/// more from the budget, and when they do not fit the snapshot is left as
/// it was (the next run catches it up). Answers a problem for the report
/// when it was not written.
pub async fn save<K: NetworkCache>(
    kv: &K,
    budget: &mut Budget,
    mut working: Working,
    through: u64,
    now: Millis,
) -> Option<String> {
    let snapshot = &mut working.snapshot;
    snapshot.version = snapshot.version.max(through);
    snapshot.since = now;
    let encoded = encode(snapshot);
    let parts = encoded.head.parts;
    let write_parts = working.changed || parts != working.held_parts;
    let resplit = working.held_parts != 0 && working.held_parts != parts;
    let needed = 1 + if write_parts { parts } else { 0 } + if resplit { working.held_parts } else { 0 };
    if needed > working.reserved {
        if !budget.take_kv(needed - working.reserved) {
            budget.give_back_kv(working.reserved);
            return Some(too_few_ops());
        }
    } else {
        budget.give_back_kv(working.reserved - needed);
    }
    let failed = |e: crate::core::ports::TierError| {
        Some(format!("KV could not write the snapshot ({}); the next run writes it again", e.kind()))
    };
    if write_parts {
        for (index, text) in (0u32..).zip(encoded.parts) {
            if let Err(e) = kv.put(CacheKey::snapshot_part(parts, index).as_str(), text, EXPIRATION_SECS).await {
                return failed(e);
            }
        }
    }
    if let Err(e) = kv.put(CacheKey::snapshot_head().as_str(), encoded.head_text, EXPIRATION_SECS).await {
        return failed(e);
    }
    if resplit {
        for index in 0..working.held_parts {
            // Left behind, an old part only takes room: no reader finds it.
            let _ = kv.delete(CacheKey::snapshot_part(working.held_parts, index).as_str()).await;
        }
    }
    None
}
