//! The registry: its format, validation, lookup and listing.

use super::*;
use serde_json::json;

use crate::core::flags::{Flags, UnknownFlag};
use crate::core::lifecycle::Policy;
use crate::core::value_type::ValueType;

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
}

#[test]
fn missing_defaults_mean_ten_and_sixty_seconds() {
    let r = registry(json!([{"name": "a", "default": "x"}])).unwrap();
    assert_eq!(r.get("a").unwrap().policy, Policy::DEFAULT);
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
    assert!(r.is_legacy("a:x") && r.is_legacy("b:y"));
    assert!(r.lookup("zzz").is_err(), "an empty prefix must not match everything");
    let r = r.with_legacy_prefixes(Vec::<String>::new());
    assert!(!r.is_legacy("a:x"), "replaced, not added to");
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
    let r = registry(json!([{"name": "a", "default": 1, "stale_while_revalidate": true}, {"name": "b", "default": 1}]))
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
    assert!(!r.is_legacy("sentry:anything"), "no legacy prefixes unless configured");
}

#[test]
fn the_build_time_table_reads_registry_json_exactly_as_the_parser_does() {
    let parsed = Registry::from_json(BUILTIN_REGISTRY_JSON).unwrap();
    let built = Registry::builtin().unwrap();
    assert_eq!(built, parsed, "build.rs resolved registry.json differently from Registry::from_json");
    let names: Vec<&str> = built.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), builtin::OPTIONS.len(), "every option of the table registered");
}
