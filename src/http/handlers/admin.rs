//! The answers only the HTTP API gives (the npm package has its own
//! `listOptions`, `stats` and `problems`): `/v1/whoami`, `/v1/stats` and
//! the registry's listing.

use serde_json::{json, Value};
use worker::Response;

use super::Ctx;
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

/// `GET /v1/options`: the registry; credential defaults only for admins.
pub fn list(ctx: &Ctx<'_>) -> Response {
    let service = &ctx.isolate.service;
    reply::json(200, &service.options.registry().listing(ctx.access == Access::Admin), None)
}
