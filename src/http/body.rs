//! Request bodies: the size limit and JSON parsing, with clear errors.
//!
//! Pure, so every malformed body is tested natively: no body from the world
//! can produce anything but a typed 4xx.

use serde::de::DeserializeOwned;

use crate::core::error::Error;

/// Refuses a body announced (by `Content-Length`) or found larger than `limit`.
pub fn check_size(len: usize, limit: usize) -> Result<(), Error> {
    if len > limit {
        return Err(Error::TooLarge(format!("the body is {len} bytes; the limit is {limit}")));
    }
    Ok(())
}

/// Parses a JSON body into `T`; `what` describes the expected shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], limit: usize, what: &str) -> Result<T, Error> {
    check_size(bytes.len(), limit)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidBody(format!("the body is empty; expected {what}")));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::InvalidBody("the body is not UTF-8".into()))?;
    serde_json::from_str(text).map_err(|e| Error::InvalidBody(format!("expected {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize, Debug)]
    struct SetBody {
        #[allow(dead_code)]
        value: Value,
    }

    #[test]
    fn malformed_bodies_are_invalid_body() {
        for body in [&b""[..], b"   ", b"{", b"[]", b"{\"valu\":1}", b"\xff\xfe", b"null", b"\"value\""] {
            let err = parse_json::<SetBody>(body, 1024, "{\"value\": ...}").expect_err("refused");
            assert_eq!(err.code(), "invalid_body", "{body:?}");
        }
    }

    #[test]
    fn oversized_bodies_are_too_large() {
        let body = vec![b' '; 2048];
        assert_eq!(parse_json::<SetBody>(&body, 1024, "x").map_err(|e| e.code()).err(), Some("too_large"));
        assert_eq!(check_size(1025, 1024).map_err(|e| e.code()), Err("too_large"));
        assert!(check_size(1024, 1024).is_ok());
    }

    #[test]
    fn deeply_nested_json_is_refused_not_a_stack_overflow() {
        let body = format!("{{\"value\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_json::<SetBody>(body.as_bytes(), 1 << 20, "x").map_err(|e| e.code()).err(),
            Some("invalid_body")
        );
    }
}
