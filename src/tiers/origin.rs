//! `DurableStore` over the origin HTTP API, with `fetch`.
//!
//! Each call carries the origin token, and is cut off (and its fetch
//! aborted) at the hard timeout. Answers are parsed by `origin_wire`, which
//! is pure and tested natively; this file only moves bytes.

use std::time::Duration;

use futures_util::future::{select, Either};
use serde_json::Value;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

use super::origin_wire::{self, encode_segment};
use super::{Changes, DurableStore, TierError};
use crate::core::scope::{Id, Scope};
use crate::core::slot::Versioned;

/// A client of the origin API for one request.
pub struct OriginClient {
    base_url: String,
    token: String,
    timeout: Duration,
}

impl OriginClient {
    /// A client of the origin at `base_url` (no trailing slash).
    pub fn new(base_url: &str, token: &str, timeout_ms: u64) -> Self {
        OriginClient {
            base_url: base_url.to_string(),
            token: token.to_string(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    /// Sends one request; answers (status, body text) or how it failed.
    async fn call(&self, method: Method, path: &str, body: Option<String>) -> Result<(u16, String), TierError> {
        let url = format!("{}{}", self.base_url, path);
        let headers = Headers::new();
        let set = |k: &str, v: &str| {
            headers.set(k, v).map_err(|e| TierError::Unreachable(format!("building the origin request: {e}")))
        };
        set("authorization", &format!("Bearer {}", self.token))?;
        set("accept", "application/json")?;
        let mut init = RequestInit::new();
        init.with_method(method).with_headers(headers.clone());
        if let Some(body) = body {
            set("content-type", "application/json")?;
            init.with_headers(headers).with_body(Some(body.into()));
        }
        let request = Request::new_with_init(&url, &init)
            .map_err(|e| TierError::Unreachable(format!("bad origin URL {url:?}: {e}")))?;

        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let exchange = async move {
            let mut response =
                fetch.send_with_signal(&signal).await.map_err(|e| TierError::Unreachable(e.to_string()))?;
            let status = response.status_code();
            let text = response
                .text()
                .await
                .map_err(|e| TierError::Unreachable(format!("reading the origin's answer: {e}")))?;
            Ok((status, text))
        };
        let deadline = Delay::from(self.timeout);
        match select(Box::pin(exchange), Box::pin(deadline)).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => {
                controller.abort();
                Err(TierError::Timeout)
            }
        }
    }
}

impl DurableStore for OriginClient {
    async fn get_option(&self, name: &str) -> Result<Versioned, TierError> {
        let (status, body) = self.call(Method::Get, &format!("/options/{}", encode_segment(name)), None).await?;
        origin_wire::option_get(name, status, &body)
    }

    async fn put_option(&self, name: &str, value: &Value) -> Result<Versioned, TierError> {
        let body = serde_json::json!({ "value": value }).to_string();
        let (status, text) = self.call(Method::Put, &format!("/options/{}", encode_segment(name)), Some(body)).await?;
        origin_wire::option_put(name, status, &text)
    }

    async fn delete_option(&self, name: &str) -> Result<Versioned, TierError> {
        let (status, body) = self.call(Method::Delete, &format!("/options/{}", encode_segment(name)), None).await?;
        origin_wire::option_delete(status, &body)
    }

    async fn changes_since(&self, since: u64) -> Result<Changes, TierError> {
        let (status, body) = self.call(Method::Get, &format!("/options?updated_since={since}"), None).await?;
        origin_wire::changes(status, &body)
    }

    async fn get_map(&self, scope: &Scope) -> Result<Versioned, TierError> {
        let (status, body) = self.call(Method::Get, &scope.origin_path(None), None).await?;
        origin_wire::map_answer(status, &body)
    }

    async fn put_map_key(&self, scope: &Scope, key: &str, value: &Value) -> Result<Versioned, TierError> {
        let body = serde_json::json!({ "value": value }).to_string();
        let path = scope.origin_path(Some(&encode_segment(key)));
        let (status, text) = self.call(Method::Put, &path, Some(body)).await?;
        origin_wire::map_answer(status, &text)
    }

    async fn delete_map_key(&self, scope: &Scope, key: &str) -> Result<Option<Versioned>, TierError> {
        let path = scope.origin_path(Some(&encode_segment(key)));
        let (status, body) = self.call(Method::Delete, &path, None).await?;
        origin_wire::map_delete(status, &body)
    }

    async fn get_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        let (status, body) = self.call(Method::Get, &format!("/projects/{project}/ownership"), None).await?;
        origin_wire::ownership_get(status, &body)
    }

    async fn put_ownership(&self, project: Id, record: &Value) -> Result<Versioned, TierError> {
        let path = format!("/projects/{project}/ownership");
        let (status, body) = self.call(Method::Put, &path, Some(record.to_string())).await?;
        origin_wire::ownership_put(status, &body)
    }

    async fn delete_ownership(&self, project: Id) -> Result<Versioned, TierError> {
        let (status, body) = self.call(Method::Delete, &format!("/projects/{project}/ownership"), None).await?;
        origin_wire::ownership_delete(status, &body)
    }
}
