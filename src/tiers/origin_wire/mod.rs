//! The origin's answers, parsed: pure functions from (status, body) to what
//! the core needs, so every oddity an origin can send is tested natively.
//!
//! An origin is somebody else's service: any status, any body. Nothing here
//! panics; anything off-contract becomes `TierError::Garbage` or `Status`.

use serde::Deserialize;
use serde_json::Value;

mod changes;

pub use crate::core::ports::{Change, ChangePage, Changed};
pub use changes::change_page;

/// Percent-encoding of a path segment: `origin_api`'s, at its old path.
pub use super::origin_api::encode_segment;
use crate::core::ports::TierError;
use crate::core::slot::Versioned;

/// Longest error body quoted back in a `TierError` (and so in logs).
const QUOTE_LIMIT: usize = 200;

#[derive(Deserialize)]
struct OptionRecord {
    name: String,
    value: Value,
    version: u64,
}

#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    version: u64,
}

#[derive(Deserialize)]
struct MapAnswer {
    values: serde_json::Map<String, Value>,
    version: u64,
}

/// Parses the answer to `GET /options/{name}`: 200 a record, 404 absent.
pub fn option_get(name: &str, status: u16, body: &str) -> Result<Versioned, TierError> {
    match status {
        200 => option_record(name, body),
        404 => Ok(Versioned::absent(tombstone_version(body))),
        _ => Err(unexpected(status, body)),
    }
}

/// Parses the answer to `PUT /options/{name}`.
pub fn option_put(name: &str, status: u16, body: &str) -> Result<Versioned, TierError> {
    match status {
        200 | 201 => option_record(name, body),
        _ => Err(unexpected(status, body)),
    }
}

/// Parses the answer to `DELETE /options/{name}`: 200 `{version}`, or 404
/// when there was nothing to delete (the caller's goal holds either way).
pub fn option_delete(status: u16, body: &str) -> Result<Versioned, TierError> {
    match status {
        200 | 204 => match object::<VersionOnly>(body) {
            Ok(VersionOnly { version }) if version >= 1 => Ok(Versioned::absent(version)),
            // Without the delete's version the caches could not tell the
            // deletion from an older value they hold.
            Ok(_) => Err(TierError::Garbage("a delete answer without a version".into())),
            Err(e) => Err(e),
        },
        404 => Ok(Versioned::absent(tombstone_version(body))),
        _ => Err(unexpected(status, body)),
    }
}

/// Parses `{values, version}`: the answer to every option-map call.
pub fn map_answer(status: u16, body: &str) -> Result<Versioned, TierError> {
    if status != 200 {
        return Err(unexpected(status, body));
    }
    let answer: MapAnswer = object(body)?;
    if answer.values.values().any(Value::is_null) {
        return Err(TierError::Garbage("an option map holds a null value".into()));
    }
    Ok(Versioned::present(Value::Object(answer.values), answer.version))
}

/// Parses the answer to `DELETE …/options/{key}`: the map after the delete,
/// or `None` when the key was not set (404; the map is then unknown).
pub fn map_delete(status: u16, body: &str) -> Result<Option<Versioned>, TierError> {
    match status {
        404 => Ok(None),
        _ => map_answer(status, body).map(Some),
    }
}

/// Parses the answer to `GET /projects/{id}/ownership`: the record, or absent.
pub fn ownership_get(status: u16, body: &str) -> Result<Versioned, TierError> {
    match status {
        200 => ownership_record(body),
        404 => Ok(Versioned::absent(tombstone_version(body))),
        _ => Err(unexpected(status, body)),
    }
}

/// Parses the answer to `PUT /projects/{id}/ownership`.
pub fn ownership_put(status: u16, body: &str) -> Result<Versioned, TierError> {
    match status {
        200 | 201 => ownership_record(body),
        _ => Err(unexpected(status, body)),
    }
}

/// Parses the answer to `DELETE /projects/{id}/ownership` (404: nothing to delete).
pub fn ownership_delete(status: u16, body: &str) -> Result<Versioned, TierError> {
    option_delete(status, body)
}

