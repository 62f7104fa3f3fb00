//! End-to-end: the sync job under `wrangler dev` against the real origin,
//! with a small budget. More changes than one run may write are made
//! straight at the origin; consecutive `POST /v1/admin/sync` runs repair
//! them all, each within its budget, continuing from the cursor in KV, and
//! a second full pass writes nothing new.

mod support;

use serde_json::{json, Value};
use support::{ProxiedStack, Stack, ADMIN};

/// `SYNC_MAX_KV_OPS` of the Worker under test: at most 5 changes a run
/// beside the cursor and the snapshot (its head and part read and written).
const KV_BUDGET: u64 = 12;
/// `SYNC_MAX_ORIGIN_CALLS` of the Worker under test.
const ORIGIN_BUDGET: u64 = 3;
/// Options written through the edge, then changed behind it.
const OPTIONS: usize = 30;

/// Runs the sync until a run says nothing is left; checks every run's
/// budget and answers the reports.
fn sync_to_the_end(s: &ProxiedStack) -> Vec<Value> {
    let mut reports = Vec::new();
    loop {
        let reply = s.worker.call("POST", "/v1/admin/sync", Some(ADMIN), None);
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let report = reply.body;
        let kv_ops = report["kv_ops"].as_u64().expect("kv_ops");
        assert!((1..=KV_BUDGET).contains(&kv_ops), "a run made {kv_ops} KV operations: {report}");
        let calls = report["origin_calls"].as_u64().expect("origin_calls");
        assert!(calls <= ORIGIN_BUDGET, "a run made {calls} origin calls: {report}");
        assert_eq!(report["failed"], 0, "{report}");
        let more = report["more"].as_bool().expect("more");
        reports.push(report);
        if !more {
            return reports;
        }
        assert!(reports.len() < 40, "the sync never ends: {reports:?}");
    }
}

fn sum(reports: &[Value], field: &str) -> u64 {
    reports.iter().filter_map(|r| r[field].as_u64()).sum()
}

/// The raw KV texts of `keys`, as the local KV holds them.
fn kv_get(s: &ProxiedStack, keys: &[String]) -> Value {
    let out = s.wrangler_kv(&["bulk", "get"], Some(&json!(keys)));
    let start = out.find('{').unwrap_or_else(|| panic!("no JSON from wrangler kv bulk get:\n{out}"));
    serde_json::Deserializer::from_str(&out[start..])
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("unreadable wrangler kv bulk get output:\n{out}"))
}

#[test]
fn sync_repairs_more_changes_than_one_run_may_write_over_consecutive_runs_within_its_budget() {
    let s = Stack::start_behind_proxy(&[
        ("SYNC_MAX_KV_OPS", &KV_BUDGET.to_string()),
        ("SYNC_MAX_ORIGIN_CALLS", &ORIGIN_BUDGET.to_string()),
        // Names under `e2e.` are stored options with ttl 0: every read
        // passes isolate memory by and shows what KV holds.
        ("LEGACY_PREFIXES", "e2e."),
    ]);
    for i in 0..OPTIONS {
        let put = s.worker.put(&format!("/v1/options/e2e.{i}"), &json!({ "value": format!("old-{i}") }).to_string());
        assert_eq!((put.status, put.body["cache_updated"].clone()), (200, json!(true)), "{:?}", put.body);
    }
    // Behind the edge: every option changes, and maps and ownership records appear.
    let mut versions = Vec::new();
    for i in 0..OPTIONS {
        let body = json!({ "value": format!("new-{i}") }).to_string();
        let put = s.origin.call("PUT", &format!("/options/e2e.{i}"), Some(&body));
        assert_eq!(put.status, 200, "{:?}", put.body);
        versions.push(put.body["version"].as_u64().expect("a version"));
    }
    let mut kinds = Vec::new();
    for p in [1, 2] {
        let map = s.origin.call("PUT", &format!("/projects/{p}/options/k"), Some(r#"{"value": "m"}"#));
        let own = s.origin.call("PUT", &format!("/projects/{p}/ownership"), Some(r#"{"raw": "path:* #t"}"#));
        assert_eq!((map.status, own.status), (200, 200));
        kinds.push((format!("map:proj:{p}"), map.body["version"].clone()));
        kinds.push((format!("own:{p}"), own.body["version"].clone()));
    }
    let changes = (OPTIONS + kinds.len()) as u64;
    let stale = s.worker.get("/v1/options/e2e.0");
    assert_eq!((stale.body["value"].clone(), stale.cache.as_deref()), (json!("old-0"), Some("kv")), "KV is behind");

    let reports = sync_to_the_end(&s);
    assert!(reports.len() >= 4, "{changes} changes at most 9 a run cannot take fewer runs: {reports:?}");
    assert_eq!(sum(&reports, "synced"), changes, "every change written once: {reports:?}");
    for window in reports.windows(2) {
        assert!(window[1]["cursor"].as_u64() > window[0]["cursor"].as_u64(), "each run continues: {reports:?}");
    }

    // A fresh read of every option answers the new value from KV.
    for (i, version) in versions.iter().enumerate() {
        let read = s.worker.get(&format!("/v1/options/e2e.{i}"));
        assert_eq!(
            (read.body["value"].clone(), read.cache.as_deref(), read.body["version"].as_u64()),
            (json!(format!("new-{i}")), Some("kv"), Some(*version)),
            "e2e.{i}: {:?}",
            read.body
        );
    }
    // Maps and ownership records are in KV at the origin's versions.
    let keys: Vec<String> = kinds.iter().map(|(k, _)| k.clone()).collect();
    let held = kv_get(&s, &keys);
    for (key, version) in &kinds {
        let text = held[key]["value"].as_str().unwrap_or_else(|| panic!("KV has no {key}: {held}"));
        let envelope: Value = serde_json::from_str(text).expect("an envelope");
        assert_eq!(&envelope["version"], version, "{key}: {text}");
    }

    // Nothing left: a run reads the cursor and the snapshot (head and its
    // one part) and rewrites the snapshot's head (the time the origin last
    // confirmed it).
    let idle = s.worker.call("POST", "/v1/admin/sync", Some(ADMIN), None).body;
    assert_eq!(
        (idle["synced"].clone(), idle["kv_ops"].clone(), idle["more"].clone()),
        (json!(0), json!(4), json!(false)),
        "{idle}"
    );
    let snapshot: Value = serde_json::from_str(&s.wrangler_kv(&["key", "get", "sync:snapshot"], None)).expect("a head");
    assert_eq!((&snapshot["complete"], &snapshot["parts"]), (&json!(true), &json!(1)), "{snapshot}");
    assert!(snapshot["entries"].as_u64() >= Some(OPTIONS as u64), "every option is in the snapshot: {snapshot}");

    // A second full pass (the cursor garbled) writes nothing new.
    s.wrangler_kv(&["key", "put", "sync:cursor", "not a cursor"], None);
    let again = sync_to_the_end(&s);
    assert_eq!(sum(&again, "synced"), 0, "{again:?}");
    assert_eq!(sum(&again, "skipped"), changes, "every change found in KV already: {again:?}");
    let problems = again[0]["problems"].to_string();
    assert!(problems.contains("cursor") && problems.contains("unreadable"), "{problems}");
    assert_eq!(again.last().map(|r| r["cursor"].clone()), reports.last().map(|r| r["cursor"].clone()));
}
