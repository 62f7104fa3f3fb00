//! The change feeds the edge's sync job reads to repair its cache after
//! failed or bypassed writes:
//!
//! - `GET /changes?after=V&limit=N`: every kind of change with a version
//!   above `V`, in version order, at most `N`, with where to continue;
//! - `GET /options?updated_since=S`: the older feed, by wall-clock second,
//!   unpaginated, kept for older callers.
//!
//! Both read the same rows (`changed`), and both skip and report a row
//! they cannot read rather than fail.

use rusqlite::Connection;
use serde::Serialize;
use serde_json::{Map, Value};

use super::changed::{self, ownership_fields, Change, Skipped, Window};
use super::OptionRecord;
use crate::error::ApiResult;

/// Rows `GET /changes` answers when the caller gives no `limit`.
pub const DEFAULT_LIMIT: i64 = 100;

/// Most rows one `GET /changes` answers.
pub const MAX_LIMIT: i64 = 1000;

/// One page of `GET /changes`.
#[derive(Debug, Serialize)]
pub struct Page {
    /// The changes, each tagged with its `kind`, in version order.
    pub changes: Vec<Map<String, Value>>,
    /// Rows of this page the origin could not read (left out of `changes`).
    pub skipped: Vec<Skipped>,
    /// The version to ask after next: the last row of this page, read or
    /// skipped (`after` itself when the page is empty).
    pub next: i64,
    /// Whether rows above `next` exist already.
    pub more: bool,
}

/// The changes after version `after`, at most `limit` rows (1..=`MAX_LIMIT`).
///
/// Paging by version never skips a committed change: every write takes the
/// next version inside an `IMMEDIATE` transaction, and SQLite has one
/// writer at a time (here also one connection behind a mutex), so when a
/// version is visible every lower version is either visible too or was
/// rolled back and never used. The page is read inside one transaction, a
/// single snapshot. A thing written again after a page was read moves to a
/// higher version and so appears on a later page: a caller that pages to
/// the end has seen the latest state of everything.
pub fn after(conn: &mut Connection, after: i64, limit: i64) -> ApiResult<Page> {
    let tx = conn.transaction()?;
    let mut rows = changed::rows(&tx, Window::After { after, limit: limit.saturating_add(1) })?;
    let keep = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > keep;
    rows.truncate(keep);
    let next = rows.last().map_or(after, |row| row.version);
    let mut page = Page { changes: Vec::with_capacity(rows.len()), skipped: Vec::new(), next, more };
    for row in rows {
        match row.decode(&tx)? {
            Ok(change) => page.changes.push(change.to_json()),
            Err(skipped) => page.skipped.push(skipped),
        }
    }
    Ok(page)
}

/// A delete in the older feed.
#[derive(Debug, Serialize)]
pub struct DeletedOption {
    /// The deleted option's name.
    pub name: String,
    /// Version of the delete.
    pub version: i64,
    /// Unix seconds of the delete.
    pub updated_at: i64,
}

/// The older feed: everything written or deleted since a moment, each
/// list ordered by version.
#[derive(Debug, Serialize)]
pub struct Changes {
    /// Options written (and still present).
    pub options: Vec<OptionRecord>,
    /// Options deleted (tombstones).
    pub deleted: Vec<DeletedOption>,
    /// Whole option maps with any write, each the scope description plus
    /// `values`, `version` and `updated_at` (an extension of the contract).
    pub maps: Vec<Map<String, Value>>,
    /// Ownership records written, each with `project` (an extension).
    pub ownership: Vec<Map<String, Value>>,
    /// Ownership records deleted: `{project, version, updated_at}` (an extension).
    pub ownership_deleted: Vec<Map<String, Value>>,
    /// Rows the origin could not read, left out of the lists (an extension).
    pub skipped: Vec<Skipped>,
}

/// Collects the older feed for `updated_at >= since`.
pub fn since(conn: &mut Connection, since: i64) -> ApiResult<Changes> {
    let tx = conn.transaction()?;
    let mut changes = Changes {
        options: Vec::new(),
        deleted: Vec::new(),
        maps: Vec::new(),
        ownership: Vec::new(),
        ownership_deleted: Vec::new(),
        skipped: Vec::new(),
    };
    for row in changed::rows(&tx, Window::UpdatedSince(since))? {
        let change = match row.decode(&tx)? {
            Ok(change) => change,
            Err(skipped) => {
                changes.skipped.push(skipped);
                continue;
            }
        };
        match change {
            Change::Option(record) => changes.options.push(record),
            Change::OptionDeleted { name, version, updated_at } => {
                changes.deleted.push(DeletedOption { name, version, updated_at });
            }
            Change::Map { scope, values, version, updated_at } => {
                let mut entry = scope.describe();
                entry.insert("values".into(), Value::Object(values));
                entry.insert("version".into(), version.into());
                entry.insert("updated_at".into(), updated_at.into());
                changes.maps.push(entry);
            }
            Change::Ownership { project, record } => changes.ownership.push(ownership_fields(project, &record)),
            Change::OwnershipDeleted { project, version, updated_at } => {
                let mut entry = Map::new();
                entry.insert("project".into(), project.into());
                entry.insert("version".into(), version.into());
                entry.insert("updated_at".into(), updated_at.into());
                changes.ownership_deleted.push(entry);
            }
        }
    }
    Ok(changes)
}
