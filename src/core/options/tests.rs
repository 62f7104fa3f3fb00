//! The option rules (docs/design.md "Registered options") and the original
//! design's tests, driven
//! with fakes that fail on command and a clock moved by hand (no sleeps).

use futures::executor::block_on;
use serde_json::{json, Value};

use super::*;
use crate::core::config::ConfigValues;
use crate::core::lifecycle::Policy;
use crate::core::memory::Limits;
use crate::core::ports::fake::{Mode, Rig};
use crate::core::ports::Clock;
use crate::core::slot::Versioned;

const REGISTRY: &str = r#"{
  "defaults": {"ttl": 10, "grace": 60},
  "options": [
    {"name": "foo", "type": "string", "default": ""},
    {"name": "count", "type": "int", "default": 1},
    {"name": "immutable", "type": "string", "default": "", "flags": ["immutable"]},
    {"name": "nostore", "type": "string", "default": "", "flags": ["nostore"]},
    {"name": "storeonly", "type": "string", "default": "", "flags": ["storeonly"]},
    {"name": "secret", "type": "string", "default": "", "flags": ["credential"]},
    {"name": "uncached", "type": "string", "default": "d", "ttl": 0}
  ]
}"#;

type World = Rig<Options>;

impl World {
    fn new() -> World {
        World::with_config("")
    }

    fn with_config(config: &str) -> World {
        let registry =
            Registry::from_json(REGISTRY).expect("test registry").with_legacy_prefixes(vec!["sentry:".into()]);
        let (config, problems) = ConfigValues::parse(config, &registry);
        assert!(problems.is_empty(), "{problems:?}");
        Rig::at(Options::new(registry, config), 1_000_000)
    }

    fn get(&self, name: &str) -> OptionValue {
        block_on(self.subject.get(&self.cache, &self.io(), name)).expect("get")
    }

    fn try_get(&self, name: &str) -> Result<OptionValue, Error> {
        block_on(self.subject.get(&self.cache, &self.io(), name))
    }

    fn set(&self, name: &str, value: Value) -> Result<OptionWrite, Error> {
        block_on(self.subject.set(&self.cache, &self.io(), name, value))
    }

    fn delete(&self, name: &str) -> Result<OptionWrite, Error> {
        block_on(self.subject.delete(&self.cache, &self.io(), name))
    }

    fn maps_and_ownership(&self) -> crate::core::sync::KindPolicies {
        crate::core::sync::KindPolicies { maps: Policy::DEFAULT, ownership: Policy::DEFAULT }
    }

    /// Forget isolate memory, as a new isolate would.
    fn new_isolate(&self) {
        self.cache.clear_memory();
    }
}

#[test]
fn unset_option_answers_its_default_and_is_negatively_cached() {
    let w = World::new();
    let first = w.get("foo");
    assert_eq!((first.value, first.source, first.lookup), (json!(""), Source::Default, Some(Source::Origin)));
    let calls = w.origin.calls.get();
    let second = w.get("foo");
    assert_eq!((second.source, second.lookup), (Source::Default, Some(Source::Local)));
    w.new_isolate();
    let third = w.get("foo");
    assert_eq!(third.lookup, Some(Source::Kv), "absent was written to KV too");
    assert_eq!(w.origin.calls.get(), calls, "absence never asked the origin again");
}

#[test]
fn set_value_is_read_back_from_memory_then_kv_then_origin() {
    let w = World::new();
    let written = w.set("foo", json!("bar")).expect("set");
    assert!(written.cache_updated);
    assert_eq!(w.get("foo").source, Source::Local);
    w.new_isolate();
    assert_eq!(w.get("foo").source, Source::Kv);
    w.new_isolate();
    w.kv.data.borrow_mut().clear();
    let read = w.get("foo");
    assert_eq!((read.value, read.source, read.version), (json!("bar"), Source::Origin, Some(written.version)));
}

