//! The format of a value stored in Workers KV, versioned.
//!
//! KV contents come from the world (an older deployment, an operator, a bug),
//! so decoding never panics: anything unreadable is a `DecodeError` that the
//! read path treats like a failed KV read (fall through to the origin).
//!
//! Format history (add a variant, keep decoding the old ones):
//! - `v: 1` — `{"v":1, "version":N, "value":<json>}` for a present value,
//!   `{"v":1, "version":N, "absent":true}` for a negative-cache marker.
//!   `version` is the origin's version (0 when the origin gave none).
//!   Optional `"since":T`: when the origin gave the value (ms since the
//!   epoch). Copies without it (written before it was recorded) decode
//!   with `since: 0`, "age unknown", and count as fresh as before.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::slot::{Slot, Versioned};

/// The format version written by this build.
pub const CURRENT: u32 = 1;

/// KV held something this build cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable KV entry: {0}")]
pub struct DecodeError(pub String);

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u32,
    #[serde(default)]
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    absent: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    since: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Encodes a slot for KV in the current format.
pub fn encode(entry: &Versioned) -> String {
    let wire = match &entry.slot {
        Slot::Present(value) => {
            Wire { v: CURRENT, version: entry.version, value: Some(value.clone()), absent: false, since: entry.since }
        }
        Slot::Absent => Wire { v: CURRENT, version: entry.version, value: None, absent: true, since: entry.since },
    };
    // Serializing a struct of plain JSON values cannot fail; fall back to an
    // absent marker rather than panic if it ever did.
    serde_json::to_string(&wire).unwrap_or_else(|_| format!("{{\"v\":{CURRENT},\"absent\":true}}"))
}

/// Decodes what KV returned; garbage is an error, never a panic.
pub fn decode(text: &str) -> Result<Versioned, DecodeError> {
    let wire: Wire = serde_json::from_str(text).map_err(|e| DecodeError(e.to_string()))?;
    from_wire(wire)
}

/// Decodes an envelope already parsed into a JSON tree (an entry of a
/// snapshot part) with the same rules as [`decode`]: read by hand from the
/// tree, so the Worker carries no second deserializer for the format.
pub fn decode_tree(tree: Value) -> Result<Versioned, DecodeError> {
    let Value::Object(mut map) = tree else {
        return Err(DecodeError("an envelope is an object".into()));
    };
    let number = |field: &str, map: &serde_json::Map<String, Value>| match map.get(field) {
        None => Ok(0),
        Some(n) => n.as_u64().ok_or_else(|| DecodeError(format!("`{field}` is not a whole number"))),
    };
    let v = map.get("v").and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok());
    let v = v.ok_or_else(|| DecodeError("no format version `v`".into()))?;
    let absent = match map.get("absent") {
        None => false,
        Some(Value::Bool(absent)) => *absent,
        Some(_) => return Err(DecodeError("`absent` is not a boolean".into())),
    };
    let (version, since) = (number("version", &map)?, number("since", &map)?);
    let value = map.remove("value").filter(|value| !value.is_null());
    from_wire(Wire { v, version, value, absent, since })
}

/// Checks a parsed envelope (see [`decode`]).
fn from_wire(wire: Wire) -> Result<Versioned, DecodeError> {
    if wire.v != CURRENT {
        return Err(DecodeError(format!("unknown envelope version {}", wire.v)));
    }
    let slot = match (wire.absent, wire.value) {
        (true, None) => Slot::Absent,
        (false, Some(Value::Null)) | (false, None) => return Err(DecodeError("no value and not absent".into())),
        (false, Some(value)) => Slot::Present(value),
        (true, Some(_)) => return Err(DecodeError("both a value and absent".into())),
    };
    Ok(Versioned { slot, version: wire.version, since: wire.since })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn present_and_absent_round_trip() {
        for entry in [
            Versioned { slot: Slot::Present(json!({"a": [1, 2.5, "x"]})), version: 7, since: 1_700_000_000_000 },
            Versioned { slot: Slot::Absent, version: 3, since: 5 },
            Versioned { slot: Slot::Present(json!("")), version: 0, since: 0 },
        ] {
            assert_eq!(decode(&encode(&entry)), Ok(entry));
        }
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        for text in [
            "",
            "null",
            "[]",
            "{",
            "\u{0}",
            "{\"v\":2,\"value\":1}",
            "{\"v\":1}",
            "{\"v\":1,\"value\":null}",
            "{\"v\":1,\"value\":1,\"absent\":true}",
            "{\"v\":\"1\",\"value\":1}",
            "{\"v\":1,\"version\":-1,\"value\":1}",
        ] {
            assert!(decode(text).is_err(), "{text:?} decoded");
        }
    }

    #[test]
    fn unknown_fields_are_ignored_for_forward_compatibility() {
        let got = decode("{\"v\":1,\"version\":2,\"value\":true,\"written_by\":\"later\"}");
        assert_eq!(got, Ok(Versioned { slot: Slot::Present(json!(true)), version: 2, since: 0 }));
    }

    #[test]
    fn copies_written_before_since_was_recorded_decode_with_age_unknown() {
        let got = decode("{\"v\":1,\"version\":4,\"value\":\"x\"}").expect("an old copy");
        assert_eq!((got.since, got.age(10_000)), (0, None));
        let new = decode(&encode(&Versioned::present(json!("x"), 4).given_at(1_000))).expect("a new copy");
        assert_eq!(new.age(10_000), Some(9_000));
    }
}
