//! An origin outage of any length, with a fake clock: nothing the edge
//! once held turns back into a default or an error because time passed,
//! for isolates that were there before the outage and for new ones.

use futures::executor::block_on;
use serde_json::{json, Value};

use super::Service;
use crate::core::answer::Answer;
use crate::core::calls::Call;
use crate::core::key::CacheKey;
use crate::core::ports::fake::{FakeTiers, Mode};
use crate::core::ports::Clock;
use crate::core::project_ownership::OwnershipInput;
use crate::core::scope::Scope;
use crate::core::settings::Settings;

const KV_EXPIRATION_SECS: u64 = 3600;

/// The tiers one deployment shares (KV, the origin, the clock), and the
/// isolates started on them.
struct Deployment {
    tiers: FakeTiers,
}

impl Deployment {
    fn new() -> Deployment {
        Deployment { tiers: FakeTiers::at(1_800_000_000_000) }
    }

    /// A new isolate: empty memory, the deployment's settings.
    fn isolate(&self) -> Service {
        let vars = [("KV_EXPIRATION_SECS", KV_EXPIRATION_SECS.to_string())];
        let settings = Settings::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()));
        Service::new(&settings).expect("the built-in registry is valid")
    }

    fn call(&self, isolate: &Service, call: Call) -> Answer {
        block_on(isolate.answer(&self.tiers.io(), call)).expect("an answer")
    }

    /// Writes through the edge: a flag switched on, a number, a project's
    /// option and ownership rules; then the sync job runs once.
    fn set_up(&self) -> Service {
        let isolate = self.isolate();
        let set = |name: &str, value: Value| Call::SetOption { name: name.into(), value };
        self.call(&isolate, set("system.maintenance-mode", json!(true)));
        self.call(&isolate, set("system.rate-limit", json!(50)));
        let scope = Scope::Project(7);
        self.call(&isolate, Call::SetMapKey { scope, key: "colour".into(), value: json!("blue") });
        let input = OwnershipInput {
            raw: "path:src/* #backend".into(),
            fallthrough: None,
            auto_assignment: None,
            is_active: None,
        };
        self.call(&isolate, Call::PutOwnership { project: 9, input });
        let report = block_on(isolate.sync(&self.tiers.io())).expect("a sync run");
        assert!(report.problems.is_empty(), "{report:?}");
        isolate
    }

    fn outage_for(&self, secs: u64) {
        self.tiers.origin.mode.set(Mode::Down);
        self.tiers.clock.advance_secs(secs);
    }

    /// Every value set up, read through `isolate`: each answers its last
    /// value, stale, at least `min_age_ms` old, from `source`.
    fn assert_last_values(&self, isolate: &Service, source: &str, min_age_ms: u64) {
        let get = |name: &str| Call::GetOption { name: name.into(), reveal_credentials: false, keep: false };
        let answers = [
            ("maintenance-mode", self.call(isolate, get("system.maintenance-mode")), "value", json!(true)),
            ("rate-limit", self.call(isolate, get("system.rate-limit")), "value", json!(50)),
            ("map", self.call(isolate, Call::GetMap { scope: Scope::Project(7) }), "values", json!({"colour": "blue"})),
        ];
        for (what, answer, field, value) in answers {
            let body = &answer.body;
            assert_eq!(
                (&body[field], &body["source"], &body["stale"]),
                (&value, &json!(source), &json!(true)),
                "{what}: {body}"
            );
            let age = body["age_ms"].as_u64().unwrap_or(0);
            assert!(age >= min_age_ms, "{what}: age {age} ms, outage {min_age_ms} ms: {body}");
            assert_ne!(body.get("degraded"), Some(&json!(true)), "{what}: {body}");
        }
        let ownership = self.call(isolate, Call::GetOwnership { project: 9 });
        assert_eq!(ownership.body["ownership"]["raw"], json!("path:src/* #backend"), "{}", ownership.body);
        assert_eq!(ownership.body["source"], json!(source));
        let owners = self.call(
            isolate,
            Call::Owners { project: 9, event: json!({"stacktrace": {"frames": [{"filename": "src/a.rs"}]}}) },
        );
        assert_eq!(owners.body["owners"], json!([{"type": "team", "identifier": "backend"}]), "{}", owners.body);
    }

    /// Deletes every per-key KV copy, as KV does once they pass their
    /// physical expiry: only the sync job's keys (cursor, snapshot) stay.
    fn kv_copies_expire(&self) {
        self.tiers.kv.data.borrow_mut().retain(|key, _| key.starts_with("sync:"));
    }
}

