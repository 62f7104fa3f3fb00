//! The shipped registry, resolved at build time.
//!
//! `build.rs` reads `registry.json` and writes one [`BuiltinOption`] per
//! option, type inferred and ttl and grace resolved as
//! [`Registry::from_json`](super::Registry::from_json) would: a constant
//! table in the binary. So an isolate's start parses no registry document
//! (only each default's few bytes of JSON) and the Worker carries no
//! registry parser. [`super::Registry::builtin`] still validates every spec
//! it builds, and a test keeps this table equal to the parsed file.

use serde_json::Value;

use super::format::RegistryError;
use super::spec::OptionSpec;
use crate::core::flags::Flags;
use crate::core::lifecycle::Policy;
use crate::core::value_type::ValueType;

/// One registered option as `build.rs` resolved it.
pub(super) struct BuiltinOption {
    name: &'static str,
    value_type: ValueType,
    /// The default as JSON text (a `Value` cannot be a constant).
    default: &'static str,
    flags: Flags,
    policy: Policy,
    description: &'static str,
}

/// The options of `registry.json`, in the order written.
pub(super) const OPTIONS: &[BuiltinOption] = include!(concat!(env!("OUT_DIR"), "/builtin_registry.rs"));

impl BuiltinOption {
    /// The option's spec (not yet validated).
    ///
    /// # Errors
    /// [`RegistryError::InvalidDefault`] if the default's text is not JSON,
    /// which `build.rs` never writes.
    pub(super) fn spec(&self) -> Result<OptionSpec, RegistryError> {
        let default: Value = serde_json::from_str(self.default)
            .map_err(|e| RegistryError::InvalidDefault { name: self.name.to_owned(), message: e.to_string() })?;
        Ok(OptionSpec {
            name: self.name.to_owned(),
            value_type: self.value_type,
            default,
            flags: self.flags,
            policy: self.policy,
            description: self.description.to_owned(),
        })
    }
}
