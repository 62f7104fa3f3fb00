//! Global options by name, with tombstones for deletes (PostgreSQL).

use deadpool_postgres::GenericClient;
use serde_json::Value;

use super::next_version;
use crate::db::model::{decode_value, encode_value, now, Lookup, OptionRecord};
use crate::error::{ApiError, ApiResult};

/// Reads one option.
pub async fn get(c: &impl GenericClient, name: &str) -> ApiResult<Lookup<OptionRecord>> {
    let stmt = c.prepare_cached("SELECT value, version, updated_at FROM options WHERE name = $1").await?;
    let Some(row) = c.query_opt(&stmt, &[&name.as_bytes()]).await? else { return Ok(Lookup::Absent) };
    let (value, version, updated_at): (Option<String>, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    Ok(match value {
        None => Lookup::Deleted { version },
        Some(text) => {
            Lookup::Found(OptionRecord { name: name.to_string(), value: decode_value(&text)?, version, updated_at })
        }
    })
}

/// Stores `value` under `name` with the next version: one statement (so
/// one transaction), the counter taken first, so the version's lock is held
/// only while that statement runs and commits.
pub async fn put(c: &impl GenericClient, name: String, value: Value) -> ApiResult<OptionRecord> {
    let text = encode_value(&value)?;
    let updated_at = now();
    let stmt = c
        .prepare_cached(
            "WITH v AS (UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value)
             INSERT INTO options (name, value, version, updated_at) SELECT $1, $2, v.value, $3 FROM v
             ON CONFLICT (name) DO UPDATE
                 SET value = EXCLUDED.value, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
             RETURNING version",
        )
        .await?;
    let row = c.query_opt(&stmt, &[&name.as_bytes(), &text, &updated_at]).await?;
    let version: i64 = row.ok_or_else(|| ApiError::internal("the version counter is missing"))?.try_get(0)?;
    Ok(OptionRecord { name, value, version, updated_at })
}

/// Deletes `name`, leaving a tombstone. Returns the delete's version, or the
/// lookup that shows why nothing was deleted (the transaction, and with it
/// the counter's increment, is then rolled back).
pub async fn delete(
    client: &mut deadpool_postgres::Client,
    name: &str,
) -> ApiResult<Result<i64, Lookup<OptionRecord>>> {
    let tx = client.transaction().await?;
    let version = next_version(&tx).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE options SET value = NULL, version = $2, updated_at = $3 WHERE name = $1 AND value IS NOT NULL",
        )
        .await?;
    if tx.execute(&stmt, &[&name.as_bytes(), &version, &now()]).await? == 0 {
        let lookup = get(&tx, name).await?;
        tx.rollback().await?;
        return Ok(Err(lookup));
    }
    tx.commit().await?;
    Ok(Ok(version))
}
