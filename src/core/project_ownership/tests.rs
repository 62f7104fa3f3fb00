//! Ownership records through the tiers, with fakes that fail on command.

use futures::executor::block_on;
use serde_json::json;

use super::*;
use crate::core::ownership::{Owner, Owners};
use crate::core::ports::fake::{Mode, Rig};
use crate::core::ports::Clock;
use crate::core::slot::Versioned;

type World = Rig<ProjectOwnership>;

impl World {
    fn new() -> World {
        Rig::at(ProjectOwnership::new(Policy::from_secs(10, 60)), 9_000_000)
    }

    fn get(&self, project: Id) -> Result<OwnershipRead, Error> {
        block_on(self.subject.get(&self.cache, &self.io(), project))
    }

    fn put(&self, project: Id, raw: &str) -> Result<(Value, bool), Error> {
        let input = OwnershipInput { raw: raw.into(), fallthrough: None, auto_assignment: Some(true), is_active: None };
        block_on(self.subject.put(&self.cache, &self.io(), project, input))
    }

    fn owners(&self, project: Id, event: Value) -> Result<OwnersAnswer, Error> {
        block_on(self.subject.owners(&self.cache, &self.io(), project, &event))
    }
}

#[test]
fn absent_record_is_negatively_cached_in_memory_and_kv() {
    let w = World::new();
    assert_eq!(w.get(1).expect("read").record, None);
    assert_eq!(w.get(1).expect("read").source, Source::Local);
    w.cache.clear_memory();
    assert_eq!(w.get(1).expect("read").source, Source::Kv);
    assert_eq!(w.origin.calls.get(), 1);
    assert_eq!(w.cache.stats(w.clock.now_ms()).negative_hits, 3);
}

#[test]
fn grammar_errors_never_reach_the_origin() {
    let w = World::new();
    let err = w.put(1, "path:src/* #team\nbogus:x #t").expect_err("refused");
    assert_eq!(err.code(), "invalid_rules");
    assert!(err.to_string().contains("line 2"), "{err}");
    assert_eq!(w.origin.calls.get(), 0);
}

#[test]
fn written_record_is_served_with_its_schema_and_drives_owners() {
    let w = World::new();
    let (stored, cache_updated) = w.put(2, "path:src/* #backend\nurl:*/checkout/* alice@example.com").expect("put");
    assert!(cache_updated);
    assert_eq!(stored["schema"]["rules"].as_array().map(Vec::len), Some(2));
    let calls = w.origin.calls.get();
    let answer = w.owners(2, json!({"stacktrace": {"frames": [{"filename": "src/a.py"}]}})).expect("owners");
    assert_eq!(answer.source, Source::Local);
    assert_eq!(answer.evaluation.owners, Owners::Owners(vec![Owner::Team("backend".into())]));
    assert_eq!(answer.evaluation.auto_assign, Some(Owner::Team("backend".into())));
    assert_eq!(w.origin.calls.get(), calls, "owners came from the cached record");
}

#[test]
fn project_without_record_falls_through_to_everyone() {
    let w = World::new();
    let answer = w.owners(3, json!({"request": {"url": "https://x"}})).expect("owners");
    assert_eq!(answer.evaluation.owners, Owners::Everyone);
    assert_eq!(answer.evaluation.auto_assign, None);
}

#[test]
fn inactive_record_matches_no_rule() {
    let w = World::new();
    let input = OwnershipInput {
        raw: "path:* #t".into(),
        fallthrough: Some(false),
        auto_assignment: None,
        is_active: Some(false),
    };
    block_on(w.subject.put(&w.cache, &w.io(), 4, input)).expect("put");
    let answer = w.owners(4, json!({"stacktrace": {"frames": [{"filename": "a"}]}})).expect("owners");
    assert_eq!(answer.evaluation.owners, Owners::Owners(vec![]));
}

