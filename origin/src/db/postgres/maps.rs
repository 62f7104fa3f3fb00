//! Scoped option maps (PostgreSQL): one row per key in `map_values`, plus
//! one row per map in `maps` carrying the map's latest version.

use deadpool_postgres::GenericClient;
use serde_json::Value;

use super::changed::bytes_cell;
use super::next_version;
use crate::db::model::{decode_values, encode_value, now, Cell, MapSnapshot, Scope};
use crate::error::{ApiError, ApiResult};

/// Reads the whole map in one statement, so its version and its values
/// come from the same snapshot.
pub async fn get(c: &impl GenericClient, scope: Scope) -> ApiResult<MapSnapshot> {
    let (tag, owner, within) = scope.parts();
    let stmt = c
        .prepare_cached(
            "SELECT version, NULL::bytea, NULL::text FROM maps WHERE scope = $1 AND owner_id = $2 AND within_id = $3
             UNION ALL
             SELECT NULL, key, value FROM map_values WHERE scope = $1 AND owner_id = $2 AND within_id = $3",
        )
        .await?;
    let mut version = 0;
    let mut entries = Vec::new();
    for row in c.query(&stmt, &[&tag, &owner, &within]).await? {
        match row.try_get::<_, Option<i64>>(0)? {
            Some(v) => version = v,
            None => {
                let value = row.try_get::<_, Option<String>>(2)?.map_or(Cell::Null, Cell::Text);
                entries.push((bytes_cell(row.try_get(1)?), value));
            }
        }
    }
    let values = decode_values(entries).map_err(ApiError::internal)?;
    Ok(MapSnapshot { values, version })
}

/// Stores `key = value` in the map; answers the map after the write. One
/// transaction: the counter, the key and the map's version in one
/// statement (the counter first), then the map read back.
pub async fn put(
    client: &mut deadpool_postgres::Client,
    scope: Scope,
    key: &str,
    value: &Value,
) -> ApiResult<MapSnapshot> {
    let text = encode_value(value)?;
    let (tag, owner, within) = scope.parts();
    let tx = client.transaction().await?;
    let stmt = tx
        .prepare_cached(
            "WITH v AS (UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value),
             kv AS (
                 INSERT INTO map_values (scope, owner_id, within_id, key, value, version, updated_at)
                 SELECT $1, $2, $3, $4, $5, v.value, $6 FROM v
                 ON CONFLICT (scope, owner_id, within_id, key)
                 DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
             )
             INSERT INTO maps (scope, owner_id, within_id, version, updated_at) SELECT $1, $2, $3, v.value, $6 FROM v
             ON CONFLICT (scope, owner_id, within_id)
             DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at",
        )
        .await?;
    tx.execute(&stmt, &[&tag, &owner, &within, &key.as_bytes(), &text, &now()]).await?;
    let snapshot = get(&tx, scope).await?;
    tx.commit().await?;
    Ok(snapshot)
}

/// Removes `key` from the map; `None` when the key was not there (then
/// rolled back, no version used).
pub async fn delete(client: &mut deadpool_postgres::Client, scope: Scope, key: &str) -> ApiResult<Option<MapSnapshot>> {
    let (tag, owner, within) = scope.parts();
    let tx = client.transaction().await?;
    let version = next_version(&tx).await?;
    let stmt = tx
        .prepare_cached("DELETE FROM map_values WHERE scope = $1 AND owner_id = $2 AND within_id = $3 AND key = $4")
        .await?;
    if tx.execute(&stmt, &[&tag, &owner, &within, &key.as_bytes()]).await? == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let touch = tx
        .prepare_cached(
            "INSERT INTO maps (scope, owner_id, within_id, version, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (scope, owner_id, within_id)
             DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at",
        )
        .await?;
    tx.execute(&touch, &[&tag, &owner, &within, &version, &now()]).await?;
    let snapshot = get(&tx, scope).await?;
    tx.commit().await?;
    Ok(Some(snapshot))
}
