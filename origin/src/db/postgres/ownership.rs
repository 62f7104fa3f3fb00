//! Project ownership records, with tombstones for deletes (PostgreSQL).

use deadpool_postgres::GenericClient;

use super::next_version;
use crate::db::model::{now, Lookup, Ownership, OwnershipInput};
use crate::error::{ApiError, ApiResult};

/// Reads a project's ownership record.
pub async fn get(c: &impl GenericClient, project: i64) -> ApiResult<Lookup<Ownership>> {
    let stmt = c
        .prepare_cached(
            "SELECT raw, fallthrough, auto_assignment, is_active, version, updated_at
             FROM ownership WHERE project_id = $1",
        )
        .await?;
    let Some(row) = c.query_opt(&stmt, &[&project]).await? else { return Ok(Lookup::Absent) };
    let raw: Option<Vec<u8>> = row.try_get(0)?;
    let version: i64 = row.try_get(4)?;
    let Some(raw) = raw else { return Ok(Lookup::Deleted { version }) };
    let raw = String::from_utf8(raw)
        .map_err(|_| ApiError::internal(format!("the stored rules of project {project} are not UTF-8")))?;
    Ok(Lookup::Found(Ownership {
        raw,
        fallthrough: row.try_get(1)?,
        auto_assignment: row.try_get(2)?,
        is_active: row.try_get(3)?,
        version,
        updated_at: row.try_get(5)?,
    }))
}

/// Replaces a project's ownership record: one statement, the counter taken
/// first (as for options).
pub async fn put(c: &impl GenericClient, project: i64, input: OwnershipInput) -> ApiResult<Ownership> {
    let updated_at = now();
    let stmt = c
        .prepare_cached(
            "WITH v AS (UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value)
             INSERT INTO ownership (project_id, raw, fallthrough, auto_assignment, is_active, version, updated_at)
             SELECT $1, $2, $3, $4, $5, v.value, $6 FROM v
             ON CONFLICT (project_id) DO UPDATE SET raw = EXCLUDED.raw, fallthrough = EXCLUDED.fallthrough,
                 auto_assignment = EXCLUDED.auto_assignment, is_active = EXCLUDED.is_active,
                 version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
             RETURNING version",
        )
        .await?;
    let row = c
        .query_opt(
            &stmt,
            &[
                &project,
                &input.raw.as_bytes(),
                &input.fallthrough,
                &input.auto_assignment,
                &input.is_active,
                &updated_at,
            ],
        )
        .await?;
    let version: i64 = row.ok_or_else(|| ApiError::internal("the version counter is missing"))?.try_get(0)?;
    Ok(Ownership::stored(input, version, updated_at))
}

/// Deletes a project's record, leaving a tombstone. Returns the delete's
/// version, or the lookup that shows why nothing was deleted (then rolled
/// back, no version used).
pub async fn delete(client: &mut deadpool_postgres::Client, project: i64) -> ApiResult<Result<i64, Lookup<Ownership>>> {
    let tx = client.transaction().await?;
    let version = next_version(&tx).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE ownership SET raw = NULL, version = $2, updated_at = $3 WHERE project_id = $1 AND raw IS NOT NULL",
        )
        .await?;
    if tx.execute(&stmt, &[&project, &version, &now()]).await? == 0 {
        let lookup = get(&tx, project).await?;
        tx.rollback().await?;
        return Ok(Err(lookup));
    }
    tx.commit().await?;
    Ok(Ok(version))
}
