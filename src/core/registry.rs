//! The registry of options: `name → {type, default, flags, ttl, grace}`.
//!
//! docs/design.md "Registered options". Every option the edge serves is declared
//! up front; a name that is not declared is an error ([`Error::UnknownOption`]),
//! except names under a configured *legacy prefix*, which behave as untyped
//! options with default `""` and bypass isolate memory (ttl 0, grace 0), as
//! the original design did for its legacy keys.
//!
//! The registry is parsed from JSON text handed in by the caller (the shipped
//! one is compiled in: [`Registry::builtin`]); this module reads no files.
//!
//! # Format
//!
//! ```json
//! {
//!   "defaults": {"ttl": 10, "grace": 60},
//!   "options": [
//!     {"name": "mail.port", "type": "int", "default": 25,
//!      "flags": [], "ttl": 10, "grace": 60, "description": "SMTP port."}
//!   ]
//! }
//! ```
//!
//! - `defaults` is optional; each of its fields too (10 s and 60 s).
//! - `name` is required: a non-empty string of at most 1,024 bytes
//!   (`limits::MAX_NAME_BYTES`) without whitespace, control
//!   characters or `/` (names appear in URL paths).
//! - `type` is one of `string`, `int`, `float`, `bool`, `sequence`, `mapping`;
//!   when omitted it is inferred from the default (`1` → int, `1.0` → float).
//! - `default` is optional and `""` when omitted, as in the original design;
//!   it must be of the option's type, and is never `null`.
//! - `flags` is a list of `immutable`, `nostore`, `storeonly`, `credential`;
//!   `nostore` and `storeonly` exclude each other.
//! - `ttl` and `grace` are whole seconds (non-negative integers); `ttl: 0`
//!   keeps the option out of isolate memory.
//! - `stale_while_revalidate` (default false): past `ttl` but within grace,
//!   answer the stale value at once and refresh it in the background.
//! - Unknown fields are errors, so a typo (`"flag"`) does not pass silently.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::Error;
use super::flags::{Flags, UnknownFlag};
use super::key::CacheKey;
use super::lifecycle::Policy;
use super::value_type::ValueType;

/// The registry shipped with edge-options, compiled into the binary.
pub const BUILTIN_REGISTRY_JSON: &str = include_str!("../../registry.json");

/// One option as the registry declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSpec {
    /// The option's name, e.g. `mail.port`.
    pub name: String,
    /// The type every value of the option must have.
    pub value_type: ValueType,
    /// The value when neither the stores nor config have one. Never `null`.
    pub default: Value,
    /// `immutable`, `nostore`, `storeonly`, `credential`.
    pub flags: Flags,
    /// How long the value stays fresh in isolate memory, and its grace.
    pub policy: Policy,
    /// What the option is for, for people (`""` when not given).
    pub description: String,
}

impl OptionSpec {
    /// The spec of a name under a legacy prefix: untyped, default `""`, no
    /// flags, and ttl 0 / grace 0 so isolate memory is bypassed.
    pub fn legacy(name: &str) -> OptionSpec {
        OptionSpec {
            name: name.to_owned(),
            value_type: ValueType::Any,
            default: Value::String(String::new()),
            flags: Flags::NONE,
            policy: Policy::from_secs(0, 0),
            description: String::new(),
        }
    }

    /// Whether the option carries `flag` (all of it, for a union).
    pub fn has(&self, flag: Flags) -> bool {
        self.flags.contains(flag)
    }

    /// Checks a value against the option's type.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidType`] naming the option, the expected and the actual
    /// type, e.g. `option "mail.port": expected int, got string`. The value
    /// itself is never in the message.
    pub fn check(&self, value: &Value) -> Result<(), Error> {
        self.value_type.check(value).map_err(|err| match err {
            Error::InvalidType(msg) => Error::InvalidType(format!("option {:?}: {msg}", self.name)),
            other => other,
        })
    }

    /// The ttl in whole seconds, as the registry and `GET /v1/options` write it.
    pub fn ttl_secs(&self) -> u64 {
        self.policy.ttl_ms / 1000
    }

