//! The state one isolate keeps between requests: settings, the registry and
//! config, and the isolate-memory cache with its counters; and the I/O a
//! request builds over it (the KV binding, an origin client, background
//! refreshes).
//!
//! Built on the first request (vars are fixed for an isolate's life) and
//! held in a thread-local: an isolate runs one thread, and every request it
//! serves shares this one cache. No `RefCell` borrow inside is ever held
//! across an `.await`. The edge Worker's handlers and `embed::EdgeOptions`
//! (a Rust Worker of one's own) both go through here.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{Context, Env};

use crate::core::error::{Error, Reason};
use crate::core::ports::Io;
use crate::core::service::{Refresh, Service};
use crate::core::settings::Settings;
use crate::tiers::clock::WorkerClock;
use crate::tiers::kv::WorkersKv;
use crate::tiers::origin::{OriginClient, PendingGets};

/// The KV namespace binding name in `wrangler.toml` (the edge Worker's, and
/// the default of `embed::EdgeOptions`).
pub const KV_BINDING: &str = "CACHE";

/// Everything an isolate keeps: its settings (tokens, origin, limits) and
/// the core's state built from them.
pub struct Isolate {
    /// The Worker's configuration.
    pub settings: Settings,
    /// Registry, config, isolate memory, maps, ownership, last events.
    pub service: Service,
}

thread_local! {
    static ISOLATE: RefCell<Option<Rc<Isolate>>> = const { RefCell::new(None) };
}

/// This isolate's state, built from `env` on first use.
pub fn get(env: &Env) -> Result<Rc<Isolate>, Error> {
    if let Some(isolate) = ISOLATE.with(|cell| cell.borrow().clone()) {
        return Ok(isolate);
    }
    let isolate = Rc::new(build(env)?);
    ISOLATE.with(|cell| *cell.borrow_mut() = Some(Rc::clone(&isolate)));
    Ok(isolate)
}

fn build(env: &Env) -> Result<Isolate, Error> {
    let settings = Settings::from_vars(|name| read_var(env, name));
    let service = Service::new(&settings)?;
    for problem in &service.problems {
        worker::console_warn!("edge-options configuration: {problem}");
    }
    Ok(Isolate { settings, service })
}

/// A var or secret by name (`.dev.vars` and `--var` give vars locally,
/// `wrangler secret put` gives secrets in production).
pub(crate) fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name).map(|v| v.to_string()).ok().or_else(|| env.secret(name).map(|s| s.to_string()).ok())
}

/// The KV namespace bound as `binding`.
///
/// # Errors
/// `unavailable` when the Worker has no such binding.
pub fn kv(env: &Env, binding: &str) -> Result<WorkersKv, Error> {
    env.kv(binding)
        .map(WorkersKv)
        .map_err(|e| Error::Unavailable(Reason::with_detail(format!("the KV binding {binding} is missing"), e)))
}

impl Isolate {
    /// A client of the configured origin for one request.
    pub fn origin_client(&self) -> OriginClient {
        let settings = &self.settings;
        OriginClient::new(&settings.origin_url, settings.origin_token.as_deref(), settings.origin_timeout_ms)
    }
}

/// Refreshes a key after the response, under `wait_until`: the request's
/// own background work (never another request's), with I/O objects of its
/// own built from the request's bindings (`env`, the KV `binding`), sharing
/// `pending` so it can finish an origin read the request abandoned at the
/// soft timeout.
pub fn refresh_later(
    isolate: &Rc<Isolate>,
    env: &Env,
    binding: &str,
    worker_ctx: &Context,
    pending: PendingGets,
    what: Refresh,
) {
    let isolate = Rc::clone(isolate);
    let env = env.clone();
    let binding = binding.to_string();
    worker_ctx.wait_until(async move {
        let Ok(kv) = kv(&env, &binding) else { return };
        let origin = isolate.origin_client().sharing(pending);
        let io = Io { kv: &kv, origin: &origin, clock: &WorkerClock };
        isolate.service.revalidate(&io, &what).await;
    });
}
