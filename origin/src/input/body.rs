//! JSON bodies: `{"value": …}` and ownership records.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use edge_options::core::limits;
use edge_options::core::project_ownership::RecordFlags;

use crate::db::OwnershipInput;
use crate::error::{ApiError, ApiResult};

/// A request body, or the reason axum could not read it (too large, ...).
pub type Body = Result<Bytes, BytesRejection>;

/// Reads the body as a JSON object.
fn object(body: Body) -> ApiResult<Map<String, Value>> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(crate::limit::too_large_message())
        } else {
            ApiError::invalid_body(format!("cannot read request body: {}", e.body_text()))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_body("request body is empty; send a JSON object"));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid_body("request body must be a JSON object")),
        Err(e) => Err(ApiError::invalid_body(format!("request body is not valid JSON: {e}"))),
    }
}

/// Parses `{"value": <any JSON but null>}`; other fields are ignored.
pub fn value_body(body: Body) -> ApiResult<Value> {
    match object(body)?.remove("value") {
        None => Err(ApiError::invalid_body("request body needs a \"value\" field")),
        Some(Value::Null) => Err(ApiError::invalid_body("\"value\" must not be null; DELETE removes a value")),
        Some(value) => Ok(value),
    }
}

/// Parses `{raw, fallthrough?, auto_assignment?, is_active?}`; a missing
/// or null flag takes the edge's default (`RecordFlags::DEFAULT`: true,
/// false, true).
pub fn ownership_body(body: Body) -> ApiResult<OwnershipInput> {
    let mut map = object(body)?;
    let raw = match map.remove("raw") {
        Some(Value::String(raw)) => raw,
        None | Some(Value::Null) => return Err(ApiError::invalid_body("request body needs a \"raw\" string")),
        Some(_) => return Err(ApiError::invalid_body("\"raw\" must be a string")),
    };
    limits::check_rules_size(&raw)?;
    let mut flag = |name: &str, default: bool| match map.remove(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err(ApiError::invalid_body(format!("\"{name}\" must be a boolean"))),
    };
    let default = RecordFlags::DEFAULT;
    Ok(OwnershipInput {
        raw,
        fallthrough: flag("fallthrough", default.fallthrough)?,
        auto_assignment: flag("auto_assignment", default.auto_assignment)?,
        is_active: flag("is_active", default.is_active)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Body {
        Ok(Bytes::from(text.to_string()))
    }

    #[test]
    fn value_must_be_present_and_not_null() {
        assert!(value_body(ok(r#"{"value":0}"#)).is_ok());
        assert!(value_body(ok(r#"{"value":{"a":[1,"x"]}}"#)).is_ok());
        for bad in ["", "  ", "null", "[]", "\"x\"", "{", r#"{"value":null}"#, r#"{"v":1}"#, "{\"value\":1e999}"] {
            let err = value_body(ok(bad)).err();
            assert_eq!(err.map(|e| e.status()), Some(StatusCode::BAD_REQUEST), "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        let deep = format!("{{\"value\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(value_body(ok(&deep)).is_err());
    }

    #[test]
    fn ownership_defaults_and_types() {
        let Ok(o) = ownership_body(ok(r#"{"raw":"path:a/* #t"}"#)) else { panic!("expected ok") };
        assert!(o.fallthrough && !o.auto_assignment && o.is_active);
        assert!(ownership_body(ok(r#"{"raw":1}"#)).is_err());
        assert!(ownership_body(ok(r#"{"raw":"","fallthrough":"yes"}"#)).is_err());
        assert!(ownership_body(ok(r#"{"fallthrough":true}"#)).is_err());
        let big = format!("{{\"raw\":\"{}\"}}", "a".repeat(limits::MAX_RULES_BYTES + 1));
        let err = ownership_body(ok(&big)).err();
        assert_eq!(err.map(|e| e.status()), Some(StatusCode::PAYLOAD_TOO_LARGE));
    }
}
