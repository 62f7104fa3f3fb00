//! Scoped option maps: organization, project, and the three user scopes.
//!
//! A map is stored as one row per key plus one row in `maps` carrying the
//! map's latest version, so a delete (which removes a key row) still moves
//! the map's version forward and an emptied map is told apart from a map
//! that was never written only by that version.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::begin_write;
use super::changed::cell;
use crate::db::model::{decode_values, encode_value, MapSnapshot, Scope};
use crate::error::{ApiError, ApiResult};

/// Reads the whole map.
pub fn get(conn: &Connection, scope: Scope) -> ApiResult<MapSnapshot> {
    let (tag, owner, within) = scope.parts();
    let version: i64 = conn
        .query_row(
            "SELECT version FROM maps WHERE scope = ?1 AND owner_id = ?2 AND within_id = ?3",
            params![tag, owner, within],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let values = read_values(conn, scope)?.map_err(ApiError::internal)?;
    Ok(MapSnapshot { values, version })
}

/// Every key of the map and its value. The inner `Err` says which stored
/// key or value this origin cannot read (a hand-edited or corrupted file):
/// a direct read answers it as a 500, the change feed skips the map and
/// reports it.
pub(crate) fn read_values(conn: &Connection, scope: Scope) -> ApiResult<Result<Map<String, Value>, String>> {
    let (tag, owner, within) = scope.parts();
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM map_values
         WHERE scope = ?1 AND owner_id = ?2 AND within_id = ?3 ORDER BY key",
    )?;
    let rows = stmt.query_map(params![tag, owner, within], |r| {
        Ok((cell(r.get::<_, SqlValue>(0)?), cell(r.get::<_, SqlValue>(1)?)))
    })?;
    let rows = rows.collect::<Result<Vec<_>, _>>()?;
    Ok(decode_values(rows))
}

/// Stores `key = value` in the map; answers the map after the write.
pub fn put(conn: &mut Connection, scope: Scope, key: &str, value: &Value) -> ApiResult<MapSnapshot> {
    let text = encode_value(value)?;
    let (tag, owner, within) = scope.parts();
    let (tx, version, updated_at) = begin_write(conn)?;
    tx.execute(
        "INSERT INTO map_values (scope, owner_id, within_id, key, value, version, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (scope, owner_id, within_id, key)
         DO UPDATE SET value = ?5, version = ?6, updated_at = ?7",
        params![tag, owner, within, key, text, version, updated_at],
    )?;
    touch(&tx, scope, version, updated_at)?;
    let snapshot = get(&tx, scope)?;
    tx.commit()?;
    Ok(snapshot)
}

/// Removes `key` from the map; `None` when the key was not there.
pub fn delete(conn: &mut Connection, scope: Scope, key: &str) -> ApiResult<Option<MapSnapshot>> {
    let (tag, owner, within) = scope.parts();
    let (tx, version, updated_at) = begin_write(conn)?;
    let removed = tx.execute(
        "DELETE FROM map_values WHERE scope = ?1 AND owner_id = ?2 AND within_id = ?3 AND key = ?4",
        params![tag, owner, within, key],
    )?;
    if removed == 0 {
        // Dropping the transaction rolls the version counter back.
        return Ok(None);
    }
    touch(&tx, scope, version, updated_at)?;
    let snapshot = get(&tx, scope)?;
    tx.commit()?;
    Ok(Some(snapshot))
}

/// Moves the map's version forward to this write's.
fn touch(conn: &Connection, scope: Scope, version: i64, updated_at: i64) -> ApiResult<()> {
    let (tag, owner, within) = scope.parts();
    conn.execute(
        "INSERT INTO maps (scope, owner_id, within_id, version, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (scope, owner_id, within_id) DO UPDATE SET version = ?4, updated_at = ?5",
        params![tag, owner, within, version, updated_at],
    )?;
    Ok(())
}
