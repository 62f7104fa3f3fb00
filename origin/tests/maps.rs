//! Scoped option maps: organizations, projects and the three user scopes.

mod common;

use common::{enc, tempdir, Backend, Origin};
use serde_json::json;

on_both_backends!(
    map_never_written_is_empty_with_version_0,
    writes_answer_the_whole_map_after_the_write,
    map_version_counts_deletes_and_survives_emptying,
    deleting_an_absent_key_is_404,
    user_scopes_never_share_values,
    project_and_organization_together_is_invalid_scope,
    bad_scope_ids_in_the_query_are_invalid_id,
    map_keys_accept_odd_unicode_and_enforce_length,
    change_feed_carries_whole_maps_and_ownership,
);

fn map_never_written_is_empty_with_version_0(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for path in [
        "/organizations/1/options",
        "/projects/1/options",
        "/users/1/options",
        "/users/1/options?project=1",
        "/users/1/options?organization=1",
    ] {
        assert_eq!(o.get(path).ok(), json!({"values": {}, "version": 0}), "{path}");
    }
}

fn writes_answer_the_whole_map_after_the_write(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for base in ["/organizations/42/options", "/projects/42/options", "/users/42/options"] {
        let a = o.put(&format!("{base}/a"), &json!({"value": 1})).ok();
        assert_eq!(a["values"], json!({"a": 1}));
        let b = o.put(&format!("{base}/b"), &json!({"value": {"x": [true]}})).ok();
        assert_eq!(b["values"], json!({"a": 1, "b": {"x": [true]}}));
        assert!(b["version"].as_i64() > a["version"].as_i64());
        assert_eq!(o.get(base).ok(), b, "GET answers the same map and version");

        let after_delete = o.delete(&format!("{base}/a")).ok();
        assert_eq!(after_delete["values"], json!({"b": {"x": [true]}}));
        assert!(after_delete["version"].as_i64() > b["version"].as_i64());
        assert_eq!(o.get(base).ok(), after_delete);
    }
}

fn map_version_counts_deletes_and_survives_emptying(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let put = o.put("/projects/7/options/only", &json!({"value": "x"})).ok();
    let del = o.delete("/projects/7/options/only").ok();
    assert_eq!(del["values"], json!({}));
    assert!(del["version"].as_i64() > put["version"].as_i64());
    assert_eq!(o.get("/projects/7/options").ok(), del, "an emptied map keeps its version");
}

fn deleting_an_absent_key_is_404(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.delete("/organizations/3/options/nope").assert_error(404, "not_found");
    o.put("/organizations/3/options/k", &json!({"value": 1})).ok();
    let before = o.get("/organizations/3/options").ok();
    o.delete("/organizations/3/options/other").assert_error(404, "not_found");
    assert_eq!(o.get("/organizations/3/options").ok(), before, "a failed delete changes nothing");
    o.delete("/users/3/options/k?project=3").assert_error(404, "not_found");
}

fn user_scopes_never_share_values(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    // The same numeric id in every position, the same key everywhere.
    let paths = [
        ("/users/5/options", "/users/5/options/k", "user"),
        ("/users/5/options?project=5", "/users/5/options/k?project=5", "user+project"),
        ("/users/5/options?organization=5", "/users/5/options/k?organization=5", "user+organization"),
        ("/users/5/options?project=6", "/users/5/options/k?project=6", "user+other project"),
        ("/projects/5/options", "/projects/5/options/k", "project"),
        ("/organizations/5/options", "/organizations/5/options/k", "organization"),
    ];
    for (_, put_path, label) in paths {
        o.put(put_path, &json!({"value": label})).ok();
    }
    for (get_path, _, label) in paths {
        assert_eq!(o.get(get_path).ok()["values"], json!({"k": label}), "{get_path}");
    }
    o.delete("/users/5/options/k?project=5").ok();
    assert_eq!(o.get("/users/5/options?project=5").ok()["values"], json!({}));
    assert_eq!(o.get("/users/5/options").ok()["values"], json!({"k": "user"}));
    assert_eq!(o.get("/users/5/options?organization=5").ok()["values"], json!({"k": "user+organization"}));
}

fn project_and_organization_together_is_invalid_scope(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.get("/users/1/options?project=2&organization=3").assert_error(400, "invalid_scope");
    o.put("/users/1/options/k?organization=3&project=2", &json!({"value": 1})).assert_error(400, "invalid_scope");
    o.delete("/users/1/options/k?project=2&organization=3").assert_error(400, "invalid_scope");
}

fn bad_scope_ids_in_the_query_are_invalid_id(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for q in
        ["project=0", "project=-1", "project=abc", "organization=", "organization=9223372036854775808", "project=%FF"]
    {
        o.get(&format!("/users/1/options?{q}")).assert_error(400, "invalid_id");
        o.put(&format!("/users/1/options/k?{q}"), &json!({"value": 1})).assert_error(400, "invalid_id");
    }
}

fn map_keys_accept_odd_unicode_and_enforce_length(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let longest = "k".repeat(1024);
    let keys = ["a/b", "😀", "\u{0}", "sp ace", "\u{202e}x", longest.as_str()];
    for key in keys {
        let m = o.put(&format!("/organizations/9/options/{}", enc(key)), &json!({"value": key})).ok();
        assert_eq!(m["values"][key], key);
    }
    assert_eq!(o.get("/organizations/9/options").ok()["values"].as_object().map(|m| m.len()), Some(keys.len()));
    o.put(&format!("/organizations/9/options/{}", "k".repeat(1025)), &json!({"value": 1}))
        .assert_error(400, "invalid_body");
    o.put("/organizations/9/options/", &json!({"value": 1})).assert_error(400, "invalid_body");
    o.put("/organizations/9/options/%FF", &json!({"value": 1})).assert_error(400, "invalid_body");
    o.put("/users/9/options/k", &json!({"value": null})).assert_error(400, "invalid_body");
    o.put("/projects/9/options/k", &json!({})).assert_error(400, "invalid_body");
}

fn change_feed_carries_whole_maps_and_ownership(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.put("/organizations/1/options/a", &json!({"value": 1})).ok();
    o.put("/users/2/options/b?project=3", &json!({"value": 2})).ok();
    o.put("/users/2/options/c?organization=4", &json!({"value": 3})).ok();
    o.put("/projects/8/ownership", &json!({"raw": "path:* #t"})).ok();
    o.put("/projects/9/ownership", &json!({"raw": "x"})).ok();
    o.delete("/projects/9/ownership").ok();

    let feed = o.get("/options?updated_since=0").ok();
    let maps = feed["maps"].as_array().cloned().unwrap_or_default();
    assert_eq!(maps.len(), 3, "{feed}");
    assert_eq!(maps[0]["scope"], "organization");
    assert_eq!(maps[0]["id"], 1);
    assert_eq!(maps[0]["values"], json!({"a": 1}));
    assert_eq!(maps[1]["scope"], "user");
    assert_eq!(maps[1]["project"], 3);
    assert!(maps[1].get("organization").is_none());
    assert_eq!(maps[2]["organization"], 4);
    assert_eq!(feed["ownership"][0]["project"], 8);
    assert_eq!(feed["ownership"][0]["raw"], "path:* #t");
    assert_eq!(feed["ownership_deleted"][0]["project"], 9);
    assert!(feed["ownership_deleted"][0]["version"].is_i64());
}