/// An ownership record is kept as the origin's JSON, after checking the
/// fields the edge relies on: `raw` text, three flags, a version.
fn ownership_record(body: &str) -> Result<Versioned, TierError> {
    #[derive(Deserialize)]
    struct Record {
        raw: String,
        fallthrough: bool,
        auto_assignment: bool,
        is_active: bool,
        version: u64,
        #[serde(default)]
        updated_at: Option<u64>,
    }
    let r: Record = object(body)?;
    let record = serde_json::json!({
        "raw": r.raw,
        "fallthrough": r.fallthrough,
        "auto_assignment": r.auto_assignment,
        "is_active": r.is_active,
        "updated_at": r.updated_at,
    });
    Ok(Versioned::present(record, r.version))
}

fn option_record(name: &str, body: &str) -> Result<Versioned, TierError> {
    let record: OptionRecord = object(body)?;
    if record.name != name {
        return Err(TierError::Garbage(format!("asked for {name:?}, the origin answered {:?}", record.name)));
    }
    if record.value.is_null() {
        return Err(TierError::Garbage("null value".into()));
    }
    Ok(Versioned::present(record.value, record.version))
}

/// The `version` a 404 body may carry (a deleted thing's tombstone); 0 when
/// the body has none or is not JSON — a 404 is an answer whatever its body.
fn tombstone_version(body: &str) -> u64 {
    serde_json::from_str::<VersionOnly>(body).map(|v| v.version).unwrap_or(0)
}

/// Parses `body` as `T`, which must be a JSON object: serde's derives would
/// also take an array of the fields in order, which no origin means.
fn object<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, TierError> {
    let value: Value = serde_json::from_str(body).map_err(garbage)?;
    if !value.is_object() {
        return Err(TierError::Garbage("the answer is not a JSON object".into()));
    }
    T::deserialize(value).map_err(garbage)
}

fn garbage(e: serde_json::Error) -> TierError {
    TierError::Garbage(e.to_string())
}

/// An answer off the contract's success path: a refusal (the caller's
/// fault, see [`is_refusal`]) with the origin's error code, or a status
/// error with a short quote of the body.
fn unexpected(status: u16, body: &str) -> TierError {
    if is_refusal(status) {
        return TierError::Refused(status, error_code(body));
    }
    let quoted: String = body.chars().take(QUOTE_LIMIT).collect();
    TierError::Status(status, quoted)
}

/// Whether an origin status means "the request was not acceptable": 400,
/// 404 (where it is not already an answer), 405, 409, 413, 414 and 422.
/// Not 401/403 (the edge's own origin token is wrong: the operator's
/// fault), 408, 429 or 5xx (the origin's trouble): those count as failures.
pub fn is_refusal(status: u16) -> bool {
    matches!(status, 400 | 404 | 405 | 409 | 413 | 414 | 422)
}

/// Longest error code taken from a refusal's body.
const CODE_LIMIT: usize = 40;

