//! What every cache tier holds for a key: a value or an "absent" marker,
//! with the origin version it reflects.
//!
//! Absent is cached like a value (negative cache): most projects have no
//! ownership rules and most options are unset, and asking the origin again
//! on every read to hear "nothing" is the load this design exists to avoid.

use serde_json::Value;

use super::lifecycle::Millis;
use super::memory::Weigh;

/// The value, or the fact that there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// The origin has a value.
    Present(Value),
    /// The origin has no value.
    Absent,
}

/// A slot with the origin version it reflects.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The value or the absent marker.
    pub slot: Slot,
    /// The origin's version; caches never replace a higher one with a lower.
    /// Zero when the origin gave none (an absent thing never written).
    pub version: u64,
    /// When the origin last gave this value (ms since the epoch; 0 when
    /// not known, as in KV copies written before this was recorded). How
    /// old a copy is decides whether KV's copy is still fresh and is what
    /// a stale answer reports (`age_ms`), whichever tier holds it.
    pub since: Millis,
}

impl Versioned {
    /// A present value at `version`.
    pub fn present(value: Value, version: u64) -> Self {
        Versioned { slot: Slot::Present(value), version, since: 0 }
    }

    /// An absent marker at `version`.
    pub fn absent(version: u64) -> Self {
        Versioned { slot: Slot::Absent, version, since: 0 }
    }

    /// The same entry, given by the origin at `now`.
    #[must_use]
    pub fn given_at(mut self, now: Millis) -> Self {
        self.since = now;
        self
    }

    /// How old the entry is at `now`: since the origin gave it, `None`
    /// when that is not known.
    pub fn age(&self, now: Millis) -> Option<Millis> {
        (self.since > 0).then(|| now.saturating_sub(self.since))
    }

    /// The value, if present.
    pub fn value(&self) -> Option<&Value> {
        match &self.slot {
            Slot::Present(v) => Some(v),
            Slot::Absent => None,
        }
    }
}

impl Weigh for Versioned {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.slot {
                Slot::Present(v) => json_weight(v),
                Slot::Absent => 0,
            }
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// Approximate heap bytes of a JSON value: enough to bound memory, cheap
/// enough to compute once per insert. Iterative, so a deeply nested value
/// from the world cannot overflow the stack.
pub fn json_weight(value: &Value) -> usize {
    let node = std::mem::size_of::<Value>();
    let mut total = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total += node;
        match v {
            Value::String(s) => total += s.len(),
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(map) => {
                for (k, item) in map {
                    total += k.len() + node;
                    stack.push(item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weight_grows_with_content() {
        let small = Versioned::present(json!("a"), 1).weight();
        let big = Versioned::present(json!("a".repeat(1000)), 1).weight();
        assert!(big >= small + 999);
        let nested = Versioned::present(json!({"k": [1, 2, {"x": "yyyy"}]}), 1).weight();
        assert!(nested > Versioned::absent(1).weight());
    }
}