#[test]
fn fresh_value_is_served_with_no_io() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    let (gets, calls) = (w.kv.gets.get(), w.origin.calls.get());
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    w.clock.advance_secs(9);
    assert_eq!(w.get("foo").source, Source::Local);
    assert_eq!((w.kv.gets.get(), w.origin.calls.get()), (gets, calls));
}

#[test]
fn stale_value_is_not_served_while_kv_can_answer() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    w.origin.store("foo", json!("newer"));
    w.kv.data.borrow_mut().clear();
    w.clock.advance_secs(11);
    let read = w.get("foo");
    assert_eq!((read.value, read.source), (json!("newer"), Source::Origin));
}

#[test]
fn stale_value_served_within_grace_when_kv_and_origin_down() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    w.clock.advance_secs(30);
    let read = w.get("foo");
    assert_eq!((read.value, read.source, read.degraded), (json!("bar"), Source::Stale, false));
    assert_eq!(w.cache.stats(w.clock.now_ms()).stale_served, 1);
}

#[test]
fn stale_value_refused_after_grace_and_default_is_marked_degraded() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    w.clock.advance_secs(70);
    let read = w.get("foo");
    assert_eq!((read.value, read.source, read.degraded), (json!(""), Source::Default, true));
    assert_eq!(w.cache.stats(w.clock.now_ms()).entries, 0, "the dead entry was evicted");
}

#[test]
fn every_kind_of_origin_failure_falls_back_to_stale() {
    for mode in [Mode::Down, Mode::Hanging, Mode::Erroring, Mode::Garbage] {
        let w = World::new();
        w.set("foo", json!("bar")).expect("set");
        w.kv.set_mode(mode);
        w.origin.mode.set(mode);
        w.clock.advance_secs(15);
        assert_eq!(w.get("foo").source, Source::Stale, "{mode:?}");
    }
}

#[test]
fn kv_down_falls_through_to_origin_and_is_not_degraded() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    w.new_isolate();
    w.kv.set_mode(Mode::Down);
    let read = w.get("foo");
    assert_eq!((read.value, read.source, read.degraded), (json!("bar"), Source::Origin, false));
    assert_eq!(w.cache.stats(w.clock.now_ms()).kv_errors, 1);
}

#[test]
fn garbage_in_kv_is_ignored_and_repaired_from_origin() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    w.new_isolate();
    w.kv.data.borrow_mut().insert("opt:foo".into(), "{\"v\":1,\"value\":".into());
    w.clock.advance_secs(2); // past the one-write-per-second window of the set above
    let read = w.get("foo");
    assert_eq!((read.value, read.source), (json!("bar"), Source::Origin));
    w.new_isolate();
    assert_eq!(w.get("foo").source, Source::Kv, "the origin's answer overwrote the garbage");
}

