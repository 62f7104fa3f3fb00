//! What the storage holds, as the contract answers it: the same for every
//! backend, so routes never know which database is behind them.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// Result of reading one record that may have been deleted.
#[derive(Debug)]
pub enum Lookup<T> {
    /// The record exists.
    Found(T),
    /// It was deleted; the tombstone keeps the version of the delete.
    Deleted { version: i64 },
    /// It was never written.
    Absent,
}

impl<T> Lookup<T> {
    /// The tombstone version, if the record was deleted.
    pub fn tombstone(&self) -> Option<i64> {
        match self {
            Lookup::Deleted { version } => Some(*version),
            _ => None,
        }
    }
}

/// A stored option as the contract answers it.
#[derive(Debug, Serialize)]
pub struct OptionRecord {
    /// The option's name.
    pub name: String,
    /// Its value; never JSON `null`.
    pub value: Value,
    /// Version of the write that stored it.
    pub version: i64,
    /// Unix seconds of that write.
    pub updated_at: i64,
}

/// What an ownership PUT stores (defaults already applied).
#[derive(Debug)]
pub struct OwnershipInput {
    /// Rules text, one rule a line.
    pub raw: String,
    /// Whether unmatched events fall through to "everyone".
    pub fallthrough: bool,
    /// Whether matched owners are auto-assigned.
    pub auto_assignment: bool,
    /// Whether the rules apply at all.
    pub is_active: bool,
}

/// A stored ownership record as the contract answers it. The origin keeps
/// the rules text as given; parsing and matching belong to the edge, so a
/// grammar change never needs an origin migration.
#[derive(Debug, Serialize)]
pub struct Ownership {
    /// Rules text, one rule a line.
    pub raw: String,
    /// Whether unmatched events fall through to "everyone".
    pub fallthrough: bool,
    /// Whether matched owners are auto-assigned.
    pub auto_assignment: bool,
    /// Whether the rules apply at all.
    pub is_active: bool,
    /// Version of the write that stored it.
    pub version: i64,
    /// Unix seconds of that write.
    pub updated_at: i64,
}

impl Ownership {
    /// The record a PUT of `input` stores at `version`.
    pub fn stored(input: OwnershipInput, version: i64, updated_at: i64) -> Self {
        Self {
            raw: input.raw,
            fallthrough: input.fallthrough,
            auto_assignment: input.auto_assignment,
            is_active: input.is_active,
            version,
            updated_at,
        }
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

/// Which map. The user scopes never share values: each is its own map.
/// A map is stored as one row per key plus one row carrying the map's
/// latest version, so a delete (which removes a key row) still moves the
/// map's version forward and an emptied map is told apart from a map that
/// was never written only by that version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    pub(crate) fn parts(self) -> (&'static str, i64, i64) {
        match self {
            Scope::Organization(id) => ("organization", id, 0),
            Scope::Project(id) => ("project", id, 0),
            Scope::User(id) => ("user", id, 0),
            Scope::UserInProject(user, project) => ("user_project", user, project),
            Scope::UserInOrganization(user, org) => ("user_organization", user, org),
        }
    }

    /// The scope a stored row key names; `None` for a tag this origin
    /// never writes (a hand-edited or corrupted row).
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

/// A stored column read without trusting its type, so a row a backend
/// cannot read (a hand edit, a corrupted file) is reported, not fatal.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL `NULL`.
    Null,
    /// An integer.
    Integer(i64),
    /// A boolean (PostgreSQL; SQLite stores flags as 0/1 integers).
    Bool(bool),
    /// UTF-8 text.
    Text(String),
    /// Anything else: a float, bytes that are not UTF-8, another type.
    Other,
}

/// The keys and values of one map from its stored rows; `Err` says which
/// stored key or value this origin cannot read: a direct read answers it
/// as a 500, the change feed skips the map and reports it.
pub(crate) fn decode_values(rows: impl IntoIterator<Item = (Cell, Cell)>) -> Result<Map<String, Value>, String> {
    let mut values = Map::new();
    for row in rows {
        let (key, text) = match row {
            (Cell::Text(key), Cell::Text(text)) => (key, text),
            (Cell::Text(key), _) => return Err(format!("the stored value of key '{key}' is not text")),
            _ => return Err("a stored key is not text".to_string()),
        };
        match decode_value(&text) {
            Ok(value) => values.insert(key, value),
            Err(_) => return Err(format!("the stored value of key '{key}' is not valid JSON")),
        };
    }
    Ok(values)
}

/// Decodes a JSON value stored by this origin. A failure means the row was
/// edited by hand or corrupted: a fault of the origin, not of the caller.
pub(crate) fn decode_value(text: &str) -> ApiResult<Value> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("stored value is not valid JSON: {e}")))
}

/// Encodes a value for storage.
pub(crate) fn encode_value(value: &Value) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| ApiError::internal(format!("cannot encode value: {e}")))
}

/// Unix seconds. A clock before 1970 reads as 0 rather than failing a write.
pub fn now() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}
