//! The change feed behind `GET /options?updated_since=`: what the edge's
//! sync job re-writes into its cache after failed or bypassed writes.

use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{decode_value, maps, ownership, OptionRecord};
use crate::error::ApiResult;

/// A delete in the feed.
#[derive(Debug, Serialize)]
pub struct DeletedOption {
    /// The deleted option's name.
    pub name: String,
    /// Version of the delete.
    pub version: i64,
    /// Unix seconds of the delete.
    pub updated_at: i64,
}

/// Everything written or deleted since a moment, each list ordered by version.
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
}

/// Collects the feed for `updated_at >= since`.
pub fn since(conn: &Connection, since: i64) -> ApiResult<Changes> {
    let mut changes = Changes {
        options: Vec::new(),
        deleted: Vec::new(),
        maps: Vec::new(),
        ownership: Vec::new(),
        ownership_deleted: Vec::new(),
    };

    let mut stmt = conn.prepare_cached(
        "SELECT name, value, version, updated_at FROM options WHERE updated_at >= ?1 ORDER BY version",
    )?;
    let rows = stmt
        .query_map(params![since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (name, value, version, updated_at) in rows {
        match value {
            Some(text) => changes.options.push(OptionRecord { name, value: decode_value(&text)?, version, updated_at }),
            None => changes.deleted.push(DeletedOption { name, version, updated_at }),
        }
    }

    for (scope, snapshot, updated_at) in maps::changed_since(conn, since)? {
        let mut entry = scope.describe();
        entry.insert("values".into(), Value::Object(snapshot.values));
        entry.insert("version".into(), snapshot.version.into());
        entry.insert("updated_at".into(), updated_at.into());
        changes.maps.push(entry);
    }

    for change in ownership::changed_since(conn, since)? {
        let mut entry = Map::new();
        entry.insert("project".into(), change.project.into());
        match change.record {
            Ok(record) => {
                entry.insert("raw".into(), record.raw.into());
                entry.insert("fallthrough".into(), record.fallthrough.into());
                entry.insert("auto_assignment".into(), record.auto_assignment.into());
                entry.insert("is_active".into(), record.is_active.into());
                entry.insert("version".into(), record.version.into());
                entry.insert("updated_at".into(), record.updated_at.into());
                changes.ownership.push(entry);
            }
            Err(version) => {
                entry.insert("version".into(), version.into());
                entry.insert("updated_at".into(), change.updated_at.into());
                changes.ownership_deleted.push(entry);
            }
        }
    }
    Ok(changes)
}
