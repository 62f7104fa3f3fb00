//! Serving one request: who is asking, which route, its body, then the
//! core's call (`core::calls`) and its answer sent as it is — the core
//! shapes every answer and says what to refresh afterwards.
//!
//! Every path ends in `reply::json` or `reply::error`; no input reaches a
//! panic. The only state touched is the isolate's (`isolate`).

mod admin;

use std::rc::Rc;

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Context, Env, Request, Response};

use super::auth::{self, Access};
use super::body;
use super::isolate::{self, Isolate, KV_BINDING};
use super::min_version;
use super::percent;
use super::propagate;
use super::reply;
use super::route::{self, Method, Route};
use crate::core::answer::{Answer, Refresh};
use crate::core::calls::Call;
use crate::core::error::Error;
use crate::core::ports::Io;
use crate::core::project_ownership::OwnershipInput;
use crate::tiers::clock::WorkerClock;
use crate::tiers::kv::WorkersKv;
use crate::tiers::origin::{OriginClient, PendingGets};

/// What every handler gets: the isolate, this request's I/O, the caller's
/// access, and what it needs to refresh a key in the background.
pub struct Ctx<'a> {
    /// The isolate's state.
    pub isolate: &'a Rc<Isolate>,
    /// This request's KV, origin and clock.
    pub io: Io<'a, WorkersKv, OriginClient, WorkerClock>,
    /// Read or admin.
    pub access: Access,
    /// The request's bindings, for background work that outlives `io`.
    pub env: &'a Env,
    /// The request's context (`wait_until`).
    pub worker_ctx: &'a Context,
    /// Origin reads this request has under way (a refresh finishes them).
    pub pending: PendingGets,
}

impl Ctx<'_> {
    /// Refreshes a key after the response, under `wait_until`: the request's
    /// own background work (never another request's), with I/O objects of
    /// its own built from this request's bindings.
    pub fn refresh_later(&self, what: Refresh) {
        isolate::refresh_later(self.isolate, self.env, KV_BINDING, self.worker_ctx, self.pending.clone(), what);
    }

    /// Sends the core's answer: 200 with its JSON and `x-cache`, its
    /// refresh (if any) left to run after the response.
    fn send(&self, answer: Answer) -> Response {
        if let Some(what) = answer.refresh {
            self.refresh_later(what);
        }
        reply::json(200, &answer.body, answer.source)
    }
}

/// Answers one request. Never fails: errors become error responses.
pub async fn handle(mut req: Request, env: Env, worker_ctx: Context) -> Response {
    let started = worker::Date::now().as_millis();
    // The method exactly as sent: workers-rs's own `Method` reads any method
    // it does not know (QUERY, PROPFIND, …) as GET, which would route them.
    let method_name = req.inner().method();
    let method = Method::parse(&method_name);
    let path = req.path();
    // The URL's text as the runtime serialized it (see `percent::query_of`).
    let url = req.inner().url();
    let query = percent::query_of(&url).to_string();
    let (response, debug, detail) = match serve(&mut req, &env, &worker_ctx, method, &path, &query).await {
        Ok((response, debug)) => (response, debug, None),
        Err(e) => {
            let mut response = reply::error(&e);
            if e.code() == "method_not_allowed" {
                let _ = response.headers_mut().set("allow", &route::allowed_methods(&path, &query).join(", "));
            }
            let debug = isolate::get(&env).map(|i| i.settings.debug).unwrap_or(false);
            (response, debug, e.detail().map(str::to_string))
        }
    };
    if debug {
        // What the origin or the runtime said about a failure is for the
        // operator: it goes here, never into the answer.
        let line = json!({
            "method": method_name.chars().take(20).collect::<String>(),
            "path": path.chars().take(200).collect::<String>(),
            "status": response.status_code(),
            "x_cache": response.headers().get("x-cache").ok().flatten(),
            "ms": worker::Date::now().as_millis().saturating_sub(started),
            "detail": detail.map(|d| d.chars().take(500).collect::<String>()),
        });
        worker::console_log!("{line}");
    }
    response
}

async fn serve(
    req: &mut Request,
    env: &Env,
    worker_ctx: &Context,
    method: Method,
    path: &str,
    query: &str,
) -> Result<(Response, bool), Error> {
    if path == "/healthz" {
        route::route(method, path, query)?;
        return Ok((health(env), false));
    }
    // Who is asking comes first: without a valid token, every /v1 call is
    // 401 (503 `not_configured` while the Worker lacks its tokens),
    // whatever its ids or method.
    let isolate = isolate::get(env)?;
    let header = req.headers().get("authorization").ok().flatten();
    let access = auth::authorize(header.as_deref(), &isolate.settings)?;
    let route = route::route(method, path, query)?;
    if route.is_write() || route == Route::BeaconStats {
        auth::require_admin(access)?;
    }
    let header = req.headers().get(min_version::HEADER).ok().flatten();
    let min_version = min_version::min_version(query, header.as_deref())?;
    // The beacon check runs beside this request, never before it.
    propagate::check_if_due(&isolate, env, worker_ctx);
    let kv = kv_binding(env)?;
    let origin = isolate.origin_client();
    let io = Io { kv: &kv, origin: &origin, clock: &WorkerClock };
    let ctx = Ctx { isolate: &isolate, io, access, env, worker_ctx, pending: origin.pending() };
    let response = dispatch(req, &ctx, route, min_version).await;
    propagate::announce_writes(&isolate, env, worker_ctx);
    Ok((response?, isolate.settings.debug))
}

