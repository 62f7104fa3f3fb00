//! End-to-end: the real Worker under `wrangler dev` in front of two origin
//! replicas over one PostgreSQL, through a round-robin balancer — writes
//! through either, reads through both, versions strictly increasing, the
//! change feed complete; one replica killed under load loses nothing that
//! was acknowledged; PostgreSQL stopped under load and started again, with
//! the edge serving stale meanwhile and nothing restarted.
//!
//! One stack for the file: a single test walks through the phases in order.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::postgres::PgServer;
use support::round_robin::RoundRobin;
use support::{Origin, Reply, Worker};

/// A failed write must be a clear error: a 5xx with one of the edge's codes.
fn assert_clear_failure(reply: &Reply, what: &str) {
    assert!(
        matches!((reply.status, reply.code()), (502, "origin_error") | (503, "unavailable") | (504, "origin_timeout")),
        "{what}: not a clear failure: {} {}",
        reply.status,
        reply.body
    );
}

/// `(thing, version)` of every change of `/changes` from 0 to the end,
/// read through `base` (the balancer: pages alternate replicas), checking
/// that versions strictly increase across pages.
fn feed(base: &str) -> Vec<(String, i64)> {
    let (mut after, mut out) = (0, Vec::new());
    loop {
        let page =
            support::call("GET", &format!("{base}/changes?after={after}&limit=50"), Some(support::ORIGIN_TOKEN), None);
        assert_eq!(page.status, 200, "{}", page.body);
        for change in page.body["changes"].as_array().expect("changes") {
            let version = change["version"].as_i64().expect("version");
            assert!(version > after, "versions strictly increase along the feed: {change}");
            after = version;
            let thing = match change["kind"].as_str() {
                Some("map") => format!("map:{}:{}", change["scope"].as_str().unwrap_or("?"), change["id"]),
                Some("ownership" | "ownership_deleted") => format!("ownership:{}", change["project"]),
                Some("option" | "option_deleted") => format!("option:{}", change["name"].as_str().unwrap_or("?")),
                _ => panic!("unexpected change {change}"),
            };
            out.push((thing, version));
        }
        assert_eq!(page.body["skipped"], json!([]));
        after = page.body["next"].as_i64().expect("next");
        if page.body["more"] == json!(false) {
            return out;
        }
    }
}

/// Writes from `threads` threads through the edge while `during` runs,
/// each thread to its own organization map (key `k{i}` = `i`); answers
/// `(organization, i, reply)` for every write.
fn write_load(worker: &Worker, threads: i64, first_org: i64, stop: &AtomicBool) -> Vec<(i64, i64, Reply)> {
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..threads {
            let results = &results;
            s.spawn(move || {
                let org = first_org + t;
                let mut i = 0;
                // Bounded: at most 400 writes or 60 s per thread.
                let end = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::SeqCst) && i < 400 && Instant::now() < end {
                    let reply =
                        worker.put(&format!("/v1/organizations/{org}/options/k{i}"), &format!(r#"{{"value":{i}}}"#));
                    results.lock().expect("results").push((org, i, reply));
                    i += 1;
                }
            });
        }
    });
    results.into_inner().expect("results")
}

/// Every write of `results` that got a 200 is in the origin's map (read
/// through `origin`), and every other one got a clear error.
fn assert_acknowledged_writes_kept(origin: &Origin, results: &[(i64, i64, Reply)], what: &str) -> usize {
    let mut maps: BTreeMap<i64, Value> = BTreeMap::new();
    let mut ok = 0;
    for (org, i, reply) in results {
        if reply.status == 200 {
            ok += 1;
            let map = maps
                .entry(*org)
                .or_insert_with(|| origin.call("GET", &format!("/organizations/{org}/options"), None).body);
            assert_eq!(
                map["values"][format!("k{i}")],
                json!(i),
                "{what}: acknowledged write org {org} k{i} lost: {map}"
            );
            assert!(reply.body["version"].as_i64() <= map["version"].as_i64(), "{what}: {}", reply.body);
        } else {
            assert_clear_failure(reply, what);
        }
    }
    ok
}

