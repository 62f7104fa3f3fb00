//! The config ("settings") tier: option values given by the operator.
//!
//! `OPTIONS_CONFIG` (README "Configuration"): a JSON object, option name →
//! value, consulted after the stores and before the default (docs/design.md
//! "Registered options":
//! store value → config value (unless storeonly) → default). The caller hands
//! in the variable's text; this module reads no environment.
//!
//! Every value is checked against the registry when parsed. A bad entry — an
//! unknown name, a value of the wrong type, `null` — is dropped and reported
//! as a [`ConfigProblem`]; it never makes the parse fail, so one typo in a
//! setting cannot take the Worker down. Names under a legacy prefix are
//! accepted with any non-null value.
//!
//! Values for `storeonly` options are well-formed, so they are kept (and
//! [`ConfigValues::get`] shows what the operator wrote) and are not problems;
//! but resolution ignores them: [`ConfigValues::value_for`] applies that
//! rule, and option resolution asks it (`options`).
//!
//! Problem messages never contain a value, so they are safe to log even for
//! credential options.

use std::collections::BTreeMap;

use serde_json::Value;

use super::flags::Flags;
use super::registry::{OptionSpec, Registry};
use super::value_type::json_kind;

/// The checked values of `OPTIONS_CONFIG`, by option name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigValues {
    values: BTreeMap<String, Value>,
}

/// One thing wrong in `OPTIONS_CONFIG`: the entry (or all of it) was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The option the entry names; `None` when the problem is the whole text
    /// (not JSON, or not a JSON object).
    pub name: Option<String>,
    /// What is wrong, for people. Never contains the value.
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "OPTIONS_CONFIG option {name:?}: {}", self.message),
            None => write!(f, "OPTIONS_CONFIG: {}", self.message),
        }
    }
}

impl ConfigProblem {
    fn entry(name: &str, message: impl Into<String>) -> ConfigProblem {
        ConfigProblem { name: Some(name.to_owned()), message: message.into() }
    }

    fn whole(message: String) -> ConfigProblem {
        ConfigProblem { name: None, message }
    }
}

