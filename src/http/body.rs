//! Request bodies: the size limit and JSON parsing, with clear errors.
//!
//! Pure, so every malformed body is tested natively: no body from the world
//! can produce anything but a typed 4xx. The Worker feeds a body in as it
//! streams in ([`LimitedBody`]): a body over the limit is refused as soon as
//! it passes the limit, announced (`Content-Length`) or not (chunked), and
//! never held past it.

use serde::de::DeserializeOwned;

use crate::core::error::Error;
use crate::core::limits;

/// Refuses a body announced (by `Content-Length`) or found larger than `limit`.
pub fn check_size(len: usize, limit: usize) -> Result<(), Error> {
    Ok(limits::check_body_size(len, limit)?)
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

/// Most bytes reserved up front for an announced body (the rest grows as
/// chunks arrive): a `Content-Length` is only a claim.
const RESERVE_LIMIT: usize = 64 * 1024;

/// A request body collected chunk by chunk within a limit.
#[derive(Debug)]
pub struct LimitedBody {
    bytes: Vec<u8>,
    limit: usize,
}

impl LimitedBody {
    /// A body of at most `limit` bytes; `announced` is its `Content-Length`
    /// header as sent, if any.
    ///
    /// # Errors
    /// `too_large` when the announced length is over the limit (nothing is
    /// read then).
    pub fn new(limit: usize, announced: Option<&str>) -> Result<LimitedBody, Error> {
        let announced = announced.and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(announced) = announced {
            check_size(usize::try_from(announced).unwrap_or(usize::MAX), limit)?;
        }
        let reserve = announced.and_then(|n| usize::try_from(n).ok()).unwrap_or(0).min(limit).min(RESERVE_LIMIT);
        Ok(LimitedBody { bytes: Vec::with_capacity(reserve), limit })
    }

    /// Adds the next chunk.
    ///
    /// # Errors
    /// `too_large` as soon as the body passes the limit: the chunk is not
    /// kept, and the caller stops reading.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        check_size(self.bytes.len().saturating_add(chunk.len()), self.limit)?;
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Bytes held so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Parses the whole body as JSON into `T` (see [`parse_json`]).
    pub fn parse<T: DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        parse_json(&self.bytes, self.limit, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize, Debug)]
    struct SetBody {
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
    fn a_chunked_body_is_refused_once_it_passes_the_limit_and_never_held_past_it() {
        let mut body = LimitedBody::new(1024, None).expect("no length announced");
        let chunk = [b' '; 100];
        for _ in 0..10 {
            body.push(&chunk).expect("within the limit");
        }
        assert_eq!(body.push(&[b' '; 25]).map_err(|e| e.code()), Err("too_large"), "1,025 bytes");
        assert_eq!(body.len(), 1000, "the chunk that passed the limit was not kept");
        assert!(body.push(&[b' '; 24]).is_ok(), "exactly the limit is fine");
        assert_eq!(body.len(), 1024);
        assert!(body.bytes.capacity() <= 2048, "never grown far past the limit");
        assert_eq!(body.push(b" ").map_err(|e| e.code()), Err("too_large"));
    }

    #[test]
    fn an_announced_length_over_the_limit_is_refused_before_reading() {
        assert_eq!(LimitedBody::new(1024, Some("1025")).map_err(|e| e.code()).err(), Some("too_large"));
        assert_eq!(LimitedBody::new(1024, Some(" 99999999999999999999999 ")).map(|b| b.len()).ok(), Some(0));
        let mut body = LimitedBody::new(1024, Some("10")).expect("within");
        assert!(body.bytes.capacity() <= 1024);
        // The announced length is a claim: the limit holds however much comes.
        assert!(body.push(&[b' '; 1025]).is_err());
        assert_eq!(
            LimitedBody::new(usize::MAX, Some("999999999999")).map(|b| b.bytes.capacity()).ok(),
            Some(64 * 1024)
        );
    }

    #[test]
    fn a_collected_body_parses_like_a_whole_one() {
        let mut body = LimitedBody::new(1024, None).expect("body");
        for part in [&b"{\"val"[..], b"ue\": [1,", b" 2]}"] {
            body.push(part).expect("push");
        }
        let parsed: SetBody = body.parse("x").expect("parses");
        assert_eq!(parsed.value, serde_json::json!([1, 2]));
        let empty = LimitedBody::new(1024, None).expect("body");
        assert_eq!(empty.parse::<SetBody>("x").map_err(|e| e.code()).err(), Some("invalid_body"));
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
