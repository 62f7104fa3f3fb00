//! The Rust Worker example (examples/rust-worker: a Worker of its own that
//! embeds the crate with the `worker` feature through `embed::EdgeOptions`),
//! built with worker-build (scripts/build-example) and run under `wrangler
//! dev` against the real origin: its own routes answer from its own isolate
//! cache, owners of a posted event come from the project's rules, errors
//! carry the core's codes.

mod support;

use serde_json::json;
use support::{call, root, Origin, Worker, ORIGIN_TOKEN};

#[test]
fn the_embedding_rust_worker_answers_its_routes_from_its_own_isolate_cache() {
    let config = root().join("examples/rust-worker/wrangler.toml");
    let built = root().join("examples/rust-worker/build/index_bg.wasm");
    assert!(built.exists(), "the example is not built: run scripts/build-example (scripts/test does)");
    let dir = tempfile::tempdir().expect("temp dir");
    let origin = Origin::start(dir.path());
    let worker = Worker::start_config(&config, &origin.url(), dir.path(), &[("ORIGIN_TOKEN", ORIGIN_TOKEN)]);
    let get = |path: &str| call("GET", &format!("{}{path}", worker.url()), None, None);
    let send = |method: &str, path: &str, body: &serde_json::Value| {
        call(method, &format!("{}{path}", worker.url()), None, Some(&body.to_string()))
    };

    let health = get("/healthz");
    assert_eq!(health.body["problems"], json!([]), "{}", health.body);

    // Written behind the Worker, as another service would: the first read
    // asks the origin, the second is this isolate's memory.
    assert_eq!(origin.call("PUT", "/options/mail.from", Some(r#"{"value":"help@example.com"}"#)).status, 200);
    let first = get("/greeting");
    assert_eq!(first.status, 200, "{}\n{}", first.body, worker.log_tail());
    assert_eq!(first.body["greeting"], "Hello! Write to us at help@example.com.");
    assert_eq!(first.body["source"], "origin", "{}", first.body);
    let second = get("/greeting");
    assert_eq!(second.body["source"], "local", "{}", second.body);
    assert_eq!(second.body["option"]["version"], first.body["option"]["version"]);
    assert_eq!(origin.count("GET /options/{name}"), 1, "the second read cost the origin nothing");

    // The config tier of the example's own wrangler.toml.
    let config_value = get("/options/mail.subject-prefix");
    assert_eq!(
        (config_value.body["source"].as_str(), config_value.body["value"].as_str()),
        (Some("config"), Some("[Example] "))
    );

    // Writes: origin first, then this isolate's memory.
    let written = send("PUT", "/options/mail.host", &json!({ "value": "smtp.example.com" }));
    assert_eq!(written.status, 200, "{}", written.body);
    assert_eq!(written.body["cache_updated"], true);
    let read = get("/options/mail.host");
    assert_eq!((read.body["source"].as_str(), read.body["value"].as_str()), (Some("local"), Some("smtp.example.com")));
    assert_eq!(origin.call("GET", "/options/mail.host", None).body["value"], "smtp.example.com");

    // Typed errors, with the edge API's codes and statuses.
    let wrong = send("PUT", "/options/mail.port", &json!({ "value": "twenty-five" }));
    assert_eq!((wrong.status, wrong.code()), (400, "invalid_type"), "{}", wrong.body);
    let immutable = send("PUT", "/options/system.install-id", &json!({ "value": "x" }));
    assert_eq!((immutable.status, immutable.code()), (403, "immutable"));
    let unknown = get("/options/no.such.option");
    assert_eq!((unknown.status, unknown.code()), (404, "unknown_option"));

    // Owners of a posted event, under rules written at the origin.
    let rules = r#"{"raw":"path:src/api/* #backend\nurl:*/admin/* ops@example.com","auto_assignment":true}"#;
    assert_eq!(origin.call("PUT", "/projects/7/ownership", Some(rules)).status, 200);
    let event = json!({
        "stacktrace": { "frames": [{ "filename": "src/api/views.py" }] },
        "request": { "url": "https://example.com/admin/users" },
    });
    let owners = send("POST", "/projects/7/triage", &event);
    assert_eq!(owners.status, 200, "{}", owners.body);
    assert_eq!(
        owners.body["owners"],
        json!([{ "type": "team", "identifier": "backend" }, { "type": "user", "identifier": "ops@example.com" }])
    );
    assert_eq!(owners.body["auto_assign"], json!({ "type": "user", "identifier": "ops@example.com" }));
    assert_eq!(owners.body["source"], "origin");
    let again = send("POST", "/projects/7/triage", &json!({ "tags": { "level": "info" } }));
    assert_eq!((again.body["owners"].as_str(), again.body["source"].as_str()), (Some("everyone"), Some("local")));
    let no_rules = send("POST", "/projects/8/triage", &event);
    assert_eq!(no_rules.body["owners"], "everyone", "a project without rules falls through");
    let bad = send("POST", "/projects/abc/triage", &event);
    assert_eq!((bad.status, bad.code()), (400, "invalid_id"));

    let stats = get("/stats");
    assert!(stats.body["hits_local"].as_u64().unwrap_or(0) >= 3, "{}", stats.body);
}
