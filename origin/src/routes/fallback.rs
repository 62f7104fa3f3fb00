//! Answers for requests no handler takes, in the contract's error shape.
//!
//! Each takes the body (and drops it): a body left unread makes the server
//! close the connection, which a pooling client sees as a reset on its
//! next request.

use crate::error::{ApiError, ApiResult};
use crate::input::{self, Body, PathParams};

/// Unknown route: 404 `not_found`.
pub async fn not_found(_body: Body) -> ApiError {
    ApiError::not_found("no such route")
}

/// Known route, wrong method: 405 `method_not_allowed`.
pub async fn method_not_allowed(_body: Body) -> ApiError {
    ApiError::method_not_allowed()
}

/// A route whose name or key is empty (`/options/`): the id, if any, is
/// still checked first so a bad id is reported as such.
pub async fn empty_name(params: PathParams, _body: Body) -> ApiResult<()> {
    if let Ok(raw) = params.get("id") {
        input::id("id", raw)?;
    }
    Err(ApiError::invalid_body("name or key must not be empty"))
}