/// `GET /healthz`: 200 `{"ok": true}` when the Worker has every secret it
/// needs, else 503 `{"ok": false, "missing": [names]}` — so a deploy check
/// catches a Worker deployed without them. Needs no token.
fn health(env: &Env) -> Response {
    let missing = match isolate::get(env) {
        Ok(isolate) => isolate.settings.missing_secrets(),
        Err(e) => return reply::error(&e),
    };
    if missing.is_empty() {
        reply::json(200, &json!({ "ok": true }), None)
    } else {
        reply::json(503, &json!({ "ok": false, "missing": missing }), None)
    }
}

/// `PUT` body of an option or a map key: `{"value": …}`.
#[derive(Deserialize)]
struct ValueBody {
    value: Value,
}

/// `POST …/last-processed` body.
#[derive(Deserialize)]
struct RecordBody {
    hash_ids: Vec<i64>,
    event_id: String,
}

const VALUE_BODY: &str = "{\"value\": <json>}";

/// The answers only HTTP gives, or the core's call for `route` (its body
/// read within the size limit first), answered.
async fn dispatch(req: &mut Request, ctx: &Ctx<'_>, route: Route, min_version: Option<u64>) -> Result<Response, Error> {
    let limit = ctx.isolate.settings.max_body_bytes;
    let admin = ctx.access == Access::Admin;
    let call = match route {
        Route::Health => return Ok(health(ctx.env)),
        Route::ListOptions => return Ok(admin::list(ctx)),
        Route::WhoAmI => return Ok(admin::whoami(ctx)),
        Route::Stats => return Ok(admin::stats(ctx)),
        Route::BeaconStats => return Ok(admin::beacon(ctx).await),
        Route::GetOption(name) => Call::GetOption { name, reveal_credentials: admin, keep: false },
        Route::SetOption(name) => {
            Call::SetOption { name, value: read_json::<ValueBody>(req, limit, VALUE_BODY).await?.value }
        }
        Route::DeleteOption(name) => Call::DeleteOption { name },
        Route::GetMap(scope) => Call::GetMap { scope },
        Route::GetMapKey(scope, key) => Call::GetMapKey { scope, key },
        Route::SetMapKey(scope, key) => {
            Call::SetMapKey { scope, key, value: read_json::<ValueBody>(req, limit, VALUE_BODY).await?.value }
        }
        Route::DeleteMapKey(scope, key) => Call::DeleteMapKey { scope, key },
        Route::GetOwnership(project) => Call::GetOwnership { project },
        Route::PutOwnership(project) => {
            let input: OwnershipInput =
                read_json(req, limit, "{\"raw\": <rules text>, \"fallthrough\"?: bool, …}").await?;
            Call::PutOwnership { project, input }
        }
        Route::DeleteOwnership(project) => Call::DeleteOwnership { project },
        Route::Owners(project) => Call::Owners { project, event: read_json(req, limit, "event data").await? },
        Route::RecordLastEvents(project) => {
            let body: RecordBody = read_json(req, limit, "{\"hash_ids\": [int], \"event_id\": string}").await?;
            Call::RecordLastProcessed { project, hash_ids: body.hash_ids, event_id: body.event_id }
        }
        Route::FetchLastEvents(project, hash_ids) => Call::LastProcessed { project, hash_ids },
        Route::Sync => Call::Sync,
    };
    let call = match min_version {
        Some(min_version) => Call::AtLeast { min_version, call: Box::new(call) },
        None => call,
    };
    let answer = ctx.isolate.service.answer(&ctx.io, call).await?;
    Ok(ctx.send(answer))
}

fn kv_binding(env: &Env) -> Result<WorkersKv, Error> {
    isolate::kv(env, KV_BINDING)
}

/// Reads and parses a JSON body within the size limit. The body is read as
/// it streams in, chunk by chunk: one announced (`Content-Length`) over the
/// limit is refused before any of it is read, and one that is not (chunked)
/// is refused as soon as it passes the limit, never buffered past it.
async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request, limit: usize, what: &str) -> Result<T, Error> {
    let announced = req.headers().get("content-length").ok().flatten();
    let mut body = body::LimitedBody::new(limit, announced.as_deref())?;
    // No body at all (the runtime gives none): parsed as an empty one.
    if let Ok(mut stream) = req.stream() {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::InvalidBody(format!("the body could not be read: {e}")))?;
            // On `too_large` the stream is dropped unread (cancelled).
            body.push(&chunk)?;
        }
    }
    body.parse(what)
}

/// The cron trigger: one run of the sync job, its report logged as JSON.
pub async fn scheduled_sync(env: Env) {
    let outcome = async {
        let isolate = isolate::get(&env)?;
        let kv = kv_binding(&env)?;
        let origin = isolate.origin_client();
        let io = Io { kv: &kv, origin: &origin, clock: &WorkerClock };
        isolate.service.sync(&io).await
    }
    .await;
    match outcome {
        Ok(report) => {
            let line = serde_json::to_string(&report).unwrap_or_default();
            worker::console_log!("edge-options sync: {line}")
        }
        Err(e) => worker::console_error!(
            "edge-options sync failed: {} ({}; {})",
            e,
            e.code(),
            e.detail().unwrap_or("no detail")
        ),
    }
}
