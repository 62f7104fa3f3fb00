//! Project ownership records, with tombstones for deletes.
//!
//! The origin stores the rules text as given; parsing and matching belong
//! to the edge, so a grammar change never needs an origin migration.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::begin_write;
use crate::db::model::{Lookup, Ownership, OwnershipInput};
use crate::error::ApiResult;

const COLUMNS: &str = "raw, fallthrough, auto_assignment, is_active, version, updated_at";

/// Maps a row of [`COLUMNS`]: `Ok(Err(version))` is a tombstone.
fn from_row(r: &Row<'_>) -> rusqlite::Result<Result<Ownership, i64>> {
    let raw: Option<String> = r.get(0)?;
    let version: i64 = r.get(4)?;
    Ok(match raw {
        None => Err(version),
        Some(raw) => Ok(Ownership {
            raw,
            fallthrough: r.get(1)?,
            auto_assignment: r.get(2)?,
            is_active: r.get(3)?,
            version,
            updated_at: r.get(5)?,
        }),
    })
}

/// Reads a project's ownership record.
pub fn get(conn: &Connection, project: i64) -> ApiResult<Lookup<Ownership>> {
    let row = conn
        .query_row(&format!("SELECT {COLUMNS} FROM ownership WHERE project_id = ?1"), params![project], from_row)
        .optional()?;
    Ok(match row {
        None => Lookup::Absent,
        Some(Err(version)) => Lookup::Deleted { version },
        Some(Ok(record)) => Lookup::Found(record),
    })
}

/// Replaces a project's ownership record.
pub fn put(conn: &mut Connection, project: i64, input: OwnershipInput) -> ApiResult<Ownership> {
    let (tx, version, updated_at) = begin_write(conn)?;
    tx.execute(
        "INSERT INTO ownership (project_id, raw, fallthrough, auto_assignment, is_active, version, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (project_id) DO UPDATE SET raw = ?2, fallthrough = ?3,
             auto_assignment = ?4, is_active = ?5, version = ?6, updated_at = ?7",
        params![project, input.raw, input.fallthrough, input.auto_assignment, input.is_active, version, updated_at],
    )?;
    tx.commit()?;
    Ok(Ownership::stored(input, version, updated_at))
}

/// Deletes a project's record, leaving a tombstone. Returns the delete's
/// version, or the lookup that shows why nothing was deleted.
pub fn delete(conn: &mut Connection, project: i64) -> ApiResult<Result<i64, Lookup<Ownership>>> {
    let (tx, version, updated_at) = begin_write(conn)?;
    // Checked inside the transaction; returning early rolls the counter back.
    match get(&tx, project)? {
        Lookup::Found(_) => {}
        other => return Ok(Err(other)),
    }
    tx.execute(
        "UPDATE ownership SET raw = NULL, version = ?2, updated_at = ?3 WHERE project_id = ?1",
        params![project, version, updated_at],
    )?;
    tx.commit()?;
    Ok(Ok(version))
}
