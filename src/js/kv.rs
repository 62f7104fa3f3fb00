//! `NetworkCache` over a Workers KV binding object, or anything with the
//! same method shapes: `get(key)` → `Promise<string | null>`,
//! `put(key, value, { expirationTtl })`, `delete(key)`.
//!
//! Calls go through `Reflect`/`Function` so nothing here depends on
//! workers-rs; every throw, rejection or odd answer becomes a `TierError`.

use js_sys::Object;
use wasm_bindgen::JsValue;

use super::interop::{call_and_await, message, method, set};
use crate::core::tiered::KV_MIN_EXPIRATION_SECS;
use crate::tiers::{NetworkCache, TierError};

/// A KV binding (the object a Worker gets as `env.CACHE`).
pub struct JsKv {
    binding: JsValue,
}

impl JsKv {
    /// Wraps `binding`; its methods are looked up on each call.
    pub fn new(binding: JsValue) -> Self {
        JsKv { binding }
    }

    async fn call(&self, name: &str, args: &[JsValue]) -> Result<JsValue, TierError> {
        let Some(f) = method(&self.binding, name) else {
            return Err(TierError::Unreachable(format!("KV: the binding has no {name}() method")));
        };
        call_and_await(&f, &self.binding, args)
            .await
            .map_err(|e| TierError::Unreachable(format!("KV: {}", message(&e))))
    }
}

impl NetworkCache for JsKv {
    async fn get(&self, key: &str) -> Result<Option<String>, TierError> {
        let got = self.call("get", &[JsValue::from_str(key)]).await?;
        if got.is_null() || got.is_undefined() {
            return Ok(None);
        }
        match got.as_string() {
            Some(text) => Ok(Some(text)),
            None => Err(TierError::Garbage("KV: get() answered something other than text or null".into())),
        }
    }

    async fn put(&self, key: &str, value: String, expiration_ttl_secs: u64) -> Result<(), TierError> {
        let options = Object::new();
        let ttl = expiration_ttl_secs.max(KV_MIN_EXPIRATION_SECS);
        set(&options, "expirationTtl", &JsValue::from_f64(ttl as f64));
        self.call("put", &[JsValue::from_str(key), JsValue::from_str(&value), options.into()]).await.map(|_| ())
    }

    async fn delete(&self, key: &str) -> Result<(), TierError> {
        self.call("delete", &[JsValue::from_str(key)]).await.map(|_| ())
    }
}
