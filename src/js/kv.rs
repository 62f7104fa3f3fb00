//! `NetworkCache` over a Workers KV binding object, or anything with the
//! same method shapes: `get(key)` → `Promise<string | null>`,
//! `put(key, value, { expirationTtl })`, `delete(key)`, and where the
//! binding has it the bulk read `get([keys])` → `Promise<Map<string,
//! string | null>>` (workerd's KV binding; a binding without it answers
//! something other than a `Map`, and keys are then read one by one).
//!
//! Calls go through `Reflect`/`Function` so nothing here depends on
//! workers-rs; every throw, rejection or odd answer becomes a `TierError`.

use js_sys::{Array, Map, Object};
use wasm_bindgen::{JsCast, JsValue};

use super::interop::{call_and_await, message, method, set};
use crate::core::ports::{kv_expiration, NetworkCache, TierError};

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
        let ttl = kv_expiration(expiration_ttl_secs);
        set(&options, "expirationTtl", &JsValue::from_f64(ttl as f64));
        self.call("put", &[JsValue::from_str(key), JsValue::from_str(&value), options.into()]).await.map(|_| ())
    }

    async fn delete(&self, key: &str) -> Result<(), TierError> {
        self.call("delete", &[JsValue::from_str(key)]).await.map(|_| ())
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Option<Vec<Option<String>>>, TierError> {
        let asked: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
        // A binding without bulk reads may throw on an array key, or answer
        // null: either way the caller reads key by key (and a KV that is
        // down fails those reads too).
        let Ok(got) = self.call("get", &[asked.into()]).await else { return Ok(None) };
        let Some(found) = got.dyn_ref::<Map>() else { return Ok(None) };
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let value = found.get(&JsValue::from_str(key));
            if value.is_null() || value.is_undefined() {
                out.push(None);
            } else {
                match value.as_string() {
                    Some(text) => out.push(Some(text)),
                    None => {
                        return Err(TierError::Garbage("KV: a bulk get() answered something other than text".into()))
                    }
                }
            }
        }
        Ok(Some(out))
    }
}