#[test]
fn origin_down_without_kv_or_memory_answers_config_then_default_degraded() {
    let w = World::with_config(r#"{"foo": "from-config"}"#);
    w.set("foo", json!("bar")).expect("set");
    w.new_isolate();
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    let read = w.get("foo");
    assert_eq!((read.value, read.source, read.degraded), (json!("from-config"), Source::Config, true));
    let count = w.get("count");
    assert_eq!((count.value, count.source, count.degraded), (json!(1), Source::Default, true));
}

#[test]
fn store_value_wins_over_config_which_wins_over_default() {
    let w = World::with_config(r#"{"foo": "from-config", "count": 5}"#);
    assert_eq!(w.get("foo").source, Source::Config);
    assert_eq!(w.get("count").value, json!(5));
    w.set("foo", json!("stored")).expect("set");
    assert_eq!(w.get("foo").value, json!("stored"));
}

#[test]
fn write_fails_cleanly_when_origin_down_and_changes_nothing() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    let puts = w.kv.puts.get();
    for (mode, code) in [
        (Mode::Down, "unavailable"),
        (Mode::Hanging, "origin_timeout"),
        (Mode::Erroring, "origin_error"),
        (Mode::Garbage, "origin_error"),
    ] {
        w.origin.mode.set(mode);
        assert_eq!(w.set("foo", json!("baz")).map_err(|e| e.code()), Err(code), "{mode:?}");
        assert_eq!(w.delete("foo").map_err(|e| e.code()), Err(code), "{mode:?}");
    }
    w.origin.mode.set(Mode::Healthy);
    assert_eq!(w.kv.puts.get(), puts, "KV was not touched");
    assert_eq!(w.get("foo").value, json!("bar"), "memory was not touched");
    assert_eq!(w.origin.holds("foo"), Some(json!("bar")));
}

#[test]
fn write_whose_answer_is_cut_off_is_reported_as_maybe_applied_and_the_caches_forget_the_key() {
    let w = World::new();
    w.set("foo", json!("before")).expect("set");
    w.origin.mode.set(Mode::CutOff);
    let err = w.set("foo", json!("after")).expect_err("cut off");
    assert_eq!(err.code(), "origin_error");
    assert!(err.to_string().contains("may have been applied"), "{err}");
    let unsure = w.get("foo");
    assert_eq!((unsure.value, unsure.source), (json!("before"), Source::Stale), "the old value is only stale now");
    w.origin.mode.set(Mode::Healthy);
    w.clock.advance_secs(2); // past the key's backoff after the failed read
    assert_eq!(w.origin.holds("foo"), Some(json!("after")), "the origin did apply it");
    let read = w.get("foo");
    assert_eq!((read.value, read.source), (json!("after"), Source::Origin), "no cache served the old value as fresh");
}

#[test]
fn write_with_kv_down_succeeds_and_reports_cache_not_updated() {
    let w = World::new();
    w.kv.set_mode(Mode::Down);
    let written = w.set("foo", json!("bar")).expect("set");
    assert!(!written.cache_updated);
    assert_eq!(w.get("foo").value, json!("bar"), "memory was updated at once");
    assert_eq!(w.cache.stats(w.clock.now_ms()).kv_write_errors, 1);
}

#[test]
fn stale_kv_after_failed_cache_write_is_corrected_by_the_origin_when_kv_is_behind_memory() {
    let w = World::new();
    w.set("foo", json!("old")).expect("set");
    w.kv.write_mode.set(Mode::Down);
    w.set("foo", json!("new")).expect("set");
    w.kv.write_mode.set(Mode::Healthy);
    w.clock.advance_secs(11);
    let read = w.get("foo");
    assert_eq!((read.value, read.source), (json!("new"), Source::Origin), "KV's older version was not trusted");
}

#[test]
fn cache_never_moves_backwards_to_an_older_version() {
    let w = World::new();
    w.set("foo", json!("new")).expect("set");
    // KV holds an older version than memory (another isolate's slow fill).
    w.kv.data.borrow_mut().insert("opt:foo".into(), r#"{"v":1,"version":0,"value":"old"}"#.into());
    w.origin.mode.set(Mode::Down);
    w.clock.advance_secs(11);
    let read = w.get("foo");
    assert_eq!((read.value, read.source), (json!("new"), Source::Stale));
}

#[test]
fn delete_caches_absent_so_next_read_costs_no_origin_call() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    let gone = w.delete("foo").expect("delete");
    assert!(gone.cache_updated);
    let calls = w.origin.calls.get();
    w.new_isolate();
    let read = w.get("foo");
    assert_eq!((read.value, read.source, read.lookup), (json!(""), Source::Default, Some(Source::Kv)));
    assert_eq!(w.origin.calls.get(), calls);
}

#[test]
fn delete_of_an_unset_option_succeeds() {
    let w = World::new();
    assert!(w.delete("foo").is_ok());
}

#[test]
fn wrong_type_is_refused_before_any_io() {
    let w = World::new();
    let err = w.set("count", json!("three")).expect_err("type");
    assert_eq!(err.code(), "invalid_type");
    assert_eq!(w.origin.calls.get(), 0);
}

#[test]
fn immutable_and_nostore_options_cannot_be_written() {
    let w = World::new();
    assert_eq!(w.set("immutable", json!("x")).map_err(|e| e.code()), Err("immutable"));
    assert_eq!(w.delete("immutable").map_err(|e| e.code()), Err("immutable"));
    assert_eq!(w.set("nostore", json!("x")).map_err(|e| e.code()), Err("nostore"));
    assert_eq!(w.delete("nostore").map_err(|e| e.code()), Err("nostore"));
    assert_eq!(w.origin.calls.get(), 0);
}

#[test]
fn nostore_option_never_touches_kv_or_origin() {
    let w = World::with_config(r#"{"nostore": "configured"}"#);
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    let read = w.get("nostore");
    assert_eq!((read.value, read.source, read.degraded), (json!("configured"), Source::Config, false));
    assert_eq!((w.kv.gets.get(), w.origin.calls.get()), (0, 0));
}

#[test]
fn storeonly_option_ignores_config() {
    let w = World::with_config(r#"{"storeonly": "configured"}"#);
    assert_eq!(w.get("storeonly").source, Source::Default);
    w.set("storeonly", json!("stored")).expect("set");
    assert_eq!(w.get("storeonly").value, json!("stored"));
}

#[test]
fn a_credentials_value_is_redacted_unless_revealed_and_other_values_never_are() {
    let w = World::new();
    w.set("secret", json!("hunter2")).expect("set");
    let secret = w.get("secret");
    let hidden = secret.to_json(false);
    assert_eq!((&hidden["value"], &hidden["redacted"]), (&Value::Null, &json!(true)), "{hidden}");
    assert!(!hidden.to_string().contains("hunter2"), "{hidden}");
    assert_eq!(secret.to_json(true)["value"], json!("hunter2"), "the admin token (or the npm package) sees it");
    w.set("foo", json!("plain")).expect("set");
    let plain = w.get("foo").to_json(false);
    assert_eq!((&plain["value"], plain.get("redacted")), (&json!("plain"), None));
}

#[test]
fn unknown_option_is_an_error_but_legacy_prefix_is_untyped_with_empty_default() {
    let w = World::new();
    assert_eq!(w.try_get("nope").map_err(|e| e.code()), Err("unknown_option"));
    assert_eq!(w.set("nope", json!(1)).map_err(|e| e.code()), Err("unknown_option"));
    let legacy = w.get("sentry:anything");
    assert_eq!((legacy.value, legacy.source), (json!(""), Source::Default));
    w.set("sentry:anything", json!({"any": ["shape"]})).expect("untyped set");
    assert_eq!(w.get("sentry:anything").value, json!({"any": ["shape"]}));
}

#[test]
fn zero_ttl_bypasses_isolate_memory() {
    let w = World::new();
    w.set("uncached", json!("v")).expect("set");
    assert_eq!(w.get("uncached").source, Source::Kv);
    assert_eq!(w.get("uncached").source, Source::Kv);
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    let read = w.get("uncached");
    assert_eq!((read.value, read.source, read.degraded), (json!("d"), Source::Default, true), "nothing stale to serve");
}

#[test]
fn value_stored_under_an_older_type_falls_back_to_default() {
    let w = World::new();
    w.origin.store("count", json!("not an int"));
    let read = w.get("count");
    assert_eq!((read.value, read.source), (json!(1), Source::Default));
}

#[test]
fn dead_entries_are_swept_by_later_reads_of_other_keys() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    w.set("count", json!(2)).expect("set");
    assert_eq!(w.cache.stats(w.clock.now_ms()).entries, 2);
    w.clock.advance_secs(71);
    w.get("storeonly");
    assert_eq!(w.cache.stats(w.clock.now_ms()).entries, 1, "only the key just read is held");
}

#[test]
fn kv_keeps_copies_for_the_retention_never_shorter_than_their_freshness_nor_sixty_seconds() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    assert_eq!(w.kv.last_expiration.get(), 30 * 24 * 3600, "a month by default");
    let kept = TieredCache::new(Limits::default(), 300).with_kv_retention(10);
    block_on(kept.after_write(&CacheKey::option("foo"), Versioned::absent(1), Policy::DEFAULT, &w.kv, &w.clock));
    assert_eq!(w.kv.last_expiration.get(), 300, "never shorter than a copy counts as fresh");
    let short = TieredCache::new(Limits::default(), 5).with_kv_retention(5);
    block_on(short.after_write(&CacheKey::option("foo"), Versioned::absent(1), Policy::DEFAULT, &w.kv, &w.clock));
    assert_eq!(w.kv.last_expiration.get(), 60);
}

#[test]
fn sync_rewrites_kv_with_values_written_straight_to_the_origin() {
    let w = World::new();
    w.set("foo", json!("bar")).expect("set");
    w.origin.store("foo", json!("bypassed"));
    w.new_isolate();
    assert_eq!(w.get("foo").value, json!("bar"), "KV is out of date before the sync");
    let synced =
        block_on(crate::core::sync::sync(&w.subject, &w.maps_and_ownership(), &w.cache, &w.io(), Default::default()))
            .expect("sync");
    assert_eq!(synced.options, 1);
    w.new_isolate();
    let read = w.get("foo");
    assert_eq!((read.value, read.source), (json!("bypassed"), Source::Kv));
}

#[test]
fn sync_with_origin_down_is_a_clear_error() {
    let w = World::new();
    w.origin.mode.set(Mode::Down);
    let err =
        block_on(crate::core::sync::sync(&w.subject, &w.maps_and_ownership(), &w.cache, &w.io(), Default::default()))
            .expect_err("down");
    assert_eq!(err.code(), "unavailable");
}

#[test]
fn names_over_1024_bytes_are_refused_before_any_io_even_under_a_legacy_prefix() {
    let w = World::new();
    let long = format!("sentry:{}", "x".repeat(crate::core::limits::MAX_NAME_BYTES));
    assert_eq!(w.try_get(&long).map_err(|e| e.code()), Err("invalid_body"));
    assert_eq!(w.set(&long, json!("v")).map_err(|e| e.code()), Err("invalid_body"));
    assert_eq!(w.delete(&long).map_err(|e| e.code()), Err("invalid_body"));
    assert_eq!(w.try_get("").map_err(|e| e.code()), Err("invalid_body"));
    assert_eq!((w.origin.calls.get(), w.kv.gets.get()), (0, 0), "nothing was asked");
    let fits = format!("sentry:{}", "x".repeat(crate::core::limits::MAX_NAME_BYTES - 7));
    assert!(w.try_get(&fits).is_ok());
}

#[test]
fn a_value_over_the_origins_body_limit_is_too_large_and_never_sent() {
    let w = World::new();
    let big = json!("x".repeat(crate::core::limits::MAX_BODY_BYTES));
    assert_eq!(w.set("foo", big).map_err(|e| e.code()), Err("too_large"));
    assert_eq!(w.origin.calls.get(), 0);
}

#[test]
fn a_read_the_origin_refuses_is_the_callers_error_not_a_degraded_default() {
    let w = World::new();
    w.origin.mode.set(Mode::Refusing);
    for n in 0..10 {
        assert_eq!(w.try_get(&format!("sentry:k{n}")).map_err(|e| e.code()), Err("invalid_body"));
    }
    let stats = w.cache.stats(w.clock.now_ms());
    assert_eq!((stats.degraded, stats.origin_errors, stats.breaker_open), (0, 0, false));
    assert_eq!(w.set("foo", json!("v")).map_err(|e| e.code()), Err("invalid_body"), "a refused write too");
    w.origin.mode.set(Mode::Healthy);
    assert_eq!(w.get("foo").lookup, Some(Source::Origin), "the origin is still asked");
}