    /// The grace in whole seconds, as the registry and `GET /v1/options` write it.
    pub fn grace_secs(&self) -> u64 {
        self.policy.grace_ms / 1000
    }

    /// The entry of `GET /v1/options` for this option:
    /// `{name, type, default, flags, ttl, grace, description}`.
    ///
    /// The default of a `credential` option is shown only when
    /// `reveal_credentials` is true (the admin token); otherwise it is `null`
    /// and the entry carries `"masked": true`.
    pub fn listing(&self, reveal_credentials: bool) -> Value {
        let masked = self.has(Flags::CREDENTIAL) && !reveal_credentials;
        let mut entry = Map::new();
        entry.insert("name".into(), Value::String(self.name.clone()));
        entry.insert("type".into(), Value::String(self.value_type.as_str().into()));
        entry.insert("default".into(), if masked { Value::Null } else { self.default.clone() });
        entry.insert(
            "flags".into(),
            Value::Array(self.flags.names().into_iter().map(|n| Value::String(n.into())).collect()),
        );
        entry.insert("ttl".into(), Value::from(self.ttl_secs()));
        entry.insert("grace".into(), Value::from(self.grace_secs()));
        entry.insert("stale_while_revalidate".into(), Value::Bool(self.policy.stale_while_revalidate));
        entry.insert("description".into(), Value::String(self.description.clone()));
        if masked {
            entry.insert("masked".into(), Value::Bool(true));
        }
        Value::Object(entry)
    }
}

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

/// The declared options, by name, and the legacy prefixes accepted besides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    specs: BTreeMap<String, Registered>,
    legacy_prefixes: Vec<String>,
    defaults: Policy,
}

/// A registered option with its cache key, built once at registration so a
/// read does not format (and allocate) the key again every time.
#[derive(Debug, Clone, PartialEq)]
struct Registered {
    spec: OptionSpec,
    key: CacheKey,
}

impl Registry {
    /// The registry shipped in `registry.json`, compiled in.
    ///
    /// # Errors
    ///
    /// A [`RegistryError`] if the shipped file is invalid (a test keeps it valid).
    pub fn builtin() -> Result<Registry, RegistryError> {
        Registry::from_json(BUILTIN_REGISTRY_JSON)
    }

