//! `/projects/{id}/ownership`: the project's ownership record.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::db::{Lookup, Ownership};
use crate::error::{ApiError, ApiResult};
use crate::input::{self, Body, PathParams};
use crate::server::AppState;

fn project(params: &PathParams) -> ApiResult<i64> {
    input::id("project id", params.get("id")?)
}

fn not_found(lookup: &Lookup<Ownership>) -> ApiError {
    match lookup.tombstone() {
        Some(_) => ApiError::not_found("ownership was deleted"),
        None => ApiError::not_found("project has no ownership record"),
    }
    .with_version(lookup.tombstone())
}

/// `GET`: the record, or 404 (with the tombstone's version after a delete)
/// — the answer the edge caches negatively for most projects.
pub async fn get(State(st): State<AppState>, p: PathParams) -> ApiResult<Json<Ownership>> {
    let project = project(&p)?;
    match st.db.ownership(project).await? {
        Lookup::Found(record) => Ok(Json(record)),
        other => Err(not_found(&other)),
    }
}

/// `PUT` with `{raw, fallthrough?, auto_assignment?, is_active?}`: replaces
/// the record; the rules text is stored, not parsed.
pub async fn put(State(st): State<AppState>, p: PathParams, body: Body) -> ApiResult<Json<Ownership>> {
    let project = project(&p)?;
    let input = input::ownership_body(body)?;
    Ok(Json(st.db.put_ownership(project, input).await?))
}

/// `DELETE`: `{"version": N}` of the delete, or 404.
pub async fn delete(State(st): State<AppState>, p: PathParams) -> ApiResult<Json<Value>> {
    let project = project(&p)?;
    match st.db.delete_ownership(project).await? {
        Ok(version) => Ok(Json(json!({ "version": version }))),
        Err(lookup) => Err(not_found(&lookup)),
    }
}
