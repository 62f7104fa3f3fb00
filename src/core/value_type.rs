//! The types a registered option can have, and the check a value must pass.
//!
//! docs/design.md "Registered options": every option has one of six types —
//! string, int, float, bool, sequence, mapping — and every value written to
//! it, read from config, or given as its default must be of that type. Names
//! under a configured legacy prefix are untyped: [`ValueType::Any`] accepts
//! any value except `null`.
//!
//! `null` is never a value of any type: the stores use "absent" for "no
//! value", so a `null` value would be ambiguous.
//!
//! Type-check messages name the expected and the actual type and never the
//! value itself, so they are safe to show for credential options.

use serde_json::Value;

use super::error::Error;

/// The type of a registered option's value, as written in `registry.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A JSON string.
    String,
    /// A JSON integer that fits a signed 64-bit integer (`3`, not `3.0`, `1.5` or `1e3`).
    Int,
    /// Any JSON number; integers are valid floats.
    Float,
    /// `true` or `false`.
    Bool,
    /// A JSON array.
    Sequence,
    /// A JSON object.
    Mapping,
    /// Untyped: any value but `null`. Only for names under a legacy prefix;
    /// a registry cannot declare it.
    Any,
}

impl ValueType {
    /// Every type, in the order of the docs.
    pub const ALL: [ValueType; 7] = [
        ValueType::String,
        ValueType::Int,
        ValueType::Float,
        ValueType::Bool,
        ValueType::Sequence,
        ValueType::Mapping,
        ValueType::Any,
    ];

