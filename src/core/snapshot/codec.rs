//! The snapshot as KV holds it: a small head naming the split, and parts.
//!
//! - head, `sync:snapshot`:
//!   `{"v":1, "version":V, "since":T, "complete":bool, "parts":N, "entries":E, "bytes":B}`
//! - part `i` of `N`, `sync:snapshot:N:i`: `{"v":1, "entries":{"<cache key>": <envelope>, …}}`,
//!   each entry in the per-key KV format (`envelope`).
//!
//! An entry goes to part `fnv1a(key) % N`, and `N` grows with the size so a
//! part stays under [`PART_MAX_BYTES`], far below KV's 25 MiB value limit
//! (and quick to parse). The writer puts the parts before the head, so a
//! reader that sees a head finds its parts; when `N` changes the parts get
//! new names, and a reader of the previous head still reads a whole split.
//! Everything read is checked: a head or part that does not decode is an
//! error, never a panic, and the reader treats the snapshot as missing.

use super::Snapshot;
use crate::core::envelope::{self, DecodeError};
use crate::core::lifecycle::Millis;
use serde_json::{json, Value};

/// The format version written by this build.
const CURRENT: u32 = 1;

/// Largest part this build writes, bytes of JSON.
pub const PART_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The head of a snapshot in KV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Every change up to this origin version is in the parts.
    pub version: u64,
    /// When the sync job wrote it (ms since the epoch).
    pub since: Millis,
    /// Built from version 0.
    pub complete: bool,
    /// How many parts.
    pub parts: u32,
    /// How many entries, all parts together.
    pub entries: u64,
    /// Bytes of JSON, all parts together.
    pub bytes: u64,
}

/// A snapshot ready for KV: the head's text and every part's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The head, as written to `CacheKey::snapshot_head`.
    pub head: Head,
    /// The head's text.
    pub head_text: String,
    /// Part `i`'s text, for `CacheKey::snapshot_part(parts, i)`.
    pub parts: Vec<String>,
}

/// Splits `snapshot` into parts of at most about [`PART_MAX_BYTES`].
pub fn encode(snapshot: &Snapshot) -> Encoded {
    // Each entry as `"<key>":<envelope>`, in the per-key KV format.
    let encoded: Vec<(&str, String)> = snapshot
        .entries
        .iter()
        .map(|(key, entry)| {
            let name = serde_json::to_string(key).unwrap_or_else(|_| "\"\"".into());
            (key.as_str(), format!("{name}:{}", envelope::encode(entry)))
        })
        .collect();
    let total: usize = encoded.iter().map(|(_, text)| text.len() + 1).sum();
    let parts = u32::try_from(total / PART_MAX_BYTES + 1).unwrap_or(u32::MAX);
    let mut split: Vec<Vec<&str>> = (0..parts).map(|_| Vec::new()).collect();
    for (key, text) in &encoded {
        if let Some(part) = split.get_mut(part_of(key, parts)) {
            part.push(text);
        }
    }
    let texts: Vec<String> =
        split.into_iter().map(|entries| format!("{{\"v\":{CURRENT},\"entries\":{{{}}}}}", entries.join(","))).collect();
    let head = Head {
        version: snapshot.version,
        since: snapshot.since,
        complete: snapshot.complete,
        parts,
        entries: encoded.len() as u64,
        bytes: texts.iter().map(|t| t.len() as u64).sum(),
    };
    let head_text = json!({
        "v": CURRENT,
        "version": head.version,
        "since": head.since,
        "complete": head.complete,
        "parts": head.parts,
        "entries": head.entries,
        "bytes": head.bytes,
    })
    .to_string();
    Encoded { head, head_text, parts: texts }
}

/// Which of `parts` parts holds `key`: FNV-1a, stable across builds.
pub fn part_of(key: &str, parts: u32) -> usize {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    usize::try_from(hash % u64::from(parts.max(1))).unwrap_or(0)
}

/// Reads a head from KV's text. Heads and parts are read from JSON trees
/// by hand (`envelope::decode_tree`): the Worker already parses JSON
/// trees, and a derived deserializer per shape would only add to its size.
pub fn decode_head(text: &str) -> Result<Head, DecodeError> {
    let tree = parse_versioned(text)?;
    let number = |field: &str| {
        tree.get(field).and_then(Value::as_u64).ok_or_else(|| DecodeError(format!("the head has no `{field}`")))
    };
    let complete = tree.get("complete").and_then(Value::as_bool);
    let head = Head {
        version: number("version")?,
        since: number("since")?,
        complete: complete.ok_or_else(|| DecodeError("the head has no `complete`".into()))?,
        parts: u32::try_from(number("parts")?).map_err(|_| DecodeError("too many parts".into()))?,
        entries: number("entries")?,
        bytes: number("bytes")?,
    };
    if head.parts == 0 {
        return Err(DecodeError("a snapshot of no parts".into()));
    }
    Ok(head)
}

/// Reads one part into `into`: every entry, each checked like a per-key
/// KV copy. One unreadable entry makes the whole part an error (a part is
/// written whole, so it is garbage, not news).
pub fn decode_part(text: &str, into: &mut Snapshot) -> Result<(), DecodeError> {
    let Value::Object(mut part) = parse_versioned(text)? else {
        return Err(DecodeError("a snapshot part is an object".into()));
    };
    let Some(Value::Object(entries)) = part.remove("entries") else {
        return Err(DecodeError("a snapshot part has no `entries`".into()));
    };
    for (key, tree) in entries {
        into.entries.insert(key, envelope::decode_tree(tree)?);
    }
    Ok(())
}

/// Parses `text` as a JSON object of this build's format version (`v`).
fn parse_versioned(text: &str) -> Result<Value, DecodeError> {
    let tree: Value = serde_json::from_str(text).map_err(|e| DecodeError(e.to_string()))?;
    match tree.get("v").and_then(Value::as_u64) {
        Some(v) if v == u64::from(CURRENT) => Ok(tree),
        Some(v) => Err(DecodeError(format!("unknown snapshot format version {v}"))),
        None => Err(DecodeError("no format version `v`".into())),
    }
}
