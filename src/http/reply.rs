//! Building answers: JSON bodies, the `x-cache` header, and the one place
//! where an error becomes a response.

use serde_json::{json, Value};
use worker::{Headers, Response};

use crate::core::error::Error;
use crate::core::source::Source;

/// A JSON answer with `status`, optionally tagged with the tier that answered.
pub fn json(status: u16, body: &Value, source: Option<Source>) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json; charset=utf-8");
    let _ = headers.set("cache-control", "no-store");
    if let Some(source) = source {
        let _ = headers.set("x-cache", source.as_str());
    }
    let text = body.to_string();
    match Response::ok(text) {
        Ok(response) => response.with_status(status).with_headers(headers),
        // Building a response from a string does not fail in practice; if it
        // ever did, answer a bare 500 rather than panic the isolate.
        Err(_) => Response::empty()
            .map(|r| r.with_status(500))
            .unwrap_or_else(|_| Response::builder().with_status(500).empty()),
    }
}

/// The `{"error": {"code", "message", "line"?, "column"?}}` answer for
/// `error` (its fields: `Error::to_json`), with its status.
pub fn error(error: &Error) -> Response {
    json(error.status(), &json!({ "error": error.to_json() }), None)
}
