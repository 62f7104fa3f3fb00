//! End-to-end: soft timeouts, per-key backoff and the isolate-wide breaker,
//! with a fault proxy between the real Worker and the real origin.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::fault_proxy::Fault;
use support::Stack;

#[test]
fn slow_origin_stale_answer_within_the_soft_timeout_and_the_same_fetch_fills_the_cache() {
    let s = Stack::start_behind_proxy(&[
        ("MAP_TTL_SECS", "1"),
        ("MAP_GRACE_SECS", "120"),
        ("ORIGIN_SOFT_TIMEOUT_MS", "300"),
        ("ORIGIN_TIMEOUT_MS", "8000"),
    ]);
    assert_eq!(s.worker.put("/v1/projects/40/options/k", r#"{"value":"v1"}"#).status, 200);
    assert_eq!(s.origin.call("PUT", "/projects/40/options/k", Some(r#"{"value":"v2"}"#)).status, 200);
    // KV loses its copy (as after an expiry), so the stale entry must ask the origin.
    s.wrangler_kv(&["key", "delete", "map:proj:40"], None);
    std::thread::sleep(Duration::from_millis(1_200)); // past the 1 s ttl
    s.proxy.set(Fault::Slow(Duration::from_millis(1_500)));
    let before = s.proxy.requests();

    let started = Instant::now();
    let stale = s.worker.get("/v1/projects/40/options/k");
    let took = started.elapsed();
    assert_eq!((stale.status, stale.body["value"].clone(), stale.cache.as_deref()), (200, json!("v1"), Some("stale")));
    assert!(took < Duration::from_millis(1_200), "answered at the soft timeout, not the slow origin: {took:?}");

    // The abandoned fetch finishes in the background (wait_until) and fills memory.
    std::thread::sleep(Duration::from_millis(2_500));
    let fresh = s.worker.get("/v1/projects/40/options/k");
    assert_eq!(fresh.body["value"], json!("v2"), "{:?}", fresh.body);
    // Filled by the refresh: in memory, or in KV once the 1 s ttl has passed again.
    assert!(matches!(fresh.cache.as_deref(), Some("local" | "kv")), "{:?}", fresh.cache);
    assert_eq!(s.proxy.requests() - before, 1, "one origin request: the refresh awaited the first fetch");
    let stats = s.worker.get("/v1/stats").body;
    assert_eq!((stats["soft_timeouts"].clone(), stats["revalidated"].clone()), (json!(1), json!(1)), "{stats}");
}

#[test]
fn origin_down_costs_one_call_per_key_per_backoff_window() {
    let s = Stack::start_behind_proxy(&[("BACKOFF_START_MS", "2000"), ("BREAKER_THRESHOLD", "100")]);
    s.proxy.set(Fault::Refuse);
    let before = s.proxy.requests();
    for _ in 0..10 {
        let reply = s.worker.get("/v1/projects/41/options");
        assert_eq!((reply.status, reply.code()), (503, "unavailable"));
    }
    assert_eq!(s.proxy.requests() - before, 1, "one origin call in the backoff window");
    let stats = s.worker.get("/v1/stats").body;
    assert!(stats["throttled"].as_u64() >= Some(9), "{stats}");

    std::thread::sleep(Duration::from_millis(2_100));
    s.proxy.set(Fault::Pass);
    let recovered = s.worker.get("/v1/projects/41/options");
    assert_eq!((recovered.status, recovered.cache.as_deref()), (200, Some("origin")));
    assert_eq!(s.proxy.requests() - before, 2, "one more call after the window, and it recovered");
}

#[test]
fn breaker_stops_origin_reads_across_keys_then_a_probe_closes_it() {
    let s = Stack::start_behind_proxy(&[("BREAKER_THRESHOLD", "3"), ("BREAKER_OPEN_MS", "2000")]);
    s.proxy.set(Fault::Status500);
    for project in 50..53 {
        assert_eq!(s.worker.get(&format!("/v1/projects/{project}/ownership")).status, 503);
    }
    let calls = s.proxy.requests();
    assert_eq!(s.worker.get("/v1/stats").body["breaker_open"], json!(true));
    let spared = s.worker.get("/v1/projects/60/ownership");
    assert_eq!((spared.status, spared.code()), (503, "unavailable"));
    assert_eq!(s.proxy.requests(), calls, "an open breaker spares the origin, even for a new key");
    let option = s.worker.get("/v1/options/mail.port");
    assert_eq!((option.body["value"].clone(), option.body["degraded"].clone()), (json!(25), json!(true)));

    let write = s.worker.put("/v1/projects/60/options/k", r#"{"value":1}"#);
    assert_eq!((write.status, write.code()), (502, "origin_error"), "writes still try the origin and fail clearly");

    std::thread::sleep(Duration::from_millis(2_100));
    s.proxy.set(Fault::Pass);
    let probe = s.worker.get("/v1/projects/60/ownership");
    assert_eq!((probe.status, probe.cache.as_deref()), (200, Some("origin")), "the probe went through");
    assert_eq!(s.worker.get("/v1/stats").body["breaker_open"], json!(false));
}
