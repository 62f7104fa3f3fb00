//! Scoped option maps: `/{organizations|projects|users}/{id}/options[/{key}]`.
//!
//! Every answer is the whole map and its version, so the edge caches the
//! map as one value and a write reloads it.

use axum::extract::{RawQuery, State};
use axum::Json;

use crate::db::{MapSnapshot, Scope};
use crate::error::{ApiError, ApiResult};
use crate::input::{self, Body, PathParams};
use crate::server::AppState;

async fn read(st: AppState, scope: Scope) -> ApiResult<Json<MapSnapshot>> {
    Ok(Json(st.db.map(scope).await?))
}

async fn write(st: AppState, scope: Scope, params: PathParams, body: Body) -> ApiResult<Json<MapSnapshot>> {
    let key = input::name("key", params.get("key")?)?;
    let value = input::value_body(body)?;
    Ok(Json(st.db.put_map_key(scope, key, value).await?))
}

async fn remove(st: AppState, scope: Scope, params: PathParams) -> ApiResult<Json<MapSnapshot>> {
    let key = input::name("key", params.get("key")?)?;
    st.db.delete_map_key(scope, key).await?.map(Json).ok_or_else(|| ApiError::not_found("key not found in this map"))
}

fn organization(params: &PathParams) -> ApiResult<Scope> {
    Ok(Scope::Organization(input::id("organization id", params.get("id")?)?))
}

fn project(params: &PathParams) -> ApiResult<Scope> {
    Ok(Scope::Project(input::id("project id", params.get("id")?)?))
}

fn user(params: &PathParams, query: Option<&str>) -> ApiResult<Scope> {
    input::user_scope(input::id("user id", params.get("id")?)?, query)
}

/// `GET /organizations/{id}/options`.
pub async fn organization_get(State(st): State<AppState>, p: PathParams) -> ApiResult<Json<MapSnapshot>> {
    read(st, organization(&p)?).await
}

/// `PUT /organizations/{id}/options/{key}`.
pub async fn organization_put(State(st): State<AppState>, p: PathParams, body: Body) -> ApiResult<Json<MapSnapshot>> {
    let scope = organization(&p)?;
    write(st, scope, p, body).await
}

/// `DELETE /organizations/{id}/options/{key}`.
pub async fn organization_delete(State(st): State<AppState>, p: PathParams) -> ApiResult<Json<MapSnapshot>> {
    let scope = organization(&p)?;
    remove(st, scope, p).await
}

/// `GET /projects/{id}/options`.
pub async fn project_get(State(st): State<AppState>, p: PathParams) -> ApiResult<Json<MapSnapshot>> {
    read(st, project(&p)?).await
}

/// `PUT /projects/{id}/options/{key}`.
pub async fn project_put(State(st): State<AppState>, p: PathParams, body: Body) -> ApiResult<Json<MapSnapshot>> {
    let scope = project(&p)?;
    write(st, scope, p, body).await
}

/// `DELETE /projects/{id}/options/{key}`.
pub async fn project_delete(State(st): State<AppState>, p: PathParams) -> ApiResult<Json<MapSnapshot>> {
    let scope = project(&p)?;
    remove(st, scope, p).await
}

/// `GET /users/{id}/options[?project=P | ?organization=O]`.
pub async fn user_get(
    State(st): State<AppState>,
    p: PathParams,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<MapSnapshot>> {
    read(st, user(&p, q.as_deref())?).await
}

/// `PUT /users/{id}/options/{key}[?project=P | ?organization=O]`.
pub async fn user_put(
    State(st): State<AppState>,
    p: PathParams,
    RawQuery(q): RawQuery,
    body: Body,
) -> ApiResult<Json<MapSnapshot>> {
    let scope = user(&p, q.as_deref())?;
    write(st, scope, p, body).await
}

/// `DELETE /users/{id}/options/{key}[?project=P | ?organization=O]`.
pub async fn user_delete(
    State(st): State<AppState>,
    p: PathParams,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<MapSnapshot>> {
    let scope = user(&p, q.as_deref())?;
    remove(st, scope, p).await
}
