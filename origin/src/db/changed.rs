//! What changed: the latest row of every option, option map and ownership
//! record inside a window, decoded leniently, for both change feeds and
//! both backends (each backend reads the rows; decoding is shared here).
//!
//! Each thing keeps only its latest state and version, so "what changed"
//! lists each thing once, at its current version. A row this origin cannot
//! read (a value that is not JSON, an unknown scope tag, a column of the
//! wrong type: a hand-edited or corrupted row) becomes a [`Skipped`] entry
//! with the row's version instead of failing the whole feed, so one bad row
//! never stops the edge from syncing every other change. Rows whose
//! `version` is not even an integer cannot be placed in version order and
//! are left out of the feeds altogether.

use serde::Serialize;
use serde_json::{Map, Value};

use super::model::{decode_value, Cell, OptionRecord, Ownership, Scope};
use crate::error::ApiResult;

/// Reads the keys and values of one map for the feed (the inner `Err`:
/// a stored key or value this origin cannot read).
pub type MapValues<'a> = dyn FnMut(Scope) -> ApiResult<Result<Map<String, Value>, String>> + 'a;

/// Which rows a feed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Every row stamped at or after these Unix seconds (`GET /options?updated_since=`).
    UpdatedSince(i64),
    /// Rows with a version above `after`, at most `limit` of each kind
    /// (`GET /changes`; the caller merges and cuts).
    After {
        /// The version to list after.
        after: i64,
        /// Most rows read per kind.
        limit: i64,
    },
}

/// The kind of thing a row stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `options`: one row per option, a tombstone after a delete.
    Options,
    /// `maps`: one row per map, carrying its latest version.
    Maps,
    /// `ownership`: one row per project, a tombstone after a delete.
    Ownership,
}

impl Table {
    /// Every table a feed reads.
    pub const ALL: [Table; 3] = [Table::Options, Table::Maps, Table::Ownership];

    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Options => "options",
            Table::Maps => "maps",
            Table::Ownership => "ownership",
        }
    }

    /// The columns read, `version` always first.
    pub fn columns(self) -> &'static str {
        match self {
            Table::Options => "version, name, value, updated_at",
            Table::Maps => "version, scope, owner_id, within_id, updated_at",
            Table::Ownership => "version, project_id, raw, fallthrough, auto_assignment, is_active, updated_at",
        }
    }

    /// The kind a skipped row of this table is reported as.
    fn kind(self) -> &'static str {
        match self {
            Table::Options => "option",
            Table::Maps => "map",
            Table::Ownership => "ownership",
        }
    }

    /// How many columns [`Table::columns`] lists.
    pub fn width(self) -> usize {
        self.columns().split(',').count()
    }
}

/// One row, not yet decoded: its version and its other columns as the
/// backend holds them (reading a column as a [`Cell`] cannot fail).
#[derive(Debug)]
pub struct Row {
    /// The version of the row's latest write (an integer: the query sees to it).
    pub version: i64,
    table: Table,
    columns: Vec<Cell>,
}

/// A change, decoded.
#[derive(Debug)]
pub enum Change {
    /// An option written (and still present).
    Option(OptionRecord),
    /// An option deleted (a tombstone).
    OptionDeleted {
        /// The option's name.
        name: String,
        /// Version of the delete.
        version: i64,
        /// Unix seconds of the delete.
        updated_at: i64,
    },
    /// A whole option map (possibly emptied by deletes).
    Map {
        /// Which map.
        scope: Scope,
        /// Every key and its value.
        values: Map<String, Value>,
        /// Version of the map's latest write.
        version: i64,
        /// Unix seconds of that write.
        updated_at: i64,
    },
    /// An ownership record written.
    Ownership {
        /// The project.
        project: i64,
        /// The record.
        record: Ownership,
    },
    /// An ownership record deleted.
    OwnershipDeleted {
        /// The project.
        project: i64,
        /// Version of the delete.
        version: i64,
        /// Unix seconds of the delete.
        updated_at: i64,
    },
}

/// A row the origin could not read, reported instead of failing the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// `option`, `map` or `ownership`.
    pub kind: &'static str,
    /// The row's version (a feed's `next` moves past it).
    pub version: i64,
    /// What is wrong with it, for the operator (never a stored value).
    pub reason: String,
}

impl Row {
    /// A row of `table` at `version` with the columns after `version` of
    /// [`Table::columns`], in that order.
    pub fn new(table: Table, version: i64, columns: Vec<Cell>) -> Self {
        Self { version, table, columns }
    }

    /// The map a row of `maps` names, when it names one this origin knows:
    /// what a backend reads the values of before [`Row::decode`].
    pub fn map_scope(&self) -> Option<Scope> {
        if self.table != Table::Maps {
            return None;
        }
        match (self.column(0), self.column(1), self.column(2)) {
            (Cell::Text(tag), Cell::Integer(owner), Cell::Integer(within)) => Scope::from_parts(tag, *owner, *within),
            _ => None,
        }
    }

    /// The change this row records, or why it cannot be read. Only a
    /// database failure is an error (a map's values are read through `values`).
    pub fn decode(&self, values: &mut MapValues<'_>) -> ApiResult<Result<Change, Skipped>> {
        let decoded = match self.table {
            Table::Options => self.option(),
            Table::Maps => self.map(values)?,
            Table::Ownership => self.ownership(),
        };
        Ok(decoded.map_err(|reason| Skipped { kind: self.table.kind(), version: self.version, reason }))
    }

