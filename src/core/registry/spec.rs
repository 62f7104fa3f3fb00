//! One option as the registry declares it: type, default, flags, lifecycle,
//! and what holds for every spec (checked at registration).

use serde_json::{Map, Value};

use super::format::RegistryError;
use crate::core::error::Error;
use crate::core::flags::Flags;
use crate::core::lifecycle::Policy;
use crate::core::value_type::ValueType;

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

    /// Checks what holds for a spec however it was built: a name within
    /// `limits` that can stand in a URL path, flags that do not exclude
    /// each other, a default of the option's type.
    pub(super) fn validate(&self) -> Result<(), RegistryError> {
        let spec = self;
        let name = &spec.name;
        if let Err(refusal) = crate::core::limits::check_name("the name", name) {
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
}
