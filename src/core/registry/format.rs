//! The registry's JSON format (see the module docs of `registry`): parsing
//! a document into specs, and why one is refused.

use serde_json::Value;

use super::spec::OptionSpec;
use crate::core::flags::{Flags, UnknownFlag};
use crate::core::lifecycle::Policy;
use crate::core::value_type::{json_kind as kind, ValueType};

/// Why a registry was refused. Each message names the option at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The text is not JSON at all.
    #[error("registry is not valid JSON: {0}")]
    Json(String),
    /// The document's shape is wrong outside any one option.
    #[error("registry: {0}")]
    Shape(String),
    /// An option entry without a usable name.
    #[error("registry options[{index}]: \"name\" must be a non-empty string")]
    MissingName {
        /// Position of the entry in `options`.
        index: usize,
    },
    /// The same name declared twice.
    #[error("option {0:?} is registered twice")]
    Duplicate(String),
    /// A `type` that is not one of the six.
    #[error("option {name:?}: unknown type {ty:?} (expected one of string, int, float, bool, sequence, mapping)")]
    UnknownType {
        /// The option.
        name: String,
        /// The type as written.
        ty: String,
    },
    /// A flag name that is not one of the four.
    #[error("option {name:?}: {source}")]
    UnknownFlag {
        /// The option.
        name: String,
        /// The offending flag.
        source: UnknownFlag,
    },
    /// A default that is `null` or not of the option's type.
    #[error("option {name:?}: invalid default: {message}")]
    InvalidDefault {
        /// The option.
        name: String,
        /// Why, e.g. `expected int, got string`.
        message: String,
    },
    /// A `ttl` or `grace` that is not a non-negative whole number of seconds.
    #[error("option {name:?}: {field} must be a non-negative integer number of seconds")]
    InvalidPolicy {
        /// The option.
        name: String,
        /// `ttl` or `grace`.
        field: &'static str,
    },
    /// Anything else wrong with one option (unknown field, bad name, conflicting flags…).
    #[error("option {name:?}: {message}")]
    InvalidOption {
        /// The option.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Parses a registry document into its option specs, in the order written.
///
/// # Errors
/// The first problem found, naming the option (see `Registry::from_json`).
pub(super) fn parse(text: &str) -> Result<Vec<OptionSpec>, RegistryError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| RegistryError::Json(e.to_string()))?;
    let Value::Object(doc) = doc else {
        return Err(RegistryError::Shape(format!("the document must be a JSON object, got {}", kind(&doc))));
    };
    let mut defaults = Policy::DEFAULT;
    let mut options = None;
    for (key, value) in &doc {
        match key.as_str() {
            "defaults" => defaults = parse_defaults(value)?,
            "options" => options = Some(value),
            other => {
                return Err(RegistryError::Shape(format!(
                    "unknown field {other:?} (expected \"defaults\" and \"options\")"
                )))
            }
        }
    }
    let Some(options) = options else {
        return Err(RegistryError::Shape("missing \"options\" (a list of options)".into()));
    };
    let Value::Array(options) = options else {
        return Err(RegistryError::Shape(format!("\"options\" must be a list, got {}", kind(options))));
    };
    options.iter().enumerate().map(|(index, entry)| parse_option(index, entry, defaults)).collect()
}

const OPTION_FIELDS: &str = "name, type, default, flags, ttl, grace, stale_while_revalidate, description";

fn parse_option(index: usize, entry: &Value, defaults: Policy) -> Result<OptionSpec, RegistryError> {
    let Value::Object(fields) = entry else {
        return Err(RegistryError::Shape(format!("options[{index}] must be an object, got {}", kind(entry))));
    };
    let name = match fields.get("name") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        _ => return Err(RegistryError::MissingName { index }),
    };
    let invalid = |message: String| RegistryError::InvalidOption { name: name.clone(), message };

    if let Some(unknown) = fields.keys().find(|k| !OPTION_FIELDS.split(", ").any(|f| f == k.as_str())) {
        return Err(invalid(format!("unknown field {unknown:?} (expected {OPTION_FIELDS})")));
    }

    let default = fields.get("default").cloned().unwrap_or_else(|| Value::String(String::new()));
    let value_type = match fields.get("type") {
        None => ValueType::of(&default).ok_or_else(|| RegistryError::InvalidDefault {
            name: name.clone(),
            message: "null is not a value; give a default of the option's type".into(),
        })?,
        Some(Value::String(ty)) => match ValueType::parse(ty) {
            Some(t) if t != ValueType::Any => t,
            _ => return Err(RegistryError::UnknownType { name, ty: ty.clone() }),
        },
        Some(other) => return Err(invalid(format!("\"type\" must be a string, got {}", kind(other)))),
    };
    if !fields.contains_key("default") && !value_type.accepts(&default) {
        return Err(RegistryError::InvalidDefault {
            name,
            message: format!("no default given, and the implied default \"\" is not a {value_type}"),
        });
    }

    let flags = match fields.get("flags") {
        None => Flags::NONE,
        Some(Value::Array(items)) => {
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => names.push(s.as_str()),
                    other => {
                        return Err(invalid(format!("\"flags\" must be a list of strings, found {}", kind(other))))
                    }
                }
            }
            Flags::from_names(names).map_err(|source| RegistryError::UnknownFlag { name: name.clone(), source })?
        }
        Some(other) => return Err(invalid(format!("\"flags\" must be a list of strings, got {}", kind(other)))),
    };

    let ttl = match fields.get("ttl") {
        None => defaults.ttl_ms / 1000,
        Some(v) => v.as_u64().ok_or_else(|| RegistryError::InvalidPolicy { name: name.clone(), field: "ttl" })?,
    };
    let grace = match fields.get("grace") {
        None => defaults.grace_ms / 1000,
        Some(v) => v.as_u64().ok_or_else(|| RegistryError::InvalidPolicy { name: name.clone(), field: "grace" })?,
    };

    let swr = match fields.get("stale_while_revalidate") {
        None => false,
        Some(Value::Bool(on)) => *on,
        Some(other) => {
            return Err(invalid(format!("\"stale_while_revalidate\" must be true or false, got {}", kind(other))))
        }
    };

    let description = match fields.get("description") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(invalid(format!("\"description\" must be a string, got {}", kind(other)))),
    };

    let policy = Policy::from_secs(ttl, grace).with_stale_while_revalidate(swr);
    Ok(OptionSpec { name, value_type, default, flags, policy, description })
}

fn parse_defaults(value: &Value) -> Result<Policy, RegistryError> {
    let Value::Object(fields) = value else {
        return Err(RegistryError::Shape(format!("\"defaults\" must be an object, got {}", kind(value))));
    };
    let mut ttl = Policy::DEFAULT.ttl_ms / 1000;
    let mut grace = Policy::DEFAULT.grace_ms / 1000;
    for (key, v) in fields {
        let slot = match key.as_str() {
            "ttl" => &mut ttl,
            "grace" => &mut grace,
            other => {
                return Err(RegistryError::Shape(format!(
                    "unknown field {other:?} in \"defaults\" (expected ttl, grace)"
                )))
            }
        };
        *slot = v.as_u64().ok_or_else(|| {
            RegistryError::Shape(format!("defaults.{key} must be a non-negative integer number of seconds"))
        })?;
    }
    Ok(Policy::from_secs(ttl, grace))
}
