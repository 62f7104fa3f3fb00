//! `/options`: global options by name, and the change feed.

use axum::extract::{RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use crate::db::{Changes, Lookup, OptionRecord};
use crate::error::{ApiError, ApiResult};
use crate::input::{self, Body, PathParams};
use crate::server::AppState;

fn not_found(lookup: &Lookup<OptionRecord>) -> ApiError {
    match lookup.tombstone() {
        Some(_) => ApiError::not_found("option was deleted"),
        None => ApiError::not_found("option not found"),
    }
    .with_version(lookup.tombstone())
}

/// `GET /options/{name}`: the option, or 404 carrying the tombstone's
/// version when it was deleted.
pub async fn get(State(st): State<AppState>, params: PathParams) -> ApiResult<Json<OptionRecord>> {
    let name = input::name("option name", params.get("name")?)?;
    match st.db.option(name).await? {
        Lookup::Found(record) => Ok(Json(record)),
        other => Err(not_found(&other)),
    }
}

/// `PUT /options/{name}` with `{"value": …}`: stores it under a new version.
pub async fn put(State(st): State<AppState>, params: PathParams, body: Body) -> ApiResult<Json<OptionRecord>> {
    let name = input::name("option name", params.get("name")?)?;
    let value = input::value_body(body)?;
    Ok(Json(st.db.put_option(name, value).await?))
}

/// `DELETE /options/{name}`: `{"version": N}` of the delete, or 404.
pub async fn delete(State(st): State<AppState>, params: PathParams) -> ApiResult<Json<Value>> {
    let name = input::name("option name", params.get("name")?)?;
    match st.db.delete_option(name).await? {
        Ok(version) => Ok(Json(json!({ "version": version }))),
        Err(lookup) => Err(not_found(&lookup)),
    }
}

/// `GET /options?updated_since=<unix seconds>`: every write and delete
/// stamped at or after that second, ordered by version (the older feed;
/// `GET /changes` pages by version).
pub async fn list(State(st): State<AppState>, RawQuery(query): RawQuery) -> ApiResult<Json<Changes>> {
    let since = input::updated_since(query.as_deref())?;
    Ok(Json(st.db.changes_since(since).await?))
}