#[test]
fn an_outage_of_twice_the_kv_expiration_answers_every_last_value_stale_from_kv_in_a_new_isolate() {
    let d = Deployment::new();
    let before = d.set_up();
    d.outage_for(2 * KV_EXPIRATION_SECS);
    let new = d.isolate();
    d.assert_last_values(&new, "stale", 2 * KV_EXPIRATION_SECS * 1000);
    d.assert_last_values(&before, "stale", 2 * KV_EXPIRATION_SECS * 1000);
    let stats = new.stats(d.tiers.clock.now_ms());
    assert!(stats.kv_expired >= 4 && stats.origin_down_since.is_some(), "{stats:?}");
    assert!(stats.oldest_stale_age_ms >= Some(2 * KV_EXPIRATION_SECS * 1000), "{stats:?}");
}

#[test]
fn an_outage_of_a_hundred_times_the_kv_expiration_with_kv_copies_gone_answers_from_the_snapshot() {
    let d = Deployment::new();
    let before = d.set_up();
    d.outage_for(100 * KV_EXPIRATION_SECS);
    d.kv_copies_expire();
    let new = d.isolate();
    d.assert_last_values(&new, "snapshot", 100 * KV_EXPIRATION_SECS * 1000);
    d.assert_last_values(&before, "snapshot", 100 * KV_EXPIRATION_SECS * 1000);
    // An option never set answers its default from the complete snapshot:
    // not degraded (the snapshot knows it had no value), but stale.
    let unset =
        d.call(&new, Call::GetOption { name: "system.admin-email".into(), reveal_credentials: false, keep: false });
    assert_eq!(
        (&unset.body["source"], &unset.body["lookup"], &unset.body["stale"]),
        (&json!("default"), &json!("snapshot"), &json!(true))
    );
    assert!(new.stats(d.tiers.clock.now_ms()).snapshot_served >= 4);
}

#[test]
fn when_the_origin_returns_fresh_values_come_back_and_the_snapshot_is_refreshed() {
    let d = Deployment::new();
    d.set_up();
    d.outage_for(100 * KV_EXPIRATION_SECS);
    d.kv_copies_expire();
    let isolate = d.isolate();
    d.assert_last_values(&isolate, "snapshot", 1);
    assert!(isolate.stats(d.tiers.clock.now_ms()).snapshot_held);

    d.tiers.origin.mode.set(Mode::Healthy);
    d.tiers.origin.store("system.rate-limit", json!(75));
    d.tiers.clock.advance_secs(3600); // past the key's backoff
    let get = Call::GetOption { name: "system.rate-limit".into(), reveal_credentials: false, keep: false };
    let fresh = d.call(&isolate, get);
    assert_eq!(
        (&fresh.body["value"], &fresh.body["source"], fresh.body.get("stale")),
        (&json!(75), &json!("origin"), None)
    );
    let stats = isolate.stats(d.tiers.clock.now_ms());
    assert_eq!((stats.origin_down_since, stats.oldest_stale_age_ms, stats.snapshot_held), (None, None, false));

    let head_before = d.tiers.kv.data.borrow().get(CacheKey::snapshot_head().as_str()).cloned();
    block_on(isolate.sync(&d.tiers.io())).expect("a sync run");
    let snapshot = block_on(crate::core::snapshot::read_snapshot(&d.tiers.kv)).expect("a snapshot");
    let held = snapshot.lookup(&CacheKey::option("system.rate-limit")).expect("the option");
    assert_eq!(held.value(), Some(&json!(75)), "the snapshot took the change");
    assert_ne!(d.tiers.kv.data.borrow().get(CacheKey::snapshot_head().as_str()).cloned(), head_before);
}

#[test]
fn kv_copies_are_kept_for_the_retention_and_say_when_the_origin_gave_them() {
    let d = Deployment::new();
    let isolate = d.set_up();
    d.call(&isolate, Call::SetOption { name: "system.rate-limit".into(), value: json!(60) });
    assert_eq!(d.tiers.kv.last_expiration.get(), 30 * 24 * 3600, "KV keeps a copy a month");
    let held = d.tiers.kv.data.borrow().get(CacheKey::option("system.rate-limit").as_str()).cloned();
    let entry = crate::core::envelope::decode(&held.expect("a KV copy")).expect("an envelope");
    assert_eq!(entry.since, d.tiers.clock.now_ms());
}
