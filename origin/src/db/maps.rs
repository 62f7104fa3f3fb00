//! Scoped option maps: organization, project, and the three user scopes.
//!
//! A map is stored as one row per key plus one row in `maps` carrying the
//! map's latest version, so a delete (which removes a key row) still moves
//! the map's version forward and an emptied map is told apart from a map
//! that was never written only by that version.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{begin_write, decode_value, encode_value};
use crate::error::{ApiError, ApiResult};

/// Which map. The user scopes never share values: each is its own map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `/organizations/{id}/options`.
    Organization(i64),
    /// `/projects/{id}/options`.
    Project(i64),
    /// `/users/{id}/options`.
    User(i64),
    /// `/users/{id}/options?project=P`: (user, project).
    UserInProject(i64, i64),
    /// `/users/{id}/options?organization=O`: (user, organization).
    UserInOrganization(i64, i64),
}

impl Scope {
    /// The row key: scope tag, owner id, and the enclosing id (0 for none;
    /// ids are positive, so 0 never collides with a real one).
    fn parts(self) -> (&'static str, i64, i64) {
        match self {
            Scope::Organization(id) => ("organization", id, 0),
            Scope::Project(id) => ("project", id, 0),
            Scope::User(id) => ("user", id, 0),
            Scope::UserInProject(user, project) => ("user_project", user, project),
            Scope::UserInOrganization(user, org) => ("user_organization", user, org),
        }
    }

    /// The scope a stored row key names; `None` for a tag this origin
    /// never writes (a hand-edited or corrupted file).
    pub(crate) fn from_parts(tag: &str, owner: i64, within: i64) -> Option<Self> {
        Some(match tag {
            "organization" => Scope::Organization(owner),
            "project" => Scope::Project(owner),
            "user" => Scope::User(owner),
            "user_project" => Scope::UserInProject(owner, within),
            "user_organization" => Scope::UserInOrganization(owner, within),
            _ => return None,
        })
    }

    /// The scope as the change feed describes it:
    /// `{"scope": "organization"|"project"|"user", "id": N}` plus
    /// `"project": P` or `"organization": O` for the user sub-scopes.
    pub fn describe(self) -> Map<String, Value> {
        let mut m = Map::new();
        let (scope, id, within) = match self {
            Scope::Organization(id) => ("organization", id, None),
            Scope::Project(id) => ("project", id, None),
            Scope::User(id) => ("user", id, None),
            Scope::UserInProject(id, p) => ("user", id, Some(("project", p))),
            Scope::UserInOrganization(id, o) => ("user", id, Some(("organization", o))),
        };
        m.insert("scope".into(), scope.into());
        m.insert("id".into(), id.into());
        if let Some((name, value)) = within {
            m.insert(name.into(), value.into());
        }
        m
    }
}

/// A whole map and its version (0 when never written).
#[derive(Debug, Serialize)]
pub struct MapSnapshot {
    /// Every key and its value.
    pub values: Map<String, Value>,
    /// Highest version of any write to this map, deletes included.
    pub version: i64,
}

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
    let rows =
        stmt.query_map(params![tag, owner, within], |r| Ok((r.get::<_, SqlValue>(0)?, r.get::<_, SqlValue>(1)?)))?;
    let mut values = Map::new();
    for row in rows {
        let (key, text) = match row? {
            (SqlValue::Text(key), SqlValue::Text(text)) => (key, text),
            (SqlValue::Text(key), _) => return Ok(Err(format!("the stored value of key '{key}' is not text"))),
            _ => return Ok(Err("a stored key is not text".to_string())),
        };
        match decode_value(&text) {
            Ok(value) => values.insert(key, value),
            Err(_) => return Ok(Err(format!("the stored value of key '{key}' is not valid JSON"))),
        };
    }
    Ok(Ok(values))
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