    /// Parses and validates a registry document (see the module docs for
    /// the format). No legacy prefixes: add them with
    /// [`Registry::with_legacy_prefixes`].
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`RegistryError`] naming the option:
    /// bad JSON or shape, missing name, duplicate name, unknown type or flag,
    /// a default that is `null` or of the wrong type, a bad ttl or grace,
    /// an unknown field, `nostore` together with `storeonly`.
    pub fn from_json(text: &str) -> Result<Registry, RegistryError> {
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
        let mut registry = Registry { defaults, ..Registry::default() };
        for (index, entry) in options.iter().enumerate() {
            let spec = parse_option(index, entry, defaults)?;
            registry.insert(spec)?;
        }
        Ok(registry)
    }

    /// A registry from specs built in code, validated like [`Registry::from_json`].
    ///
    /// # Errors
    ///
    /// As [`Registry::from_json`], for duplicates, bad names, `Any` as a
    /// declared type, bad defaults and conflicting flags.
    pub fn from_specs<I>(specs: I) -> Result<Registry, RegistryError>
    where
        I: IntoIterator<Item = OptionSpec>,
    {
        let mut registry = Registry::default();
        for spec in specs {
            registry.insert(spec)?;
        }
        Ok(registry)
    }

    /// The same registry accepting names under these prefixes as legacy,
    /// untyped options (replacing any prefixes set before). Empty prefixes
    /// are skipped (they would match every name) and repeats dropped.
    #[must_use]
    pub fn with_legacy_prefixes<I>(mut self, prefixes: I) -> Registry
    where
        I: IntoIterator<Item = String>,
    {
        let mut kept: Vec<String> = Vec::new();
        for prefix in prefixes {
            if !prefix.is_empty() && !kept.contains(&prefix) {
                kept.push(prefix);
            }
        }
        self.legacy_prefixes = kept;
        self
    }

    /// The spec for `name`: the registered one (borrowed), else an untyped
    /// legacy spec ([`OptionSpec::legacy`]) when the name starts with a
    /// legacy prefix. A registered name wins over a legacy prefix.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownOption`] for any other name.
    pub fn lookup(&self, name: &str) -> Result<Cow<'_, OptionSpec>, Error> {
        self.lookup_keyed(name).map(|(spec, _)| spec)
    }

    /// [`Registry::lookup`] with the option's cache key
    /// ([`CacheKey::option`] of its name): borrowed for a registered option,
    /// whose key was built when it was registered, so the read path of a
    /// registered option formats no key; built for a legacy name.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownOption`], as [`Registry::lookup`].
    pub fn lookup_keyed(&self, name: &str) -> Result<(Cow<'_, OptionSpec>, Cow<'_, CacheKey>), Error> {
        if let Some(registered) = self.specs.get(name) {
            return Ok((Cow::Borrowed(&registered.spec), Cow::Borrowed(&registered.key)));
        }
        if self.is_legacy(name) {
            return Ok((Cow::Owned(OptionSpec::legacy(name)), Cow::Owned(CacheKey::option(name))));
        }
        Err(Error::UnknownOption(name.to_owned()))
    }

    /// The registered spec for `name`, ignoring legacy prefixes.
    pub fn get(&self, name: &str) -> Option<&OptionSpec> {
        self.specs.get(name).map(|registered| &registered.spec)
    }

    /// Whether `name` is unregistered but under a legacy prefix.
    pub fn is_legacy(&self, name: &str) -> bool {
        !self.specs.contains_key(name) && self.legacy_prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }

    /// The registered options in alphabetical order of name.
    pub fn iter(&self) -> impl Iterator<Item = &OptionSpec> + '_ {
        self.specs.values().map(|registered| &registered.spec)
    }

    /// How many options are registered (legacy names not counted).
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether no option is registered.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The legacy prefixes, in the order given.
    pub fn legacy_prefixes(&self) -> &[String] {
        &self.legacy_prefixes
    }

    /// The registry-wide ttl/grace used for options that set none.
    pub fn default_policy(&self) -> Policy {
        self.defaults
    }

    /// The body of `GET /v1/options`: [`OptionSpec::listing`] for every
    /// registered option, in alphabetical order.
    pub fn listing(&self, reveal_credentials: bool) -> Value {
        Value::Array(self.iter().map(|spec| spec.listing(reveal_credentials)).collect())
    }

    fn insert(&mut self, spec: OptionSpec) -> Result<(), RegistryError> {
        validate(&spec)?;
        if self.specs.contains_key(&spec.name) {
            return Err(RegistryError::Duplicate(spec.name));
        }
        let key = CacheKey::option(&spec.name);
        self.specs.insert(spec.name.clone(), Registered { spec, key });
        Ok(())
    }
}

