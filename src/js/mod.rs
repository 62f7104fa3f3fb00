//! The npm package: a `Store` class over the same core as the Worker, with
//! its I/O in JS (a KV binding object, the global `fetch`, `setTimeout`).
//!
//! Built with `--no-default-features --features js` by `scripts/build-npm`;
//! nothing here uses workers-rs. One `Store` per isolate, reused across
//! requests: its isolate memory, coalescing and throttling live inside it.
//! Nothing in it holds a `RefCell` borrow across an `.await` (the core's
//! cells are borrowed only between awaits), so concurrent calls from many
//! requests are safe; nothing from JS is unwrapped (a panic would abort the
//! wasm instance).
//!
//! | module | holds |
//! |---|---|
//! | `interop` | `Reflect`/`Function` helpers, JS `Error`s with a `code` |
//! | `kv` | `NetworkCache` over a KV binding object |
//! | `origin` | `DurableStore` over `fetch` |
//! | `clock` | `Clock` over `Date.now()` and `setTimeout` |

mod clock;
mod interop;
mod kv;
mod origin;

use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Promise};
use serde::Serialize;
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use self::clock::JsClock;
use self::interop::{js_error, method, prop};
use self::kv::JsKv;
use self::origin::JsOrigin;
use crate::core::config::ConfigValues;
use crate::core::error::Error;
use crate::core::options::{OptionValue, Options};
use crate::core::registry::{parse_legacy_prefixes, Registry};
use crate::core::settings::Settings;
use crate::core::tiered::TieredCache;
use crate::tiers::{Clock, Io};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** The methods of a Workers KV binding this package uses. */
export interface KvLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** How to build a `Store`. */
export interface StoreConfig {
  /** A Workers KV namespace binding (`env.CACHE`), or an object with the same methods. */
  kv: KvLike;
  /** The origin API: base URL (no trailing slash needed), bearer token, hard timeout (default 5000 ms). */
  origin: { url: string; token: string; timeoutMs?: number };
  /** Config-tier values by option name (the Worker's `OPTIONS_CONFIG`), or its JSON text. */
  config?: Record<string, unknown> | string;
  /** Name prefixes accepted as untyped options with default "" (the Worker's `LEGACY_PREFIXES`). */
  legacyPrefixes?: string[] | string;
  /** Other Worker settings by var name, e.g. `{ ORIGIN_SOFT_TIMEOUT_MS: 250, KV_EXPIRATION_SECS: 3600, BACKOFF_START_MS: 1000 }`. */
  settings?: Record<string, string | number>;
}

/** Which tier answered. */
export type Source = "local" | "kv" | "origin" | "stale" | "config" | "default";

/** The answer to `getOption`. */
export interface OptionRead {
  name: string;
  value: unknown;
  source: Source;
  /** The stores could not be asked: `value` is the config/default and may not be current. */
  degraded: boolean;
  /** Which tier answered the store lookup, when one did. */
  lookup?: Source;
  /** The origin version of a stored value. */
  version?: number;
}

/** The answer to `setOption`. */
export interface OptionSet { name: string; value: unknown; version: number; cacheUpdated: boolean }

/** The answer to `deleteOption`. */
export interface OptionDelete { name: string; version: number; cacheUpdated: boolean }

/** Anything with `waitUntil` (a Worker's `ctx`), for background refreshes. */
export interface WaitUntil { waitUntil(promise: Promise<unknown>): void }

/** This store's counters (the Worker's `/v1/stats`, in camelCase). */
export interface StoreStats {
  hitsLocal: number; hitsKv: number; hitsOrigin: number; staleServed: number; misses: number;
  negativeHits: number; degraded: number; originErrors: number; kvErrors: number; kvWriteErrors: number;
  coalesced: number; throttled: number; softTimeouts: number; revalidated: number; inFlight: number;
  breakerOpen: boolean; entries: number; bytes: number; maxEntries: number; maxBytes: number;
}

/** Errors thrown or rejected by `Store` are `Error`s with these codes (API.md). */
export type ErrorCode =
  | "invalid_body" | "invalid_type" | "immutable" | "nostore" | "unknown_option"
  | "origin_error" | "unavailable" | "origin_timeout";
export interface StoreError extends Error { code: ErrorCode; status: number }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "StoreConfig")]
    pub type StoreConfig;
    #[wasm_bindgen(typescript_type = "WaitUntil | undefined")]
    pub type MaybeWaitUntil;
    #[wasm_bindgen(typescript_type = "Promise<OptionRead>")]
    pub type OptionReadPromise;
    #[wasm_bindgen(typescript_type = "Promise<OptionSet>")]
    pub type OptionSetPromise;
    #[wasm_bindgen(typescript_type = "Promise<OptionDelete>")]
    pub type OptionDeletePromise;
    #[wasm_bindgen(typescript_type = "StoreStats")]
    pub type StoreStats;
}