#[test]
fn two_replicas_over_one_postgres_behind_the_edge_lose_nothing_when_a_replica_or_the_database_goes_away() {
    let mut server = PgServer::start();
    let url = server.url("postgres");
    let mut a = Origin::start_on_db(&url);
    let mut b = Origin::start_on_db(&url);
    let balancer = RoundRobin::start(&[a.port, b.port]);
    let dir = tempfile::tempdir().expect("temp dir");
    let worker = Worker::start(
        &balancer.url(),
        dir.path(),
        &[
            ("MAP_TTL_SECS", "1"),
            ("MAP_GRACE_SECS", "600"),
            ("BACKOFF_START_MS", "200"),
            ("BACKOFF_MAX_MS", "1000"),
            ("BREAKER_OPEN_MS", "1000"),
        ],
    );

    // 1. Writes through the edge land on both replicas, with strictly increasing versions.
    let mut last = 0;
    for p in 1..=20 {
        let put = worker.put(&format!("/v1/projects/{p}/options/k"), &format!(r#"{{"value":{p}}}"#));
        assert_eq!(put.status, 200, "{}", put.body);
        let version = put.body["version"].as_i64().expect("version");
        assert!(version > last, "project {p}: version {version} after {last}");
        last = version;
    }
    assert!(balancer.served(0) > 0 && balancer.served(1) > 0, "the balancer used both replicas");
    // Writes straight to either replica continue the same counter.
    let via_a = a.call("PUT", "/projects/100/ownership", Some(r#"{"raw":"path:* #a"}"#));
    let via_b = b.call("PUT", "/projects/101/ownership", Some(r#"{"raw":"path:* #b"}"#));
    assert_eq!((via_a.status, via_b.status), (200, 200));
    assert_eq!(via_a.body["version"].as_i64(), Some(last + 1));
    assert_eq!(via_b.body["version"].as_i64(), Some(last + 2));
    // Reads through both replicas, and through the edge, see every write.
    for p in [1, 7, 20] {
        for o in [&a, &b] {
            assert_eq!(o.call("GET", &format!("/projects/{p}/options"), None).body["values"], json!({"k": p}));
        }
        assert_eq!(worker.get(&format!("/v1/projects/{p}/options/k")).body["value"], json!(p));
    }
    assert_eq!(b.call("GET", "/projects/100/ownership", None).body["raw"], "path:* #a");
    assert_eq!(a.call("GET", "/projects/101/ownership", None).body["raw"], "path:* #b");

    // 2. Replica B is killed (SIGKILL) in the middle of a write load.
    let stop = AtomicBool::new(false);
    let results = std::thread::scope(|s| {
        let load = s.spawn(|| write_load(&worker, 4, 1, &stop));
        std::thread::sleep(Duration::from_millis(1_500));
        b.kill();
        std::thread::sleep(Duration::from_millis(2_000));
        stop.store(true, Ordering::SeqCst);
        load.join().expect("load")
    });
    let ok = assert_acknowledged_writes_kept(&a, &results, "replica killed");
    assert!(ok * 2 > results.len(), "most writes went through the surviving replica: {ok} of {}", results.len());
    for (org, _, _) in &results {
        let per_org: Vec<i64> = results
            .iter()
            .filter(|(o, _, r)| o == org && r.status == 200)
            .filter_map(|(_, _, r)| r.body["version"].as_i64())
            .collect();
        assert!(per_org.windows(2).all(|w| w[0] < w[1]), "org {org}: each writer's versions increase: {per_org:?}");
    }
    b.restart();
    assert_eq!(b.call("GET", "/readyz", None).status, 200);

    // 3. The change feed from 0 lists every thing once, at its latest version.
    let listed = feed(&balancer.url());
    let things: BTreeMap<String, i64> = listed.iter().cloned().collect();
    assert_eq!(things.len(), listed.len(), "each thing listed once");
    for p in 1..=20 {
        let version = a.call("GET", &format!("/projects/{p}/options"), None).body["version"].as_i64();
        assert_eq!(things.get(&format!("map:project:{p}")).copied(), version, "project {p}");
    }
    for org in 1..=4 {
        let now = b.call("GET", &format!("/organizations/{org}/options"), None).body["version"].as_i64();
        assert_eq!(things.get(&format!("map:organization:{org}")).copied(), now, "organization {org}");
    }
    assert_eq!(things.get("ownership:100").copied(), via_a.body["version"].as_i64());
    assert_eq!(things.len(), 20 + 4 + 2, "{things:?}");

    // 4. PostgreSQL stops for a few seconds under load: the replicas answer
    // 503, the edge serves what it has, and everything recovers by itself.
    for p in 1..=20 {
        assert_eq!(worker.get(&format!("/v1/projects/{p}/options")).status, 200);
    }
    std::thread::sleep(Duration::from_millis(1_200)); // past the 1 s ttl: every copy is stale
    let stop = AtomicBool::new(false);
    let reads = Mutex::new(Vec::new());
    let writes = std::thread::scope(|s| {
        let load = s.spawn(|| write_load(&worker, 2, 10, &stop));
        let reader = s.spawn(|| {
            let mut p = 0;
            while !stop.load(Ordering::SeqCst) {
                p = p % 20 + 1;
                let reply = worker.get(&format!("/v1/projects/{p}/options/k"));
                reads.lock().expect("reads").push((p, reply));
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        std::thread::sleep(Duration::from_millis(800));
        server.stop();
        let down = Instant::now();
        for o in [&a, &b] {
            let reply = o.call("GET", "/projects/1/options", None);
            assert_eq!((reply.status, reply.code()), (503, "unavailable"), "{}", reply.body);
            assert_eq!(o.call("GET", "/healthz", None).body["database"], "unreachable");
        }
        let during = worker.get("/v1/projects/3/options/k");
        assert_eq!((during.status, during.body["value"].clone()), (200, json!(3)), "the edge serves stale: {during:?}");
        let write = worker.put("/v1/projects/3/options/k", r#"{"value":"lost"}"#);
        assert_clear_failure(&write, "a write while the database is down");
        std::thread::sleep(Duration::from_secs(3).saturating_sub(down.elapsed()));
        server.start_again();
        // The replicas and the edge recover without a restart.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let write = worker.put("/v1/projects/3/options/k", r#"{"value":"after"}"#);
            if write.status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no write succeeded within 60 s of the database's return: {}",
                write.body
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);
        reader.join().expect("reader");
        load.join().expect("load")
    });
    let reads = reads.into_inner().expect("reads");
    assert!(!reads.is_empty());
    for (p, reply) in &reads {
        assert_eq!(reply.status, 200, "a read of project {p} failed while the database was away: {}", reply.body);
        let value = &reply.body["value"];
        assert!(*value == json!(p) || (*p == 3 && *value == json!("after")), "project {p}: {value}");
    }
    assert_acknowledged_writes_kept(&a, &writes, "database stopped");
    assert!(writes.iter().any(|(_, _, r)| r.status != 200), "some writes failed while the database was away");
    for o in [&a, &b] {
        assert_eq!(o.call("GET", "/projects/3/options", None).body["values"], json!({"k": "after"}));
        assert_eq!(o.call("GET", "/healthz", None).body["database"], "reachable");
    }
    let settled = worker.get("/v1/projects/3/options/k");
    assert_eq!(settled.body["value"], json!("after"), "{settled:?}");
    drop(worker);
    drop(balancer);
    a.stop();
    b.stop();
}
