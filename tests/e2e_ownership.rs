//! End-to-end: project ownership, its negative cache, and owners of events.

mod support;

use serde_json::json;
use support::{Stack, ADMIN, READ};

const RULES: &str = "# who owns what\npath:src/app/* #backend alice@example.com\nurl:https://example.com/checkout/* #web\nmodule:app.billing.* #billing\ntags.browser:Firefox #frontend\npath:*.js bob@example.com\n";

fn put_rules(s: &Stack, project: u64, extra: &str) -> support::Reply {
    let body = json!({ "raw": RULES }).to_string();
    let body = if extra.is_empty() { body } else { format!("{},{extra}}}", &body[..body.len() - 1]) };
    s.worker.put(&format!("/v1/projects/{project}/ownership"), &body)
}

#[test]
fn project_without_ownership_costs_the_origin_one_call() {
    let mut s = Stack::start();
    let first = s.worker.get("/v1/projects/11/ownership");
    assert_eq!(
        (first.status, first.body["ownership"].clone(), first.cache.as_deref()),
        (200, json!(null), Some("origin"))
    );
    let second = s.worker.get("/v1/projects/11/ownership");
    assert_eq!(second.cache.as_deref(), Some("local"));
    s.new_isolate();
    let third = s.worker.get("/v1/projects/11/ownership");
    assert_eq!((third.body["ownership"].clone(), third.cache.as_deref()), (json!(null), Some("kv")));
    assert_eq!(s.origin.count("GET /projects/{id}/ownership"), 1, "absence was cached in memory and KV");
}

#[test]
fn stored_rules_come_back_parsed_and_delete_caches_absence() {
    let s = Stack::start();
    let put = put_rules(&s, 12, r#""auto_assignment":true"#);
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["cache_updated"], json!(true));
    assert_eq!(put.body["auto_assignment"], json!(true));
    let rules = put.body["schema"]["rules"].as_array().expect("schema rules");
    assert_eq!(rules.len(), 5);
    assert_eq!(rules[0]["matcher"], json!({"type": "path", "pattern": "src/app/*"}));
    assert_eq!(
        rules[0]["owners"],
        json!([{"type": "team", "identifier": "backend"}, {"type": "user", "identifier": "alice@example.com"}])
    );

    let read = s.worker.get("/v1/projects/12/ownership");
    assert_eq!((read.body["ownership"]["raw"].clone(), read.cache.as_deref()), (json!(RULES), Some("local")));

    let deleted = s.worker.call("DELETE", "/v1/projects/12/ownership", Some(ADMIN), None);
    assert_eq!((deleted.status, deleted.body["cache_updated"].clone()), (200, json!(true)));
    let gets = s.origin.count("GET /projects/{id}/ownership");
    let after = s.worker.get("/v1/projects/12/ownership");
    assert_eq!(after.body["ownership"], json!(null));
    assert_eq!(s.origin.count("GET /projects/{id}/ownership"), gets, "the delete cached absence");
}

#[test]
fn grammar_errors_are_refused_naming_the_line_and_nothing_is_stored() {
    let s = Stack::start();
    let bad = s.worker.put("/v1/projects/13/ownership", r##"{"raw":"path:src/* #backend\nfile:x.py #a\n"}"##);
    assert_eq!((bad.status, bad.code()), (400, "invalid_rules"));
    assert!(bad.body["error"]["message"].as_str().is_some_and(|m| m.contains("line 2")), "{:?}", bad.body);
    let at = (bad.body["error"]["line"].clone(), bad.body["error"]["column"].clone());
    assert_eq!(at, (json!(2), json!(1)), "where, as fields of the error: {:?}", bad.body);
    let no_owner = s.worker.put("/v1/projects/13/ownership", r#"{"raw":"path:src/*"}"#);
    assert_eq!(no_owner.code(), "invalid_rules");
    assert_eq!(s.origin.count("PUT /projects/{id}/ownership"), 0);
    assert_eq!(s.worker.put("/v1/projects/13/ownership", r#"{"raw":5}"#).code(), "invalid_body");
    assert_eq!(s.worker.put("/v1/projects/13/ownership", r#"{}"#).code(), "invalid_body");
}

#[test]
fn owners_of_an_event_follow_the_rules_in_order() {
    let s = Stack::start();
    assert_eq!(put_rules(&s, 14, r#""auto_assignment":true"#).status, 200);
    let event = json!({
        "exception": {"values": [{"stacktrace": {"frames": [
            {"filename": "SRC/App/views.py", "module": "app.billing.invoices"},
            {"abs_path": "/srv/static/main.js"}
        ]}}]},
        "request": {"url": "https://example.com/checkout/pay"},
        "tags": [["browser", "Firefox"]]
    });
    let owners = s.worker.call("POST", "/v1/projects/14/owners", Some(READ), Some(&event.to_string()));
    assert_eq!(owners.status, 200, "{:?}", owners.body);
    assert_eq!(
        owners.body["owners"],
        json!([
            {"type": "team", "identifier": "backend"},
            {"type": "user", "identifier": "alice@example.com"},
            {"type": "team", "identifier": "web"},
            {"type": "team", "identifier": "billing"},
            {"type": "team", "identifier": "frontend"},
            {"type": "user", "identifier": "bob@example.com"}
        ])
    );
    assert_eq!(owners.body["rules"].as_array().map(Vec::len), Some(5));
    assert_eq!(owners.body["auto_assign"], json!({"type": "user", "identifier": "bob@example.com"}));

    let unmatched =
        s.worker.call("POST", "/v1/projects/14/owners", Some(READ), Some(r#"{"tags":{"browser":"Chrome"}}"#));
    assert_eq!(
        (unmatched.body["owners"].clone(), unmatched.body["auto_assign"].clone()),
        (json!("everyone"), json!(null))
    );
}

#[test]
fn no_fallthrough_means_no_owners_and_no_record_means_everyone() {
    let s = Stack::start();
    assert_eq!(put_rules(&s, 15, r#""fallthrough":false"#).status, 200);
    let none = s.worker.call(
        "POST",
        "/v1/projects/15/owners",
        Some(READ),
        Some(r#"{"request":{"url":"https://other.example"}}"#),
    );
    assert_eq!(none.body["owners"], json!([]));
    let everyone = s.worker.call("POST", "/v1/projects/16/owners", Some(READ), Some("{}"));
    assert_eq!((everyone.status, everyone.body["owners"].clone()), (200, json!("everyone")));
    let garbage = s.worker.call("POST", "/v1/projects/16/owners", Some(READ), Some("[1,2]"));
    assert_eq!((garbage.status, garbage.code()), (400, "invalid_body"));
}