#[test]
fn rules_written_around_the_edge_that_do_not_parse_are_shown_with_the_error() {
    let w = World::new();
    let record = json!({"raw": "nonsense", "fallthrough": true, "auto_assignment": false, "is_active": true});
    w.origin.ownership.borrow_mut().insert(5, Versioned::present(record, 9));
    let read = w.get(5).expect("read");
    let shown = read.record.expect("record");
    assert_eq!(shown["schema"], Value::Null);
    assert!(shown["schema_error"].as_str().is_some_and(|e| e.contains("line 1")));
    assert_eq!(w.owners(5, json!({})).expect("owners").evaluation.owners, Owners::Everyone);
}

#[test]
fn delete_caches_absence_and_stores_down_without_a_copy_is_unavailable() {
    let w = World::new();
    w.put(6, "path:* #t").expect("put");
    assert!(block_on(w.subject.delete(&w.cache, &w.io(), 6)).expect("delete"));
    let calls = w.origin.calls.get();
    assert_eq!(w.get(6).expect("read").record, None);
    assert_eq!(w.origin.calls.get(), calls);
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    assert_eq!(w.get(7).map_err(|e| e.code()), Err("unavailable"));
    assert_eq!(w.owners(7, json!({})).map_err(|e| e.code()), Err("unavailable"));
    assert_eq!(w.owners(6, json!([])).map_err(|e| e.code()), Err("invalid_body"));
}

#[test]
fn owners_parse_the_rules_once_per_version_and_a_new_version_afresh() {
    let w = World::new();
    let record =
        json!({"raw": "path:src/* #backend", "fallthrough": true, "auto_assignment": false, "is_active": true});
    w.origin.ownership.borrow_mut().insert(8, Versioned::present(record, 3));
    let event = json!({"stacktrace": {"frames": [{"filename": "src/a.py"}]}});
    let parses = || w.subject.rules_cache().parses();
    let first = w.owners(8, event.clone()).expect("owners");
    assert_eq!(first.evaluation.owners, Owners::Owners(vec![Owner::Team("backend".into())]));
    assert_eq!(parses(), 1);
    for _ in 0..5 {
        assert_eq!(w.owners(8, event.clone()).expect("owners").evaluation, first.evaluation);
    }
    w.get(8).expect("the record with its schema");
    assert_eq!(parses(), 1, "same version, same parse: owners and reads alike");
    // The same version fetched again (memory emptied, read from KV): still one parse.
    w.cache.clear_memory();
    assert_eq!(w.owners(8, event.clone()).expect("owners").source, Source::Kv);
    assert_eq!(parses(), 1);
    // A new version written around the edge, seen once the cached copy expires.
    let record =
        json!({"raw": "path:src/* #frontend", "fallthrough": true, "auto_assignment": false, "is_active": true});
    w.origin.ownership.borrow_mut().insert(8, Versioned::present(record, 4));
    w.clock.advance_secs(120);
    w.kv.data.borrow_mut().clear();
    let newer = w.owners(8, event.clone()).expect("owners");
    assert_eq!(newer.evaluation.owners, Owners::Owners(vec![Owner::Team("frontend".into())]));
    assert_eq!(parses(), 2, "a new version is parsed afresh");
}

#[test]
fn a_write_keeps_its_parse_for_the_stored_version() {
    let w = World::new();
    w.put(9, "path:* #t").expect("put");
    assert_eq!(w.subject.rules_cache().parses(), 1, "the write's own check");
    w.owners(9, json!({})).expect("owners");
    w.get(9).expect("read");
    assert_eq!(w.subject.rules_cache().parses(), 1, "owners and reads reuse it");
}

#[test]
fn rules_text_over_256_kib_is_too_large_and_never_reaches_the_origin() {
    let w = World::new();
    let big = format!("path:* #t\n{}", "# comment\n".repeat(crate::core::limits::MAX_RULES_BYTES / 10));
    assert_eq!(w.put(1, &big).map_err(|e| e.code()), Err("too_large"));
    assert_eq!(w.origin.calls.get(), 0);
    assert_eq!(w.subject.rules_cache().parses(), 0, "refused before parsing");
}
