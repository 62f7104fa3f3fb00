//! The one error type of the origin and its JSON shape.
//!
//! Every failure the caller can see is an [`ApiError`]: a status, a stable
//! `code` (openapi/origin.yaml) and a human message, rendered as
//! `{"error":{"code","message"}}`. Keeping it in one place is what lets the
//! edge map origin answers without guessing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use edge_options::core::limits::Refusal;
use serde_json::json;

/// An error answer. Constructors name the situation; the status and code
/// follow from it so no handler can pick an inconsistent pair.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// The version of a tombstone, carried on a 404 so the edge can refuse
    /// to move a cache backwards past a delete it has not seen yet.
    version: Option<i64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), version: None }
    }

    /// 400 `invalid_body`: the caller's body, query or name is malformed.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_body", message)
    }

    /// 400 `invalid_id`: a path or query id is not a positive 64-bit integer.
    pub fn invalid_id(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_id", message)
    }

    /// 400 `invalid_scope`: a user scope names both a project and an organization.
    pub fn invalid_scope(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", message)
    }

    /// 401 `unauthorized`: missing or wrong bearer token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token (send Authorization: Bearer <ORIGIN_TOKEN>)",
        )
    }

    /// 404 `not_found`: the thing (or the route) does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405 `method_not_allowed`: a known route called with the wrong method.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not accept that method")
    }

    /// 413 `too_large`: a body or field over its limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 500 `internal`: a fault of the origin itself (database, runtime),
    /// never caused by what the caller sent.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// 503 `unavailable`: the database cannot be reached (down, restarting,
    /// every connection busy past the wait). Nothing was written; the
    /// caller may retry, and the edge serves what it has meanwhile.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// Attaches a tombstone version to the answer (used with 404).
    #[must_use]
    pub fn with_version(mut self, version: Option<i64>) -> Self {
        self.version = version;
        self
    }

    /// The HTTP status this error answers with.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Refusal> for ApiError {
    /// An input limit shared with the edge (`edge_options::core::limits`),
    /// answered in the origin's own error shape.
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(message) => ApiError::invalid_body(message),
            Refusal::BadId(message) => ApiError::invalid_id(message),
            Refusal::TooLarge(message) => ApiError::too_large(message),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        ApiError::internal(format!("database error: {err}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": { "code": self.code, "message": self.message } });
        if let (Some(version), Some(obj)) = (self.version, body.as_object_mut()) {
            obj.insert("version".into(), version.into());
        }
        (self.status, Json(body)).into_response()
    }
}

/// Handlers answer JSON or an [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;