impl ConfigValues {
    /// Parses the text of `OPTIONS_CONFIG` against `registry`.
    ///
    /// Empty or whitespace-only text is no config and no problem. Text that
    /// is not a JSON object gives an empty config and one problem. Otherwise
    /// each good entry is kept and each bad one dropped with a problem;
    /// problems come in name order.
    pub fn parse(text: &str, registry: &Registry) -> (ConfigValues, Vec<ConfigProblem>) {
        let mut config = ConfigValues::default();
        let mut problems = Vec::new();
        if text.trim().is_empty() {
            return (config, problems);
        }
        let entries = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(entries)) => entries,
            Ok(other) => {
                problems.push(ConfigProblem::whole(format!(
                    "must be a JSON object of option name to value, got {}; ignoring all of it",
                    json_kind(&other)
                )));
                return (config, problems);
            }
            Err(err) => {
                problems.push(ConfigProblem::whole(format!("is not valid JSON ({err}); ignoring all of it")));
                return (config, problems);
            }
        };
        for (name, value) in entries {
            let spec = match registry.lookup(&name) {
                Ok(spec) => spec,
                Err(_) => {
                    problems.push(ConfigProblem::entry(
                        &name,
                        "unknown option (not registered and not under a legacy prefix); dropped",
                    ));
                    continue;
                }
            };
            if value.is_null() {
                problems.push(ConfigProblem::entry(
                    &name,
                    "null is not a value (leave the option out to use its default); dropped",
                ));
                continue;
            }
            if let Err(err) = spec.value_type.check(&value) {
                problems.push(ConfigProblem::entry(&name, format!("{err}; dropped")));
                continue;
            }
            config.values.insert(name, value);
        }
        (config, problems)
    }

    /// The checked config value for `name`, as written — including values of
    /// `storeonly` options, which resolution ignores (see [`ConfigValues::value_for`]).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// The config value resolution should use for this option: `None` for a
    /// `storeonly` option, whatever config says, else [`ConfigValues::get`].
    pub fn value_for(&self, spec: &OptionSpec) -> Option<&Value> {
        if spec.has(Flags::STOREONLY) {
            None
        } else {
            self.get(&spec.name)
        }
    }

    /// The kept values in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> + '_ {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many values were kept.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value was kept.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry() -> Registry {
        Registry::from_json(
            &json!({"options": [
                {"name": "mail.host", "type": "string", "default": "localhost"},
                {"name": "mail.port", "type": "int", "default": 25},
                {"name": "mail.password", "type": "string", "default": "", "flags": ["credential"]},
                {"name": "sample-rate", "type": "float", "default": 1.0},
                {"name": "latest", "type": "string", "default": "", "flags": ["storeonly"]},
                {"name": "profile", "type": "string", "default": "prod", "flags": ["nostore"]}
            ]})
            .to_string(),
        )
        .unwrap()
        .with_legacy_prefixes(["sentry:".to_owned()])
    }

    #[test]
    fn good_values_are_kept() {
        let (c, problems) = ConfigValues::parse(
            r#"{"mail.host": "smtp.example.com", "mail.port": 587, "sample-rate": 1}"#,
            &registry(),
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("mail.host"), Some(&json!("smtp.example.com")));
        assert_eq!(c.get("mail.port"), Some(&json!(587)));
        assert_eq!(c.get("sample-rate"), Some(&json!(1)), "an integer is a valid float");
        assert_eq!(c.get("profile"), None);
    }

    #[test]
    fn config_with_wrong_type_is_reported_and_dropped() {
        let (c, problems) = ConfigValues::parse(r#"{"mail.host": "smtp", "mail.port": "587"}"#, &registry());
        assert_eq!(c.get("mail.port"), None);
        assert_eq!(c.get("mail.host"), Some(&json!("smtp")), "the good entry survives");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].name.as_deref(), Some("mail.port"));
        assert!(problems[0].message.contains("expected int, got string"), "{}", problems[0]);
        assert!(problems[0].to_string().starts_with("OPTIONS_CONFIG option \"mail.port\": "));
    }

    #[test]
    fn fractional_number_for_int_option_is_dropped() {
        let (c, problems) = ConfigValues::parse(r#"{"mail.port": 25.5}"#, &registry());
        assert!(c.is_empty());
        assert!(problems[0].message.contains("expected int, got float"), "{}", problems[0]);
    }

    #[test]
    fn unknown_option_in_config_is_reported_and_dropped() {
        let (c, problems) = ConfigValues::parse(r#"{"mail.hots": "x", "mail.host": "y"}"#, &registry());
        assert_eq!(c.len(), 1);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].name.as_deref(), Some("mail.hots"));
        assert!(problems[0].message.contains("unknown option"));
    }

    #[test]
    fn null_in_config_is_reported_and_dropped() {
        let (c, problems) = ConfigValues::parse(r#"{"mail.host": null, "sentry:x": null}"#, &registry());
        assert!(c.is_empty());
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|p| p.message.contains("null")));
    }

    #[test]
    fn legacy_prefixed_names_accept_any_value() {
        let (c, problems) = ConfigValues::parse(r#"{"sentry:a": 1, "sentry:b": {"k": [true]}}"#, &registry());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.get("sentry:b"), Some(&json!({"k": [true]})));
    }

    #[test]
    fn config_that_is_not_an_object_is_one_problem() {
        for text in ["[1, 2]", "\"mail.host\"", "42", "null", "{not json", "{\"mail.host\": \"x\"} trailing"] {
            let (c, problems) = ConfigValues::parse(text, &registry());
            assert!(c.is_empty(), "{text}");
            assert_eq!(problems.len(), 1, "{text}");
            assert_eq!(problems[0].name, None, "{text}");
            assert!(problems[0].to_string().starts_with("OPTIONS_CONFIG: "), "{}", problems[0]);
        }
    }

    #[test]
    fn empty_config_text_is_no_config() {
        for text in ["", "  \n\t ", "{}"] {
            let (c, problems) = ConfigValues::parse(text, &registry());
            assert!(c.is_empty(), "{text:?}");
            assert!(problems.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn storeonly_value_is_kept_but_not_used_for_resolution() {
        let r = registry();
        let (c, problems) = ConfigValues::parse(r#"{"latest": "9.9.9", "mail.host": "smtp"}"#, &r);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.get("latest"), Some(&json!("9.9.9")));
        let latest = r.lookup("latest").unwrap();
        assert_eq!(c.value_for(&latest), None);
        let host = r.lookup("mail.host").unwrap();
        assert_eq!(c.value_for(&host), Some(&json!("smtp")));
    }

    #[test]
    fn problem_messages_never_contain_the_value() {
        let (_, problems) = ConfigValues::parse(r#"{"mail.password": ["hunter2-secret"]}"#, &registry());
        assert_eq!(problems.len(), 1);
        assert!(!problems[0].to_string().contains("hunter2"), "{}", problems[0]);
    }

    #[test]
    fn iteration_is_in_name_order() {
        let (c, _) = ConfigValues::parse(r#"{"mail.port": 1, "mail.host": "h"}"#, &registry());
        let names: Vec<_> = c.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["mail.host", "mail.port"]);
    }
}
