//! The global version counter: grows on every write, never goes back,
//! also across restarts on the same database file.

mod common;

use common::{tempdir, Backend, DbRef, Origin};
use serde_json::json;

on_both_backends!(
    version_grows_on_every_write_across_restarts,
    refused_writes_take_no_version,
    updated_at_is_unix_seconds_now,
    concurrent_writes_get_distinct_versions,
);

fn version_grows_on_every_write_across_restarts(backend: Backend) {
    let dir = tempdir();
    let db = match backend {
        Backend::Sqlite => DbRef::Sqlite(dir.path().join("nested").join("dir").join("origin.sqlite3")),
        Backend::Postgres => DbRef::fresh(backend, &dir),
    };
    let last = std::cell::Cell::new(0);
    let step = |version: i64, what: &str| {
        assert!(version > last.get(), "{what}: version {version} is not above {}", last.get());
        last.set(version);
    };

    let o = Origin::start_on(&db, dir.path());
    step(o.put("/options/a", &json!({"value": 1})).ok()["version"].as_i64().unwrap_or(0), "put option");
    step(o.put("/options/a", &json!({"value": 2})).ok()["version"].as_i64().unwrap_or(0), "overwrite option");
    step(o.put("/organizations/1/options/k", &json!({"value": 1})).version(), "put org key");
    step(o.put("/projects/1/options/k", &json!({"value": 1})).version(), "put project key");
    step(o.put("/users/1/options/k?project=1", &json!({"value": 1})).version(), "put user key");
    step(o.delete("/projects/1/options/k").version(), "delete project key");
    step(o.put("/projects/1/ownership", &json!({"raw": "path:* #t"})).version(), "put ownership");
    step(o.delete("/options/a").version(), "delete option");
    o.kill();

    let o = Origin::start_on(&db, dir.path());
    // Everything written before the restart is still there.
    assert_eq!(o.get("/organizations/1/options").ok()["values"], json!({"k": 1}));
    assert_eq!(o.get("/users/1/options?project=1").ok()["values"], json!({"k": 1}));
    assert_eq!(o.get("/projects/1/ownership").ok()["raw"], "path:* #t");
    assert_eq!(o.get("/options/a").body["version"].as_i64(), Some(last.get()), "tombstone survives");

    step(o.put("/options/b", &json!({"value": 1})).ok()["version"].as_i64().unwrap_or(0), "put after restart");
    step(o.delete("/projects/1/ownership").version(), "delete ownership after restart");
    o.kill();

    let o = Origin::start_on(&db, dir.path());
    step(o.put("/options/c", &json!({"value": 1})).ok()["version"].as_i64().unwrap_or(0), "put after 2nd restart");
    let feed = o.get("/options?updated_since=0").ok();
    assert_eq!(feed["options"].as_array().map(Vec::len), Some(2));
}

fn refused_writes_take_no_version(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let first = o.put("/options/a", &json!({"value": 1})).ok()["version"].as_i64().unwrap_or(0);
    o.delete("/options/missing").assert_error(404, "not_found");
    o.delete("/organizations/1/options/missing").assert_error(404, "not_found");
    o.delete("/projects/1/ownership").assert_error(404, "not_found");
    o.put("/options/a", &json!({"value": null})).assert_error(400, "invalid_body");
    let next = o.put("/options/b", &json!({"value": 1})).ok()["version"].as_i64().unwrap_or(0);
    assert_eq!(next, first + 1, "failed writes do not consume versions");
}

fn updated_at_is_unix_seconds_now(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let put = o.put("/options/t", &json!({"value": 1})).ok();
    let at = put["updated_at"].as_i64().unwrap_or(0);
    assert!((at - now).abs() <= 5, "updated_at {at} vs now {now}");
    let own = o.put("/projects/1/ownership", &json!({"raw": ""})).ok();
    assert!(own["updated_at"].as_i64() >= Some(at));
}

fn concurrent_writes_get_distinct_versions(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let o = &o;
    let mut versions: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                s.spawn(move || {
                    (0..10)
                        .map(|i| {
                            o.put(&format!("/organizations/{}/options/k{i}", t + 1), &json!({"value": i})).version()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions.len(), 80);
    assert_eq!(versions.first(), Some(&1));
    assert_eq!(versions.last(), Some(&80));
}