/// The `error.code` of an error body (`{"error": {"code": "invalid_id"}}`)
/// when it is a plain code (lowercase letters and `_`, at most 40), else "".
fn error_code(body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: ErrorInner,
    }
    #[derive(Deserialize)]
    struct ErrorInner {
        code: String,
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error: ErrorInner { code } })
            if !code.is_empty()
                && code.len() <= CODE_LIMIT
                && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            code
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_with_matching_name_is_present_at_its_version() {
        let got = option_get("a", 200, r#"{"name":"a","value":[1],"version":4,"updated_at":1}"#);
        assert_eq!(got, Ok(Versioned::present(json!([1]), 4)));
    }

    #[test]
    fn not_found_is_absent_with_tombstone_version_when_given() {
        assert_eq!(option_get("a", 404, r#"{"error":{"code":"not_found"},"version":9}"#), Ok(Versioned::absent(9)));
        assert_eq!(option_get("a", 404, "<html>nope</html>"), Ok(Versioned::absent(0)));
    }

    #[test]
    fn ok_with_garbage_body_is_garbage_not_absent() {
        for body in [
            "",
            "null",
            "{",
            r#"{"name":"a"}"#,
            r#"{"name":"a","value":null,"version":1}"#,
            r#"{"name":"a","value":1,"version":-2}"#,
        ] {
            assert!(matches!(option_get("a", 200, body), Err(TierError::Garbage(_))), "{body:?}");
        }
    }

    #[test]
    fn record_for_another_name_is_garbage() {
        assert!(matches!(option_get("a", 200, r#"{"name":"b","value":1,"version":1}"#), Err(TierError::Garbage(_))));
    }

    #[test]
    fn server_errors_are_status_errors_with_a_short_quote() {
        let long = "x".repeat(10_000);
        match option_get("a", 500, &long) {
            Err(TierError::Status(500, quote)) => assert!(quote.len() <= QUOTE_LIMIT),
            other => panic!("{other:?}"),
        }
        assert!(matches!(option_put("a", 401, ""), Err(TierError::Status(401, _))));
    }

    #[test]
    fn caller_faults_are_refusals_with_the_origins_code_and_the_rest_are_status_errors() {
        let body = r#"{"error":{"code":"invalid_body","message":"name is 2000 bytes"}}"#;
        for status in [400, 405, 409, 413, 414, 422] {
            assert_eq!(option_get("a", status, body), Err(TierError::Refused(status, "invalid_body".into())));
        }
        assert_eq!(option_put("a", 404, body), Err(TierError::Refused(404, "invalid_body".into())));
        assert_eq!(map_answer(404, ""), Err(TierError::Refused(404, String::new())), "404 where it is no answer");
        assert_eq!(option_get("a", 404, body), Ok(Versioned::absent(0)), "404 where it is an answer");
        for status in [401, 403, 408, 429, 500, 502, 503, 301, 204] {
            assert!(matches!(option_get("a", status, body), Err(TierError::Status(s, _)) if s == status), "{status}");
        }
        for odd in ["", "<html>", r#"{"error":{"code":"Bad Code"}}"#, r#"{"error":"x"}"#] {
            assert_eq!(option_get("a", 400, odd), Err(TierError::Refused(400, String::new())), "{odd:?}");
        }
        let long = format!(r#"{{"error":{{"code":"{}"}}}}"#, "a".repeat(41));
        assert_eq!(option_get("a", 422, &long), Err(TierError::Refused(422, String::new())));
    }

    #[test]
    fn delete_of_nothing_is_absent() {
        assert_eq!(option_delete(200, r#"{"version":12}"#), Ok(Versioned::absent(12)));
        assert_eq!(option_delete(404, ""), Ok(Versioned::absent(0)));
        assert!(option_delete(503, "").is_err());
    }

    #[test]
    fn map_answers_must_be_objects_without_nulls() {
        assert_eq!(
            map_answer(200, r#"{"values":{"a":[1]},"version":2}"#),
            Ok(Versioned::present(json!({"a": [1]}), 2))
        );
        for body in [r#"{"values":[],"version":1}"#, r#"{"values":{"a":null},"version":1}"#, r#"{"values":{}}"#, "x"] {
            assert!(map_answer(200, body).is_err(), "{body}");
        }
        assert_eq!(map_delete(404, ""), Ok(None));
        assert!(map_answer(500, "").is_err());
    }

    #[test]
    fn ownership_records_are_checked_and_absent_on_404() {
        let body = r#"{"raw":"path:* #t","fallthrough":false,"auto_assignment":true,"is_active":true,"version":5,"updated_at":9}"#;
        let entry = ownership_get(200, body).expect("record");
        assert_eq!(entry.version, 5);
        assert_eq!(entry.value().map(|v| v["fallthrough"].clone()), Some(json!(false)));
        assert_eq!(ownership_get(404, r#"{"version":6}"#), Ok(Versioned::absent(6)));
        assert!(ownership_get(
            200,
            r#"{"raw":1,"fallthrough":true,"auto_assignment":true,"is_active":true,"version":1}"#
        )
        .is_err());
    }
}
