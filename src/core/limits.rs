//! One set of limits for everything a caller sends: the Worker, the npm
//! package and the reference origin (`origin/`, which depends on this crate
//! for exactly this module) all check input against these, so nothing the
//! edge accepts is refused by the origin for its size or shape.
//!
//! Why it matters: an origin refusal used to come back through the edge as
//! a 502, and every origin failure counts toward the per-key backoff and
//! the isolate-wide breaker (`throttle`), so a request the edge let through
//! but the origin refused could hold the origin back for every key. Now the
//! edge refuses such input itself, with a 4xx, before any I/O; and an origin
//! 4xx is answered as the caller's fault and counts toward nothing
//! (`ports::TierError::Refused`).
//!
//! | limit | value | why |
//! |---|---|---|
//! | [`MAX_NAME_BYTES`] | 1,024 bytes | option names and map keys are path segments and database keys; legacy prefixes accept any name |
//! | [`MIN_ID`] ..= [`MAX_ID`] | 1 ..= 2^63 − 1 | ids are positive and the origin stores them as signed 64-bit |
//! | [`MAX_BODY_BYTES`] | 1 MiB | request bodies (edge and origin); a value must fit the origin's body |
//! | [`MAX_RULES_BYTES`] | 256 KiB | ownership rules text: stored whole, parsed and matched on the hot path |
//! | [`MAX_RULES`] | 1,000 | rules per text: bounds matching (rules × frames per event) |
//! | [`MAX_RULE_LINE_CHARS`] | 4,096 characters | a line of rules text, comments included |
//! | [`MAX_RECORD_BATCH`] | 500 | hash ids per last-processed record (one KV write each; 1,000 KV operations per invocation) |
//! | [`MAX_FETCH_BATCH`] | 1,000 | hash ids per last-processed fetch (bulk KV reads of 100) |
//! | [`MAX_EVENT_ID_BYTES`] | 256 bytes | an event id, stored as a KV value per hash |
//! | [`MAX_EVENT_FRAMES`] / [`MAX_EVENT_TAGS`] | 10,000 / 1,000 | entries of one event the owners matcher looks at (the rest is ignored, not refused) |
//!
//! Each check answers a [`Refusal`]: which kind of 4xx it is and a message
//! for people. The edge turns it into its `Error` (`invalid_body`,
//! `invalid_id`, `too_large`), the origin into its own error answer, so
//! each keeps its error shape. Pure: no I/O, no allocation on success.

use std::fmt;

use serde_json::Value;

/// Longest option name or map key, in bytes of UTF-8 (after percent-decoding).
pub const MAX_NAME_BYTES: usize = 1024;

/// The smallest id (organization, project, user, group hash).
pub const MIN_ID: u64 = 1;

/// The largest id: the origin stores ids as signed 64-bit integers.
pub const MAX_ID: u64 = i64::MAX as u64;

/// Most decimal digits of an id (`MAX_ID` has 19): longer text is refused
/// before it is parsed.
pub const MAX_ID_DIGITS: usize = 19;

/// Largest request body, in bytes, at the edge and at the origin. The edge's
/// `MAX_BODY_BYTES` var may lower it, never raise it: what the edge accepts
/// must fit what it sends on.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest ownership rules text, in bytes.
pub const MAX_RULES_BYTES: usize = 256 * 1024;

/// Most rules in one rules text (comment and blank lines not counted).
pub const MAX_RULES: usize = 1000;

/// Longest line of rules text, in characters (comment lines included).
pub const MAX_RULE_LINE_CHARS: usize = 4096;

/// Most group hash ids one last-processed record may carry.
pub const MAX_RECORD_BATCH: usize = 500;

/// Most group hash ids one last-processed fetch may ask for.
pub const MAX_FETCH_BATCH: usize = 1000;

/// Longest event id, in bytes.
pub const MAX_EVENT_ID_BYTES: usize = 256;

/// Most stack frame entries of one event the owners matcher looks at.
pub const MAX_EVENT_FRAMES: usize = 10_000;

/// Most tag entries of one event the owners matcher looks at.
pub const MAX_EVENT_TAGS: usize = 1_000;

/// Why input was refused, as the kind of 4xx it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, empty, or over a length or count limit (400 `invalid_body`).
    Invalid(String),
    /// An id that is not a whole number in [`MIN_ID`] ..= [`MAX_ID`] (400 `invalid_id`).
    BadId(String),
    /// Over a size limit (413 `too_large`).
    TooLarge(String),
}

impl Refusal {
    /// The message for people.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Invalid(m) | Refusal::BadId(m) | Refusal::TooLarge(m) => m,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Checks an option name or map key: non-empty, at most [`MAX_NAME_BYTES`].
/// `what` names it in the message ("the option name", "the key").
pub fn check_name(what: &str, name: &str) -> Result<(), Refusal> {
    if name.is_empty() {
        return Err(Refusal::Invalid(format!("{what} must not be empty")));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Refusal::Invalid(format!("{what} is {} bytes; the limit is {MAX_NAME_BYTES}", name.len())));
    }
    Ok(())
}