    /// The stable lowercase name: `"string"`, `"int"`, `"float"`, `"bool"`,
    /// `"sequence"`, `"mapping"` or `"any"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Sequence => "sequence",
            ValueType::Mapping => "mapping",
            ValueType::Any => "any",
        }
    }

    /// The type with this exact lowercase name ([`ValueType::as_str`]), if any.
    pub fn parse(name: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The type a value most naturally has, as the original design guessed an
    /// option's type from its default: an integer is `int` (even one too
    /// large for it, so the check then says why), any other number `float`.
    /// `None` for `null`, which has no type.
    pub fn of(value: &Value) -> Option<ValueType> {
        match value {
            Value::Null => None,
            Value::Bool(_) => Some(ValueType::Bool),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(ValueType::Int),
            Value::Number(_) => Some(ValueType::Float),
            Value::String(_) => Some(ValueType::String),
            Value::Array(_) => Some(ValueType::Sequence),
            Value::Object(_) => Some(ValueType::Mapping),
        }
    }

    /// Whether `value` is a value of this type. Never true for `null`.
    pub fn accepts(&self, value: &Value) -> bool {
        match (self, value) {
            (_, Value::Null) => false,
            (ValueType::Any, _) => true,
            (ValueType::String, Value::String(_)) => true,
            (ValueType::Int, Value::Number(n)) => n.as_i64().is_some(),
            (ValueType::Float, Value::Number(_)) => true,
            (ValueType::Bool, Value::Bool(_)) => true,
            (ValueType::Sequence, Value::Array(_)) => true,
            (ValueType::Mapping, Value::Object(_)) => true,
            _ => false,
        }
    }

    /// Checks that `value` is of this type.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidType`] naming the expected and the actual type, e.g.
    /// `expected int, got string`. The message never contains the value.
    pub fn check(&self, value: &Value) -> Result<(), Error> {
        if self.accepts(value) {
            Ok(())
        } else {
            Err(Error::InvalidType(format!("expected {}, got {}", self.as_str(), describe(value))))
        }
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON kind of a value in plain words (`a list`, `an object`), for
/// messages about the shape of a document (the registry, `OPTIONS_CONFIG`).
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// What a value is, in the vocabulary of the type names, for messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int",
        Value::Number(n) if n.is_u64() => "an integer too large for int (signed 64-bit)",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "sequence",
        Value::Object(_) => "mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn names_round_trip() {
        for t in ValueType::ALL {
            assert_eq!(ValueType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
        }
        assert_eq!(ValueType::parse("integer"), None);
        assert_eq!(ValueType::parse("Int"), None);
        assert_eq!(ValueType::parse(""), None);
    }

    #[test]
    fn int_accepts_integers_in_i64_range() {
        assert!(ValueType::Int.check(&json!(3)).is_ok());
        assert!(ValueType::Int.check(&json!(-3)).is_ok());
        assert!(ValueType::Int.check(&json!(i64::MAX)).is_ok());
        assert!(ValueType::Int.check(&json!(i64::MIN)).is_ok());
    }

    #[test]
    fn int_rejects_fractional_numbers() {
        for text in ["1.5", "3.0", "1e3", "-0.0"] {
            let err = ValueType::Int.check(&parsed(text)).unwrap_err();
            assert_eq!(err, Error::InvalidType("expected int, got float".into()), "{text}");
        }
    }

    #[test]
    fn int_rejects_integers_beyond_i64() {
        let err = ValueType::Int.check(&json!(u64::MAX)).unwrap_err();
        assert_eq!(err.code(), "invalid_type");
        assert!(err.to_string().contains("too large"), "{err}");
    }

    #[test]
    fn float_accepts_integers() {
        assert!(ValueType::Float.check(&json!(3)).is_ok());
        assert!(ValueType::Float.check(&json!(u64::MAX)).is_ok());
        assert!(ValueType::Float.check(&json!(0.25)).is_ok());
        assert!(ValueType::Float.check(&parsed("1e3")).is_ok());
        assert!(ValueType::Float.check(&json!("0.5")).is_err());
    }

    #[test]
    fn null_is_never_a_valid_value() {
        for t in ValueType::ALL {
            let err = t.check(&Value::Null).unwrap_err();
            assert_eq!(err, Error::InvalidType(format!("expected {t}, got null")));
        }
    }

    #[test]
    fn any_accepts_every_non_null_value() {
        for v in [json!(""), json!(0), json!(1.5), json!(false), json!([]), json!({})] {
            assert!(ValueType::Any.check(&v).is_ok(), "{v}");
        }
    }

    #[test]
    fn each_type_accepts_only_its_own_kind() {
        let samples = [
            (ValueType::String, json!("x")),
            (ValueType::Int, json!(1)),
            (ValueType::Bool, json!(true)),
            (ValueType::Sequence, json!([1])),
            (ValueType::Mapping, json!({"a": 1})),
        ];
        for (t, _) in &samples {
            for (u, v) in &samples {
                let ok = t.check(v).is_ok();
                let expected = t == u || (*t == ValueType::Float && *u == ValueType::Int);
                assert_eq!(ok, expected, "{t} vs {v}");
            }
        }
        assert_eq!(ValueType::Bool.check(&json!("true")).unwrap_err().to_string(), "expected bool, got string");
        assert_eq!(ValueType::Mapping.check(&json!([])).unwrap_err().to_string(), "expected mapping, got sequence");
    }

    #[test]
    fn type_of_a_value_follows_its_json_kind() {
        assert_eq!(ValueType::of(&json!("")), Some(ValueType::String));
        assert_eq!(ValueType::of(&json!(1)), Some(ValueType::Int));
        assert_eq!(ValueType::of(&parsed("1.0")), Some(ValueType::Float));
        assert_eq!(ValueType::of(&json!(true)), Some(ValueType::Bool));
        assert_eq!(ValueType::of(&json!([])), Some(ValueType::Sequence));
        assert_eq!(ValueType::of(&json!({})), Some(ValueType::Mapping));
        assert_eq!(ValueType::of(&Value::Null), None);
    }

    #[test]
    fn messages_never_contain_the_value() {
        let err = ValueType::Int.check(&json!("hunter2-secret")).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
