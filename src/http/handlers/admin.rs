//! `/v1/stats` and `/v1/admin/sync`.

use serde_json::{json, Value};
use worker::Response;

use super::Ctx;
use crate::core::error::Error;
use crate::core::sync::SyncReport;
use crate::http::auth::Access;
use crate::http::reply;

/// `GET /v1/whoami`: what the caller's token allows, so a client (the
/// dashboard) can show read vs admin without trying a write.
pub fn whoami(ctx: &Ctx<'_>) -> Response {
    let access = match ctx.access {
        Access::Admin => "admin",
        Access::Read => "read",
    };
    reply::json(200, &json!({ "access": access }), None)
}

/// `GET /v1/stats`: this isolate's counters and configuration problems.
pub fn stats(ctx: &Ctx<'_>) -> Response {
    let service = &ctx.isolate.service;
    let mut stats = serde_json::to_value(service.stats(worker::Date::now().as_millis())).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut stats {
        map.insert("config_problems".into(), json!(service.problems));
    }
    reply::json(200, &stats, None)
}

/// `POST /v1/admin/sync`: one run of the sync job, `{synced, options, maps,
/// ownership, failed, skipped, unreadable, kv_ops, origin_calls, cursor,
/// more, problems}`.
pub async fn sync(ctx: &Ctx<'_>) -> Result<Response, Error> {
    let report = run_sync(ctx).await?;
    let answer = serde_json::to_value(report).unwrap_or_else(|_| json!({}));
    Ok(reply::json(200, &answer, None))
}

/// Runs the sync job once, from its saved cursor, within the sync limits.
pub async fn run_sync(ctx: &Ctx<'_>) -> Result<SyncReport, Error> {
    ctx.isolate.service.sync(&ctx.io).await
}
