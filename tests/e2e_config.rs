//! End-to-end: a Worker deployed without its secrets fails closed, and what
//! the origin says in an error stays in the operator's log. The real Worker
//! under `wrangler dev` against the real reference origin.

mod support;

use support::fault_proxy::Fault;
use support::{root, Origin, Stack, Worker, ADMIN, ORIGIN_TOKEN, READ};

/// Every `/v1` route of the edge API, with a body where it takes one.
const V1_CALLS: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/v1/options", None),
    ("GET", "/v1/options/mail.host", None),
    ("PUT", "/v1/options/mail.host", Some(r#"{"value":"x"}"#)),
    ("DELETE", "/v1/options/mail.host", None),
    ("GET", "/v1/organizations/1/options", None),
    ("GET", "/v1/organizations/1/options/k", None),
    ("PUT", "/v1/organizations/1/options/k", Some(r#"{"value":1}"#)),
    ("DELETE", "/v1/organizations/1/options/k", None),
    ("GET", "/v1/projects/1/options", None),
    ("GET", "/v1/users/1/options?project=2", None),
    ("PUT", "/v1/users/1/options/k?organization=2", Some(r#"{"value":1}"#)),
    ("GET", "/v1/projects/1/ownership", None),
    ("PUT", "/v1/projects/1/ownership", Some(r#"{"raw":"path:a/* #t"}"#)),
    ("DELETE", "/v1/projects/1/ownership", None),
    ("POST", "/v1/projects/1/owners", Some(r#"{"request":{"url":"https://x"}}"#)),
    ("POST", "/v1/projects/1/event-hashes/last-processed", Some(r#"{"hash_ids":[1],"event_id":"e"}"#)),
    ("GET", "/v1/projects/1/event-hashes/last-processed?ids=1,2", None),
    ("GET", "/v1/whoami", None),
    ("GET", "/v1/stats", None),
    ("POST", "/v1/admin/sync", None),
    ("GET", "/v1/no-such-route", None),
];

#[test]
fn a_worker_without_its_secrets_refuses_every_v1_call_and_says_what_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let origin = Origin::start(dir.path());
    let worker = Worker::start_without_secrets(&origin.url(), dir.path(), &[]);

    let health = worker.call("GET", "/healthz", None, None);
    assert_eq!(health.status, 503, "{:?}", health.body);
    assert_eq!(health.body["ok"], false);
    assert_eq!(health.body["missing"], serde_json::json!(["READ_TOKEN", "ADMIN_TOKEN", "ORIGIN_TOKEN"]));

    for (method, path, body) in V1_CALLS {
        for token in [Some(ADMIN), Some(READ), Some("anything"), None] {
            let reply = worker.call(method, path, token, *body);
            assert_eq!(
                (reply.status, reply.code()),
                (503, "not_configured"),
                "{method} {path} {token:?}: {:?}",
                reply.body
            );
            let message = reply.body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("READ_TOKEN") && message.contains("ADMIN_TOKEN"), "{message}");
            assert!(!message.contains(ADMIN) && !message.contains(READ), "{message}");
        }
    }
    assert_eq!(origin.call("GET", "/_origin/stats", None).body["requests"], 0, "the origin was never called");
}

#[test]
fn without_the_origin_token_the_origin_is_never_called_and_stats_say_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let origin = Origin::start(dir.path());
    let tokens = [("READ_TOKEN", READ), ("ADMIN_TOKEN", ADMIN)];
    let worker = Worker::start_without_secrets(&origin.url(), dir.path(), &tokens);

    let health = worker.call("GET", "/healthz", None, None);
    assert_eq!((health.status, &health.body["missing"]), (503, &serde_json::json!(["ORIGIN_TOKEN"])));
    let read = worker.call("GET", "/v1/options/mail.host", Some(READ), None);
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!((read.body["source"].as_str(), read.body["degraded"].as_bool()), (Some("default"), Some(true)));
    let write = worker.call("PUT", "/v1/options/mail.host", Some(ADMIN), Some(r#"{"value":"x"}"#));
    assert_eq!((write.status, write.code()), (503, "unavailable"), "{:?}", write.body);
    assert_eq!(worker.call("GET", "/v1/whoami", Some("dev-origin-token"), None).status, 401);

    let stats = worker.call("GET", "/v1/stats", Some(READ), None);
    let problems = stats.body["config_problems"].to_string();
    assert!(problems.contains("ORIGIN_TOKEN is not set"), "{problems}");
    assert_eq!(origin.call("GET", "/_origin/stats", None).body["requests"], 0, "the origin was never called");
}

#[test]
fn what_the_origin_says_in_an_error_reaches_the_debug_log_and_not_the_caller() {
    let stack = Stack::start_behind_proxy(&[("DEBUG", "true")]);
    let w = &stack.worker;
    stack.proxy.set(Fault::Status500);
    let injected = "fault proxy: injected 500";

    let read = w.call("GET", "/v1/organizations/7/options", Some(READ), None);
    let write = w.call("PUT", "/v1/options/mail.host", Some(ADMIN), Some(r#"{"value":"x"}"#));
    assert_eq!((read.status, read.code()), (503, "unavailable"), "{:?}", read.body);
    assert_eq!((write.status, write.code()), (502, "origin_error"), "{:?}", write.body);
    for reply in [&read, &write] {
        let message = reply.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("status 500"), "the edge's own words say what happened: {message}");
        assert!(!reply.body.to_string().contains("injected"), "the origin's text leaked: {}", reply.body);
    }
    // The log lines are written after the answers; give them a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while w.log_text().matches(injected).count() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let log = w.log_text();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(injected)).collect();
    assert!(lines.len() >= 2, "the DEBUG lines carry the origin's text as detail:\n{}", w.log_tail());
    assert!(lines.iter().all(|l| l.contains("\"detail\"")), "{lines:?}");
    assert!(!log.contains(ADMIN) && !log.contains(ORIGIN_TOKEN), "no token in the log");
}

#[test]
fn the_built_worker_holds_no_development_token() {
    let wasm = std::fs::read(root().join("build/index_bg.wasm")).expect("build/index_bg.wasm (scripts/test builds it)");
    let js = std::fs::read(root().join("build/index.js")).expect("build/index.js");
    for token in ["dev-read-token", "dev-admin-token", "dev-origin-token"] {
        for (name, bytes) in [("index_bg.wasm", &wasm), ("index.js", &js)] {
            let found = bytes.windows(token.len()).any(|w| w == token.as_bytes());
            assert!(!found, "build/{name} contains {token:?}");
        }
    }
}
