//! Every call answered as the front ends send it: the JSON, the tier, and
//! what to refresh after a stale answer.

use futures::executor::block_on;
use serde_json::json;

use super::*;
use crate::core::ports::fake::Rig;
use crate::core::registry::Registry;
use crate::core::settings::Settings;
use crate::core::source::Source;

const REGISTRY: &str = r#"{"options": [
  {"name": "app.colour", "type": "string", "default": "red", "ttl": 10, "grace": 60},
  {"name": "app.token", "type": "string", "default": "", "flags": ["credential"]}
]}"#;

/// A service of its own (its cache, not the tiers' `w.cache`) on fake tiers.
type World = Rig<Service>;

impl World {
    fn new() -> World {
        let settings = Settings::from_vars(|name| (name == "ORIGIN_SOFT_TIMEOUT_MS").then(|| "100".to_string()));
        let registry = Registry::from_json(REGISTRY).expect("a valid registry");
        Rig::at(Service::with_registry(&settings, registry), 7_000_000)
    }

    fn answer(&self, call: Call) -> Answer {
        block_on(self.subject.answer(&self.io(), call)).expect("an answer")
    }
}

fn get_option(name: &str, reveal_credentials: bool, keep: bool) -> Call {
    Call::GetOption { name: name.into(), reveal_credentials, keep }
}

#[test]
fn an_option_read_from_memory_says_until_when_it_holds_and_how_a_memory_hit_answers() {
    let w = World::new();
    w.origin.store("app.colour", json!("blue"));
    let first = w.answer(get_option("app.colour", true, true));
    assert_eq!(
        first.body,
        json!({"name": "app.colour", "value": "blue", "source": "origin", "degraded": false, "lookup": "origin", "version": 1})
    );
    assert_eq!(first.source, Some(Source::Origin));
    let kept = first.keep.expect("memory holds it fresh");
    assert_eq!(kept.until, 7_010_000, "fresh for the option's ttl");
    assert_eq!(kept.body, w.answer(get_option("app.colour", true, false)).body, "what the next read answers");
    assert_eq!(kept.body["source"], json!("local"));
    assert_eq!(w.answer(get_option("app.colour", true, false)).keep, None, "only when asked for");
    let default = w.answer(get_option("app.token", false, true));
    assert_eq!((default.body["source"].clone(), default.body.get("redacted")), (json!("default"), Some(&json!(true))));
}

#[test]
fn a_stale_read_answers_at_once_and_names_the_key_to_refresh() {
    let w = World::new();
    let scope = Scope::Project(4);
    let call = || Call::GetMap { scope };
    assert_eq!(w.answer(call()).refresh, None);
    w.clock.advance_secs(11);
    w.kv.data.borrow_mut().clear();
    w.origin.stall.set(1_000);
    let stale = w.answer(call());
    assert_eq!((stale.source, stale.refresh), (Some(Source::Stale), Some(Refresh::Map(scope))));
    let age = stale.body["age_ms"].as_u64().expect("a stale answer says how old it is");
    assert!((11_000..12_000).contains(&age), "the map was read 11 s and a soft timeout ago: {}", stale.body);
    assert_eq!(stale.body, json!({"values": {}, "source": "stale", "version": 0, "stale": true, "age_ms": age}));
}

#[test]
fn writes_and_reads_of_every_kind_answer_the_http_apis_json() {
    let w = World::new();
    let scope = Scope::UserInProject(1, 2);
    let set = w.answer(Call::SetMapKey { scope, key: "k".into(), value: json!([1]) });
    assert_eq!((set.body, set.source), (json!({"key": "k", "value": [1], "version": 1, "cache_updated": true}), None));
    let read = w.answer(Call::GetMapKey { scope, key: "k".into() });
    assert_eq!(read.body, json!({"key": "k", "value": [1], "source": "local", "version": 1}));
    let unset = w.answer(Call::GetMapKey { scope, key: "other".into() });
    assert_eq!(unset.body["value"], json!(null));
    let gone = w.answer(Call::DeleteMapKey { scope, key: "k".into() });
    assert_eq!(gone.body, json!({"key": "k", "version": 2, "cache_updated": true}));

    let input =
        OwnershipInput { raw: "path:src/* #web".into(), fallthrough: None, auto_assignment: None, is_active: None };
    let put = w.answer(Call::PutOwnership { project: 9, input });
    assert_eq!((put.body["cache_updated"].clone(), put.body["fallthrough"].clone()), (json!(true), json!(true)));
    let owners =
        w.answer(Call::Owners { project: 9, event: json!({"stacktrace": {"frames": [{"filename": "src/a.py"}]}}) });
    assert_eq!(owners.body["source"], json!("local"));
    assert_eq!(owners.body["owners"], json!([{"type": "team", "identifier": "web"}]));
    let deleted = w.answer(Call::DeleteOwnership { project: 9 }).body;
    assert_eq!(deleted["cache_updated"], json!(true));
    assert!(deleted["version"].as_u64() > put.body["version"].as_u64(), "a delete answers its version: {deleted}");
    assert_eq!(w.answer(Call::GetOwnership { project: 9 }).body, json!({"ownership": null, "source": "local"}));

    let recorded = w.answer(Call::RecordLastProcessed { project: 9, hash_ids: vec![1, 2], event_id: "ev".into() });
    assert_eq!(recorded.body, json!({"recorded": 2}));
    let found = w.answer(Call::LastProcessed { project: 9, hash_ids: vec![2, 3] });
    assert_eq!(found.body, json!({"event_ids": ["ev", null]}));
    let option = w.answer(Call::SetOption { name: "app.colour".into(), value: json!("green") });
    assert_eq!(option.body["value"], json!("green"));
    assert_eq!(w.answer(Call::DeleteOption { name: "app.colour".into() }).body.get("value"), None);
    assert!(w.answer(Call::Sync).body["synced"].is_number());
}

#[test]
fn a_call_that_fails_is_the_cores_error() {
    let w = World::new();
    let unknown = block_on(w.subject.answer(&w.io(), get_option("nope", true, false)));
    assert_eq!(unknown.map_err(|e| e.code()), Err("unknown_option"));
    let input = OwnershipInput { raw: "bogus:x #t".into(), fallthrough: None, auto_assignment: None, is_active: None };
    let rules = block_on(w.subject.answer(&w.io(), Call::PutOwnership { project: 1, input })).expect_err("refused");
    assert_eq!(rules.to_json()["line"], json!(1));
}

#[test]
fn a_read_at_a_min_version_above_what_memory_holds_asks_the_origin_and_writes_answer_their_version() {
    let w = World::new();
    w.origin.store("app.colour", json!("blue"));
    assert_eq!(w.answer(get_option("app.colour", true, false)).body["source"], json!("origin"));
    let newer = w.origin.store("app.colour", json!("green"));
    let at_least = |min_version| Call::AtLeast { min_version, call: Box::new(get_option("app.colour", true, false)) };
    assert_eq!(w.answer(at_least(1)).body["source"], json!("local"), "memory's copy is at 1");
    let read = w.answer(at_least(newer));
    assert_eq!((read.body["value"].clone(), read.body["version"].clone()), (json!("green"), json!(newer)));
    let set = w.answer(Call::SetOption { name: "app.colour".into(), value: json!("red") });
    let read = w.answer(at_least(set.body["version"].as_u64().expect("a write answers its version")));
    assert_eq!(read.body["value"], json!("red"));
}
