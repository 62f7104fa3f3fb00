//! The rows of both change feeds, read from SQLite as they are stored:
//! each column as a raw SQLite value, so a row of the wrong type is
//! reported by the shared decoding (`db::changed`) instead of failing.

use rusqlite::types::Value as Sql;
use rusqlite::{params, Connection};

use crate::db::changed::{Row, Table, Window};
use crate::db::model::Cell;
use crate::error::ApiResult;

/// Every row of every kind in `window`. With [`Window::After`] each kind
/// contributes at most `limit` rows, in version order, so the first
/// `limit` rows of all kinds merged are the first `limit` of the answer.
pub fn rows(conn: &Connection, window: Window) -> ApiResult<Vec<Row>> {
    let (condition, bound, limit) = match window {
        Window::UpdatedSince(since) => ("updated_at >= ?1", since, -1),
        Window::After { after, limit } => ("version > ?1", after, limit),
    };
    let mut out = Vec::new();
    for table in Table::ALL {
        let sql = format!(
            "SELECT {} FROM {} WHERE typeof(version) = 'integer' AND {condition} ORDER BY version LIMIT ?2",
            table.columns(),
            table.name()
        );
        let width = table.width();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![bound, limit], |r| {
            let version: i64 = r.get(0)?;
            let columns = (1..width).map(|i| r.get::<_, Sql>(i).map(cell)).collect::<Result<Vec<_>, _>>()?;
            Ok(Row::new(table, version, columns))
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// A raw SQLite value as a backend-neutral [`Cell`].
pub fn cell(value: Sql) -> Cell {
    match value {
        Sql::Null => Cell::Null,
        Sql::Integer(n) => Cell::Integer(n),
        Sql::Text(text) => Cell::Text(text),
        Sql::Real(_) | Sql::Blob(_) => Cell::Other,
    }
}
