//! What an ownership record holds — rules text and three flags — with the
//! flags' defaults, once, and the record as the API shows it.
//!
//! The defaults hold wherever a flag is missing: a write that leaves it
//! out, a stored record without it (written around the edge), a project
//! with no record at all; the reference origin takes them from here too
//! (`origin/src/input/body.rs`).

use serde_json::{json, Value};

use super::parsed::ParsedRules;
use crate::core::error::Error;
use crate::core::ownership::schema;

/// What a caller may write: the rules text and three flags.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct OwnershipInput {
    /// The rules text, one rule a line.
    pub raw: String,
    /// Owners are "everyone" when no rule matches (default true).
    #[serde(default)]
    pub fallthrough: Option<bool>,
    /// The owner of the last matching rule is auto-assigned (default false).
    #[serde(default)]
    pub auto_assignment: Option<bool>,
    /// Whether the rules apply at all (default true).
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// The three flags of an ownership record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFlags {
    /// Owners are "everyone" when no rule matches.
    pub fallthrough: bool,
    /// The first owner of the last matching rule is auto-assigned.
    pub auto_assignment: bool,
    /// The rules apply at all (an inactive record matches no rule).
    pub is_active: bool,
}

impl RecordFlags {
    /// The flags of a record that sets none (and of a project with no
    /// record): everyone owns what no rule matches, nobody is
    /// auto-assigned, the rules apply — as in the original design.
    pub const DEFAULT: RecordFlags = RecordFlags { fallthrough: true, auto_assignment: false, is_active: true };

    /// The flags a caller's input sets, the defaults for those it leaves out.
    pub fn given(input: &OwnershipInput) -> RecordFlags {
        let d = RecordFlags::DEFAULT;
        RecordFlags {
            fallthrough: input.fallthrough.unwrap_or(d.fallthrough),
            auto_assignment: input.auto_assignment.unwrap_or(d.auto_assignment),
            is_active: input.is_active.unwrap_or(d.is_active),
        }
    }

    /// The flags of a stored record: one missing or not a boolean reads as
    /// its default.
    pub fn of_record(record: &Value) -> RecordFlags {
        let d = RecordFlags::DEFAULT;
        let flag = |name: &str, default: bool| record.get(name).and_then(Value::as_bool).unwrap_or(default);
        RecordFlags {
            fallthrough: flag("fallthrough", d.fallthrough),
            auto_assignment: flag("auto_assignment", d.auto_assignment),
            is_active: flag("is_active", d.is_active),
        }
    }
}

/// The rules text of a stored record ("" when it has none).
pub(super) fn raw_of(record: &Value) -> &str {
    record.get("raw").and_then(Value::as_str).unwrap_or("")
}

/// The record the origin is sent for `input`: its text and all three flags.
pub(super) fn to_store(input: &OwnershipInput) -> Value {
    let flags = RecordFlags::given(input);
    json!({
        "raw": input.raw,
        "fallthrough": flags.fallthrough,
        "auto_assignment": flags.auto_assignment,
        "is_active": flags.is_active,
    })
}

/// The record as the API shows it: the stored fields plus the parsed
/// schema (or, for rules that do not parse, `schema: null` and the error).
pub(super) fn view(record: &Value, version: u64, parsed: &ParsedRules) -> Value {
    let (schema_value, schema_error) = match &parsed.rules {
        Ok(rules) => (schema(rules), Value::Null),
        Err(e) => (Value::Null, Value::String(Error::from(e.clone()).to_string())),
    };
    let field = |name: &str| record.get(name).cloned().unwrap_or(Value::Null);
    let mut shown = json!({
        "raw": field("raw"),
        "schema": schema_value,
        "fallthrough": field("fallthrough"),
        "auto_assignment": field("auto_assignment"),
        "is_active": field("is_active"),
        "version": version,
        "updated_at": field("updated_at"),
    });
    if !schema_error.is_null() {
        if let Value::Object(map) = &mut shown {
            map.insert("schema_error".into(), schema_error);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(fallthrough: Option<bool>, auto_assignment: Option<bool>, is_active: Option<bool>) -> OwnershipInput {
        OwnershipInput { raw: String::new(), fallthrough, auto_assignment, is_active }
    }

    #[test]
    fn flags_left_out_take_their_defaults_everyone_owns_nobody_assigned_rules_apply() {
        assert_eq!(RecordFlags::DEFAULT, RecordFlags { fallthrough: true, auto_assignment: false, is_active: true });
        assert_eq!(RecordFlags::given(&input(None, None, None)), RecordFlags::DEFAULT);
        let all_set = RecordFlags { fallthrough: false, auto_assignment: true, is_active: false };
        assert_eq!(RecordFlags::given(&input(Some(false), Some(true), Some(false))), all_set);
        assert_eq!(to_store(&input(None, Some(true), None))["auto_assignment"], json!(true));
        assert_eq!(to_store(&input(None, Some(true), None))["fallthrough"], json!(true));
    }

    #[test]
    fn a_stored_record_missing_a_flag_or_holding_a_non_boolean_reads_the_default() {
        assert_eq!(RecordFlags::of_record(&json!({"raw": ""})), RecordFlags::DEFAULT);
        let odd = json!({"fallthrough": "no", "auto_assignment": 1, "is_active": null});
        assert_eq!(RecordFlags::of_record(&odd), RecordFlags::DEFAULT);
        let set = json!({"fallthrough": false, "auto_assignment": true, "is_active": false});
        assert_eq!(
            RecordFlags::of_record(&set),
            RecordFlags { fallthrough: false, auto_assignment: true, is_active: false }
        );
        assert_eq!(raw_of(&json!({"raw": 5})), "");
    }
}
