//! The rows of both change feeds, read from PostgreSQL: each column as a
//! [`Cell`] by its actual type, so a column a DBA changed is reported by
//! the shared decoding (`db::changed`) instead of failing the feed.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use serde_json::{Map, Value};
use tokio_postgres::types::Type;

use crate::db::changed::{Row, Table, Window};
use crate::db::model::{decode_values, Cell, Scope};
use crate::error::ApiResult;

/// Every row of every kind in `window`. With [`Window::After`] each kind
/// contributes at most `limit` rows, in version order, so the first
/// `limit` rows of all kinds merged are the first `limit` of the answer.
pub async fn rows(c: &impl GenericClient, window: Window) -> ApiResult<Vec<Row>> {
    let mut out = Vec::new();
    for table in Table::ALL {
        let (columns, name) = (table.columns(), table.name());
        let found = match window {
            Window::After { after, limit } => {
                let sql = format!("SELECT {columns} FROM {name} WHERE version > $1 ORDER BY version LIMIT $2");
                c.query(&c.prepare_cached(&sql).await?, &[&after, &limit]).await?
            }
            Window::UpdatedSince(since) => {
                let sql = format!("SELECT {columns} FROM {name} WHERE updated_at >= $1 ORDER BY version");
                c.query(&c.prepare_cached(&sql).await?, &[&since]).await?
            }
        };
        for row in found {
            let version: i64 = row.try_get(0)?;
            let cells = (1..table.width()).map(|i| cell(&row, i)).collect();
            out.push(Row::new(table, version, cells));
        }
    }
    Ok(out)
}

/// The stored keys and values of the maps that `rows` name, read in one
/// query (within the caller's snapshot).
pub async fn map_values(c: &impl GenericClient, rows: &[Row]) -> ApiResult<MapValues> {
    let scopes: Vec<Scope> = rows.iter().filter_map(Row::map_scope).collect();
    let mut by_scope: HashMap<Scope, Vec<(Cell, Cell)>> = HashMap::new();
    if scopes.is_empty() {
        return Ok(MapValues { by_scope });
    }
    let (mut tags, mut owners, mut withins) = (Vec::new(), Vec::new(), Vec::new());
    for scope in &scopes {
        let (tag, owner, within) = scope.parts();
        tags.push(tag);
        owners.push(owner);
        withins.push(within);
    }
    let stmt = c
        .prepare_cached(
            "SELECT v.scope, v.owner_id, v.within_id, v.key, v.value
             FROM map_values v
             JOIN unnest($1::text[], $2::int8[], $3::int8[]) AS w(scope, owner_id, within_id)
               ON v.scope = w.scope AND v.owner_id = w.owner_id AND v.within_id = w.within_id",
        )
        .await?;
    for row in c.query(&stmt, &[&tags, &owners, &withins]).await? {
        let tag: String = row.try_get(0)?;
        let Some(scope) = Scope::from_parts(&tag, row.try_get(1)?, row.try_get(2)?) else { continue };
        by_scope.entry(scope).or_default().push((cell(&row, 3), cell(&row, 4)));
    }
    Ok(MapValues { by_scope })
}

/// Map values read ahead for one page, handed out once per map.
pub struct MapValues {
    by_scope: HashMap<Scope, Vec<(Cell, Cell)>>,
}

impl MapValues {
    /// The map's keys and values (an emptied map has none), or which stored
    /// key or value cannot be read.
    pub fn take(&mut self, scope: Scope) -> Result<Map<String, Value>, String> {
        decode_values(self.by_scope.remove(&scope).unwrap_or_default())
    }
}

/// Column `i` of `row` as a [`Cell`], by the column's type.
fn cell(row: &tokio_postgres::Row, i: usize) -> Cell {
    let Some(column) = row.columns().get(i) else { return Cell::Null };
    let ty = column.type_();
    let read = if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Cell::Null, Cell::Integer))
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i).map(|v| v.map_or(Cell::Null, |n| Cell::Integer(n.into())))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i).map(|v| v.map_or(Cell::Null, |n| Cell::Integer(n.into())))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i).map(|v| v.map_or(Cell::Null, Cell::Bool))
    } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
        row.try_get::<_, Option<String>>(i).map(|v| v.map_or(Cell::Null, Cell::Text))
    } else if *ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i).map(bytes_cell)
    } else {
        return Cell::Other;
    };
    read.unwrap_or(Cell::Other)
}

/// A `BYTEA` column (names, keys, rules) as text when it is UTF-8.
pub(crate) fn bytes_cell(bytes: Option<Vec<u8>>) -> Cell {
    match bytes {
        None => Cell::Null,
        Some(bytes) => String::from_utf8(bytes).map_or(Cell::Other, Cell::Text),
    }
}