    fn column(&self, i: usize) -> &Cell {
        self.columns.get(i).unwrap_or(&Cell::Null)
    }

    fn option(&self) -> Result<Change, String> {
        let name = text(self.column(0), "name")?;
        let updated_at = integer(self.column(2), &format!("option '{name}': updated_at"))?;
        let version = self.version;
        match self.column(1) {
            Cell::Null => Ok(Change::OptionDeleted { name, version, updated_at }),
            Cell::Text(stored) => match decode_value(stored) {
                Ok(Value::Null) => Err(format!("option '{name}': the stored value is null")),
                Ok(value) => Ok(Change::Option(OptionRecord { name, value, version, updated_at })),
                Err(_) => Err(format!("option '{name}': the stored value is not valid JSON")),
            },
            _ => Err(format!("option '{name}': the stored value is not text")),
        }
    }

    fn map(&self, values: &mut MapValues<'_>) -> ApiResult<Result<Change, String>> {
        let parts = (|| {
            let tag = text(self.column(0), "map scope")?;
            let owner = integer(self.column(1), "map owner id")?;
            let within = integer(self.column(2), "map enclosing id")?;
            let scope = Scope::from_parts(&tag, owner, within).ok_or_else(|| format!("unknown map scope '{tag}'"))?;
            Ok((scope, integer(self.column(3), "map updated_at")?))
        })();
        let (scope, updated_at) = match parts {
            Ok(parts) => parts,
            Err(reason) => return Ok(Err(reason)),
        };
        Ok(values(scope)?
            .map(|values| Change::Map { scope, values, version: self.version, updated_at })
            .map_err(|reason| format!("map {}: {reason}", describe(scope))))
    }

    fn ownership(&self) -> Result<Change, String> {
        let project = integer(self.column(0), "ownership project id")?;
        let what = |field: &str| format!("ownership of project {project}: {field}");
        let updated_at = integer(self.column(5), &what("updated_at"))?;
        let version = self.version;
        let raw = match self.column(1) {
            Cell::Null => return Ok(Change::OwnershipDeleted { project, version, updated_at }),
            Cell::Text(raw) => raw.clone(),
            _ => return Err(what("raw is not text")),
        };
        let record = Ownership {
            raw,
            fallthrough: flag(self.column(2), &what("fallthrough"))?,
            auto_assignment: flag(self.column(3), &what("auto_assignment"))?,
            is_active: flag(self.column(4), &what("is_active"))?,
            version,
            updated_at,
        };
        Ok(Change::Ownership { project, record })
    }
}

impl Change {
    /// The change as `GET /changes` lists it: `kind` plus the fields the
    /// older feed gives the same thing.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            Change::Option(record) => {
                m.insert("kind".into(), "option".into());
                m.insert("name".into(), record.name.clone().into());
                m.insert("value".into(), record.value.clone());
                stamp(&mut m, record.version, record.updated_at);
            }
            Change::OptionDeleted { name, version, updated_at } => {
                m.insert("kind".into(), "option_deleted".into());
                m.insert("name".into(), name.clone().into());
                stamp(&mut m, *version, *updated_at);
            }
            Change::Map { scope, values, version, updated_at } => {
                m.insert("kind".into(), "map".into());
                m.extend(scope.describe());
                m.insert("values".into(), Value::Object(values.clone()));
                stamp(&mut m, *version, *updated_at);
            }
            Change::Ownership { project, record } => {
                m.insert("kind".into(), "ownership".into());
                m.extend(ownership_fields(*project, record));
            }
            Change::OwnershipDeleted { project, version, updated_at } => {
                m.insert("kind".into(), "ownership_deleted".into());
                m.insert("project".into(), (*project).into());
                stamp(&mut m, *version, *updated_at);
            }
        }
        m
    }
}

/// `{project, raw, fallthrough, auto_assignment, is_active, version, updated_at}`.
pub fn ownership_fields(project: i64, record: &Ownership) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("project".into(), project.into());
    m.insert("raw".into(), record.raw.clone().into());
    m.insert("fallthrough".into(), record.fallthrough.into());
    m.insert("auto_assignment".into(), record.auto_assignment.into());
    m.insert("is_active".into(), record.is_active.into());
    stamp(&mut m, record.version, record.updated_at);
    m
}

fn stamp(m: &mut Map<String, Value>, version: i64, updated_at: i64) {
    m.insert("version".into(), version.into());
    m.insert("updated_at".into(), updated_at.into());
}

fn describe(scope: Scope) -> String {
    Value::Object(scope.describe()).to_string()
}

fn text(value: &Cell, what: &str) -> Result<String, String> {
    match value {
        Cell::Text(text) => Ok(text.clone()),
        _ => Err(format!("{what} is not text")),
    }
}

fn integer(value: &Cell, what: &str) -> Result<i64, String> {
    match value {
        Cell::Integer(n) => Ok(*n),
        _ => Err(format!("{what} is not an integer")),
    }
}

fn flag(value: &Cell, what: &str) -> Result<bool, String> {
    match value {
        Cell::Integer(0) | Cell::Bool(false) => Ok(false),
        Cell::Integer(1) | Cell::Bool(true) => Ok(true),
        _ => Err(format!("{what} is not a boolean (0 or 1)")),
    }
}
