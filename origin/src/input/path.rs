//! Path parameters: ids, option names and map keys.

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use edge_options::core::limits;

use crate::error::{ApiError, ApiResult};

/// The route's parameters, percent-decoded. Unlike axum's own extractors
/// its rejection is an [`ApiError`] in the contract's shape: invalid UTF-8
/// in an id is `invalid_id`, in a name or key `invalid_body`.
#[derive(Debug)]
pub struct PathParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => Ok(Self(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())),
            Err(RawPathParamsRejection::InvalidUtf8InPathParam(e)) => {
                // axum names the failing parameter only in its message.
                if e.body_text().contains("`id`") {
                    Err(ApiError::invalid_id("id is not valid UTF-8 once percent-decoded"))
                } else {
                    Err(ApiError::invalid_body("name or key is not valid UTF-8 once percent-decoded"))
                }
            }
            // A route without parameters.
            Err(RawPathParamsRejection::MissingPathParams(_)) => Ok(Self(Vec::new())),
            Err(e) => Err(ApiError::internal(format!("route parameters unreadable: {}", e.body_text()))),
        }
    }
}

impl PathParams {
    /// The raw (decoded) value of parameter `key`.
    pub fn get(&self, key: &str) -> ApiResult<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ApiError::internal(format!("route has no parameter '{key}'")))
    }
}

/// Parses an id: decimal digits only, 1..=i64::MAX (`limits::parse_id`,
/// as the edge does). `what` names it in the message ("organization id",
/// "project", ...).
pub fn id(what: &str, raw: &str) -> ApiResult<i64> {
    match limits::parse_id(raw).and_then(|id| i64::try_from(id).ok()) {
        Some(id) => Ok(id),
        None => {
            let shown: String = raw.chars().take(40).collect();
            Err(ApiError::invalid_id(format!(
                "{what} must be a positive integer up to {} in decimal, got '{shown}'",
                i64::MAX
            )))
        }
    }
}

/// Checks an option name or map key: non-empty, at most
/// `limits::MAX_NAME_BYTES` (as the edge does).
pub fn name(what: &str, raw: &str) -> ApiResult<String> {
    limits::check_name(what, raw)?;
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_decimal_i64() {
        assert_eq!(id("id", "1").ok(), Some(1));
        assert_eq!(id("id", "9223372036854775807").ok(), Some(i64::MAX));
        for bad in ["", "0", "-1", "+1", " 1", "1.0", "9223372036854775808", "1e3", "0x10", "١"] {
            assert!(id("id", bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn names_are_non_empty_and_bounded() {
        assert!(name("name", "").is_err());
        assert!(name("name", &"a".repeat(limits::MAX_NAME_BYTES)).is_ok());
        assert!(name("name", &"a".repeat(limits::MAX_NAME_BYTES + 1)).is_err());
        // 4-byte characters count as 4 bytes.
        assert!(name("name", &"😀".repeat(257)).is_err());
        assert!(name("name", "\u{0}\u{202e}x").is_ok());
    }
}
