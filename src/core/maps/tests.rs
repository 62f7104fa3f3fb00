//! Option maps through the tiers, with fakes that fail on command.

use futures::executor::block_on;
use serde_json::json;

use super::*;
use crate::core::ports::fake::{Mode, Rig};

type World = Rig<OptionMaps>;

impl World {
    fn new() -> World {
        Rig::at(OptionMaps::new(Policy::from_secs(10, 60)), 5_000_000)
    }

    fn get(&self, scope: Scope) -> Result<MapRead, Error> {
        block_on(self.subject.get(&self.cache, &self.io(), &scope))
    }

    fn set(&self, scope: Scope, key: &str, value: Value) -> Result<MapWrite, Error> {
        block_on(self.subject.set(&self.cache, &self.io(), &scope, key, value))
    }

    fn delete(&self, scope: Scope, key: &str) -> Result<MapWrite, Error> {
        block_on(self.subject.delete(&self.cache, &self.io(), &scope, key))
    }
}

#[test]
fn empty_map_is_read_once_from_origin_then_from_memory() {
    let w = World::new();
    let first = w.get(Scope::Project(1)).expect("read");
    assert_eq!((first.values.len(), first.source), (0, Source::Origin));
    assert_eq!(w.get(Scope::Project(1)).expect("read").source, Source::Local);
    assert_eq!(w.origin.calls.get(), 1);
}

#[test]
fn write_replaces_the_cached_map_with_the_origins_whole_map() {
    let w = World::new();
    w.set(Scope::Organization(1), "a", json!(1)).expect("set");
    let written = w.set(Scope::Organization(1), "b", json!([2])).expect("set");
    assert_eq!(Value::Object(written.values), json!({"a": 1, "b": [2]}));
    assert!(written.cache_updated);
    let read = w.get(Scope::Organization(1)).expect("read");
    assert_eq!((Value::Object(read.values), read.source), (json!({"a": 1, "b": [2]}), Source::Local));
    w.cache.clear_memory();
    assert_eq!(w.get(Scope::Organization(1)).expect("read").source, Source::Kv);
}

#[test]
fn the_five_scopes_never_share_values() {
    let w = World::new();
    let scopes = [
        Scope::Organization(7),
        Scope::Project(7),
        Scope::User(7),
        Scope::UserInProject(7, 7),
        Scope::UserInOrganization(7, 7),
    ];
    for (n, scope) in scopes.iter().enumerate() {
        w.set(*scope, "k", json!(n)).expect("set");
    }
    w.cache.clear_memory();
    for (n, scope) in scopes.iter().enumerate() {
        assert_eq!(w.get(*scope).expect("read").values["k"], json!(n), "{scope:?}");
    }
}

#[test]
fn delete_reloads_the_map_and_deleting_an_unset_key_succeeds() {
    let w = World::new();
    w.set(Scope::User(1), "a", json!(1)).expect("set");
    w.set(Scope::User(1), "b", json!(2)).expect("set");
    let after = w.delete(Scope::User(1), "a").expect("delete");
    assert_eq!(Value::Object(after.values), json!({"b": 2}));
    let again = w.delete(Scope::User(1), "a").expect("delete of an unset key");
    assert_eq!(Value::Object(again.values), json!({"b": 2}));
    assert_eq!(Value::Object(w.get(Scope::User(1)).expect("read").values), json!({"b": 2}));
}

#[test]
fn stale_map_served_within_grace_when_stores_fail_and_unavailable_after() {
    let w = World::new();
    w.set(Scope::Project(2), "a", json!(true)).expect("set");
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    w.clock.advance_secs(30);
    assert_eq!(w.get(Scope::Project(2)).expect("stale").source, Source::Stale);
    w.clock.advance_secs(60);
    assert_eq!(w.get(Scope::Project(2)).map_err(|e| e.code()), Err("unavailable"));
    assert_eq!(
        w.get(Scope::Project(2)).map_err(|e| e.code()),
        Err("unavailable"),
        "right after a failure the key backs off: the origin is not asked"
    );
    assert_eq!(w.origin.calls.get(), 3, "the backed-off read cost no origin call");
    w.clock.advance_secs(5);
    w.origin.mode.set(Mode::Hanging);
    assert_eq!(w.get(Scope::Project(2)).map_err(|e| e.code()), Err("origin_timeout"));
}

#[test]
fn failed_write_changes_nothing() {
    let w = World::new();
    w.set(Scope::Project(3), "a", json!(1)).expect("set");
    w.origin.mode.set(Mode::Erroring);
    assert_eq!(w.set(Scope::Project(3), "a", json!(2)).map_err(|e| e.code()), Err("origin_error"));
    assert_eq!(w.delete(Scope::Project(3), "a").map_err(|e| e.code()), Err("origin_error"));
    w.origin.mode.set(Mode::Healthy);
    assert_eq!(w.get(Scope::Project(3)).expect("read").values["a"], json!(1));
}

#[test]
fn bad_keys_and_null_values_are_refused_before_any_io() {
    let w = World::new();
    assert_eq!(w.set(Scope::Project(1), "", json!(1)).map_err(|e| e.code()), Err("invalid_body"));
    assert_eq!(w.set(Scope::Project(1), &"k".repeat(2000), json!(1)).map_err(|e| e.code()), Err("invalid_body"));
    assert_eq!(w.set(Scope::Project(1), "k", Value::Null).map_err(|e| e.code()), Err("invalid_type"));
    assert_eq!(w.origin.calls.get(), 0);
}

#[test]
fn keys_over_1024_bytes_and_values_over_the_body_limit_never_reach_the_origin() {
    let w = World::new();
    let long = "k".repeat(crate::core::limits::MAX_NAME_BYTES + 1);
    assert_eq!(w.set(Scope::Project(1), &long, json!(1)).map_err(|e| e.code()), Err("invalid_body"));
    assert_eq!(w.delete(Scope::Project(1), &long).map_err(|e| e.code()), Err("invalid_body"));
    let big = json!("x".repeat(crate::core::limits::MAX_BODY_BYTES));
    assert_eq!(w.set(Scope::Project(1), "k", big).map_err(|e| e.code()), Err("too_large"));
    assert_eq!(w.origin.calls.get(), 0);
    let fits = "k".repeat(crate::core::limits::MAX_NAME_BYTES);
    assert!(w.set(Scope::Project(1), &fits, json!(1)).is_ok());
}
