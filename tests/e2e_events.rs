//! End-to-end: last processed event per group hash (KV only).

mod support;

use serde_json::json;
use support::{Stack, ADMIN, READ};

#[test]
fn recorded_events_are_fetched_aligned_with_nulls_for_unknown_hashes() {
    let mut s = Stack::start();
    let path = "/v1/projects/21/event-hashes/last-processed";
    let recorded = s.worker.call("POST", path, Some(ADMIN), Some(r#"{"hash_ids":[101,103],"event_id":"ev-1"}"#));
    assert_eq!((recorded.status, recorded.body["recorded"].clone()), (200, json!(2)), "{:?}", recorded.body);
    let fetched = s.worker.get(&format!("{path}?ids=103,102,101"));
    assert_eq!((fetched.status, fetched.body["event_ids"].clone()), (200, json!(["ev-1", null, "ev-1"])));

    s.worker.call("POST", path, Some(ADMIN), Some(r#"{"hash_ids":[101],"event_id":"ev-2"}"#));
    s.new_isolate();
    assert_eq!(s.worker.get(&format!("{path}?ids=101,103")).body["event_ids"], json!(["ev-2", "ev-1"]), "kept in KV");
    assert_eq!(s.worker.get("/v1/projects/22/event-hashes/last-processed?ids=101").body["event_ids"], json!([null]));
    assert_eq!(s.origin.count("GET /options/{name}") + s.origin.count("PUT /options/{name}"), 0, "never the origin");
}

#[test]
fn bad_batches_are_refused_clearly() {
    let s = Stack::start();
    let path = "/v1/projects/21/event-hashes/last-processed";
    let many: Vec<u32> = (1..=501).collect();
    let cases = [
        (json!({"hash_ids": [0], "event_id": "e"}).to_string(), "invalid_id"),
        (json!({"hash_ids": [1], "event_id": ""}).to_string(), "invalid_body"),
        (json!({"hash_ids": "1", "event_id": "e"}).to_string(), "invalid_body"),
        (json!({"hash_ids": many, "event_id": "e"}).to_string(), "invalid_body"),
    ];
    for (body, code) in cases {
        assert_eq!(
            s.worker.call("POST", path, Some(ADMIN), Some(&body)).code(),
            code,
            "{}",
            &body[..body.len().min(60)]
        );
    }
    assert_eq!(s.worker.get(&format!("{path}?ids=1,x")).code(), "invalid_id");
    assert_eq!(s.worker.get(path).body["event_ids"], json!([]));
    assert_eq!(s.worker.call("POST", path, Some(READ), Some(r#"{"hash_ids":[1],"event_id":"e"}"#)).code(), "forbidden");
}
