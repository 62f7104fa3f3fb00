//! End-to-end: scoped option maps through the real Worker and origin.

mod support;

use serde_json::json;
use support::{Stack, ADMIN};

#[test]
fn map_write_is_read_back_whole_and_by_key_through_every_tier() {
    let mut s = Stack::start();
    let put = s.worker.put("/v1/organizations/42/options/sentry:theme", r#"{"value":"dark"}"#);
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!((put.body["key"].clone(), put.body["cache_updated"].clone()), (json!("sentry:theme"), json!(true)));
    assert_eq!(s.worker.put("/v1/organizations/42/options/limits", r#"{"value":{"rate":5}}"#).status, 200);

    let whole = s.worker.get("/v1/organizations/42/options");
    assert_eq!(whole.body["values"], json!({"sentry:theme": "dark", "limits": {"rate": 5}}));
    assert_eq!(whole.cache.as_deref(), Some("local"));
    let one = s.worker.get("/v1/organizations/42/options/limits");
    assert_eq!((one.body["value"].clone(), one.body["source"].clone()), (json!({"rate": 5}), json!("local")));
    let unset = s.worker.get("/v1/organizations/42/options/nope");
    assert_eq!((unset.status, unset.body["value"].clone()), (200, json!(null)));

    s.new_isolate();
    assert_eq!(s.worker.get("/v1/organizations/42/options/limits").cache.as_deref(), Some("kv"));
    let gets = s.origin.count("GET /organizations/{id}/options");
    assert_eq!(gets, 0, "the edge never had to read the map from the origin");
}

#[test]
fn the_five_scopes_never_share_values() {
    let s = Stack::start();
    let scopes = [
        "/v1/organizations/7/options",
        "/v1/projects/7/options",
        "/v1/users/7/options",
        "/v1/users/7/options?project=7",
        "/v1/users/7/options?organization=7",
    ];
    for (n, base) in scopes.iter().enumerate() {
        let (path, query) = base.split_once('?').map_or((*base, ""), |(p, q)| (p, q));
        let url = if query.is_empty() { format!("{path}/k") } else { format!("{path}/k?{query}") };
        assert_eq!(s.worker.put(&url, &format!(r#"{{"value":{n}}}"#)).status, 200, "{url}");
    }
    for (n, base) in scopes.iter().enumerate() {
        assert_eq!(s.worker.get(base).body["values"], json!({"k": n}), "{base}");
    }
    let origin_view = s.origin.call("GET", "/users/7/options?organization=7", None);
    assert_eq!(origin_view.body["values"], json!({"k": 4}));
}

#[test]
fn delete_reloads_the_map_and_unsetting_an_unset_key_succeeds() {
    let s = Stack::start();
    s.worker.put("/v1/projects/3/options/a", r#"{"value":1}"#);
    s.worker.put("/v1/projects/3/options/b", r#"{"value":2}"#);
    let deleted = s.worker.call("DELETE", "/v1/projects/3/options/a", Some(ADMIN), None);
    assert_eq!((deleted.status, deleted.body["cache_updated"].clone()), (200, json!(true)));
    assert_eq!(s.worker.get("/v1/projects/3/options").body["values"], json!({"b": 2}));
    let again = s.worker.call("DELETE", "/v1/projects/3/options/a", Some(ADMIN), None);
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(s.worker.get("/v1/projects/3/options/a").body["value"], json!(null));
}

#[test]
fn bad_ids_scopes_keys_and_bodies_are_clear_4xx() {
    let s = Stack::start();
    let cases = [
        ("GET", "/v1/users/1/options?project=2&organization=3", None, 400, "invalid_scope"),
        ("GET", "/v1/organizations/0/options", None, 400, "invalid_id"),
        ("GET", "/v1/projects/-4/options", None, 400, "invalid_id"),
        ("GET", "/v1/projects/99999999999999999999/options", None, 400, "invalid_id"),
        ("GET", "/v1/users/abc/options", None, 400, "invalid_id"),
        ("PUT", "/v1/projects/1/options/k", Some(r#"{"value":null}"#), 400, "invalid_type"),
        ("PUT", "/v1/projects/1/options/k", Some("{"), 400, "invalid_body"),
        ("POST", "/v1/projects/1/options", None, 405, "method_not_allowed"),
    ];
    for (method, path, body, status, code) in cases {
        let reply = s.worker.call(method, path, Some(ADMIN), body);
        assert_eq!((reply.status, reply.code()), (status, code), "{method} {path}");
    }
    let long_key = format!("/v1/projects/1/options/{}", "k".repeat(2000));
    assert_eq!(s.worker.put(&long_key, r#"{"value":1}"#).code(), "invalid_body");
    let reader = s.worker.call("PUT", "/v1/projects/1/options/k", Some(support::READ), Some(r#"{"value":1}"#));
    assert_eq!(reader.code(), "forbidden");
}

#[test]
fn origin_down_serves_the_cached_map_and_refuses_writes() {
    let mut s = Stack::start();
    s.worker.put("/v1/projects/5/options/a", r#"{"value":"kept"}"#);
    s.origin.stop();
    assert_eq!(s.worker.get("/v1/projects/5/options/a").body["value"], json!("kept"));
    let write = s.worker.put("/v1/projects/5/options/a", r#"{"value":"lost"}"#);
    assert_eq!((write.status, write.code()), (503, "unavailable"));
    let never_cached = s.worker.get("/v1/projects/6/options");
    assert_eq!((never_cached.status, never_cached.code()), (503, "unavailable"), "{:?}", never_cached.body);
}

#[test]
fn sync_brings_map_and_ownership_changes_made_at_the_origin_to_readers() {
    let mut s = Stack::start();
    s.worker.put("/v1/projects/8/options/a", r#"{"value":"edge"}"#);
    assert_eq!(s.worker.get("/v1/projects/8/ownership").body["ownership"], json!(null));
    s.origin.call("PUT", "/projects/8/options/a", Some(r#"{"value":"origin"}"#));
    s.origin.call("PUT", "/projects/8/ownership", Some(r#"{"raw":"path:src/* #backend"}"#));
    s.new_isolate();
    assert_eq!(s.worker.get("/v1/projects/8/options/a").body["value"], json!("edge"), "KV is behind before sync");
    assert_eq!(s.worker.get("/v1/projects/8/ownership").body["ownership"], json!(null));

    let sync = s.worker.call("POST", "/v1/admin/sync", Some(ADMIN), None);
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    assert!(sync.body["maps"].as_u64() >= Some(1) && sync.body["ownership"].as_u64() >= Some(1), "{:?}", sync.body);

    s.new_isolate();
    let map = s.worker.get("/v1/projects/8/options/a");
    assert_eq!((map.body["value"].clone(), map.cache.as_deref()), (json!("origin"), Some("kv")));
    let own = s.worker.get("/v1/projects/8/ownership");
    assert_eq!(
        (own.body["ownership"]["raw"].clone(), own.cache.as_deref()),
        (json!("path:src/* #backend"), Some("kv"))
    );
}
