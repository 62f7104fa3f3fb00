//! The origin API over the global `fetch`: one `OriginExchange`, so the
//! contract itself (paths, parsers) is `tiers::origin_api` and how an
//! exchange is shared, timed out and aborted is `tiers::exchange`, both
//! shared with the Worker; this file only moves bytes.
//!
//! Each exchange carries the origin token and runs as a JS promise of its
//! own, so a read the core abandons at the soft timeout keeps running and
//! the background refresh of the *same call* finishes it, as the Worker
//! does. A client and its `PendingGets` belong to one `Store` call and its
//! refresh, never to another call (on Workers a request must not await
//! another request's I/O).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::clock::sleep;
use super::interop::{call_and_await, global, message, method, prop, set};
use crate::core::coalesce::PendingReads;
use crate::core::lifecycle::Millis;
use crate::core::ports::TierError;
use crate::tiers::exchange::{exchange, UnderWay};
use crate::tiers::origin_api::{OriginExchange, Verb};

/// Where the origin is and how to call it; one per store.
pub struct OriginConfig {
    /// Base URL, no trailing slash.
    pub base_url: String,
    /// Bearer token.
    pub token: String,
    /// Hard timeout of one exchange.
    pub timeout_ms: Millis,
}

/// What an exchange settled with, kept for whoever awaits it.
type Outcome = Rc<RefCell<Option<Result<(u16, String), TierError>>>>;

/// One exchange under way: its promise (settles when the exchange ends),
/// where it leaves its outcome, and the `AbortController` that cuts it off.
#[derive(Clone)]
pub struct FetchUnderWay {
    done: Promise,
    outcome: Outcome,
    controller: Option<JsValue>,
}

impl UnderWay for FetchUnderWay {
    async fn answer(&self) -> Result<(u16, String), TierError> {
        let _ = JsFuture::from(self.done.clone()).await;
        self.outcome
            .borrow()
            .clone()
            .unwrap_or_else(|| Err(TierError::Interrupted("the exchange ended without an answer".into())))
    }

    fn abort(&self) {
        if let Some(controller) = &self.controller {
            if let Some(abort) = method(controller, "abort") {
                let _ = abort.call0(controller);
            }
        }
    }
}

/// Origin reads one store call has under way, by path (`tiers::exchange`).
pub type PendingGets = PendingReads<FetchUnderWay>;

/// A client of the origin API for one store call.
pub struct JsOrigin {
    config: Rc<OriginConfig>,
    pending: PendingGets,
}

impl JsOrigin {
    /// A client with nothing under way.
    pub fn new(config: Rc<OriginConfig>) -> Self {
        JsOrigin { config, pending: PendingGets::default() }
    }

    /// A client that finishes this one's abandoned reads (for the
    /// background refresh of the same call).
    pub fn sharing(&self) -> Self {
        JsOrigin { config: Rc::clone(&self.config), pending: self.pending.clone() }
    }

    /// Starts one exchange as a promise that runs on its own, whether or not
    /// anyone keeps waiting for it.
    fn start(&self, verb: Verb, path: &str, body: Option<String>) -> Result<FetchUnderWay, TierError> {
        let Some(fetch) = method(&global(), "fetch") else {
            return Err(TierError::Unreachable("there is no global fetch()".into()));
        };
        let controller = new_abort_controller();
        let init = self.init(verb, body, controller.as_ref());
        let url = JsValue::from_str(&format!("{}{}", self.config.base_url, path));
        let outcome: Outcome = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&outcome);
        let done = future_to_promise(async move {
            let answer = fetch_text(&fetch, url, init).await;
            *slot.borrow_mut() = Some(answer);
            Ok(JsValue::UNDEFINED)
        });
        Ok(FetchUnderWay { done, outcome, controller })
    }

    /// The `RequestInit` of one exchange.
    fn init(&self, verb: Verb, body: Option<String>, controller: Option<&JsValue>) -> Object {
        let headers = Object::new();
        set(&headers, "authorization", &JsValue::from_str(&format!("Bearer {}", self.config.token)));
        set(&headers, "accept", &JsValue::from_str("application/json"));
        let init = Object::new();
        set(&init, "method", &JsValue::from_str(verb.as_str()));
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

impl OriginExchange for JsOrigin {
    async fn exchange(&self, verb: Verb, path: &str, body: Option<String>) -> Result<(u16, String), TierError> {
        let timer = sleep(self.config.timeout_ms);
        exchange(&self.pending, verb, path, timer, || self.start(verb, path, body)).await
    }
}

/// `new AbortController()`, when the runtime has one.
fn new_abort_controller() -> Option<JsValue> {
    let class = prop(&global(), "AbortController").dyn_into::<Function>().ok()?;
    Reflect::construct(&class, &js_sys::Array::new()).ok()
}

/// `fetch(url, init)`, then the status and the whole body text.
async fn fetch_text(fetch: &Function, url: JsValue, init: Object) -> Result<(u16, String), TierError> {
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
