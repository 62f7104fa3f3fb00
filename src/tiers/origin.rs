//! The origin HTTP API over workers-rs `Fetch`: one `OriginExchange`, so
//! the contract itself (paths, answer parsers) is `origin_api`, pure and
//! tested natively, and shared with the npm package; how an exchange is
//! shared, timed out and aborted is `exchange`. This file only moves bytes.
//!
//! Each call carries the origin token. An exchange runs as a JS promise of
//! its own (`future_to_promise`), so a read abandoned at the soft timeout
//! keeps running and the background refresh of the *same request* (under
//! `wait_until`) finishes it (`PendingGets`, never shared between requests:
//! a request must not await another request's I/O).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use worker::js_sys::{Array, Promise};
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::{future_to_promise, JsFuture};
use worker::{AbortController, Delay, Fetch};

use super::exchange::{exchange, UnderWay};
use super::origin_api::{OriginExchange, Verb};
use super::request;
use crate::core::coalesce::PendingReads;
use crate::core::ports::TierError;

/// Origin reads one request has under way, by path (`exchange`).
pub type PendingGets = PendingReads<FetchUnderWay>;

/// One fetch under way: its promise and the controller that aborts it
/// (taken, and pulled, at most once).
#[derive(Clone)]
pub struct FetchUnderWay {
    promise: Promise,
    abort: Rc<RefCell<Option<AbortController>>>,
}

impl UnderWay for FetchUnderWay {
    async fn answer(&self) -> Result<(u16, String), TierError> {
        match JsFuture::from(self.promise.clone()).await {
            Ok(answer) => decode_answer(&answer),
            Err(failure) => Err(decode_failure(&failure)),
        }
    }

    fn abort(&self) {
        if let Some(controller) = self.abort.borrow_mut().take() {
            controller.abort();
        }
    }
}

/// A client of the origin API for one request.
pub struct OriginClient {
    base_url: String,
    /// `None` when `ORIGIN_TOKEN` is not set: then nothing is sent at all.
    token: Option<String>,
    timeout: Duration,
    pending: PendingGets,
}

/// Prefixes that carry a failure's kind through a JS rejection.
const UNREACHABLE: &str = "unreachable:";
const INTERRUPTED: &str = "interrupted:";

impl OriginClient {
    /// A client of the origin at `base_url` (no trailing slash). Without a
    /// token it never calls the origin: every exchange fails at once as
    /// unreachable, so reads serve what the caches hold and writes fail
    /// clearly, and no request goes out unauthenticated.
    pub fn new(base_url: &str, token: Option<&str>, timeout_ms: u64) -> Self {
        OriginClient {
            base_url: base_url.to_string(),
            token: token.map(str::to_string),
            timeout: Duration::from_millis(timeout_ms),
            pending: PendingGets::default(),
        }
    }

    /// The same client sharing `pending` with another client of the same
    /// request (the background refresh), so it can finish an abandoned read.
    #[must_use]
    pub fn sharing(mut self, pending: PendingGets) -> Self {
        self.pending = pending;
        self
    }

    /// This client's reads under way, to hand to the background refresh.
    pub fn pending(&self) -> PendingGets {
        self.pending.clone()
    }

    /// Starts the exchange as a JS promise that runs on its own, whether or
    /// not the caller keeps waiting for it.
    fn start(&self, verb: Verb, path: &str, body: Option<String>) -> Result<FetchUnderWay, TierError> {
        let Some(token) = &self.token else {
            return Err(TierError::Unreachable("ORIGIN_TOKEN is not set, so the origin is never called".into()));
        };
        let url = format!("{}{}", self.base_url, path);
        let authorization = format!("Bearer {token}");
        let mut headers = vec![("authorization", authorization.as_str()), ("accept", "application/json")];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let method = match verb {
            Verb::Get => "GET",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        };
        let request = request::build(method, &url, &headers, body.as_deref()).map_err(|e| {
            TierError::Unreachable(format!(
                "the origin request to {url:?} could not be built (its URL, or a header such as ORIGIN_TOKEN, is invalid): {e}"
            ))
        })?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let promise = future_to_promise(async move {
            let mut response =
                fetch.send_with_signal(&signal).await.map_err(|e| JsValue::from_str(&format!("{UNREACHABLE}{e}")))?;
            let status = response.status_code();
            let text = response
                .text()
                .await
                .map_err(|e| JsValue::from_str(&format!("{INTERRUPTED}reading the origin's answer: {e}")))?;
            Ok(Array::of2(&JsValue::from(status), &JsValue::from_str(&text)).into())
        });
        Ok(FetchUnderWay { promise, abort: Rc::new(RefCell::new(Some(controller))) })
    }
}

fn decode_answer(answer: &JsValue) -> Result<(u16, String), TierError> {
    let pair = Array::from(answer);
    let status = pair.get(0).as_f64().and_then(|s| u16::try_from(s as i64).ok());
    match (status, pair.get(1).as_string()) {
        (Some(status), Some(text)) => Ok((status, text)),
        _ => Err(TierError::Garbage("the fetch settled with no status or body".into())),
    }
}

fn decode_failure(failure: &JsValue) -> TierError {
    let message = failure.as_string().unwrap_or_else(|| format!("{failure:?}"));
    if let Some(why) = message.strip_prefix(INTERRUPTED) {
        TierError::Interrupted(why.to_string())
    } else {
        TierError::Unreachable(message.strip_prefix(UNREACHABLE).unwrap_or(&message).to_string())
    }
}

impl OriginExchange for OriginClient {
    async fn exchange(&self, verb: Verb, path: &str, body: Option<String>) -> Result<(u16, String), TierError> {
        let timer = Delay::from(self.timeout);
        exchange(&self.pending, verb, path, timer, || self.start(verb, path, body)).await
    }
}
