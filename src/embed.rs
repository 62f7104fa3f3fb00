//! edge-options inside a Rust Worker of your own (feature `worker`): the
//! same isolate-cached [`Service`](crate::core::service::Service) the
//! edge-options Worker runs, over your Worker's KV binding and your origin,
//! with no network hop to another Worker.
//!
//! ```ignore
//! use edge_options::embed::{EdgeOptions, Scope};
//! use worker::{event, Context, Env, Request, Response, Result};
//!
//! #[event(fetch)]
//! async fn fetch(_req: Request, env: Env, ctx: Context) -> Result<Response> {
//!     let options = EdgeOptions::from_env(&env).map_err(|e| e.to_string())?;
//!     let from = options.option("mail.from", &ctx).await.map_err(|e| e.to_string())?;
//!     let theme = options.map_key(&Scope::Project(42), "theme", &ctx).await.map_err(|e| e.to_string())?;
//!     Response::from_json(&serde_json::json!({ "from": from.value, "source": from.source.as_str(), "theme": theme.value }))
//! }
//! ```
//!
//! [`EdgeOptions::from_env`] reads the same vars and secrets by name as
//! the edge Worker (`ORIGIN_URL`, `ORIGIN_TOKEN`, `OPTIONS_CONFIG`,
//! `LEGACY_PREFIXES`, `KV_EXPIRATION_SECS`, `KV_RETENTION_SECS`, the timeouts, `MEMORY_*`,
//! `MAP_*`, `OWNERSHIP_*`, …; README "Configuration") and uses the KV
//! namespace bound as `CACHE` ([`EdgeOptions::from_env_with_kv`] names
//! another). `READ_TOKEN` / `ADMIN_TOKEN` are not used: your Worker's code
//! is the caller, so credentials are not redacted and writes need no admin
//! token (guard your own routes). Without `ORIGIN_TOKEN` the origin is
//! never called (reads answer from the caches, config and defaults;
//! writes fail `unavailable`), as in the edge Worker; `problems()` says so.
//!
//! The isolate's state (registry, config, isolate memory, counters) is
//! built on the first call and kept for the isolate's life, shared by
//! every request (the edge Worker's own `http::isolate`); an `EdgeOptions`
//! is a cheap per-request handle over it and the request's bindings.
//! Build one per request. Every error is the core's
//! [`Error`](crate::core::error::Error), with the edge API's stable
//! `code()` and `status()`.
//!
//! This module registers no event handler: with the `worker` feature your
//! crate defines its own `#[event(fetch)]` (the edge Worker's own events
//! are behind `worker-entry`).

use std::rc::Rc;

use serde_json::Value;
use worker::{Context, Env};

pub use crate::core::answer::Refresh;
pub use crate::core::error::Error;
pub use crate::core::maps::{MapKeyRead, MapRead, MapWrite};
pub use crate::core::options::{OptionValue, OptionWrite};
pub use crate::core::ownership::{Evaluation, Owners};
pub use crate::core::project_ownership::{OwnersAnswer, OwnershipInput, OwnershipRead, OwnershipWrite};
pub use crate::core::scope::{Id, Scope};
pub use crate::core::source::Source;
pub use crate::core::stats::StatsSnapshot;
pub use crate::core::sync::SyncReport;

use crate::core::answer::Answered;
use crate::core::ports::{Clock, Io};
use crate::http::isolate::{self, Isolate};
use crate::tiers::clock::WorkerClock;
use crate::tiers::kv::WorkersKv;
use crate::tiers::origin::OriginClient;

/// The KV binding [`EdgeOptions::from_env`] uses, as in the edge Worker's `wrangler.toml`: `CACHE`.
pub use crate::http::isolate::KV_BINDING;

/// Options, option maps, ownership and last processed events for one
/// request of your Worker, over the isolate's cache (see the module docs).
pub struct EdgeOptions {
    isolate: Rc<Isolate>,
    env: Env,
    kv_binding: String,
    kv: WorkersKv,
    origin: OriginClient,
}

