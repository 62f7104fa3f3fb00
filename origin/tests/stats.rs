//! `/_origin/stats`: counters by route template, for end-to-end tests.

mod common;

use common::{tempdir, Backend, Origin, TOKEN};
use serde_json::json;

on_both_backends!(
    stats_count_requests_by_route_template,
    reading_stats_does_not_count_and_reset_zeroes,
    stats_need_the_token,
    odd_methods_and_paths_from_unauthenticated_clients_do_not_grow_the_counters,
);

fn stats_count_requests_by_route_template(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.post("/_origin/stats/reset").ok();

    o.get("/options/a");
    o.get("/options/b");
    o.put("/options/b", &json!({"value": 1}));
    o.get("/organizations/1/options");
    o.put("/users/1/options/some%2Fkey?project=3", &json!({"value": 1}));
    o.get("/projects/1/ownership");
    o.get("/projects/2/ownership");
    o.get("/projects/oops/ownership"); // a 400 still reached the origin
    o.send("GET", "/options/a", None, None); // so did a 401
    o.get("/healthz");
    o.get("/nope");
    o.send("POST", "/options/a", Some(TOKEN), Some(b"{}"));

    let stats = o.get("/_origin/stats").ok();
    assert_eq!(stats["requests"], 12, "{stats}");
    let by = &stats["by_route"];
    assert_eq!(by["GET /options/{name}"], 3);
    assert_eq!(by["PUT /options/{name}"], 1);
    assert_eq!(by["GET /organizations/{id}/options"], 1);
    assert_eq!(by["PUT /users/{id}/options/{key}"], 1);
    assert_eq!(by["GET /projects/{id}/ownership"], 3);
    assert_eq!(by["GET /healthz"], 1);
    assert_eq!(by["GET (unmatched)"], 1);
    assert_eq!(by["POST /options/{name}"], 1);
    let sum: u64 = by.as_object().map(|m| m.values().filter_map(|v| v.as_u64()).sum()).unwrap_or(0);
    assert_eq!(sum, 12);
}

fn reading_stats_does_not_count_and_reset_zeroes(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.get("/options/a");
    let first = o.get("/_origin/stats").ok();
    let second = o.get("/_origin/stats").ok();
    assert_eq!(first, second, "reading the counters leaves them alone");
    assert_eq!(first["requests"], 1);

    assert_eq!(o.post("/_origin/stats/reset").ok(), json!({"requests": 0, "by_route": {}}));
    assert_eq!(o.get("/_origin/stats").ok(), json!({"requests": 0, "by_route": {}}));
    o.get("/options/a");
    assert_eq!(o.get("/_origin/stats").ok()["by_route"], json!({"GET /options/{name}": 1}));
}

fn stats_need_the_token(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.send("GET", "/_origin/stats", None, None).assert_error(401, "unauthorized");
    o.send("POST", "/_origin/stats/reset", Some("nope"), Some(b"{}")).assert_error(401, "unauthorized");
}

fn odd_methods_and_paths_from_unauthenticated_clients_do_not_grow_the_counters(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    o.post("/_origin/stats/reset").ok();
    for i in 0..200 {
        let method = format!("X{i}");
        let reply = o.send(&method, &format!("/options/n{i}"), None, None);
        assert!(reply.status == 401 || reply.status == 405, "{method}: {} {}", reply.status, reply.body);
        o.send(&format!("M{i}"), &format!("/no/such/route/{i}"), None, None);
        o.send("GET", &format!("/random/{i}"), None, None);
    }
    let stats = o.get("/_origin/stats").ok();
    assert_eq!(stats["requests"], 600, "{stats}");
    let keys: Vec<String> = stats["by_route"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    assert_eq!(keys, ["GET (unmatched)", "OTHER (unmatched)", "OTHER /options/{name}"], "{stats}");
}
