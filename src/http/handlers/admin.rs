//! The answers only the HTTP API gives (the npm package has its own
//! `listOptions`, `stats` and `problems`): `/v1/whoami`, `/v1/stats`,
//! `/v1/admin/beacon` and the registry's listing.

use serde_json::{json, Value};
use worker::Response;

use super::Ctx;
use crate::core::error::{Error, Reason};
use crate::http::auth::Access;
use crate::http::reply;
use crate::tiers::beacon::BeaconStub;

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
        let beacon = service.cache.beacon_stats(worker::Date::now().as_millis());
        map.insert("beacon".into(), serde_json::to_value(beacon).unwrap_or(Value::Null));
    }
    reply::json(200, &stats, None)
}

/// `GET /v1/options`: the registry; credential defaults only for admins.
pub fn list(ctx: &Ctx<'_>) -> Response {
    let service = &ctx.isolate.service;
    reply::json(200, &service.options.registry().listing(ctx.access == Access::Admin), None)
}

/// `GET /v1/admin/beacon` (admin): the version beacon object's own
/// counters (requests by kind since it started, log size, feed cursor), or
/// 503 `unavailable` when the Worker has no beacon or it cannot be reached.
pub async fn beacon(ctx: &Ctx<'_>) -> Response {
    let Some(beacon) = BeaconStub::from_env(ctx.env) else {
        return reply::error(&Error::Unavailable("this Worker has no BEACON binding".into()));
    };
    match beacon.stats().await {
        Ok(stats) => reply::json(200, &stats, None),
        Err(e) => reply::error(&Error::Unavailable(Reason::with_detail("the beacon could not be reached", e))),
    }
}
