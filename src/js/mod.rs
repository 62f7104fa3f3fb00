//! The npm package: a `Store` class over the same core as the Worker, with
//! its I/O in JS (a KV binding object, the global `fetch`, `setTimeout`).
//!
//! Built with `--no-default-features --features js` by `scripts/build-npm`;
//! nothing here uses workers-rs. One `Store` per isolate, reused across
//! requests: its `Service` (isolate memory, coalescing, throttling) is the
//! one the Worker keeps per isolate. Nothing in it holds a `RefCell` borrow
//! across an `.await` (the core's cells are borrowed only between awaits),
//! so concurrent calls from many requests are safe; nothing from JS is
//! unwrapped (a panic would abort the wasm instance).
//!
//! Each method is thin: convert the arguments (`convert`) into the core's
//! call (`core::calls`), and render its answer (the core shapes it; here
//! its top-level keys become camelCase). Arguments are checked inside the
//! returned promise, so every mistake is a rejection with a `code`, never
//! a synchronous throw.
//!
//! | module | holds |
//! |---|---|
//! | `types` | the hand-written TypeScript types of every argument and answer |
//! | `config` | `StoreConfig` → the Worker's settings, KV, origin |
//! | `convert` | checked arguments (names, ids, scopes, rules input); answers rendered (camelCase at the top) |
//! | `interop` | `Reflect`/`Function` helpers, JS `Error`s with the core error's fields |
//! | `kv` | `NetworkCache` over a KV binding object |
//! | `origin` | `DurableStore` over `fetch` |
//! | `clock` | `Clock` over `Date.now()` and `setTimeout` |

mod clock;
mod config;
mod convert;
mod interop;
mod kv;
mod origin;
mod types;

use std::future::Future;
use std::rc::Rc;

use js_sys::Promise;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use self::clock::JsClock;
use self::convert::{camel_case_keys, from_js, render, to_js};
use self::interop::{js_error, method};
use self::kv::JsKv;
use self::origin::{JsOrigin, OriginConfig};
use self::types::*;
use crate::core::answer::{Answer, Refresh};
use crate::core::calls::Call;
use crate::core::error::Error;
use crate::core::ports::{Clock, Io};
use crate::core::service::Service;

/// Everything one store keeps: the core's state and the JS I/O it was built with.
struct Inner {
    service: Service,
    kv: JsKv,
    origin: Rc<OriginConfig>,
    clock: JsClock,
}

/// One call on a store: the store's state and an origin client of the
/// call's own, so a read it abandons at the soft timeout can be finished
/// by its background refresh (and by nothing else).
struct OnCall {
    inner: Rc<Inner>,
    origin: JsOrigin,
}

impl OnCall {
    fn io(&self) -> Io<'_, JsKv, JsOrigin, JsClock> {
        Io { kv: &self.inner.kv, origin: &self.origin, clock: &self.inner.clock }
    }

    /// Refreshes a key in the background after a stale answer: under
    /// `ctx.waitUntil` when a context was given, else as a floating promise.
    fn refresh_later(&self, what: Refresh, ctx: Option<MaybeWaitUntil>) {
        let refresh = OnCall { inner: Rc::clone(&self.inner), origin: self.origin.sharing() };
        let promise: Promise = future_to_promise(async move {
            let updated = refresh.service.revalidate(&refresh.io(), &what).await;
            Ok(JsValue::from_bool(updated))
        });
        if let Some(ctx) = ctx.map(JsValue::from) {
            if let Some(wait_until) = method(&ctx, "waitUntil") {
                let _ = wait_until.call1(&ctx, &promise);
            }
        }
    }
}

impl OnCall {
    /// Makes `call` on the core.
    async fn answer(&self, call: Call) -> Result<Answer, Error> {
        self.service.answer(&self.io(), call).await
    }

    /// The core's answer as the package gives it (`render`), its refresh
    /// (if any) started in the background.
    fn send(&self, answer: Answer, ctx: Option<MaybeWaitUntil>) -> Value {
        if let Some(what) = answer.refresh {
            self.refresh_later(what, ctx);
        }
        render(answer.body)
    }
}