/// Parses the `LEGACY_PREFIXES` var: comma-separated, each prefix trimmed,
/// empty ones skipped (so `""` means none).
pub fn parse_legacy_prefixes(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

/// Checks what holds for a spec however it was built.
fn validate(spec: &OptionSpec) -> Result<(), RegistryError> {
    let name = &spec.name;
    if let Err(refusal) = super::limits::check_name("the name", name) {
        return Err(RegistryError::InvalidOption { name: name.clone(), message: refusal.to_string() });
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(RegistryError::InvalidOption {
            name: name.clone(),
            message: "the name must not contain whitespace, control characters or '/'".into(),
        });
    }
    if spec.value_type == ValueType::Any {
        return Err(RegistryError::UnknownType { name: name.clone(), ty: "any".into() });
    }
    if spec.flags.contains(Flags::NOSTORE | Flags::STOREONLY) {
        return Err(RegistryError::InvalidOption {
            name: name.clone(),
            message:
                "flags nostore and storeonly exclude each other (nostore ignores the stores, storeonly ignores config)"
                    .into(),
        });
    }
    spec.value_type
        .check(&spec.default)
        .map_err(|err| RegistryError::InvalidDefault { name: name.clone(), message: err.to_string() })
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

/// The JSON kind of a value, for shape messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry(options: Value) -> Result<Registry, RegistryError> {
        Registry::from_json(&json!({ "options": options }).to_string())
    }

    #[test]
    fn parses_every_field() {
        let r = Registry::from_json(
            r#"{"defaults": {"ttl": 5, "grace": 30}, "options": [
                {"name": "mail.port", "type": "int", "default": 25, "flags": ["immutable"],
                 "ttl": 0, "grace": 120, "description": "SMTP port."},
                {"name": "mail.host", "type": "string", "default": "localhost"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        let port = r.get("mail.port").unwrap();
        assert_eq!(port.value_type, ValueType::Int);
        assert_eq!(port.default, json!(25));
        assert_eq!(port.flags, Flags::IMMUTABLE);
        assert_eq!(port.policy, Policy::from_secs(0, 120));
        assert_eq!(port.description, "SMTP port.");
        let host = r.get("mail.host").unwrap();
        assert_eq!(host.policy, Policy::from_secs(5, 30), "registry defaults apply");
        assert_eq!(host.flags, Flags::NONE);
        assert_eq!(host.description, "");
        assert_eq!(r.default_policy(), Policy::from_secs(5, 30));
    }

    #[test]
    fn missing_defaults_mean_ten_and_sixty_seconds() {
        let r = registry(json!([{"name": "a", "default": "x"}])).unwrap();
        assert_eq!(r.get("a").unwrap().policy, Policy::DEFAULT);
        assert_eq!(r.default_policy(), Policy::DEFAULT);
    }

    #[test]
    fn duplicate_option_is_a_registry_error() {
        let err = registry(json!([
            {"name": "a", "default": "x"},
            {"name": "a", "default": 1}
        ]))
        .unwrap_err();
        assert_eq!(err, RegistryError::Duplicate("a".into()));
        assert_eq!(err.to_string(), "option \"a\" is registered twice");
    }

    #[test]
    fn default_must_match_declared_type() {
        let err = registry(json!([{"name": "mail.port", "type": "int", "default": "25"}])).unwrap_err();
        assert_eq!(err.to_string(), "option \"mail.port\": invalid default: expected int, got string");
        let err = registry(json!([{"name": "rate", "type": "int", "default": 0.5}])).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidDefault { .. }));
        assert!(registry(json!([{"name": "rate", "type": "float", "default": 1}])).is_ok());
    }

    #[test]
    fn null_default_is_a_registry_error_with_or_without_a_type() {
        for entry in [json!({"name": "a", "default": null}), json!({"name": "a", "type": "string", "default": null})] {
            let err = registry(json!([entry])).unwrap_err();
            assert!(matches!(err, RegistryError::InvalidDefault { ref name, .. } if name == "a"), "{err}");
            assert!(err.to_string().contains("null"), "{err}");
        }
    }

    #[test]
    fn type_is_inferred_from_default_when_omitted() {
        let r = registry(json!([
            {"name": "s", "default": "x"},
            {"name": "i", "default": 3},
            {"name": "b", "default": true},
            {"name": "q", "default": [1, 2]},
            {"name": "m", "default": {"k": "v"}},
            {"name": "none"}
        ]))
        .unwrap();
        let f = Registry::from_json(r#"{"options": [{"name": "f", "default": 1.0}]}"#).unwrap();
        assert_eq!(f.get("f").unwrap().value_type, ValueType::Float);
        let ty = |n: &str| r.get(n).unwrap().value_type;
        assert_eq!(ty("s"), ValueType::String);
        assert_eq!(ty("i"), ValueType::Int);
        assert_eq!(ty("b"), ValueType::Bool);
        assert_eq!(ty("q"), ValueType::Sequence);
        assert_eq!(ty("m"), ValueType::Mapping);
        assert_eq!(ty("none"), ValueType::String, "no default: \"\" and string, as the original");
        assert_eq!(r.get("none").unwrap().default, json!(""));
    }

    #[test]
    fn omitted_default_with_non_string_type_is_an_error() {
        let err = registry(json!([{"name": "n", "type": "int"}])).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidDefault { .. }), "{err}");
        assert!(err.to_string().contains("no default given"), "{err}");
    }

    #[test]
    fn unknown_type_is_a_registry_error() {
        let err = registry(json!([{"name": "a", "type": "integer", "default": 1}])).unwrap_err();
        assert_eq!(err, RegistryError::UnknownType { name: "a".into(), ty: "integer".into() });
        assert!(err.to_string().starts_with("option \"a\": unknown type \"integer\""));
    }

    #[test]
    fn any_cannot_be_declared() {
        let err = registry(json!([{"name": "a", "type": "any", "default": 1}])).unwrap_err();
        assert!(matches!(err, RegistryError::UnknownType { .. }), "{err}");
        let spec = OptionSpec::legacy("a");
        assert!(matches!(Registry::from_specs([spec]), Err(RegistryError::UnknownType { .. })));
    }

    #[test]
    fn unknown_flag_is_a_registry_error() {
        let err = registry(json!([{"name": "a", "default": "", "flags": ["secret"]}])).unwrap_err();
        assert_eq!(err, RegistryError::UnknownFlag { name: "a".into(), source: UnknownFlag("secret".into()) });
        assert!(err.to_string().contains("option \"a\": unknown flag \"secret\""), "{err}");
        let err = registry(json!([{"name": "a", "default": "", "flags": [1]}])).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidOption { .. }), "{err}");
        let err = registry(json!([{"name": "a", "default": "", "flags": "nostore"}])).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidOption { .. }), "{err}");
    }

    #[test]
    fn nostore_and_storeonly_together_are_a_registry_error() {
        let err = registry(json!([{"name": "a", "default": "", "flags": ["nostore", "storeonly"]}])).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidOption { .. }), "{err}");
        assert!(err.to_string().contains("exclude each other"), "{err}");
    }

    #[test]
    fn ttl_and_grace_must_be_non_negative_integers() {
        for (field, bad) in [("ttl", json!(-1)), ("ttl", json!(1.5)), ("grace", json!("60")), ("grace", json!(null))] {
            let mut entry = json!({"name": "a", "default": ""});
            entry[field] = bad.clone();
            let err = registry(json!([entry])).unwrap_err();
            assert_eq!(err, RegistryError::InvalidPolicy { name: "a".into(), field }, "{field}={bad}");
        }
        let err = Registry::from_json(r#"{"defaults": {"ttl": -5}, "options": []}"#).unwrap_err();
        assert!(err.to_string().contains("defaults.ttl"), "{err}");
        let err = Registry::from_json(r#"{"defaults": {"tll": 5}, "options": []}"#).unwrap_err();
        assert!(err.to_string().contains("\"tll\""), "{err}");
    }

    #[test]
    fn huge_ttl_saturates_instead_of_overflowing() {
        let r = registry(json!([{"name": "a", "default": "", "ttl": u64::MAX}])).unwrap();
        assert_eq!(r.get("a").unwrap().policy.ttl_ms, u64::MAX);
    }

    #[test]
    fn unknown_fields_are_registry_errors() {
        let err = registry(json!([{"name": "a", "default": "", "flag": ["nostore"]}])).unwrap_err();
        assert!(err.to_string().contains("unknown field \"flag\""), "{err}");
        let err = Registry::from_json(r#"{"options": [], "extra": 1}"#).unwrap_err();
        assert!(matches!(err, RegistryError::Shape(_)), "{err}");
    }

    #[test]
    fn bad_document_shapes_are_registry_errors() {
        assert!(matches!(Registry::from_json("not json"), Err(RegistryError::Json(_))));
        assert!(matches!(Registry::from_json(""), Err(RegistryError::Json(_))));
        assert!(matches!(Registry::from_json("[]"), Err(RegistryError::Shape(_))));
        assert!(matches!(Registry::from_json("{}"), Err(RegistryError::Shape(_))));
        assert!(matches!(Registry::from_json(r#"{"options": {}}"#), Err(RegistryError::Shape(_))));
        assert!(matches!(Registry::from_json(r#"{"options": [1]}"#), Err(RegistryError::Shape(_))));
        assert_eq!(
            Registry::from_json(r#"{"options": [{"name": "ok", "default": ""}, {"default": 1}]}"#),
            Err(RegistryError::MissingName { index: 1 })
        );
        assert_eq!(registry(json!([{"name": ""}])), Err(RegistryError::MissingName { index: 0 }));
        assert!(Registry::from_json(r#"{"options": []}"#).unwrap().is_empty());
    }

    #[test]
    fn names_with_whitespace_or_slashes_are_registry_errors() {
        for name in ["a b", "a/b", "a\nb", " a"] {
            let err = registry(json!([{"name": name, "default": ""}])).unwrap_err();
            assert!(matches!(err, RegistryError::InvalidOption { .. }), "{name:?}: {err}");
        }
        assert!(registry(json!([{"name": "sentry:option-é_1.x", "default": ""}])).is_ok());
    }

    #[test]
    fn legacy_prefix_resolves_to_untyped_option_with_empty_default_and_no_local_cache() {
        let r = registry(json!([{"name": "mail.host", "default": "localhost"}]))
            .unwrap()
            .with_legacy_prefixes(parse_legacy_prefixes("sentry:, getsentry:"));
        let spec = r.lookup("sentry:foo").unwrap();
        assert!(matches!(spec, Cow::Owned(_)));
        assert_eq!(spec.name, "sentry:foo");
        assert_eq!(spec.value_type, ValueType::Any);
        assert_eq!(spec.default, json!(""));
        assert!(spec.flags.is_empty());
        assert_eq!(spec.policy, Policy::from_secs(0, 0));
        assert!(!spec.policy.uses_memory());
        assert!(r.lookup("getsentry:bar").is_ok());
        assert!(r.is_legacy("sentry:foo"));
        assert!(spec.check(&json!({"anything": [1]})).is_ok());
        assert!(spec.check(&Value::Null).is_err());
    }

    #[test]
    fn registered_options_lend_the_cache_key_built_at_registration_and_legacy_names_build_theirs() {
        let r = registry(json!([{"name": "mail.host", "default": "localhost"}]))
            .unwrap()
            .with_legacy_prefixes(["sentry:".to_owned()]);
        let (spec, key) = r.lookup_keyed("mail.host").unwrap();
        assert!(matches!((&spec, &key), (Cow::Borrowed(_), Cow::Borrowed(_))), "nothing built per lookup");
        assert_eq!(*key, CacheKey::option("mail.host"));
        let (spec, key) = r.lookup_keyed("sentry:foo").unwrap();
        assert_eq!(spec.name, "sentry:foo");
        assert_eq!(*key, CacheKey::option("sentry:foo"));
        assert!(matches!(r.lookup_keyed("nope"), Err(Error::UnknownOption(name)) if name == "nope"));
    }

    #[test]
    fn registered_name_wins_over_legacy_prefix() {
        let r = registry(json!([{"name": "sentry:typed", "type": "int", "default": 1}]))
            .unwrap()
            .with_legacy_prefixes(["sentry:".to_owned()]);
        let spec = r.lookup("sentry:typed").unwrap();
        assert!(matches!(spec, Cow::Borrowed(_)));
        assert_eq!(spec.value_type, ValueType::Int);
        assert!(!r.is_legacy("sentry:typed"));
    }

    #[test]
    fn unknown_name_is_unknown_option() {
        let r = registry(json!([{"name": "mail.host", "default": "localhost"}]))
            .unwrap()
            .with_legacy_prefixes(["sentry:".to_owned()]);
        let err = r.lookup("mail.hots").unwrap_err();
        assert_eq!(err, Error::UnknownOption("mail.hots".into()));
        assert_eq!(err.code(), "unknown_option");
        assert_eq!(r.lookup("sentry").unwrap_err().code(), "unknown_option", "a prefix must match whole");
        assert_eq!(r.lookup("").unwrap_err().code(), "unknown_option");
        assert!(matches!(r.lookup("mail.host"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn legacy_prefixes_parse_trimmed_without_empties() {
        assert_eq!(parse_legacy_prefixes(" sentry: ,, getsentry:,"), ["sentry:", "getsentry:"]);
        assert!(parse_legacy_prefixes("").is_empty());
        assert!(parse_legacy_prefixes(" , ").is_empty());
    }

    #[test]
    fn empty_or_repeated_legacy_prefixes_are_dropped() {
        let r = Registry::default().with_legacy_prefixes(["", "a:", "a:", "b:"].map(String::from));
        assert_eq!(r.legacy_prefixes(), ["a:", "b:"]);
        assert!(r.lookup("zzz").is_err(), "an empty prefix must not match everything");
        let r = r.with_legacy_prefixes(Vec::<String>::new());
        assert!(r.legacy_prefixes().is_empty());
        assert!(r.lookup("a:x").is_err());
    }

    #[test]
    fn iteration_is_alphabetical() {
        let r = registry(json!([
            {"name": "c", "default": ""}, {"name": "a", "default": ""}, {"name": "b", "default": ""}
        ]))
        .unwrap();
        let names: Vec<_> = r.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn stale_while_revalidate_is_read_and_must_be_a_bool() {
        let r =
            registry(json!([{"name": "a", "default": 1, "stale_while_revalidate": true}, {"name": "b", "default": 1}]))
                .unwrap();
        assert!(r.get("a").unwrap().policy.stale_while_revalidate);
        assert!(!r.get("b").unwrap().policy.stale_while_revalidate);
        assert!(registry(json!([{"name": "a", "default": 1, "stale_while_revalidate": "yes"}])).is_err());
    }

    #[test]
    fn spec_check_names_the_option() {
        let r = registry(json!([{"name": "mail.port", "default": 25}])).unwrap();
        let err = r.lookup("mail.port").unwrap().check(&json!("25")).unwrap_err();
        assert_eq!(err, Error::InvalidType("option \"mail.port\": expected int, got string".into()));
    }

    #[test]
    fn listing_has_the_api_fields_and_masks_credential_defaults() {
        let r = registry(json!([
            {"name": "k", "default": "s3cr3t", "flags": ["credential"], "ttl": 3, "grace": 4},
            {"name": "p", "default": 25, "description": "port"}
        ]))
        .unwrap();
        assert_eq!(
            r.listing(false),
            json!([
                {"name": "k", "type": "string", "default": null, "flags": ["credential"],
                 "ttl": 3, "grace": 4, "stale_while_revalidate": false, "description": "", "masked": true},
                {"name": "p", "type": "int", "default": 25, "flags": [],
                 "ttl": 10, "grace": 60, "stale_while_revalidate": false, "description": "port"}
            ])
        );
        assert_eq!(r.listing(true)[0]["default"], json!("s3cr3t"));
        assert!(r.listing(true)[0].get("masked").is_none());
    }

    #[test]
    fn builtin_registry_parses_and_covers_every_type_and_flag() {
        let r = Registry::builtin().unwrap();
        assert!((15..=30).contains(&r.len()), "{} options", r.len());
        for t in ValueType::ALL.into_iter().filter(|t| *t != ValueType::Any) {
            assert!(r.iter().any(|s| s.value_type == t), "no option of type {t}");
        }
        for (flag, name) in Flags::NAMED {
            assert!(r.iter().any(|s| s.has(flag)), "no option flagged {name}");
        }
        assert!(r.iter().any(|s| !s.policy.uses_memory()), "no option with ttl 0");
        assert!(r.iter().any(|s| s.policy.ttl_ms > Policy::DEFAULT.ttl_ms), "no option with a longer ttl");
        for spec in r.iter() {
            assert!(spec.check(&spec.default).is_ok(), "{}", spec.name);
            assert!(!spec.description.is_empty(), "{} has no description", spec.name);
        }
        assert!(r.legacy_prefixes().is_empty());
    }
}