/// Everything one store keeps: the registry and config, isolate memory,
/// and the JS I/O it was built with.
struct Inner {
    options: Options,
    cache: TieredCache,
    kv: JsKv,
    origin: JsOrigin,
    clock: JsClock,
    problems: Vec<String>,
}

impl Inner {
    fn io(&self) -> Io<'_, JsKv, JsOrigin, JsClock> {
        Io { kv: &self.kv, origin: &self.origin, clock: &self.clock }
    }
}

/// Registered options through isolate memory, KV and the origin. Build one
/// per isolate (module scope) and reuse it across requests.
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
        build(config.as_ref()).map(|inner| Store { inner: Rc::new(inner) }).map_err(|e| js_error(&e))
    }

    /// Resolves an option: `{ name, value, source, degraded, lookup?, version? }`.
    /// Rejects only for unknown or non-string names. Pass a Worker's `ctx` so a stale
    /// answer's background refresh runs under `ctx.waitUntil`.
    #[wasm_bindgen(js_name = getOption)]
    pub fn get_option(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        ctx: Option<MaybeWaitUntil>,
    ) -> OptionReadPromise {
        let inner = Rc::clone(&self.inner);
        let promise = future_to_promise(async move {
            let name = option_name(&name)?;
            let answer = inner.options.get(&inner.cache, &inner.io(), &name).await.map_err(|e| js_error(&e))?;
            if answer.refresh {
                refresh_later(&inner, &answer.name, ctx.map(JsValue::from));
            }
            to_js(&option_json(&answer))
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
        let inner = Rc::clone(&self.inner);
        let promise = future_to_promise(async move {
            let name = option_name(&name)?;
            let value = from_js(&value)?;
            let written = inner.options.set(&inner.cache, &inner.io(), &name, value).await.map_err(|e| js_error(&e))?;
            to_js(&json!({
                "name": written.name,
                "value": written.value,
                "version": written.version,
                "cacheUpdated": written.cache_updated,
            }))
        });
        promise.unchecked_into()
    }

    /// Removes the stored value (reads fall back to config, then default):
    /// `{ name, version, cacheUpdated }`.
    #[wasm_bindgen(js_name = deleteOption)]
    pub fn delete_option(&self, #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> OptionDeletePromise {
        let inner = Rc::clone(&self.inner);
        let promise = future_to_promise(async move {
            let name = option_name(&name)?;
            let written = inner.options.delete(&inner.cache, &inner.io(), &name).await.map_err(|e| js_error(&e))?;
            to_js(&json!({ "name": written.name, "version": written.version, "cacheUpdated": written.cache_updated }))
        });
        promise.unchecked_into()
    }

    /// This store's counters and memory figures.
    pub fn stats(&self) -> Result<StoreStats, JsValue> {
        let snapshot = self.inner.cache.stats(self.inner.clock.now_ms());
        let value = serde_json::to_value(&snapshot).map_err(|e| js_error(&Error::Unavailable(e.to_string())))?;
        Ok(to_js(&camel_case_keys(value))?.unchecked_into())
    }

    /// Config problems found when the store was built (bad `config` entries,
    /// bad `settings` values), each replaced by its default.
    pub fn problems(&self) -> Vec<String> {
        self.inner.problems.clone()
    }
}

/// Builds a store's state from its JS config.
fn build(config: &JsValue) -> Result<Inner, Error> {
    let bad = |what: &str| Error::InvalidBody(format!("Store config: {what}"));
    if !config.is_object() {
        return Err(bad("expected an object { kv, origin: { url, token } }"));
    }
    let kv = prop(config, "kv");
    if !kv.is_object() || method(&kv, "get").is_none() {
        return Err(bad("`kv` must be a KV binding (an object with get/put/delete)"));
    }
    let origin = prop(config, "origin");
    let url = prop(&origin, "url").as_string().map(|u| u.trim().trim_end_matches('/').to_string());
    let Some(url) = url.filter(|u| u.starts_with("http://") || u.starts_with("https://")) else {
        return Err(bad("`origin.url` must be an http(s) URL"));
    };
    let Some(token) = prop(&origin, "token").as_string().filter(|t| !t.is_empty()) else {
        return Err(bad("`origin.token` must be a non-empty string"));
    };

    let mut vars: HashMap<String, String> = HashMap::new();
    let settings = prop(config, "settings");
    if settings.is_object() {
        for entry in js_sys::Object::entries(settings.unchecked_ref()).iter() {
            let pair: Array = entry.unchecked_into();
            let (Some(name), value) = (pair.get(0).as_string(), pair.get(1)) else { continue };
            let text = value.as_string().or_else(|| value.as_f64().map(|n| n.to_string()));
            if let Some(text) = text {
                vars.insert(name, text);
            }
        }
    }
    vars.insert("ORIGIN_URL".into(), url);
    vars.insert("ORIGIN_TOKEN".into(), token);
    let timeout = prop(&origin, "timeoutMs");
    if let Some(ms) = timeout.as_f64() {
        vars.insert("ORIGIN_TIMEOUT_MS".into(), ms.to_string());
    } else if !timeout.is_undefined() && !timeout.is_null() {
        return Err(bad("`origin.timeoutMs` must be a number"));
    }
    let options_config = prop(config, "config");
    if let Some(text) = options_config.as_string() {
        vars.insert("OPTIONS_CONFIG".into(), text);
    } else if options_config.is_object() {
        let text = js_sys::JSON::stringify(&options_config).map_err(|_| bad("`config` is not JSON-serialisable"))?;
        vars.insert("OPTIONS_CONFIG".into(), String::from(text));
    }
    let prefixes = prop(config, "legacyPrefixes");
    if let Some(text) = prefixes.as_string() {
        vars.insert("LEGACY_PREFIXES".into(), text);
    } else if Array::is_array(&prefixes) {
        let list: Vec<String> = Array::from(&prefixes).iter().filter_map(|p| p.as_string()).collect();
        vars.insert("LEGACY_PREFIXES".into(), list.join(","));
    }

    // The Worker's own settings parser: the same defaults and the same
    // validation; the read/admin tokens it also reads are unused here.
    let settings = Settings::from_vars(|name| vars.get(name).cloned());
    let registry = Registry::builtin()
        .map_err(|e| Error::Unavailable(format!("the built-in registry is invalid: {e}")))?
        .with_legacy_prefixes(parse_legacy_prefixes(&settings.legacy_prefixes));
    let (config_values, config_problems) = ConfigValues::parse(&settings.options_config, &registry);
    let mut problems: Vec<String> =
        settings.problems.iter().filter(|p| !p.contains("READ_TOKEN equals ADMIN_TOKEN")).cloned().collect();
    problems.extend(config_problems.into_iter().map(|p| p.to_string()));
    let cache = TieredCache::new(settings.memory, settings.kv_expiration_secs)
        .with_timeouts(settings.timeouts)
        .with_throttle(settings.throttle);
    Ok(Inner {
        options: Options::new(registry, config_values),
        cache,
        kv: JsKv::new(kv),
        origin: JsOrigin::new(&settings.origin_url, &settings.origin_token, settings.origin_timeout_ms),
        clock: JsClock,
        problems,
    })
}

/// Refreshes `name` in the background after a stale answer: under
/// `ctx.waitUntil` when a context was given, else as a floating promise.
fn refresh_later(inner: &Rc<Inner>, name: &str, ctx: Option<JsValue>) {
    let inner = Rc::clone(inner);
    let name = name.to_string();
    let refresh: Promise = future_to_promise(async move {
        let updated = inner.options.revalidate(&inner.cache, &inner.io(), &name).await;
        Ok(JsValue::from_bool(updated))
    });
    if let Some(ctx) = ctx {
        if let Some(wait_until) = method(&ctx, "waitUntil") {
            let _ = wait_until.call1(&ctx, &refresh);
        }
    }
}

/// The answer object of `getOption` (credential values are not hidden:
/// the caller is the Worker's own code).
fn option_json(answer: &OptionValue) -> Value {
    let mut body = Map::new();
    body.insert("name".into(), json!(answer.name));
    body.insert("value".into(), answer.value.clone());
    body.insert("source".into(), json!(answer.source.as_str()));
    body.insert("degraded".into(), json!(answer.degraded));
    if let Some(lookup) = answer.lookup {
        body.insert("lookup".into(), json!(lookup.as_str()));
    }
    if let Some(version) = answer.version {
        body.insert("version".into(), json!(version));
    }
    Value::Object(body)
}

/// A JSON value as plain JS (objects, not `Map`s).
fn to_js(value: &Value) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(&Error::Unavailable(format!("converting the answer to JS: {e}"))))
}

/// An option name passed from JS: strings only (wasm-bindgen's own string
/// conversion must never see anything else).
fn option_name(name: &JsValue) -> Result<String, JsValue> {
    name.as_string().ok_or_else(|| js_error(&Error::InvalidBody("an option name must be a string".into())))
}

/// A JS value as JSON; what JSON cannot hold is `invalid_type`.
fn from_js(value: &JsValue) -> Result<Value, JsValue> {
    if value.is_undefined() {
        return Err(js_error(&Error::InvalidType("a value is required (undefined given)".into())));
    }
    serde_wasm_bindgen::from_value(value.clone())
        .map_err(|e| js_error(&Error::InvalidType(format!("the value is not JSON: {e}"))))
}

/// `hits_local` → `hitsLocal`, for the top-level keys of an object.
fn camel_case_keys(value: Value) -> Value {
    let Value::Object(map) = value else { return value };
    let renamed = map.into_iter().map(|(key, v)| {
        let mut out = String::with_capacity(key.len());
        let mut upper = false;
        for c in key.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        (out, v)
    });
    Value::Object(renamed.collect())
}