impl std::ops::Deref for OnCall {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

/// Options, option maps, ownership and last processed events through
/// isolate memory, KV and the origin. Build one per isolate (module scope)
/// and reuse it across requests.
#[wasm_bindgen]
pub struct Store {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Store {
    /// Builds a store from `config`; throws an `Error` with `code:
    /// "invalid_body"` when `kv` or `origin` is missing or malformed.
    #[wasm_bindgen(constructor)]
    pub fn new(config: StoreConfig) -> Result<Store, JsValue> {
        config::build(config.as_ref()).map(|inner| Store { inner: Rc::new(inner) }).map_err(|e| js_error(&e))
    }

    /// Resolves an option: `{ name, value, source, degraded, lookup?, version? }`.
    /// Rejects only for unknown or non-string names. Pass a Worker's `ctx` so a stale
    /// answer's background refresh runs under `ctx.waitUntil`.
    ///
    /// An answer backed by a fresh isolate-memory entry also carries two
    /// non-enumerable properties, taken in the same synchronous step as the
    /// answer: `freshUntil` (ms since the epoch) and `freshAnswer` (what
    /// every read gives until then, a memory hit): the package's entry
    /// (`hot.js`) keeps that answer and serves it without crossing into wasm.
    #[wasm_bindgen(js_name = getOption)]
    pub fn get_option(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        ctx: Option<MaybeWaitUntil>,
        options: Option<MaybeReadOptions>,
    ) -> OptionReadPromise {
        let call = self.call();
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        let promise = future_to_promise(async move {
            let name = convert::name(&name, "the option name").map_err(|e| js_error(&e))?;
            let min_version = convert::min_version(&options).map_err(|e| js_error(&e))?;
            // Credentials are not hidden: the caller is the Worker's own code.
            let asked = at_least(min_version, Call::GetOption { name, reveal_credentials: true, keep: true });
            let answer = call.answer(asked).await.map_err(|e| js_error(&e))?;
            let kept = answer.keep.clone();
            let js = to_js(&call.send(answer, ctx))?;
            if let Some(kept) = kept {
                interop::define_hidden(&js, "freshUntil", &JsValue::from_f64(kept.until as f64));
                interop::define_hidden(&js, "freshAnswer", &to_js(&render(kept.body))?);
            }
            Ok(js)
        });
        promise.unchecked_into()
    }

    /// Stores `value` (origin first, then memory and KV):
    /// `{ name, value, version, cacheUpdated }`.
    #[wasm_bindgen(js_name = setOption)]
    pub fn set_option(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue,
    ) -> OptionSetPromise {
        self.spawn(|call| async move {
            let name = convert::name(&name, "the option name")?;
            let value = from_js(&value)?;
            Ok(call.send(call.answer(Call::SetOption { name, value }).await?, None))
        })
    }

    /// Removes the stored value (reads fall back to config, then default):
    /// `{ name, version, cacheUpdated }`.
    #[wasm_bindgen(js_name = deleteOption)]
    pub fn delete_option(&self, #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> OptionDeletePromise {
        self.spawn(|call| async move {
            let name = convert::name(&name, "the option name")?;
            Ok(call.send(call.answer(Call::DeleteOption { name }).await?, None))
        })
    }

    /// Every registered option with its type, default, flags, ttl and grace
    /// (legacy prefixes are not listed: any name under them is an option).
    #[wasm_bindgen(js_name = listOptions)]
    pub fn list_options(&self) -> Result<OptionInfoList, JsValue> {
        let Value::Array(specs) = self.inner.service.options.registry().listing(true) else {
            return Ok(js_sys::Array::new().unchecked_into());
        };
        let list = Value::Array(specs.into_iter().map(camel_case_keys).collect());
        Ok(to_js(&list)?.unchecked_into())
    }

    /// A scope's whole option map: `{ values, source, version }`.
    #[wasm_bindgen(js_name = getMap)]
    pub fn get_map(
        &self,
        scope: ScopeArg,
        ctx: Option<MaybeWaitUntil>,
        options: Option<MaybeReadOptions>,
    ) -> MapReadPromise {
        let scope = JsValue::from(scope);
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        self.spawn(|call| async move {
            let scope = convert::scope(&scope)?;
            let asked = at_least(convert::min_version(&options)?, Call::GetMap { scope });
            Ok(call.send(call.answer(asked).await?, ctx))
        })
    }

