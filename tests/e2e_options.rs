//! End-to-end: the real Worker under `wrangler dev` against the real
//! reference origin, driven over HTTP as a user would (options; openapi/edge.yaml).

mod support;

use serde_json::json;
use support::{Stack, ADMIN, READ};

#[test]
fn health_needs_no_token_and_every_v1_call_needs_a_valid_one() {
    let s = Stack::start();
    let w = &s.worker;
    let health = w.call("GET", "/healthz", None, None);
    assert_eq!((health.status, &health.body), (200, &json!({"ok": true})));
    for token in [None, Some("wrong"), Some("")] {
        let reply = w.call("GET", "/v1/options", token, None);
        assert_eq!((reply.status, reply.code()), (401, "unauthorized"), "{token:?}");
    }
    assert_eq!(w.call("GET", "/v1/options", Some(READ), None).status, 200);
    assert_eq!(w.call("GET", "/v1/options", Some(ADMIN), None).status, 200);
    assert_eq!(w.call("GET", "/v1/whoami", Some(READ), None).body, json!({"access": "read"}));
    assert_eq!(w.call("GET", "/v1/whoami", Some(ADMIN), None).body, json!({"access": "admin"}));
    assert_eq!(w.call("GET", "/v1/whoami", None, None).status, 401);
    let forbidden = w.call("PUT", "/v1/options/mail.host", Some(READ), Some(r#"{"value":"x"}"#));
    assert_eq!((forbidden.status, forbidden.code()), (403, "forbidden"));
}

#[test]
fn registry_lists_every_option_with_credential_defaults_hidden_from_readers() {
    let s = Stack::start();
    let listing = s.worker.get("/v1/options");
    let options = listing.body.as_array().expect("a list");
    assert!(options.len() >= 10);
    let types: std::collections::BTreeSet<_> = options.iter().filter_map(|o| o["type"].as_str()).collect();
    for ty in ["string", "int", "float", "bool", "sequence", "mapping"] {
        assert!(types.contains(ty), "no {ty} option listed");
    }
    for field in ["name", "type", "default", "flags", "ttl", "grace"] {
        assert!(options.iter().all(|o| o.get(field).is_some()), "an option lacks {field}");
    }
    let secret = options.iter().find(|o| o["name"] == "mail.password").expect("mail.password");
    assert_eq!(secret["default"], json!(null), "credential default shown to the read token");
}

#[test]
fn unset_option_answers_its_default_and_absence_is_cached() {
    let s = Stack::start();
    let first = s.worker.get("/v1/options/mail.port");
    assert_eq!(first.status, 200);
    assert_eq!((first.body["value"].clone(), first.cache.as_deref()), (json!(25), Some("default")));
    assert_eq!(first.body["source"], "default");
    assert_eq!(first.body["degraded"], false);
    assert_eq!(s.origin.count("GET /options/{name}"), 1);
    let second = s.worker.get("/v1/options/mail.port");
    assert_eq!(second.body["lookup"], "local", "absent served from isolate memory");
    assert_eq!(s.origin.count("GET /options/{name}"), 1, "the negative cache spared the origin");
}

#[test]
fn written_value_is_read_back_from_memory_then_kv_then_origin() {
    let mut s = Stack::start();
    let written = s.worker.put("/v1/options/mail.host", r#"{"value":"smtp.example.com"}"#);
    assert_eq!(written.status, 200, "{:?}", written.body);
    assert_eq!(
        (written.body["value"].clone(), written.body["cache_updated"].clone()),
        (json!("smtp.example.com"), json!(true))
    );

    let local = s.worker.get("/v1/options/mail.host");
    assert_eq!((local.body["value"].clone(), local.cache.as_deref()), (json!("smtp.example.com"), Some("local")));

    s.new_isolate();
    let kv = s.worker.get("/v1/options/mail.host");
    assert_eq!((kv.body["value"].clone(), kv.cache.as_deref()), (json!("smtp.example.com"), Some("kv")));

    // A value the edge has never seen, written straight to the origin.
    let direct = s.origin.call("PUT", "/options/mail.from", Some(r#"{"value":"ops@example.com"}"#));
    assert_eq!(direct.status, 200);
    let origin = s.worker.get("/v1/options/mail.from");
    assert_eq!((origin.body["value"].clone(), origin.cache.as_deref()), (json!("ops@example.com"), Some("origin")));
    assert_eq!(origin.body["version"], direct.body["version"]);
}

#[test]
fn deleted_option_reads_its_default_again_without_asking_the_origin() {
    let s = Stack::start();
    assert_eq!(s.worker.put("/v1/options/mail.use-tls", r#"{"value":true}"#).status, 200);
    assert_eq!(s.worker.get("/v1/options/mail.use-tls").body["value"], json!(true));
    let deleted = s.worker.call("DELETE", "/v1/options/mail.use-tls", Some(ADMIN), None);
    assert_eq!((deleted.status, deleted.body["cache_updated"].clone()), (200, json!(true)));
    let gets = s.origin.count("GET /options/{name}");
    let after = s.worker.get("/v1/options/mail.use-tls");
    assert_eq!((after.body["value"].clone(), after.cache.as_deref()), (json!(false), Some("default")));
    assert_eq!(s.origin.count("GET /options/{name}"), gets);
    assert_eq!(s.origin.call("GET", "/options/mail.use-tls", None).status, 404);
}

#[test]
fn type_errors_and_flag_refusals_are_clear_and_change_nothing() {
    let s = Stack::start();
    let cases = [
        ("/v1/options/mail.port", r#"{"value":"twenty-five"}"#, 400, "invalid_type"),
        ("/v1/options/mail.port", r#"{"value":2.5}"#, 400, "invalid_type"),
        ("/v1/options/mail.port", r#"{"value":null}"#, 400, "invalid_type"),
        ("/v1/options/system.allowed-hosts", r#"{"value":"*"}"#, 400, "invalid_type"),
        ("/v1/options/system.install-id", r#"{"value":"x"}"#, 403, "immutable"),
        ("/v1/options/system.debug", r#"{"value":true}"#, 403, "nostore"),
        ("/v1/options/no.such.option", r#"{"value":1}"#, 404, "unknown_option"),
    ];
    for (path, body, status, code) in cases {
        let reply = s.worker.put(path, body);
        assert_eq!((reply.status, reply.code()), (status, code), "PUT {path} {body}");
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    for (path, status, code) in
        [("/v1/options/system.install-id", 403, "immutable"), ("/v1/options/system.debug", 403, "nostore")]
    {
        let reply = s.worker.call("DELETE", path, Some(ADMIN), None);
        assert_eq!((reply.status, reply.code()), (status, code));
    }
    assert_eq!(
        s.origin.count("PUT /options/{name}") + s.origin.count("DELETE /options/{name}"),
        0,
        "nothing reached the origin"
    );
    let ok = s.worker.put("/v1/options/store.sample-rate", r#"{"value":1}"#);
    assert_eq!(ok.status, 200, "an integer is a valid float: {:?}", ok.body);
}

#[test]
fn malformed_and_oversized_input_gets_a_4xx_never_a_500() {
    let s = Stack::start();
    let w = &s.worker;
    let long_name = "n".repeat(20_000);
    let bodies = ["", "{", "[]", "null", r#"{"valu":1}"#, "\u{0}", r#"{"value":"\ud800"}"#, "{\"value\": 1e999999}"];
    for body in bodies {
        let reply = w.put("/v1/options/mail.host", body);
        assert!((400..500).contains(&reply.status), "{body:?} -> {} {:?}", reply.status, reply.body);
    }
    let huge = format!(r#"{{"value":"{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let reply = w.put("/v1/options/mail.host", &huge);
    assert_eq!((reply.status, reply.code()), (413, "too_large"));
    let nested = format!(r#"{{"value":{}{}}}"#, "[".repeat(50_000), "]".repeat(50_000));
    assert_eq!(w.put("/v1/options/symbolicator.options", &nested).status, 400);
    for path in [
        format!("/v1/options/{long_name}"),
        "/v1/options/%FF%FE".to_string(),
        "/v1/options/%".to_string(),
        "/v1/options/%E2%9C%93%F0%9F%99%82".to_string(),
        "/v1/options/a/b/c".to_string(),
        "/v1/nothing".to_string(),
    ] {
        for method in ["GET", "PUT", "DELETE", "POST"] {
            let reply = w.call(method, &path, Some(ADMIN), Some(r#"{"value":"x"}"#));
            assert!((400..500).contains(&reply.status), "{method} {} -> {}", &path[..path.len().min(60)], reply.status);
            assert!(reply.body["error"]["code"].is_string());
        }
    }
    assert_eq!(w.get("/v1/options/mail.host").body["value"], json!("localhost"), "nothing was stored");
}

#[test]
fn origin_down_fresh_values_still_served_writes_refused_and_nothing_changed() {
    let mut s = Stack::start();
    assert_eq!(s.worker.put("/v1/options/mail.host", r#"{"value":"before"}"#).status, 200);
    s.origin.stop();

    let read = s.worker.get("/v1/options/mail.host");
    assert_eq!((read.status, read.body["value"].clone(), read.cache.as_deref()), (200, json!("before"), Some("local")));

    let write = s.worker.put("/v1/options/mail.host", r#"{"value":"after"}"#);
    assert_eq!((write.status, write.code()), (503, "unavailable"), "{:?}", write.body);
    let delete = s.worker.call("DELETE", "/v1/options/mail.host", Some(ADMIN), None);
    assert_eq!((delete.status, delete.code()), (503, "unavailable"));
    assert_eq!(
        s.worker.get("/v1/options/mail.host").body["value"],
        json!("before"),
        "the failed write changed nothing"
    );

    s.origin.restart();
    let write = s.worker.put("/v1/options/mail.host", r#"{"value":"after"}"#);
    assert_eq!(write.status, 200, "writes work again: {:?}", write.body);
    assert_eq!(s.worker.get("/v1/options/mail.host").body["value"], json!("after"));
    assert_eq!(s.origin.call("GET", "/options/mail.host", None).body["value"], json!("after"));
}

#[test]
fn origin_down_with_nothing_cached_answers_the_default_marked_degraded() {
    let mut s = Stack::start_with(&[("OPTIONS_CONFIG", r#"{"mail.from":"config@example.com"}"#)]);
    s.origin.stop();
    let port = s.worker.get("/v1/options/mail.port");
    assert_eq!((port.status, port.body["value"].clone(), port.cache.as_deref()), (200, json!(25), Some("default")));
    assert_eq!(port.body["degraded"], json!(true));
    let from = s.worker.get("/v1/options/mail.from");
    assert_eq!(
        (from.body["value"].clone(), from.cache.as_deref(), from.body["degraded"].clone()),
        (json!("config@example.com"), Some("config"), json!(true))
    );
    let stats = s.worker.get("/v1/stats");
    assert!(stats.body["origin_errors"].as_u64().unwrap_or(0) >= 2, "{:?}", stats.body);
}

#[test]
fn config_tier_answers_unset_options_and_bad_config_values_are_reported() {
    let s = Stack::start_with(&[(
        "OPTIONS_CONFIG",
        r#"{"mail.host":"config.example.com","mail.port":"not-a-number","system.latest-version":"9.9"}"#,
    )]);
    let host = s.worker.get("/v1/options/mail.host");
    assert_eq!((host.body["value"].clone(), host.cache.as_deref()), (json!("config.example.com"), Some("config")));
    let port = s.worker.get("/v1/options/mail.port");
    assert_eq!(
        (port.body["value"].clone(), port.cache.as_deref()),
        (json!(25), Some("default")),
        "the bad config value was dropped"
    );
    let storeonly = s.worker.get("/v1/options/system.latest-version");
    assert_eq!(storeonly.cache.as_deref(), Some("default"), "storeonly ignores config");
    let problems = s.worker.get("/v1/stats").body["config_problems"].clone();
    assert!(
        problems.as_array().is_some_and(|p| p.iter().any(|m| m.as_str().is_some_and(|m| m.contains("mail.port")))),
        "{problems:?}"
    );
    assert_eq!(s.worker.put("/v1/options/mail.host", r#"{"value":"stored.example.com"}"#).status, 200);
    assert_eq!(
        s.worker.get("/v1/options/mail.host").body["value"],
        json!("stored.example.com"),
        "the store wins over config"
    );
}

#[test]
fn credential_values_are_shown_only_to_the_admin_token() {
    let s = Stack::start();
    assert_eq!(s.worker.put("/v1/options/system.root-api-key", r#"{"value":"s3cr3t-value"}"#).status, 200);
    let reader = s.worker.get("/v1/options/system.root-api-key");
    assert_eq!(
        (reader.status, reader.body["value"].clone(), reader.body["redacted"].clone()),
        (200, json!(null), json!(true))
    );
    assert!(!reader.body.to_string().contains("s3cr3t-value"));
    let admin = s.worker.call("GET", "/v1/options/system.root-api-key", Some(ADMIN), None);
    assert_eq!(admin.body["value"], json!("s3cr3t-value"));
}

#[test]
fn sync_rewrites_kv_with_values_changed_behind_the_edge() {
    let mut s = Stack::start();
    assert_eq!(s.worker.put("/v1/options/mail.host", r#"{"value":"via-edge"}"#).status, 200);
    assert_eq!(s.origin.call("PUT", "/options/mail.host", Some(r#"{"value":"via-origin"}"#)).status, 200);
    s.new_isolate();
    assert_eq!(s.worker.get("/v1/options/mail.host").body["value"], json!("via-edge"), "KV is behind before the sync");
    let sync = s.worker.call("POST", "/v1/admin/sync", Some(ADMIN), None);
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    assert!(sync.body["synced"].as_u64().unwrap_or(0) >= 1);
    s.new_isolate();
    let read = s.worker.get("/v1/options/mail.host");
    assert_eq!((read.body["value"].clone(), read.cache.as_deref()), (json!("via-origin"), Some("kv")));
    assert_eq!(s.worker.call("POST", "/v1/admin/sync", Some(READ), None).status, 403);
}

#[test]
fn stats_count_each_tier_and_debug_writes_one_log_line_per_request() {
    let s = Stack::start_with(&[("DEBUG", "1")]);
    let w = &s.worker;
    w.get("/v1/options/mail.port"); // origin: absent
    w.get("/v1/options/mail.port"); // local: absent
    w.put("/v1/options/mail.host", r#"{"value":"h"}"#);
    w.get("/v1/options/mail.host"); // local
    let stats = w.get("/v1/stats").body;
    assert_eq!(stats["hits_origin"], json!(1), "{stats}");
    assert_eq!(stats["hits_local"], json!(2), "{stats}");
    assert_eq!(stats["negative_hits"], json!(2), "{stats}");
    assert_eq!(stats["misses"], json!(1), "{stats}");
    assert_eq!(stats["entries"], json!(2), "{stats}");
    assert!(stats["bytes"].as_u64().unwrap_or(0) > 0);
    assert!(stats["max_entries"].as_u64().unwrap_or(0) > 0);

    // The log line is written as the request ends; give wrangler a moment to flush it.
    let mut log = String::new();
    for _ in 0..50 {
        log = w.log_tail();
        if log.contains("\"x_cache\":\"local\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let line =
        log.lines().find(|l| l.contains("\"path\":\"/v1/options/mail.host\"") && l.contains("\"x_cache\":\"local\""));
    assert!(line.is_some(), "no structured log line for the local hit:\n{log}");
    assert!(!log.contains("dev-admin-token") && !log.contains("dev-read-token"), "a token reached the log");
}

#[test]
fn methods_the_api_does_not_know_are_405_not_read_as_get() {
    let s = Stack::start();
    for method in ["QUERY", "PROPFIND", "PATCH"] {
        for path in ["/v1/options", "/v1/options/mail.host", "/healthz"] {
            let reply = s.worker.call(method, path, Some(ADMIN), None);
            assert_eq!((reply.status, reply.code()), (405, "method_not_allowed"), "{method} {path}: {:?}", reply.body);
        }
    }
}
