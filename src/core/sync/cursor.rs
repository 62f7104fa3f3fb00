//! The sync job's cursor: the last origin version it completed, kept in KV
//! under `sync:cursor` so each run continues where the last one stopped.
//!
//! Every change with a version up to the cursor is in KV (at that version
//! or a newer one) or was deliberately skipped; the next run asks the
//! origin for the changes after it. KV contents come from the world, so a
//! value this build cannot read is not an error: the job starts again from
//! 0 (re-checking everything costs reads, never correctness) and says so.
//!
//! Format history (add a variant, keep decoding the old ones):
//! - `v: 1` — `{"v":1, "after":N}`.

use serde::{Deserialize, Serialize};

/// The format version written by this build.
pub const CURRENT: u32 = 1;

/// How long KV keeps the cursor, seconds (refreshed by every run that
/// moves it). Losing it only makes the next run start again from 0.
pub const EXPIRATION_SECS: u64 = 365 * 24 * 3600;

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u32,
    after: u64,
}

/// Encodes a cursor for KV in the current format.
pub fn encode(after: u64) -> String {
    // Serializing two integers cannot fail; an unreadable cursor would only
    // make the next run start from 0.
    serde_json::to_string(&Wire { v: CURRENT, after }).unwrap_or_default()
}

/// Decodes what KV holds; `Err` says why it cannot be read.
pub fn decode(text: &str) -> Result<u64, String> {
    let wire: Wire = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if wire.v != CURRENT {
        return Err(format!("unknown cursor format {}", wire.v));
    }
    Ok(wire.after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_through_its_envelope() {
        for after in [0, 1, 42, u64::MAX] {
            assert_eq!(decode(&encode(after)), Ok(after));
        }
        assert_eq!(encode(7), r#"{"v":1,"after":7}"#);
    }

    #[test]
    fn garbage_cursors_are_errors_not_panics() {
        for text in ["", "7", "null", "{", r#"{"v":2,"after":1}"#, r#"{"v":1}"#, r#"{"v":1,"after":-1}"#, "\u{0}"] {
            assert!(decode(text).is_err(), "{text:?}");
        }
    }
}
