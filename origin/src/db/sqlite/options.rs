//! Global options by name, with tombstones for deletes.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::begin_write;
use crate::db::model::{decode_value, encode_value, Lookup, OptionRecord};
use crate::error::ApiResult;

/// Reads one option.
pub fn get(conn: &Connection, name: &str) -> ApiResult<Lookup<OptionRecord>> {
    let row = conn
        .query_row("SELECT value, version, updated_at FROM options WHERE name = ?1", params![name], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(match row {
        None => Lookup::Absent,
        Some((None, version, _)) => Lookup::Deleted { version },
        Some((Some(text), version, updated_at)) => {
            Lookup::Found(OptionRecord { name: name.to_string(), value: decode_value(&text)?, version, updated_at })
        }
    })
}

/// Stores `value` under `name` with the next version.
pub fn put(conn: &mut Connection, name: &str, value: Value) -> ApiResult<OptionRecord> {
    let text = encode_value(&value)?;
    let (tx, version, updated_at) = begin_write(conn)?;
    tx.execute(
        "INSERT INTO options (name, value, version, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET value = ?2, version = ?3, updated_at = ?4",
        params![name, text, version, updated_at],
    )?;
    tx.commit()?;
    Ok(OptionRecord { name: name.to_string(), value, version, updated_at })
}

/// Deletes `name`, leaving a tombstone. Returns the delete's version, or the
/// lookup that shows why nothing was deleted.
pub fn delete(conn: &mut Connection, name: &str) -> ApiResult<Result<i64, Lookup<OptionRecord>>> {
    let (tx, version, updated_at) = begin_write(conn)?;
    // Checked inside the transaction; returning early rolls the counter back.
    match get(&tx, name)? {
        Lookup::Found(_) => {}
        other => return Ok(Err(other)),
    }
    tx.execute(
        "UPDATE options SET value = NULL, version = ?2, updated_at = ?3 WHERE name = ?1",
        params![name, version, updated_at],
    )?;
    tx.commit()?;
    Ok(Ok(version))
}
