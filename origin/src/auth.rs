//! Bearer-token check for every route but `/healthz` and `/readyz`.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::limit::BODY_LIMIT;
use crate::server::AppState;

/// Middleware: answers 401 `unauthorized` unless the request carries
/// `Authorization: Bearer <token>`. `/healthz` and `/readyz` stay open so
/// load balancers and scripts can probe liveness and readiness without a
/// secret.
pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(req.uri().path(), "/healthz" | "/readyz") || is_authorized(req.headers(), &state.token) {
        next.run(req).await
    } else {
        // Read (and drop) the body so the connection stays reusable for the
        // caller's next request instead of being closed under it.
        let _ = axum::body::to_bytes(req.into_body(), BODY_LIMIT).await;
        ApiError::unauthorized().into_response()
    }
}

/// Whether the headers carry the expected bearer token. The comparison is
/// constant-time in the token's contents so response timing does not leak
/// how much of a guess was right (only its length can leak).
fn is_authorized(headers: &HeaderMap, expected: &str) -> bool {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && bool::from(token.trim().as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn only_the_exact_bearer_token_passes() {
        assert!(is_authorized(&with("Bearer tok"), "tok"));
        assert!(is_authorized(&with("bearer tok"), "tok"));
        assert!(!is_authorized(&HeaderMap::new(), "tok"));
        assert!(!is_authorized(&with("Bearer"), "tok"));
        assert!(!is_authorized(&with("Bearer to"), "tok"));
        assert!(!is_authorized(&with("Bearer tokk"), "tok"));
        assert!(!is_authorized(&with("Basic tok"), "tok"));
        assert!(!is_authorized(&with("tok"), "tok"));
    }
}
