//! Project ownership records.

mod common;

use common::{tempdir, Backend, Origin};
use serde_json::json;

on_both_backends!(
    ownership_roundtrip_applies_defaults,
    ownership_flags_are_stored_and_a_put_replaces_the_record,
    rules_text_is_stored_verbatim_not_parsed,
    deleted_ownership_answers_404_with_tombstone_version,
    bad_ownership_bodies_are_rejected_with_4xx,
);

fn ownership_roundtrip_applies_defaults(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.get("/projects/1/ownership").assert_error(404, "not_found");

    let rules = "# team rules\npath:src/app/* #backend alice@example.com\nurl:https://example.com/checkout/* #web\n";
    let put = o.put("/projects/1/ownership", &json!({"raw": rules})).ok();
    assert_eq!(put["raw"], rules);
    assert_eq!(put["fallthrough"], true);
    assert_eq!(put["auto_assignment"], false);
    assert_eq!(put["is_active"], true);
    assert!(put["version"].is_i64() && put["updated_at"].is_i64());
    assert_eq!(o.get("/projects/1/ownership").ok(), put);
}

fn ownership_flags_are_stored_and_a_put_replaces_the_record(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let first = o.put("/projects/2/ownership", &json!({
        "raw": "module:app.billing.* #billing", "fallthrough": false, "auto_assignment": true, "is_active": false
    })).ok();
    assert_eq!(
        (first["fallthrough"].as_bool(), first["auto_assignment"].as_bool(), first["is_active"].as_bool()),
        (Some(false), Some(true), Some(false))
    );
    // A second PUT without flags goes back to the defaults: it replaces, not merges.
    let second = o.put("/projects/2/ownership", &json!({"raw": "", "fallthrough": null})).ok();
    assert_eq!(second["raw"], "");
    assert_eq!(
        (second["fallthrough"].as_bool(), second["auto_assignment"].as_bool(), second["is_active"].as_bool()),
        (Some(true), Some(false), Some(true))
    );
    assert!(second["version"].as_i64() > first["version"].as_i64());
}

fn rules_text_is_stored_verbatim_not_parsed(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let odd = "this is not a rule\r\n\u{0}\u{202e} 😀 tags.browser:Firefox #frontend\n\n";
    assert_eq!(o.put("/projects/3/ownership", &json!({"raw": odd})).ok()["raw"], odd);
    assert_eq!(o.get("/projects/3/ownership").ok()["raw"], odd);
}

fn deleted_ownership_answers_404_with_tombstone_version(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.delete("/projects/4/ownership").assert_error(404, "not_found");
    let put = o.put("/projects/4/ownership", &json!({"raw": "path:* #t"})).ok();
    let del = o.delete("/projects/4/ownership").ok();
    assert!(del["version"].as_i64() > put["version"].as_i64());

    let after = o.get("/projects/4/ownership");
    after.assert_error(404, "not_found");
    assert_eq!(after.body["version"], del["version"]);
    let again = o.delete("/projects/4/ownership");
    again.assert_error(404, "not_found");
    assert_eq!(again.body["version"], del["version"]);

    let back = o.put("/projects/4/ownership", &json!({"raw": "path:b #t"})).ok();
    assert!(back["version"].as_i64() > del["version"].as_i64());
}

fn bad_ownership_bodies_are_rejected_with_4xx(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for body in [
        json!({}),
        json!({"raw": null}),
        json!({"raw": 1}),
        json!({"raw": ["a"]}),
        json!({"raw": "x", "fallthrough": "yes"}),
        json!({"raw": "x", "is_active": 1}),
        json!({"raw": "x", "auto_assignment": []}),
        json!("raw"),
        json!([]),
    ] {
        o.put("/projects/5/ownership", &body).assert_error(400, "invalid_body");
    }
    let limit = 256 * 1024;
    o.put("/projects/5/ownership", &json!({"raw": "a".repeat(limit)})).ok();
    o.put("/projects/5/ownership", &json!({"raw": "a".repeat(limit + 1)})).assert_error(413, "too_large");
    assert_eq!(o.get("/projects/5/ownership").ok()["raw"].as_str().map(str::len), Some(limit));
    o.put("/projects/0/ownership", &json!({"raw": "x"})).assert_error(400, "invalid_id");
}
