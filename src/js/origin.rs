//! `DurableStore` over the origin HTTP API with the global `fetch`.
//!
//! The same requests as the Worker's client (`tiers::origin`): the origin
//! token as a bearer, JSON bodies, one exchange cut off (and its fetch
//! aborted) at the hard timeout. Answers are parsed by `tiers::origin_wire`;
//! this file only moves bytes. An exchange abandoned by the core at the soft
//! timeout is simply dropped (the background refresh sends its own).

use js_sys::{Function, Object, Reflect};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use super::clock::sleep;
use super::interop::{call_and_await, global, message, method, prop, set};
use crate::core::lifecycle::Millis;
use crate::core::race::{race, First};
use crate::core::scope::{Id, Scope};
use crate::core::slot::Versioned;
use crate::tiers::origin_wire::{self, encode_segment};
use crate::tiers::{Changes, DurableStore, TierError};

/// A client of the origin API.
pub struct JsOrigin {
    base_url: String,
    token: String,
    timeout_ms: Millis,
}

impl JsOrigin {
    /// A client of the origin at `base_url` (no trailing slash).
    pub fn new(base_url: &str, token: &str, timeout_ms: Millis) -> Self {
        JsOrigin { base_url: base_url.to_string(), token: token.to_string(), timeout_ms }
    }

    /// Sends one request; answers (status, body text) or how it failed.
    async fn call(&self, verb: &str, path: &str, body: Option<String>) -> Result<(u16, String), TierError> {
        let Some(fetch) = method(&global(), "fetch") else {
            return Err(TierError::Unreachable("there is no global fetch()".into()));
        };
        let controller = new_abort_controller();
        let init = self.init(verb, body, controller.as_ref());
        let url = JsValue::from_str(&format!("{}{}", self.base_url, path));
        match race(exchange(&fetch, url, init), sleep(self.timeout_ms)).await {
            First::Left(answer) => answer,
            First::Right(()) => {
                if let Some(controller) = &controller {
                    if let Some(abort) = method(controller, "abort") {
                        let _ = abort.call0(controller);
                    }
                }
                Err(TierError::Timeout)
            }
        }
    }

    /// The `RequestInit` of one exchange.
    fn init(&self, verb: &str, body: Option<String>, controller: Option<&JsValue>) -> Object {
        let headers = Object::new();
        set(&headers, "authorization", &JsValue::from_str(&format!("Bearer {}", self.token)));
        set(&headers, "accept", &JsValue::from_str("application/json"));
        let init = Object::new();
        set(&init, "method", &JsValue::from_str(verb));
        if let Some(body) = body {
            set(&headers, "content-type", &JsValue::from_str("application/json"));
            set(&init, "body", &JsValue::from_str(&body));
        }
        set(&init, "headers", &headers);
        if let Some(controller) = controller {
            let signal = prop(controller, "signal");
            if !signal.is_undefined() {
                set(&init, "signal", &signal);
            }
        }
        init
    }
}

/// `new AbortController()`, when the runtime has one.
fn new_abort_controller() -> Option<JsValue> {
    let class = prop(&global(), "AbortController").dyn_into::<Function>().ok()?;
    Reflect::construct(&class, &js_sys::Array::new()).ok()
}

/// `fetch(url, init)`, then the status and the whole body text.
async fn exchange(fetch: &Function, url: JsValue, init: Object) -> Result<(u16, String), TierError> {
    let response =
        call_and_await(fetch, &global(), &[url, init.into()]).await.map_err(|e| TierError::Unreachable(message(&e)))?;
    let status = prop(&response, "status").as_f64().filter(|s| s.fract() == 0.0 && (100.0..=599.0).contains(s));
    let Some(status) = status else {
        return Err(TierError::Garbage("fetch() answered something that is not a Response".into()));
    };
    let Some(text) = method(&response, "text") else {
        return Err(TierError::Garbage("the Response has no text()".into()));
    };
    let text = call_and_await(&text, &response, &[])
        .await
        .map_err(|e| TierError::Interrupted(format!("reading the origin's answer: {}", message(&e))))?;
    match text.as_string() {
        Some(text) => Ok((status as u16, text)),
        None => Err(TierError::Garbage("the origin's body is not text".into())),
    }
}

impl DurableStore for JsOrigin {
    async fn get_option(&self, name: &str) -> Result<Versioned, TierError> {
        let (status, body) = self.call("GET", &format!("/options/{}", encode_segment(name)), None).await?;
        origin_wire::option_get(name, status, &body)
    }

    async fn put_option(&self, name: &str, value: &Value) -> Result<Versioned, TierError> {
        let body = serde_json::json!({ "value": value }).to_string();
        let (status, text) = self.call("PUT", &format!("/options/{}", encode_segment(name)), Some(body)).await?;
        origin_wire::option_put(name, status, &text)
    }

    async fn delete_option(&self, name: &str) -> Result<Versioned, TierError> {
        let (status, body) = self.call("DELETE", &format!("/options/{}", encode_segment(name)), None).await?;
        origin_wire::option_delete(status, &body)
    }

    async fn changes_since(&self, since: u64) -> Result<Changes, TierError> {
        let (status, body) = self.call("GET", &format!("/options?updated_since={since}"), None).await?;
        origin_wire::changes(status, &body)
    }

    async fn get_map(&self, scope: &Scope) -> Result<Versioned, TierError> {
        let (status, body) = self.call("GET", &scope.origin_path(None), None).await?;
        origin_wire::map_answer(status, &body)
    }

    async fn put_map_key(&self, scope: &Scope, key: &str, value: &Value) -> Result<Versioned, TierError> {
        let body = serde_json::json!({ "value": value }).to_string();
        let path = scope.origin_path(Some(&encode_segment(key)));
        let (status, text) = self.call("PUT", &path, Some(body)).await?;
        origin_wire::map_answer(status, &text)
    }

    async fn delete_map_key(&self, scope: &Scope, key: &str) -> Result<Option<Versioned>, TierError> {
        let path = scope.origin_path(Some(&encode_segment(key)));
        let (status, body) = self.call("DELETE", &path, None).await?;
        origin_wire::map_delete(status, &body)
    }

    async fn get_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        let (status, body) = self.call("GET", &format!("/projects/{project}/ownership"), None).await?;
        origin_wire::ownership_get(status, &body)
    }

    async fn put_ownership(&self, project: Id, record: &Value) -> Result<Versioned, TierError> {
        let path = format!("/projects/{project}/ownership");
        let (status, body) = self.call("PUT", &path, Some(record.to_string())).await?;
        origin_wire::ownership_put(status, &body)
    }

    async fn delete_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        let (status, body) = self.call("DELETE", &format!("/projects/{project}/ownership"), None).await?;
        origin_wire::ownership_delete(status, &body)
    }
}
