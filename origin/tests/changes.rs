//! `GET /changes`: the change feed paged by version, across every kind,
//! with unreadable rows skipped and reported instead of failing the page.

mod common;

use common::{tempdir, Backend, Origin};
use serde_json::{json, Value};

on_both_backends!(
    changes_of_every_kind_come_in_version_order_each_thing_at_its_latest_version,
    pages_chain_through_next_until_more_is_false,
    a_thing_written_again_after_its_page_moves_to_a_later_page,
    limit_defaults_to_100_and_bad_windows_are_invalid_body,
    unreadable_rows_are_skipped_and_reported_and_never_fail_a_page,
);

/// `(kind, version)` of each change of a page.
fn kinds(page: &Value) -> Vec<(String, i64)> {
    page["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["kind"].as_str().unwrap_or("?").to_string(), c["version"].as_i64().unwrap_or(-1)))
        .collect()
}

fn page(o: &Origin, after: i64, limit: i64) -> Value {
    o.get(&format!("/changes?after={after}&limit={limit}")).ok()
}

/// Writes eight things (versions 1..=8), two of them later deleted, so
/// the feed holds six, one of each shape.
fn write_every_kind(o: &Origin) {
    o.put("/options/a", &json!({"value": 1})).ok(); // 1, then deleted at 5
    o.put("/organizations/1/options/k", &json!({"value": [1]})).ok(); // 2
    o.put("/projects/5/ownership", &json!({"raw": "path:* #t"})).ok(); // 3, then deleted at 7
    o.put("/options/b", &json!({"value": "bee"})).ok(); // 4
    o.delete("/options/a").ok(); // 5
    o.put("/users/2/options/x?project=3", &json!({"value": true})).ok(); // 6
    o.delete("/projects/5/ownership").ok(); // 7
    o.put("/projects/6/ownership", &json!({"raw": "url:* #web", "fallthrough": false})).ok();
    // 8
}

fn changes_of_every_kind_come_in_version_order_each_thing_at_its_latest_version(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    write_every_kind(&o);

    let all = o.get("/changes").ok();
    assert_eq!(
        kinds(&all),
        [("map", 2), ("option", 4), ("option_deleted", 5), ("map", 6), ("ownership_deleted", 7), ("ownership", 8)]
            .map(|(k, v)| (k.to_string(), v)),
        "{all}"
    );
    assert_eq!((all["next"].clone(), all["more"].clone(), all["skipped"].clone()), (json!(8), json!(false), json!([])));
    let changes = all["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes[0]["scope"], "organization");
    assert_eq!((changes[0]["id"].clone(), changes[0]["values"].clone()), (json!(1), json!({"k": [1]})));
    assert_eq!((changes[1]["name"].clone(), changes[1]["value"].clone()), (json!("b"), json!("bee")));
    assert_eq!(changes[2]["name"], "a");
    assert!(changes[2].get("value").is_none(), "a delete carries no value: {}", changes[2]);
    assert_eq!((changes[3]["scope"].clone(), changes[3]["project"].clone()), (json!("user"), json!(3)));
    assert_eq!(changes[4]["project"], 5);
    assert_eq!(changes[5]["project"], 6);
    assert_eq!(changes[5]["raw"], "url:* #web");
    assert_eq!(changes[5]["fallthrough"], false);
    assert_eq!((changes[5]["auto_assignment"].clone(), changes[5]["is_active"].clone()), (json!(false), json!(true)));
    for change in &changes {
        assert!(change["updated_at"].as_i64() > Some(0), "{change}");
    }
}

fn pages_chain_through_next_until_more_is_false(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    write_every_kind(&o);

    let mut after = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let p = page(&o, after, 2);
        pages += 1;
        let got = kinds(&p);
        assert!(got.len() <= 2, "{p}");
        seen.extend(got.iter().map(|(_, v)| *v));
        let next = p["next"].as_i64().expect("next");
        assert_eq!(Some(next), got.last().map(|(_, v)| *v), "next is the last version of the page: {p}");
        after = next;
        if p["more"] == json!(false) {
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(seen, [2, 4, 5, 6, 7, 8], "nothing skipped, nothing twice");
    assert_eq!(pages, 3, "a last page of exactly `limit` rows says more: false");

    let past_the_end = page(&o, 8, 2);
    assert_eq!(past_the_end, json!({"changes": [], "skipped": [], "next": 8, "more": false}));
    let far = page(&o, 1_000_000, 5);
    assert_eq!(far["next"], 1_000_000, "an empty page keeps the caller where it is");
}

fn a_thing_written_again_after_its_page_moves_to_a_later_page(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    write_every_kind(&o);
    let first = page(&o, 0, 2); // map 2, option b 4
    assert_eq!(first["next"], 4);
    o.put("/organizations/1/options/k2", &json!({"value": 2})).ok(); // the map moves to 9

    let mut rest = Vec::new();
    let mut after = 4;
    loop {
        let p = page(&o, after, 2);
        rest.extend(kinds(&p));
        after = p["next"].as_i64().expect("next");
        if p["more"] == json!(false) {
            break;
        }
    }
    assert_eq!(rest.last(), Some(&("map".to_string(), 9)), "{rest:?}");
    let map = o.get("/changes?after=8").ok();
    assert_eq!(map["changes"][0]["values"], json!({"k": [1], "k2": 2}), "the whole map at its latest version");
}

fn limit_defaults_to_100_and_bad_windows_are_invalid_body(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for i in 0..101 {
        o.put(&format!("/options/n{i}"), &json!({"value": i})).ok();
    }
    let first = o.get("/changes").ok();
    assert_eq!((kinds(&first).len(), first["more"].clone(), first["next"].clone()), (100, json!(true), json!(100)));
    let last = o.get("/changes?after=100").ok();
    assert_eq!((kinds(&last).len(), last["more"].clone(), last["next"].clone()), (1, json!(false), json!(101)));
    assert_eq!(kinds(&o.get("/changes?limit=1000").ok()).len(), 101);

    for query in [
        "?limit=0",
        "?limit=1001",
        "?limit=-1",
        "?limit=abc",
        "?limit=",
        "?after=-1",
        "?after=1.5",
        "?after=x",
        "?after=",
        "?after=99999999999999999999999",
        "?after=1&after=2",
        "?after=%FF",
    ] {
        let reply = o.get(&format!("/changes{query}"));
        reply.assert_error(400, "invalid_body");
        let message = reply.body["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains("after") || message.contains("limit"), "{query}: {message}");
    }
}

fn unreadable_rows_are_skipped_and_reported_and_never_fail_a_page(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.put("/options/good", &json!({"value": 1})).ok(); // 1
    o.put("/options/bad", &json!({"value": 2})).ok(); // 2
    o.put("/projects/1/options/k", &json!({"value": 3})).ok(); // 3
    o.put("/projects/7/ownership", &json!({"raw": "path:* #t"})).ok(); // 4
    o.put("/organizations/2/options/k", &json!({"value": 5})).ok(); // 5
    o.put("/options/last", &json!({"value": 6})).ok(); // 6
    o.put("/options/corrupt-last", &json!({"value": 7})).ok(); // 7

    // Corrupt four rows behind the origin's back, as a bad disk or a hand
    // edit would. PostgreSQL's types rule out a flag that is not a boolean:
    // there the ownership row gets rules that are not UTF-8 instead.
    o.sql(match backend {
        Backend::Sqlite => {
            "UPDATE options SET value = '{not json' WHERE name IN ('bad', 'corrupt-last');
             UPDATE map_values SET value = 'nope' WHERE scope = 'project';
             UPDATE ownership SET fallthrough = 'maybe' WHERE project_id = 7;"
        }
        Backend::Postgres => {
            "UPDATE options SET value = '{not json' WHERE name IN ('bad', 'corrupt-last');
             UPDATE map_values SET value = 'nope' WHERE scope = 'project';
             UPDATE ownership SET raw = '\\xfffe'::bytea WHERE project_id = 7;"
        }
    });

    let all = o.get("/changes").ok();
    assert_eq!(kinds(&all), [("option".to_string(), 1), ("map".to_string(), 5), ("option".to_string(), 6)]);
    let skipped: Vec<(String, i64)> = all["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s["kind"].as_str().unwrap_or("?").to_string(), s["version"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(skipped, [("option", 2), ("map", 3), ("ownership", 4), ("option", 7)].map(|(k, v)| (k.to_string(), v)));
    for s in all["skipped"].as_array().into_iter().flatten() {
        let reason = s["reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty() && !reason.contains("not json"), "a reason, never the stored text: {s}");
    }
    assert_eq!((all["next"].clone(), all["more"].clone()), (json!(7), json!(false)), "next moves past a skipped row");

    let paged = page(&o, 1, 2);
    assert_eq!(kinds(&paged), []);
    assert_eq!((paged["next"].clone(), paged["more"].clone()), (json!(3), json!(true)), "skipped rows count as rows");

    let older = o.get("/options?updated_since=0").ok();
    assert_eq!(older["options"].as_array().map(Vec::len), Some(2), "{older}");
    assert_eq!(older["skipped"].as_array().map(Vec::len), Some(4), "{older}");
}
