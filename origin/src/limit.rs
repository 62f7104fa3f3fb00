//! The request body limit: the edge's (`edge_options::core::limits`).

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
/// limit before reading any of it. Bodies without a declared length (chunked)
/// are cut off by axum's `DefaultBodyLimit` as they stream in.
pub async fn reject_declared_oversize(req: Request, next: Next) -> Response {
    let declared =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return ApiError::too_large(too_large_message()).into_response();
    }
    next.run(req).await
}
