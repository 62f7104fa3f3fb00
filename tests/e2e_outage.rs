//! End-to-end: an origin outage of any length, with the real Worker under
//! `wrangler dev` and the real origin. Values are set and synced; the
//! origin stops; KV loses every per-key copy (as KV does once they pass
//! their physical expiry), except one left with a write time two hours
//! old (a copy past its freshness); a new isolate starts while the origin
//! is down. Every value still answers its last value, stale, with its
//! age; then the origin returns and fresh values come back.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use support::{Stack, ADMIN};

const TWO_HOURS_MS: u64 = 2 * 3600 * 1000;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Deletes every KV key but the sync job's (cursor, snapshot).
fn lose_per_key_copies(s: &Stack) {
    let listed: Value = serde_json::from_str(&s.wrangler_kv(&["key", "list"], None)).expect("a key list");
    let keys: Vec<Value> = listed
        .as_array()
        .expect("an array of keys")
        .iter()
        .filter_map(|k| k["name"].as_str())
        .filter(|name| !name.starts_with("sync:"))
        .map(Value::from)
        .collect();
    assert!(keys.len() >= 4, "the Worker wrote its per-key copies: {listed}");
    s.wrangler_kv(&["bulk", "delete", "--force"], Some(&Value::Array(keys)));
}

#[test]
fn a_new_isolate_during_a_long_outage_answers_every_last_value_stale_with_its_age() {
    let mut s =
        Stack::start_with(&[("BACKOFF_START_MS", "200"), ("BACKOFF_MAX_MS", "400"), ("BREAKER_OPEN_MS", "300")]);
    for (path, body) in [
        ("/v1/options/system.maintenance-mode", r#"{"value": true}"#),
        ("/v1/options/system.rate-limit", r#"{"value": 50}"#),
        ("/v1/projects/7/options/colour", r#"{"value": "blue"}"#),
        ("/v1/projects/9/ownership", r##"{"raw": "path:src/* #backend"}"##),
    ] {
        let reply = s.worker.put(path, body);
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
    }
    let sync = s.worker.call("POST", "/v1/admin/sync", Some(ADMIN), None);
    assert_eq!((sync.status, &sync.body["problems"]), (200, &json!([])), "{:?}", sync.body);
    let version = s.worker.get("/v1/options/system.rate-limit").body["version"].clone();

    s.origin.stop();
    lose_per_key_copies(&s);
    // One copy survives in KV, written by the origin two hours ago: past
    // its freshness (KV_EXPIRATION_SECS, 1 h), still the best there is.
    let old = json!({"v": 1, "version": version, "value": 50, "since": now_ms() - TWO_HOURS_MS});
    s.wrangler_kv(&["key", "put", "opt:system.rate-limit", &old.to_string()], None);
    s.new_isolate();

    let flag = s.worker.get("/v1/options/system.maintenance-mode");
    assert_eq!((flag.status, flag.cache.as_deref()), (200, Some("snapshot")), "{:?}", flag.body);
    assert_eq!(
        (&flag.body["value"], &flag.body["stale"], &flag.body["degraded"]),
        (&json!(true), &json!(true), &json!(false))
    );
    assert!(flag.body["age_ms"].as_u64() > Some(0), "{:?}", flag.body);

    let limit = s.worker.get("/v1/options/system.rate-limit");
    assert_eq!((limit.cache.as_deref(), &limit.body["value"]), (Some("stale"), &json!(50)), "{:?}", limit.body);
    assert!(limit.body["age_ms"].as_u64() >= Some(TWO_HOURS_MS), "{:?}", limit.body);

    let map = s.worker.get("/v1/projects/7/options");
    assert_eq!((map.cache.as_deref(), &map.body["values"]), (Some("snapshot"), &json!({"colour": "blue"})));
    let key = s.worker.get("/v1/projects/7/options/colour");
    assert_eq!((&key.body["value"], &key.body["stale"]), (&json!("blue"), &json!(true)), "{:?}", key.body);
    let ownership = s.worker.get("/v1/projects/9/ownership");
    assert_eq!(ownership.body["ownership"]["raw"], json!("path:src/* #backend"), "{:?}", ownership.body);
    assert_eq!(ownership.cache.as_deref(), Some("snapshot"));
    let event = r#"{"stacktrace": {"frames": [{"filename": "src/app.rs"}]}}"#;
    let owners = s.worker.call("POST", "/v1/projects/9/owners", Some(ADMIN), Some(event));
    assert_eq!(owners.body["owners"], json!([{"type": "team", "identifier": "backend"}]), "{:?}", owners.body);
    // A project the edge never saw: the complete snapshot knows it has no rules.
    let none = s.worker.get("/v1/projects/10/ownership");
    assert_eq!((none.status, &none.body["ownership"], none.cache.as_deref()), (200, &Value::Null, Some("snapshot")));

    let stats = s.worker.get("/v1/stats").body;
    assert!(stats["origin_down_since"].as_u64() > Some(0), "{stats}");
    assert!(stats["oldest_stale_age_ms"].as_u64() >= Some(TWO_HOURS_MS), "{stats}");
    assert_eq!((&stats["snapshot_held"], &stats["degraded"]), (&json!(true), &json!(0)), "{stats}");

    s.origin.restart();
    std::thread::sleep(Duration::from_millis(500)); // past the backoff and the breaker
    let fresh = s.worker.get("/v1/options/system.maintenance-mode");
    assert_eq!(
        (fresh.cache.as_deref(), &fresh.body["value"], fresh.body.get("stale")),
        (Some("origin"), &json!(true), None)
    );
    let head = || s.wrangler_kv(&["key", "get", "sync:snapshot"], None);
    let before: Value = serde_json::from_str(&head()).expect("the snapshot's head");
    let sync = s.worker.call("POST", "/v1/admin/sync", Some(ADMIN), None);
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    let after: Value = serde_json::from_str(&head()).expect("the snapshot's head");
    assert!(after["since"].as_u64() > before["since"].as_u64(), "refreshed: {before} then {after}");
    let stats = s.worker.get("/v1/stats").body;
    assert_eq!((&stats["origin_down_since"], &stats["snapshot_held"]), (&Value::Null, &json!(false)), "{stats}");
}
