//! The registry of options: `name → {type, default, flags, ttl, grace}`.
//!
//! docs/design.md "Registered options". Every option the edge serves is declared
//! up front; a name that is not declared is an error ([`Error::UnknownOption`]),
//! except names under a configured *legacy prefix*, which behave as untyped
//! options with default `""` and bypass isolate memory (ttl 0, grace 0), as
//! the original design did for its legacy keys.
//!
//! The registry is parsed from JSON text handed in by the caller; the shipped
//! one is resolved at build time into a constant table (`builtin`, written
//! by `build.rs` from `registry.json`: [`Registry::builtin`]), so an isolate
//! does not parse it at start. This module reads no files.
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

mod builtin;
mod format;
mod spec;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

pub use format::RegistryError;
pub use spec::OptionSpec;

use super::error::Error;
use super::key::CacheKey;

/// The registry shipped with edge-options, compiled into the binary as
/// text too (tests check the build-time table against it).
pub const BUILTIN_REGISTRY_JSON: &str = include_str!("../../../registry.json");

/// The declared options, by name, and the legacy prefixes accepted besides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    specs: BTreeMap<String, Registered>,
    legacy_prefixes: Vec<String>,
}

/// A registered option with its cache key, built once at registration so a
/// read does not format (and allocate) the key again every time.
#[derive(Debug, Clone, PartialEq)]
struct Registered {
    spec: OptionSpec,
    key: CacheKey,
}

impl Registry {
    /// The registry shipped in `registry.json`, from the table `build.rs`
    /// resolved: no document to parse at start, each spec still validated.
    ///
    /// # Errors
    ///
    /// A [`RegistryError`] if the shipped file is invalid (a test keeps it valid).
    pub fn builtin() -> Result<Registry, RegistryError> {
        let mut registry = Registry::default();
        for option in builtin::OPTIONS {
            registry.insert(option.spec()?)?;
        }
        Ok(registry)
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
        let mut registry = Registry::default();
        for spec in format::parse(text)? {
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

    /// The body of `GET /v1/options`: [`OptionSpec::listing`] for every
    /// registered option, in alphabetical order.
    pub fn listing(&self, reveal_credentials: bool) -> Value {
        Value::Array(self.iter().map(|spec| spec.listing(reveal_credentials)).collect())
    }

    fn insert(&mut self, spec: OptionSpec) -> Result<(), RegistryError> {
        spec.validate()?;
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

#[cfg(test)]
mod tests;
