//! The origin's answers, parsed: pure functions from (status, body) to what
//! the core needs, so every oddity an origin can send is tested natively.
//!
//! An origin is somebody else's service: any status, any body. Nothing here
//! panics; anything off-contract becomes `TierError::Garbage` or `Status`.

use serde::Deserialize;
use serde_json::Value;

use super::TierError;
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
struct DeletedRecord {
    name: String,
    version: u64,
}

#[derive(Deserialize)]
struct UpdatedSince {
    options: Vec<OptionRecord>,
    #[serde(default)]
    deleted: Vec<DeletedRecord>,
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
        200 | 204 => {
            let v: VersionOnly = if body.trim().is_empty() {
                VersionOnly { version: 0 }
            } else {
                serde_json::from_str(body).map_err(garbage)?
            };
            Ok(Versioned::absent(v.version))
        }
        404 => Ok(Versioned::absent(tombstone_version(body))),
        _ => Err(unexpected(status, body)),
    }
}

/// Parses the answer to `GET /options?updated_since=…`: written options
/// as present, deleted ones (when the origin reports them) as absent.
pub fn options_updated_since(status: u16, body: &str) -> Result<Vec<(String, Versioned)>, TierError> {
    if status != 200 {
        return Err(unexpected(status, body));
    }
    let parsed: UpdatedSince = serde_json::from_str(body).map_err(garbage)?;
    let mut out = Vec::with_capacity(parsed.options.len() + parsed.deleted.len());
    for record in parsed.options {
        if record.value.is_null() {
            return Err(TierError::Garbage(format!("option {:?} has a null value", record.name)));
        }
        out.push((record.name, Versioned::present(record.value, record.version)));
    }
    for record in parsed.deleted {
        out.push((record.name, Versioned::absent(record.version)));
    }
    Ok(out)
}

/// Percent-encodes a path segment: everything but unreserved characters,
/// and the dots of `.` and `..`, which URL parsing would otherwise collapse.
pub fn encode_segment(segment: &str) -> String {
    let only_dots = !segment.is_empty() && segment.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if (byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)) && !(only_dots && byte == b'.') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn option_record(name: &str, body: &str) -> Result<Versioned, TierError> {
    let record: OptionRecord = serde_json::from_str(body).map_err(garbage)?;
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

fn garbage(e: serde_json::Error) -> TierError {
    TierError::Garbage(e.to_string())
}

fn unexpected(status: u16, body: &str) -> TierError {
    let quoted: String = body.chars().take(QUOTE_LIMIT).collect();
    TierError::Status(status, quoted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_segments_are_encoded_so_no_name_escapes_its_segment() {
        assert_eq!(encode_segment("mail.host"), "mail.host");
        assert_eq!(encode_segment("sentry:a/b ?#%"), "sentry%3Aa%2Fb%20%3F%23%25");
        assert_eq!(encode_segment("ü"), "%C3%BC");
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("."), "%2E");
        assert_eq!(encode_segment("a..b"), "a..b");
    }

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
    fn delete_of_nothing_is_absent() {
        assert_eq!(option_delete(200, r#"{"version":12}"#), Ok(Versioned::absent(12)));
        assert_eq!(option_delete(404, ""), Ok(Versioned::absent(0)));
        assert!(option_delete(503, "").is_err());
    }

    #[test]
    fn updated_since_lists_writes_and_deletes() {
        let body = r#"{"options":[{"name":"a","value":1,"version":3,"updated_at":1}],"deleted":[{"name":"b","version":4,"updated_at":1}]}"#;
        assert_eq!(
            options_updated_since(200, body),
            Ok(vec![("a".into(), Versioned::present(json!(1), 3)), ("b".into(), Versioned::absent(4))])
        );
        assert!(options_updated_since(200, r#"{"opts":[]}"#).is_err());
    }
}