/// Parses an id: decimal digits only (no sign, space or exponent), in
/// [`MIN_ID`] ..= [`MAX_ID`]. `None` for anything else.
pub fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > MAX_ID_DIGITS || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|id| (MIN_ID..=MAX_ID).contains(id))
}

/// Parses an id, or refuses it naming `what` ("the project id").
pub fn check_id(what: &str, text: &str) -> Result<u64, Refusal> {
    parse_id(text).ok_or_else(|| {
        let shown: String = text.chars().take(40).collect();
        Refusal::BadId(format!("{what} must be a whole number from {MIN_ID} to {MAX_ID}, got {shown:?}"))
    })
}

/// Whether a signed id (a group hash id from a JSON body) is in range.
pub fn check_signed_id(what: &str, id: i64) -> Result<u64, Refusal> {
    match u64::try_from(id) {
        Ok(id) if (MIN_ID..=MAX_ID).contains(&id) => Ok(id),
        _ => Err(Refusal::BadId(format!("{what} must be from {MIN_ID} to {MAX_ID}, got {id}"))),
    }
}

/// Refuses a body of `len` bytes over `limit` (the edge's configured limit,
/// at most [`MAX_BODY_BYTES`]).
pub fn check_body_size(len: usize, limit: usize) -> Result<(), Refusal> {
    if len > limit {
        return Err(Refusal::TooLarge(format!("the body is over the limit of {limit} bytes (got at least {len})")));
    }
    Ok(())
}

/// Refuses ownership rules text over [`MAX_RULES_BYTES`].
pub fn check_rules_size(raw: &str) -> Result<(), Refusal> {
    if raw.len() > MAX_RULES_BYTES {
        return Err(Refusal::TooLarge(format!(
            "the rules text is {} bytes; the limit is {MAX_RULES_BYTES}",
            raw.len()
        )));
    }
    Ok(())
}

/// Refuses a batch of `count` items over `max`; `what` names the items.
pub fn check_batch(what: &str, count: usize, max: usize) -> Result<(), Refusal> {
    if count > max {
        return Err(Refusal::Invalid(format!("at most {max} {what} per call, got {count}")));
    }
    Ok(())
}

