//! `/changes`: the change feed, paged by version.

use axum::extract::{RawQuery, State};
use axum::Json;

use crate::db::changes::{Page, DEFAULT_LIMIT, MAX_LIMIT};
use crate::error::ApiResult;
use crate::input;
use crate::server::AppState;

/// `GET /changes?after=<version>&limit=<n>`: every kind of change with a
/// version above `after` (default 0), in version order, at most `limit`
/// (default 100, at most 1000), as `{changes, skipped, next, more}`.
pub async fn list(State(st): State<AppState>, RawQuery(query): RawQuery) -> ApiResult<Json<Page>> {
    let (after, limit) = input::changes_window(query.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    Ok(Json(st.db.changes_after(after, limit).await?))
}
