//! Several origin replicas over one PostgreSQL database: migrations when
//! they start at once, versions under concurrent writes through both, and
//! a change feed read while those writes go on.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use common::{pg, tempdir, Backend, DbRef, Origin};
use serde_json::{json, Value};

#[test]
fn replicas_starting_at_once_apply_each_migration_once() {
    let dir = tempdir();
    let db = DbRef::fresh(Backend::Postgres, &dir);
    let replicas: Vec<Origin> = std::thread::scope(|s| {
        let starting: Vec<_> = (0..4).map(|_| s.spawn(|| Origin::start_on(&db, dir.path()))).collect();
        starting.into_iter().map(|h| h.join().expect("a replica started")).collect()
    });
    let DbRef::Postgres(name) = &db else { unreachable!() };
    assert_eq!(pg().psql(name, "SELECT count(*) FROM schema_migrations"), "1");
    assert_eq!(pg().psql(name, "SELECT value FROM meta WHERE key = 'version'"), "0");
    for (i, o) in replicas.iter().enumerate() {
        assert_eq!(o.put(&format!("/options/r{i}"), &json!({"value": i})).version(), i as i64 + 1);
    }
    // Every replica reads what any other wrote.
    for o in &replicas {
        assert_eq!(o.get("/options/r3").ok()["value"], 3);
    }
    // A replica started later finds the schema in place and keeps counting.
    let late = Origin::start_on(&db, dir.path());
    assert_eq!(late.put("/options/late", &json!({"value": true})).version(), 5);
    assert_eq!(pg().psql(name, "SELECT count(*) FROM schema_migrations"), "1");
}

/// How the change feed names a thing, so writes and feed entries can be
/// matched: `option:NAME`, `map:SCOPE:ID`, `ownership:PROJECT`.
fn thing_of(change: &Value) -> String {
    match change["kind"].as_str().unwrap_or("?") {
        "option" | "option_deleted" => format!("option:{}", change["name"].as_str().unwrap_or("?")),
        "map" => format!("map:{}:{}", change["scope"].as_str().unwrap_or("?"), change["id"]),
        "ownership" | "ownership_deleted" => format!("ownership:{}", change["project"]),
        other => panic!("unknown kind {other}: {change}"),
    }
}

/// One write of writer `t`'s `i`-th turn through `o`: which thing, and the
/// version the origin answered.
fn write(o: &Origin, t: usize, i: usize) -> (String, i64) {
    let (thing, reply) = match i % 5 {
        0 => (format!("option:o-{t}-{i}"), o.put(&format!("/options/o-{t}-{i}"), &json!({"value": i}))),
        1 => (format!("option:hot-{t}"), o.put(&format!("/options/hot-{t}"), &json!({"value": i}))),
        2 => (
            format!("map:organization:{}", t + 1),
            o.put(&format!("/organizations/{}/options/k{i}", t + 1), &json!({"value": i})),
        ),
        3 => (
            format!("ownership:{}", t + 1),
            o.put(&format!("/projects/{}/ownership", t + 1), &json!({"raw": format!("path:{i} #t")})),
        ),
        // Deletes the option written two turns of five ago.
        _ => (format!("option:o-{t}-{}", i - 4), o.delete(&format!("/options/o-{t}-{}", i - 4))),
    };
    assert_eq!(reply.status, 200, "writer {t} turn {i}: {}", reply.body);
    (thing, reply.version())
}

/// Pages `/changes` from `after` to the end through `o`, `limit` at a time;
/// answers every `(thing, version)` listed and the last `next`.
fn read_to_end(o: &Origin, mut after: i64, limit: u32, seen: &mut Vec<(String, i64)>) -> i64 {
    loop {
        let page = o.get(&format!("/changes?after={after}&limit={limit}")).ok();
        let mut last = after;
        for change in page["changes"].as_array().expect("changes") {
            let version = change["version"].as_i64().expect("version");
            assert!(version > last, "versions strictly increase within and across pages: {page}");
            last = version;
            seen.push((thing_of(change), version));
        }
        assert_eq!(page["skipped"], json!([]), "{page}");
        after = page["next"].as_i64().expect("next");
        if page["more"] == json!(false) {
            return after;
        }
    }
}

#[test]
fn concurrent_writes_through_two_replicas_take_unique_increasing_versions_and_the_feed_misses_none() {
    const WRITERS: usize = 6;
    const TURNS: usize = 60;
    let dir = tempdir();
    let db = DbRef::fresh(Backend::Postgres, &dir);
    let replicas = [Origin::start_on(&db, dir.path()), Origin::start_on(&db, dir.path())];
    let done = AtomicBool::new(false);
    let acked: Mutex<Vec<(usize, String, i64)>> = Mutex::new(Vec::new());

    let seen_while_writing = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            // Pages the feed while the writers write, alternating replicas,
            // as the edge's sync job would: small pages, following `next`.
            let mut seen = Vec::new();
            let mut after = 0;
            let mut turn = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                after = read_to_end(&replicas[turn % 2], after, 7, &mut seen);
                turn += 1;
                if finished {
                    return seen;
                }
            }
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|t| {
                let (replicas, acked) = (&replicas, &acked);
                s.spawn(move || {
                    for i in 0..TURNS {
                        let (thing, version) = write(&replicas[(t + i) % 2], t, i);
                        acked.lock().expect("acked").push((t, thing, version));
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer");
        }
        done.store(true, Ordering::SeqCst);
        reader.join().expect("reader")
    });
    let acked = acked.into_inner().expect("acked");

    // Unique versions, and each writer's (sequential) writes strictly increasing.
    let versions: BTreeSet<i64> = acked.iter().map(|(_, _, v)| *v).collect();
    assert_eq!(versions.len(), WRITERS * TURNS, "every write took its own version");
    for t in 0..WRITERS {
        let mine: Vec<i64> = acked.iter().filter(|(w, _, _)| *w == t).map(|(_, _, v)| *v).collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "writer {t}: {mine:?}");
    }
    assert_eq!(versions.first(), Some(&1));
    assert_eq!(versions.last(), Some(&((WRITERS * TURNS) as i64)), "no version lost between writes");

    // The feed from 0, read once everything is written: every thing exactly
    // once, at the version of its latest write.
    let mut everything = Vec::new();
    read_to_end(&replicas[0], 0, 1000, &mut everything);
    let mut latest: BTreeMap<String, i64> = BTreeMap::new();
    for (_, thing, version) in &acked {
        let entry = latest.entry(thing.clone()).or_insert(0);
        *entry = (*entry).max(*version);
    }
    let listed: BTreeMap<String, i64> = everything.iter().cloned().collect();
    assert_eq!(listed.len(), everything.len(), "each thing listed once");
    assert_eq!(listed, latest, "the feed lists every thing at its latest write's version");

    // The feed read page by page while the writes went on never stepped
    // past a change: it saw every thing at the version the final read shows.
    let seen: BTreeSet<(String, i64)> = seen_while_writing.into_iter().collect();
    let missed: Vec<_> = listed.iter().filter(|(thing, v)| !seen.contains(&((*thing).clone(), **v))).collect();
    assert!(missed.is_empty(), "the concurrent reader missed {} changes: {missed:?}", missed.len());
}