impl EdgeOptions {
    /// The handle for this request: the isolate's state (built from `env`'s
    /// vars and secrets on first use) over the KV namespace bound as
    /// [`KV_BINDING`] (`CACHE`).
    ///
    /// # Errors
    /// `unavailable` when the Worker has no `CACHE` binding (or, as for the
    /// edge Worker, a built-in registry that does not load).
    pub fn from_env(env: &Env) -> Result<EdgeOptions, Error> {
        EdgeOptions::from_env_with_kv(env, KV_BINDING)
    }

    /// As [`from_env`](Self::from_env), over the KV namespace bound as `binding`.
    ///
    /// # Errors
    /// `unavailable` when the Worker has no such binding.
    pub fn from_env_with_kv(env: &Env, binding: &str) -> Result<EdgeOptions, Error> {
        let isolate = isolate::get(env)?;
        let kv = isolate::kv(env, binding)?;
        let origin = isolate.origin_client();
        Ok(EdgeOptions { isolate, env: env.clone(), kv_binding: binding.to_string(), kv, origin })
    }

    fn io(&self) -> Io<'_, WorkersKv, OriginClient, WorkerClock> {
        Io { kv: &self.kv, origin: &self.origin, clock: &WorkerClock }
    }

    /// The answer of a read, its refresh (the core's decision, after a
    /// stale answer) left to run under `ctx.wait_until`.
    fn answered<T>(&self, answered: Answered<T>, ctx: &Context) -> T {
        if let Some(what) = answered.refresh {
            isolate::refresh_later(&self.isolate, &self.env, &self.kv_binding, ctx, self.origin.pending(), what);
        }
        answered.answer
    }

    /// Resolves a registered option: store value (memory → KV → origin →
    /// stale) → config → default; `degraded` when the stores could not be
    /// asked. A stale answer is refreshed in the background under `ctx`.
    ///
    /// # Errors
    /// `unknown_option` only: an option read never fails for lack of a store.
    pub async fn option(&self, name: &str, ctx: &Context) -> Result<OptionValue, Error> {
        Ok(self.answered(self.isolate.service.read_option(&self.io(), name, None).await?, ctx))
    }

    /// Stores an option's value: origin first, then isolate memory and KV.
    ///
    /// # Errors
    /// `unknown_option`, `immutable`, `nostore`, `invalid_type` before the
    /// origin is asked; `unavailable` / `origin_error` (nothing changed) or
    /// `origin_timeout` (the outcome is unknown) from the origin.
    pub async fn set_option(&self, name: &str, value: Value) -> Result<OptionWrite, Error> {
        let service = &self.isolate.service;
        service.options.set(&service.cache, &self.io(), name, value).await
    }

    /// Removes an option's stored value (reads fall back to config, then default).
    ///
    /// # Errors
    /// As [`set_option`](Self::set_option).
    pub async fn delete_option(&self, name: &str) -> Result<OptionWrite, Error> {
        let service = &self.isolate.service;
        service.options.delete(&service.cache, &self.io(), name).await
    }

    /// The registry as `GET /v1/options` shows it to an admin (credential defaults included).
    pub fn list_options(&self) -> Value {
        self.isolate.service.options.registry().listing(true)
    }

    /// A scope's whole option map.
    ///
    /// # Errors
    /// `unavailable` / `origin_timeout` when nothing is cached and the stores fail.
    pub async fn map(&self, scope: &Scope, ctx: &Context) -> Result<MapRead, Error> {
        Ok(self.answered(self.isolate.service.read_map(&self.io(), scope, None).await?, ctx))
    }

    /// One key of a scope's option map, read from the cached map.
    ///
    /// # Errors
    /// As [`map`](Self::map).
    pub async fn map_key(&self, scope: &Scope, key: &str, ctx: &Context) -> Result<MapKeyRead, Error> {
        Ok(self.answered(self.isolate.service.read_map_key(&self.io(), scope, key, None).await?, ctx))
    }

    /// Sets one key of a scope's map (origin first; the origin's whole map
    /// replaces the cached one).
    ///
    /// # Errors
    /// `invalid_body` for a bad key; origin failures as for `set_option`.
    pub async fn set_map_key(&self, scope: &Scope, key: &str, value: Value) -> Result<MapWrite, Error> {
        let service = &self.isolate.service;
        service.maps.set(&service.cache, &self.io(), scope, key, value).await
    }

    /// Unsets one key of a scope's map.
    ///
    /// # Errors
    /// As [`set_map_key`](Self::set_map_key).
    pub async fn delete_map_key(&self, scope: &Scope, key: &str) -> Result<MapWrite, Error> {
        let service = &self.isolate.service;
        service.maps.delete(&service.cache, &self.io(), scope, key).await
    }

    /// A project's ownership record (`record: None`: the project has none;
    /// absence is cached like a record).
    ///
    /// # Errors
    /// `unavailable` / `origin_timeout` when nothing is cached and the stores fail.
    pub async fn ownership(&self, project: Id, ctx: &Context) -> Result<OwnershipRead, Error> {
        Ok(self.answered(self.isolate.service.read_ownership(&self.io(), project, None).await?, ctx))
    }

    /// Stores a project's rules (a grammar error is refused with
    /// `invalid_rules`, naming line and column, before the origin is asked).
    ///
    /// # Errors
    /// `invalid_rules`; origin failures as for `set_option`.
    pub async fn put_ownership(&self, project: Id, input: OwnershipInput) -> Result<OwnershipWrite, Error> {
        self.isolate.service.write_ownership(&self.io(), project, input).await
    }

    /// Removes a project's rules; answers whether KV took the change.
    ///
    /// # Errors
    /// Origin failures as for `set_option`.
    pub async fn delete_ownership(&self, project: Id) -> Result<bool, Error> {
        let service = &self.isolate.service;
        service.ownership.delete(&service.cache, &self.io(), project).await
    }

    /// Who owns `event` (event data: `stacktrace`, `exception`,
    /// `request.url`, `tags`, …) under the project's cached rules.
    ///
    /// # Errors
    /// `invalid_body` for an event that is not a JSON object; read failures
    /// as for [`ownership`](Self::ownership).
    pub async fn owners(&self, project: Id, event: &Value, ctx: &Context) -> Result<OwnersAnswer, Error> {
        Ok(self.answered(self.isolate.service.read_owners(&self.io(), project, event, None).await?, ctx))
    }

    /// Records `event_id` as the last processed event of each group hash
    /// (KV only); answers how many hashes are recorded.
    ///
    /// # Errors
    /// `invalid_body` / `invalid_id` for bad input; `unavailable` when KV refuses.
    pub async fn record_last_processed(&self, project: Id, hash_ids: &[i64], event_id: &str) -> Result<usize, Error> {
        self.isolate.service.last_events.record(&self.kv, &WorkerClock, project, hash_ids, event_id).await
    }

    /// The last processed event of each group hash, aligned with `hash_ids`.
    ///
    /// # Errors
    /// `invalid_body` / `invalid_id` for bad input; `unavailable` when KV fails.
    pub async fn last_processed(&self, project: Id, hash_ids: &[i64]) -> Result<Vec<Option<String>>, Error> {
        self.isolate.service.last_events.fetch(&self.kv, project, hash_ids).await
    }

    /// One run of the sync job: re-writes into KV what the origin changed
    /// since the cursor the last run saved in KV, within the sync limits
    /// (call it from your `scheduled` handler, as the edge Worker's cron does).
    ///
    /// # Errors
    /// When the origin cannot list its changes.
    pub async fn sync(&self) -> Result<SyncReport, Error> {
        self.isolate.service.sync(&self.io()).await
    }

    /// This isolate's counters and memory figures (the edge's `/v1/stats`).
    pub fn stats(&self) -> StatsSnapshot {
        self.isolate.service.cache.stats(WorkerClock.now_ms())
    }

    /// Settings and config values that were bad and replaced by defaults
    /// (a missing `ORIGIN_TOKEN` included), as `/v1/stats` `config_problems`.
    pub fn problems(&self) -> &[String] {
        &self.isolate.service.problems
    }
}
