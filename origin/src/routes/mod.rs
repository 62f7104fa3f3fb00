//! The route table: one place listing every path the origin serves.

mod changes;
mod fallback;
mod maps;
mod options;
mod ownership;
mod stats;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::auth::require_token;
use crate::error::{ApiError, ApiResult};
use crate::limit::{reject_declared_oversize, BODY_LIMIT};
use crate::server::AppState;

/// Builds the whole application. Catch-all parameters (`{*name}`) let a
/// name or key hold `/`, encoded or not; the trailing-slash routes give an
/// empty name a clear 400 instead of a bare 404.
pub fn router(state: AppState) -> Router {
    let stats = Arc::clone(&state.stats);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/changes", get(changes::list))
        .route("/options", get(options::list))
        .route("/options/", get(fallback::empty_name).put(fallback::empty_name).delete(fallback::empty_name))
        .route("/options/{*name}", get(options::get).put(options::put).delete(options::delete))
        .route("/organizations/{id}/options", get(maps::organization_get))
        .route("/organizations/{id}/options/", put(fallback::empty_name).delete(fallback::empty_name))
        .route("/organizations/{id}/options/{*key}", put(maps::organization_put).delete(maps::organization_delete))
        .route("/projects/{id}/options", get(maps::project_get))
        .route("/projects/{id}/options/", put(fallback::empty_name).delete(fallback::empty_name))
        .route("/projects/{id}/options/{*key}", put(maps::project_put).delete(maps::project_delete))
        .route("/users/{id}/options", get(maps::user_get))
        .route("/users/{id}/options/", put(fallback::empty_name).delete(fallback::empty_name))
        .route("/users/{id}/options/{*key}", put(maps::user_put).delete(maps::user_delete))
        .route("/projects/{id}/ownership", get(ownership::get).put(ownership::put).delete(ownership::delete))
        .route("/_origin/stats", get(stats::get))
        .route("/_origin/stats/reset", post(stats::reset))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(reject_declared_oversize))
        .layer(from_fn_with_state(state.clone(), require_token))
        .layer(from_fn_with_state(stats, crate::stats::observe))
        .with_state(state)
}

/// How long `/healthz` and `/readyz` wait for the database to answer.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the database answers within [`PING_TIMEOUT`].
async fn database_reachable(st: &AppState) -> bool {
    matches!(tokio::time::timeout(PING_TIMEOUT, st.db.ping()).await, Ok(Ok(())))
}

/// `GET /healthz`: liveness, no token needed. Always 200 while the process
/// serves (so an orchestrator does not restart a replica that only waits
/// for its database), saying whether the database answers:
/// `{"ok": true, "database": "reachable"|"unreachable", "backend": "sqlite"|"postgres"}`.
async fn healthz(State(st): State<AppState>) -> Json<Value> {
    let database = if database_reachable(&st).await { "reachable" } else { "unreachable" };
    Json(json!({ "ok": true, "database": database, "backend": st.db.kind() }))
}

/// `GET /readyz`: readiness, no token needed: 200 `{"ok": true}` when the
/// database answers, else 503 `unavailable`, so a load balancer sends
/// traffic only to replicas that can serve it.
async fn readyz(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    if database_reachable(&st).await {
        Ok(Json(json!({ "ok": true })))
    } else {
        Err(ApiError::unavailable("the database does not answer"))
    }
}