    /// One key of a scope's map: `{ key, value, source, version }`, `value:
    /// null` when unset. Reads the cached map, like `getMap`.
    #[wasm_bindgen(js_name = getMapKey)]
    pub fn get_map_key(
        &self,
        scope: ScopeArg,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
        ctx: Option<MaybeWaitUntil>,
        options: Option<MaybeReadOptions>,
    ) -> MapKeyReadPromise {
        let scope = JsValue::from(scope);
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        self.spawn(|call| async move {
            let scope = convert::scope(&scope)?;
            let key = convert::name(&key, "the key")?;
            let asked = at_least(convert::min_version(&options)?, Call::GetMapKey { scope, key });
            Ok(call.send(call.answer(asked).await?, ctx))
        })
    }

    /// Sets one key of a scope's map (origin first; the origin's whole map
    /// replaces the cached one): `{ key, value, version, cacheUpdated }`.
    #[wasm_bindgen(js_name = setMapKey)]
    pub fn set_map_key(
        &self,
        scope: ScopeArg,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue,
    ) -> MapKeySetPromise {
        let scope = JsValue::from(scope);
        self.spawn(|call| async move {
            let scope = convert::scope(&scope)?;
            let key = convert::name(&key, "the key")?;
            let value = from_js(&value)?;
            Ok(call.send(call.answer(Call::SetMapKey { scope, key, value }).await?, None))
        })
    }

    /// Unsets one key of a scope's map: `{ key, version, cacheUpdated }`.
    #[wasm_bindgen(js_name = deleteMapKey)]
    pub fn delete_map_key(
        &self,
        scope: ScopeArg,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
    ) -> MapKeyDeletePromise {
        let scope = JsValue::from(scope);
        self.spawn(|call| async move {
            let scope = convert::scope(&scope)?;
            let key = convert::name(&key, "the key")?;
            Ok(call.send(call.answer(Call::DeleteMapKey { scope, key }).await?, None))
        })
    }

    /// A project's ownership record, or `ownership: null` (absence is
    /// cached like a record): `{ ownership, source }`.
    #[wasm_bindgen(js_name = getOwnership)]
    pub fn get_ownership(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Id")] project: JsValue,
        ctx: Option<MaybeWaitUntil>,
        options: Option<MaybeReadOptions>,
    ) -> OwnershipReadPromise {
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        self.spawn(|call| async move {
            let project = convert::id(&project, "project")?;
            let asked = at_least(convert::min_version(&options)?, Call::GetOwnership { project });
            Ok(call.send(call.answer(asked).await?, ctx))
        })
    }

    /// Stores a project's rules (refused with `invalid_rules`, naming the
    /// line and column, before the origin is asked): the record plus `cacheUpdated`.
    #[wasm_bindgen(js_name = putOwnership)]
    pub fn put_ownership(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Id")] project: JsValue,
        input: OwnershipInputArg,
    ) -> OwnershipWritePromise {
        let input = JsValue::from(input);
        self.spawn(|call| async move {
            let project = convert::id(&project, "project")?;
            let input = convert::ownership_input(&input)?;
            Ok(call.send(call.answer(Call::PutOwnership { project, input }).await?, None))
        })
    }

    /// Removes a project's rules; "absent" is cached: `{ version, cacheUpdated }`.
    #[wasm_bindgen(js_name = deleteOwnership)]
    pub fn delete_ownership(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Id")] project: JsValue,
    ) -> OwnershipDeletePromise {
        self.spawn(|call| async move {
            let project = convert::id(&project, "project")?;
            Ok(call.send(call.answer(Call::DeleteOwnership { project }).await?, None))
        })
    }

    /// Who owns `event` (event data as JSON: `stacktrace`, `exception`,
    /// `request.url`, `tags`, …) under the project's rules:
    /// `{ owners, rules, autoAssign, source }`.
    pub fn owners(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Id")] project: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] event: JsValue,
        ctx: Option<MaybeWaitUntil>,
        options: Option<MaybeReadOptions>,
    ) -> OwnersPromise {
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        self.spawn(|call| async move {
            let project = convert::id(&project, "project")?;
            let event = from_js(&event).map_err(|e| Error::InvalidBody(format!("event data: {e}")))?;
            let asked = at_least(convert::min_version(&options)?, Call::Owners { project, event });
            Ok(call.send(call.answer(asked).await?, ctx))
        })
    }

