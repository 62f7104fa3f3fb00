//! The change feeds the edge's sync job reads to repair its cache after
//! failed or bypassed writes:
//!
//! - `GET /changes?after=V&limit=N`: every kind of change with a version
//!   above `V`, in version order, at most `N`, with where to continue;
//! - `GET /options?updated_since=S`: the older feed, by wall-clock second,
//!   unpaginated, kept for older callers.
//!
//! Both are built here from the rows a backend read (`changed`), the same
//! way for every backend, and both skip and report a row they cannot read
//! rather than fail.

use serde::Serialize;
use serde_json::{Map, Value};

use super::changed::{ownership_fields, Change, MapValues, Row, Skipped};
use super::model::OptionRecord;
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

/// Keeps the first `limit` of `rows` (every kind's rows above a version,
/// at most `limit + 1` of each kind), in version order; answers them and
/// whether rows above the last kept one exist. A backend reads the map
/// values of the kept rows only.
pub fn cut(mut rows: Vec<Row>, limit: i64) -> (Vec<Row>, bool) {
    rows.sort_by_key(|row| row.version);
    let keep = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > keep;
    rows.truncate(keep);
    (rows, more)
}

/// The page of `GET /changes?after=…` from the rows [`cut`] kept, read in
/// one snapshot of the database; `values` reads a map's values in that
/// same snapshot.
///
/// Paging by version never skips a committed change as long as every
/// backend keeps one promise: when a version is visible, every lower
/// version is visible too or was rolled back and never used. Both do so
/// by taking versions one writer at a time (see `sqlite` and `postgres`).
/// A thing written again after a page was read moves to a higher version
/// and so appears on a later page: a caller that pages to the end has seen
/// the latest state of everything.
pub fn page(rows: Vec<Row>, after: i64, more: bool, values: &mut MapValues<'_>) -> ApiResult<Page> {
    let next = rows.last().map_or(after, |row| row.version);
    let mut page = Page { changes: Vec::with_capacity(rows.len()), skipped: Vec::new(), next, more };
    for row in rows {
        match row.decode(values)? {
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

/// The older feed from every row with `updated_at >= since` (any order),
/// read in one snapshot; `values` reads a map's values in that snapshot.
pub fn since(mut rows: Vec<Row>, values: &mut MapValues<'_>) -> ApiResult<Changes> {
    rows.sort_by_key(|row| row.version);
    let mut changes = Changes {
        options: Vec::new(),
        deleted: Vec::new(),
        maps: Vec::new(),
        ownership: Vec::new(),
        ownership_deleted: Vec::new(),
        skipped: Vec::new(),
    };
    for row in rows {
        let change = match row.decode(values)? {
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
