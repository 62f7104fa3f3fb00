//! End-to-end: concurrent misses of one key in one isolate coalesce into a
//! single origin call, and every waiting request still gets its own 200
//! (docs/design.md "Coalescing on Workers": a waiter must never await another
//! request's I/O).

mod support;

use std::sync::{Arc, Barrier};

use serde_json::json;
use support::Stack;

fn concurrent_gets(s: &Stack, path: &str, n: usize) -> Vec<support::Reply> {
    let barrier = Arc::new(Barrier::new(n));
    let url = s.worker.url();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, url, path) = (Arc::clone(&barrier), url.clone(), path.to_string());
            std::thread::spawn(move || {
                barrier.wait();
                support::call("GET", &format!("{url}{path}"), Some(support::READ), None)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("request thread")).collect()
}

#[test]
fn fifty_concurrent_cold_reads_cost_one_origin_call_and_all_answer_200() {
    let s = Stack::start();
    assert_eq!(s.origin.call("PUT", "/options/mail.host", Some(r#"{"value":"coalesced.example.com"}"#)).status, 200);
    let replies = concurrent_gets(&s, "/v1/options/mail.host", 50);
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}\n{}", s.worker.log_tail());
    assert!(replies.iter().all(|r| r.body["value"] == json!("coalesced.example.com")));
    assert_eq!(s.origin.count("GET /options/{name}"), 1, "one origin call for 50 concurrent misses");
    let stats = s.worker.get("/v1/stats").body;
    let origin_or_kv = stats["hits_origin"].as_u64().unwrap_or(0) + stats["hits_kv"].as_u64().unwrap_or(0);
    assert_eq!(origin_or_kv, 1, "one request fetched: {stats}");
    assert_eq!(stats["coalesced"].as_u64().unwrap_or(0) + stats["hits_local"].as_u64().unwrap_or(0), 49, "{stats}");
}

#[test]
fn concurrent_cold_reads_of_a_map_and_an_absent_ownership_also_coalesce() {
    let s = Stack::start();
    s.origin.call("PUT", "/projects/5/options/k", Some(r#"{"value":1}"#));
    let maps = concurrent_gets(&s, "/v1/projects/5/options/k", 30);
    assert!(maps.iter().all(|r| r.status == 200 && r.body["value"] == json!(1)));
    assert_eq!(s.origin.count("GET /projects/{id}/options"), 1);
    let owners = concurrent_gets(&s, "/v1/projects/6/ownership", 30);
    assert!(owners.iter().all(|r| r.status == 200 && r.body["ownership"] == json!(null)));
    assert_eq!(s.origin.count("GET /projects/{id}/ownership"), 1, "the negative answer was shared too");
}

#[test]
fn concurrent_reads_of_a_ttl_0_legacy_option_cost_one_origin_call_through_the_leaders_kv_copy() {
    // Names under a legacy prefix have ttl 0: isolate memory never holds
    // them, so waiters cannot find the leader's answer there. They find its
    // KV copy instead (written before the lead ends): still one origin call.
    let s = Stack::start_with(&[("LEGACY_PREFIXES", "legacy.")]);
    assert_eq!(s.origin.call("PUT", "/options/legacy.flag", Some(r#"{"value":"on"}"#)).status, 200);
    let replies = concurrent_gets(&s, "/v1/options/legacy.flag", 30);
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}\n{}", s.worker.log_tail());
    assert!(replies.iter().all(|r| r.body["value"] == json!("on")));
    assert_eq!(s.origin.count("GET /options/{name}"), 1, "one origin call for 30 concurrent reads");
    let tiers: Vec<&str> = replies.iter().filter_map(|r| r.cache.as_deref()).collect();
    assert_eq!(tiers.iter().filter(|t| **t == "origin").count(), 1, "{tiers:?}");
    assert!(tiers.iter().all(|t| matches!(*t, "origin" | "kv")), "memory never answers a ttl-0 name: {tiers:?}");
}
