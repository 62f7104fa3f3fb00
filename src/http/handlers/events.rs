//! `/v1/projects/{id}/event-hashes/last-processed`: batched record and fetch.

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use super::Ctx;
use crate::core::error::Error;
use crate::core::scope::Id;
use crate::http::reply;

/// `POST` body.
#[derive(Deserialize)]
pub struct RecordBody {
    hash_ids: Vec<i64>,
    event_id: String,
}

/// `POST …/last-processed`: `{recorded: n}`.
pub async fn record(ctx: &Ctx<'_>, project: Id, body: RecordBody) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let recorded = service.last_events.record(ctx.io.kv, ctx.io.clock, project, &body.hash_ids, &body.event_id).await?;
    Ok(reply::json(200, &json!({ "recorded": recorded }), None))
}

/// `GET …/last-processed?ids=1,2,3`: `{event_ids: [...]}` aligned with `ids`.
pub async fn fetch(ctx: &Ctx<'_>, project: Id, ids: &[i64]) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let found = service.last_events.fetch(ctx.io.kv, project, ids).await?;
    Ok(reply::json(200, &json!({ "event_ids": found }), None))
}
