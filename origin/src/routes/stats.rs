//! `/_origin/stats`: request counters for end-to-end tests.

use axum::extract::State;
use axum::Json;

use crate::server::AppState;
use crate::stats::Snapshot;

/// `GET /_origin/stats`: `{requests, by_route}` since start or last reset.
pub async fn get(State(st): State<AppState>) -> Json<Snapshot> {
    Json(st.stats.snapshot())
}

/// `POST /_origin/stats/reset`: zeroes the counters, answers them zeroed.
pub async fn reset(State(st): State<AppState>) -> Json<Snapshot> {
    st.stats.reset();
    Json(st.stats.snapshot())
}