    /// Records `eventId` as the last processed event of each group hash
    /// (KV only; a repeat of the same record in the same second costs no
    /// write): `{ recorded }`.
    #[wasm_bindgen(js_name = recordLastProcessed)]
    pub fn record_last_processed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Id")] project: JsValue,
        #[wasm_bindgen(js_name = hashIds, unchecked_param_type = "Id[]")] hash_ids: JsValue,
        #[wasm_bindgen(js_name = eventId, unchecked_param_type = "string")] event_id: JsValue,
    ) -> RecordedPromise {
        self.spawn(|call| async move {
            let project = convert::id(&project, "project")?;
            let hash_ids = convert::hash_ids(&hash_ids, crate::core::limits::MAX_RECORD_BATCH)?;
            let event_id = convert::text(&event_id, "an event id")?;
            Ok(call.send(call.answer(Call::RecordLastProcessed { project, hash_ids, event_id }).await?, None))
        })
    }

    /// The last processed event of each group hash, aligned with
    /// `hashIds`, `null` for unknown: `{ eventIds }`.
    #[wasm_bindgen(js_name = lastProcessed)]
    pub fn last_processed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Id")] project: JsValue,
        #[wasm_bindgen(js_name = hashIds, unchecked_param_type = "Id[]")] hash_ids: JsValue,
    ) -> LastProcessedPromise {
        self.spawn(|call| async move {
            let project = convert::id(&project, "project")?;
            let hash_ids = convert::hash_ids(&hash_ids, crate::core::limits::MAX_FETCH_BATCH)?;
            Ok(call.send(call.answer(Call::LastProcessed { project, hash_ids }).await?, None))
        })
    }

    /// One run of the sync job (the Worker's cron job; call it from your
    /// own `scheduled` handler): re-writes into KV what the origin changed
    /// since the cursor the last run saved in KV, within the store's sync
    /// limits, and answers `{ synced, options, maps, ownership, failed,
    /// skipped, unreadable, kvOps, originCalls, cursor, more, problems }`.
    pub fn sync(&self) -> SyncPromise {
        self.spawn(|call| async move { Ok(call.send(call.answer(Call::Sync).await?, None)) })
    }

    /// This store's counters and memory figures.
    pub fn stats(&self) -> Result<StoreStats, JsValue> {
        let snapshot = self.inner.service.stats(self.inner.clock.now_ms());
        let value = serde_json::to_value(&snapshot).map_err(|e| js_error(&Error::Unavailable(e.to_string().into())))?;
        Ok(to_js(&camel_case_keys(value))?.unchecked_into())
    }

    /// Config problems found when the store was built (bad `config` entries,
    /// bad `settings` values), each replaced by its default.
    pub fn problems(&self) -> Vec<String> {
        self.inner.service.problems.clone()
    }
}

impl Store {
    /// A call on this store, with an origin client of its own.
    fn call(&self) -> OnCall {
        OnCall { inner: Rc::clone(&self.inner), origin: JsOrigin::new(Rc::clone(&self.inner.origin)) }
    }

    /// Runs `work` on this store's state as a JS promise: an `Err` becomes
    /// a rejection with an `Error` whose `code` is the edge API's.
    fn spawn<F, Fut, T>(&self, work: F) -> T
    where
        F: FnOnce(OnCall) -> Fut,
        Fut: Future<Output = Result<Value, Error>> + 'static,
        T: JsCast,
    {
        let running = work(self.call());
        let promise = future_to_promise(async move {
            let answer = running.await.map_err(|e| js_error(&e))?;
            to_js(&answer)
        });
        promise.unchecked_into()
    }
}

/// `call` answered at `min_version` or later when one is given (a read's
/// `minVersion` option).
fn at_least(min_version: Option<u64>, call: Call) -> Call {
    match min_version {
        Some(min_version) => Call::AtLeast { min_version, call: Box::new(call) },
        None => call,
    }
}
