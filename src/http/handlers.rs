//! One function per route: parse, call the core, answer.
//!
//! Every path ends in `reply::json` or `reply::error`; no input reaches a
//! panic. The only state touched is the isolate's (`isolate`).

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::auth::{self, Access};
use super::body;
use super::isolate::{self, Isolate};
use super::reply;
use super::route::{self, Method, Route};
use crate::core::error::Error;
use crate::core::options::OptionValue;
use crate::tiers::clock::WorkerClock;
use crate::tiers::kv::WorkersKv;
use crate::tiers::origin::OriginClient;
use crate::tiers::Io;

/// The KV namespace binding name in `wrangler.toml`.
pub const KV_BINDING: &str = "CACHE";

/// How far back the sync job looks, seconds (as the original design).
pub const SYNC_WINDOW_SECS: u64 = 3600;

/// Answers one request. Never fails: errors become error responses.
pub async fn handle(mut req: Request, env: Env) -> Response {
    let started = worker::Date::now().as_millis();
    let method = Method::parse(req.method().as_ref());
    let path = req.path();
    let (response, debug) = match serve(&mut req, &env, method, &path).await {
        Ok((response, debug)) => (response, debug),
        Err(e) => (reply::error(&e), isolate::get(&env).map(|i| i.settings.debug).unwrap_or(false)),
    };
    if debug {
        let line = json!({
            "method": req.method().as_ref(),
            "path": path.chars().take(200).collect::<String>(),
            "status": response.status_code(),
            "x_cache": response.headers().get("x-cache").ok().flatten(),
            "ms": worker::Date::now().as_millis().saturating_sub(started),
        });
        worker::console_log!("{line}");
    }
    response
}

async fn serve(req: &mut Request, env: &Env, method: Method, path: &str) -> Result<(Response, bool), Error> {
    let route = route::route(method, path)?;
    if route == Route::Health {
        return Ok((reply::json(200, &json!({ "ok": true }), None), false));
    }
    let isolate = isolate::get(env)?;
    let header = req.headers().get("authorization").ok().flatten();
    let access = auth::authorize(header.as_deref(), &isolate.settings)?;
    if route.is_write() {
        auth::require_admin(access)?;
    }
    let response = dispatch(req, env, &isolate, access, route).await?;
    Ok((response, isolate.settings.debug))
}

#[derive(Deserialize)]
struct SetBody {
    value: Value,
}

async fn dispatch(
    req: &mut Request,
    env: &Env,
    isolate: &Isolate,
    access: Access,
    route: Route,
) -> Result<Response, Error> {
    let kv = WorkersKv(
        env.kv(KV_BINDING).map_err(|e| Error::Unavailable(format!("the KV binding {KV_BINDING} is missing: {e}")))?,
    );
    let origin = OriginClient::new(
        &isolate.settings.origin_url,
        &isolate.settings.origin_token,
        isolate.settings.origin_timeout_ms,
    );
    let io = Io { kv: &kv, origin: &origin, clock: &WorkerClock };
    let (options, cache) = (&isolate.options, &isolate.cache);

    match route {
        Route::Health => Ok(reply::json(200, &json!({ "ok": true }), None)),
        Route::ListOptions => Ok(reply::json(200, &options.registry().listing(access == Access::Admin), None)),
        Route::GetOption(name) => {
            let answer = options.get(cache, &io, &name).await?;
            Ok(reply::json(200, &option_json(&answer, access), Some(answer.source)))
        }
        Route::SetOption(name) => {
            let body: SetBody = read_json(req, isolate.settings.max_body_bytes, "{\"value\": <json>}").await?;
            let written = options.set(cache, &io, &name, body.value).await?;
            Ok(reply::json(
                200,
                &json!({ "name": written.name, "value": written.value, "version": written.version, "cache_updated": written.cache_updated }),
                None,
            ))
        }
        Route::DeleteOption(name) => {
            let written = options.delete(cache, &io, &name).await?;
            Ok(reply::json(
                200,
                &json!({ "name": written.name, "version": written.version, "cache_updated": written.cache_updated }),
                None,
            ))
        }
        Route::Stats => {
            let mut stats = serde_json::to_value(cache.stats()).unwrap_or_else(|_| json!({}));
            if let Value::Object(map) = &mut stats {
                map.insert("config_problems".into(), json!(isolate.problems));
            }
            Ok(reply::json(200, &stats, None))
        }
        Route::Sync => {
            let since = (worker::Date::now().as_millis() / 1000).saturating_sub(SYNC_WINDOW_SECS);
            let synced = options.sync(cache, &io, since).await?;
            Ok(reply::json(200, &json!({ "synced": synced }), None))
        }
    }
}

/// The body of `GET /v1/options/{name}`; credential values only for admins.
fn option_json(answer: &OptionValue, access: Access) -> Value {
    let hidden = answer.credential && access != Access::Admin;
    let mut body = json!({
        "name": answer.name,
        "value": if hidden { Value::Null } else { answer.value.clone() },
        "source": answer.source.as_str(),
        "degraded": answer.degraded,
    });
    if let Value::Object(map) = &mut body {
        if hidden {
            map.insert("redacted".into(), Value::Bool(true));
        }
        if let Some(lookup) = answer.lookup {
            map.insert("lookup".into(), json!(lookup.as_str()));
        }
        if let Some(version) = answer.version {
            map.insert("version".into(), json!(version));
        }
    }
    body
}

/// Reads and parses a JSON body within the size limit.
async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request, limit: usize, what: &str) -> Result<T, Error> {
    if let Some(announced) =
        req.headers().get("content-length").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok())
    {
        body::check_size(usize::try_from(announced).unwrap_or(usize::MAX), limit)?;
    }
    let bytes = req.bytes().await.map_err(|e| Error::InvalidBody(format!("the body could not be read: {e}")))?;
    body::parse_json(&bytes, limit, what)
}

/// The cron trigger: re-write into KV what the origin changed lately.
pub async fn scheduled_sync(env: Env) {
    let outcome = async {
        let isolate = isolate::get(&env)?;
        let kv = WorkersKv(
            env.kv(KV_BINDING)
                .map_err(|e| Error::Unavailable(format!("the KV binding {KV_BINDING} is missing: {e}")))?,
        );
        let origin = OriginClient::new(
            &isolate.settings.origin_url,
            &isolate.settings.origin_token,
            isolate.settings.origin_timeout_ms,
        );
        let io = Io { kv: &kv, origin: &origin, clock: &WorkerClock };
        let since = (worker::Date::now().as_millis() / 1000).saturating_sub(SYNC_WINDOW_SECS);
        isolate.options.sync(&isolate.cache, &io, since).await
    }
    .await;
    match outcome {
        Ok(n) => worker::console_log!("edge-options sync: {n} option(s) re-written into KV"),
        Err(e) => worker::console_error!("edge-options sync failed: {} ({})", e, e.code()),
    }
}