/// Checks an event id: non-empty, at most [`MAX_EVENT_ID_BYTES`], no control
/// characters (it is stored as text and shown back).
pub fn check_event_id(event_id: &str) -> Result<(), Refusal> {
    if event_id.is_empty() || event_id.len() > MAX_EVENT_ID_BYTES || event_id.chars().any(char::is_control) {
        return Err(Refusal::Invalid(format!(
            "event_id must be a non-empty string of at most {MAX_EVENT_ID_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

/// Refuses a JSON body the edge would send the origin that is over
/// [`MAX_BODY_BYTES`] once serialized: a value written through the npm
/// package (which has no body of its own to limit), or one whose JSON grows
/// when re-serialized (`1e5` is written `100000.0`). Counts the bytes
/// without building the text.
pub fn check_origin_body(body: &Value) -> Result<(), Refusal> {
    check_json_size(json_len(body))
}

/// [`check_origin_body`] for the body `{"value": <value>}` that option and
/// map writes send.
pub fn check_origin_value(value: &Value) -> Result<(), Refusal> {
    check_json_size(json_len(value).saturating_add(VALUE_WRAPPER.len()))
}

/// What wraps a value in a write's body, besides the value.
const VALUE_WRAPPER: &str = "{\"value\":}";

fn check_json_size(len: usize) -> Result<(), Refusal> {
    if len > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge(format!("the value is {len} bytes as JSON; the limit is {MAX_BODY_BYTES}")));
    }
    Ok(())
}

/// Bytes of `value` as compact JSON (as `serde_json::to_string` writes it).
pub fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` cannot fail (string keys; the writer never fails).
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_non_empty_and_at_most_1024_bytes_of_utf8() {
        assert!(check_name("the name", "a").is_ok());
        assert!(check_name("the name", &"a".repeat(MAX_NAME_BYTES)).is_ok());
        assert!(matches!(check_name("the name", ""), Err(Refusal::Invalid(_))));
        assert!(matches!(check_name("the name", &"a".repeat(MAX_NAME_BYTES + 1)), Err(Refusal::Invalid(_))));
        // Bytes, not characters: 257 four-byte characters are 1,028 bytes.
        assert!(check_name("the name", &"😀".repeat(256)).is_ok());
        assert!(check_name("the name", &"😀".repeat(257)).is_err());
    }

    #[test]
    fn ids_are_decimal_digits_from_1_to_i64_max() {
        assert_eq!(parse_id("1"), Some(1));
        assert_eq!(parse_id("9223372036854775807"), Some(MAX_ID));
        assert_eq!(parse_id("0009"), Some(9), "leading zeros are digits too");
        for bad in
            ["", "0", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "١", "9223372036854775808", "00000000000000000001"]
        {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
        assert!(matches!(check_id("the project id", "x"), Err(Refusal::BadId(m)) if m.contains("project id")));
        assert_eq!(check_signed_id("a hash id", 5), Ok(5));
        assert!(check_signed_id("a hash id", 0).is_err());
        assert!(check_signed_id("a hash id", -1).is_err());
        assert_eq!(check_signed_id("a hash id", i64::MAX), Ok(MAX_ID));
    }

    #[test]
    fn bodies_over_the_limit_are_too_large() {
        assert!(check_body_size(MAX_BODY_BYTES, MAX_BODY_BYTES).is_ok());
        assert!(matches!(check_body_size(MAX_BODY_BYTES + 1, MAX_BODY_BYTES), Err(Refusal::TooLarge(_))));
        assert!(check_body_size(11, 10).is_err());
    }

    #[test]
    fn rules_text_over_256_kib_is_too_large() {
        assert!(check_rules_size(&"#".repeat(MAX_RULES_BYTES)).is_ok());
        assert!(matches!(check_rules_size(&"#".repeat(MAX_RULES_BYTES + 1)), Err(Refusal::TooLarge(_))));
    }

    #[test]
    fn batches_are_bounded() {
        assert!(check_batch("ids", MAX_FETCH_BATCH, MAX_FETCH_BATCH).is_ok());
        assert!(matches!(check_batch("ids", MAX_FETCH_BATCH + 1, MAX_FETCH_BATCH), Err(Refusal::Invalid(_))));
    }

    #[test]
    fn event_ids_are_short_printable_text() {
        assert!(check_event_id("ev-1").is_ok());
        assert!(check_event_id(&"e".repeat(MAX_EVENT_ID_BYTES)).is_ok());
        for bad in [String::new(), "e".repeat(MAX_EVENT_ID_BYTES + 1), "a\nb".into(), "a\u{0}".into()] {
            assert!(check_event_id(&bad).is_err(), "{bad:?}");
        }
    }

    /// The OpenAPI documents state these limits; a change here fails until
    /// they say the same.
    #[test]
    fn both_openapi_documents_state_these_limits() {
        let edge = include_str!("../../openapi/edge.yaml");
        let origin = include_str!("../../openapi/origin.yaml");
        let max_id = format!("maximum: {MAX_ID}");
        for (doc, name) in [(edge, "edge"), (origin, "origin")] {
            assert!(doc.contains(&format!("maxLength: {MAX_NAME_BYTES}")), "{name}: names and keys");
            assert!(doc.contains(&format!("maxLength: {MAX_RULES_BYTES}")), "{name}: rules text");
            assert!(doc.contains(&max_id), "{name}: ids");
            assert!(doc.contains("1 MiB") && MAX_BODY_BYTES == 1 << 20, "{name}: bodies");
        }
        assert!(edge.contains(&format!("maxItems: {MAX_RECORD_BATCH}")));
        assert!(edge.contains(&format!("maxLength: {MAX_EVENT_ID_BYTES}")));
        assert!(edge.contains("at most 1,000; more is 400") && MAX_FETCH_BATCH == 1000);
        assert!(edge.contains("1,000 rules and 4,096 characters") && (MAX_RULES, MAX_RULE_LINE_CHARS) == (1000, 4096));
    }

    #[test]
    fn origin_bodies_are_measured_as_written() {
        for value in [json!(null), json!({"value": [1, "ü", {"k": 1.5}]}), json!("a\"\\\n\u{1}")] {
            assert_eq!(json_len(&value), value.to_string().len(), "{value}");
        }
        // `{"value":"xx…x"}` is the value's length plus 12 bytes.
        let fits = json!("x".repeat(MAX_BODY_BYTES - 12));
        assert_eq!(json_len(&json!({ "value": fits.clone() })), MAX_BODY_BYTES);
        assert!(check_origin_value(&fits).is_ok());
        assert!(check_origin_body(&json!({ "value": fits })).is_ok());
        let over = json!("x".repeat(MAX_BODY_BYTES - 11));
        assert!(matches!(check_origin_value(&over), Err(Refusal::TooLarge(_))));
        assert!(check_origin_body(&json!({ "value": over })).is_err());
        // A value that grows when written: 1e5 is written 100000.0.
        let floats: Vec<Value> = (0..MAX_BODY_BYTES / 4).map(|_| json!(1e5)).collect();
        assert!(check_origin_value(&Value::Array(floats)).is_err());
    }
}
