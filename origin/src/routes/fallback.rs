//! Answers for requests no handler takes, in the contract's error shape.

use crate::error::{ApiError, ApiResult};
use crate::input::{self, PathParams};

/// Unknown route: 404 `not_found`.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// Known route, wrong method: 405 `method_not_allowed`.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// A route whose name or key is empty (`/options/`): the id, if any, is
/// still checked first so a bad id is reported as such.
pub async fn empty_name(params: PathParams) -> ApiResult<()> {
    if let Ok(raw) = params.get("id") {
        input::id("id", raw)?;
    }
    Err(ApiError::invalid_body("name or key must not be empty"))
}
