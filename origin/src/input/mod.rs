//! Turning what the caller sent into typed values, or a 4xx [`ApiError`].
//!
//! Nothing here panics or answers 500 on input: every malformed path,
//! query or body becomes `invalid_id`, `invalid_body`, `invalid_scope` or
//! `too_large` with a message naming what was wrong.
//!
//! [`ApiError`]: crate::error::ApiError

mod body;
mod path;
mod query;

pub use body::{ownership_body, value_body, Body};
pub use path::{id, name, PathParams};
pub use query::{changes_window, updated_since, user_scope};
