//! The request body limit: the edge's (`edge_options::core::limits`).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Largest request body accepted (1 MiB, the edge's limit too); larger
/// answers 413 `too_large`.
pub const BODY_LIMIT: usize = edge_options::core::limits::MAX_BODY_BYTES;

/// The 413 answer's message.
pub fn too_large_message() -> String {
    format!("request body is larger than the limit of {BODY_LIMIT} bytes")
}

/// Middleware: refuses a body whose declared `Content-Length` is over the
/// limit before reading any of it; otherwise reads the whole body (at most
/// the limit: a longer one, chunked, is refused as it streams in) before
/// the route runs. Reading it first keeps the connection reusable whatever
/// the route does: a request refused before its handler reads the body (a
/// path that is not UTF-8) would otherwise make the server close the
/// connection under a pooling client's next request.
pub async fn reject_declared_oversize(req: Request, next: Next) -> Response {
    let declared =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return ApiError::too_large(too_large_message()).into_response();
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) if is_over_limit(&e) => ApiError::too_large(too_large_message()).into_response(),
        Err(_) => ApiError::invalid_body("the request body could not be read").into_response(),
    }
}

/// Whether reading a body failed because it is longer than the limit.
fn is_over_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            return true;
        }
        source = e.source();
    }
    false
}
