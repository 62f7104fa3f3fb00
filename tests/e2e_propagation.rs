//! End-to-end: propagation across four isolates. Four `wrangler dev`
//! processes (each its own isolate, its own port and inspector port, one
//! `--persist-to` folder so they share the local KV) of the same build: the
//! first runs the beacon Worker beside it (`wrangler.beacon.toml`, which
//! defines the version beacon, class `VersionBeacon`), and all four bind it
//! with `script_name` — the other three through wrangler's local dev
//! registry (its own temporary folder, `WRANGLER_REGISTRY_PATH`, so suites
//! running at once never see each other's Workers); plus the real origin.
//! One stack for the whole suite: the behaviours run in turn in one test.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{root, Origin, Worker, ADMIN, READ};

/// The target: a write reaches every isolate within this.
const TARGET: Duration = Duration::from_millis(1_500);

/// The Worker's name in `wrangler.toml` (the other isolates get their own).
const DEFINER: &str = "edge-options";

struct Four {
    isolates: Vec<Worker>,
    origin: Origin,
    _dir: tempfile::TempDir,
}

/// The repository's config for an isolate that reaches the beacon Worker
/// run beside the first isolate instead of running its own: another name
/// (its binding already names the beacon Worker with `script_name`).
fn binding_config(dir: &Path, n: usize) -> PathBuf {
    support::config_copy(&dir.join(format!("isolate-{n}")), Some(&format!("{DEFINER}-isolate-{n}")))
}

impl Four {
    fn start() -> Four {
        let dir = tempfile::tempdir().expect("temp dir");
        let origin = Origin::start(dir.path());
        let registry = dir.path().join("dev-registry");
        std::fs::create_dir_all(&registry).expect("registry dir");
        let env = [("WRANGLER_REGISTRY_PATH", registry.to_str().expect("a UTF-8 path"))];
        let definer = root().join("wrangler.toml");
        let mut isolates = vec![Worker::start_with_env(&root(), &definer, &origin.url(), dir.path(), &[], &env)];
        for n in 2..=4 {
            let config = binding_config(dir.path(), n);
            isolates.push(Worker::start_with_env(&root(), &config, &origin.url(), dir.path(), &[], &env));
        }
        Four { isolates, origin, _dir: dir }
    }

    /// The option's value and version as `isolate` answers it now.
    fn read(&self, isolate: usize, name: &str) -> (Value, u64) {
        let reply = self.isolates[isolate].get(&format!("/v1/options/{name}"));
        assert_eq!(reply.status, 200, "isolate {}: {:?}", isolate + 1, reply.body);
        (reply.body["value"].clone(), reply.body["version"].as_u64().unwrap_or(0))
    }

    /// How long until every isolate answers `version` (or later), reading
    /// each in turn; panics past `limit`.
    fn time_to_all(&self, name: &str, version: u64, limit: Duration) -> Duration {
        let started = Instant::now();
        let mut pending: Vec<usize> = (0..self.isolates.len()).collect();
        while !pending.is_empty() {
            pending.retain(|&i| self.read(i, name).1 < version);
            if started.elapsed() > limit {
                let seen: Vec<_> = pending.iter().map(|&i| (i + 1, self.read(i, name))).collect();
                panic!("after {:?}, isolates still behind version {version}: {seen:?}", started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        started.elapsed()
    }

    /// Waits until isolates other than `quiet` answer `version` (the beacon
    /// has the change), never reading `quiet`.
    fn time_to_all_but(&self, quiet: usize, name: &str, version: u64) {
        let started = Instant::now();
        for i in (0..self.isolates.len()).filter(|&i| i != quiet) {
            while self.read(i, name).1 < version {
                assert!(started.elapsed() < TARGET * 2, "isolate {} never answered {version}", i + 1);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The beacon object's `changes` requests so far.
    fn beacon_checks(&self) -> u64 {
        let reply = self.isolates[0].call("GET", "/v1/admin/beacon", Some(ADMIN), None);
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["requests"]["changes"].as_u64().expect("the object counts its requests")
    }

    /// Every isolate holds `name` in memory (a fresh entry for its ttl).
    fn prime(&self, name: &str) {
        for i in 0..self.isolates.len() {
            self.read(i, name);
            let again = self.isolates[i].get(&format!("/v1/options/{name}"));
            assert_eq!(again.body["lookup"], json!("local"), "isolate {} holds {name}: {:?}", i + 1, again.body);
        }
    }
}

fn a_write_through_one_isolate_reaches_all_four_within_the_target(s: &Four) {
    s.prime("mail.host");
    let wrote = s.isolates[0].put("/v1/options/mail.host", r#"{"value": "smtp.edge.example"}"#);
    assert_eq!(wrote.status, 200, "{:?}", wrote.body);
    let version = wrote.body["version"].as_u64().expect("a write answers its version");
    let took = s.time_to_all("mail.host", version, TARGET);
    eprintln!("edge write reached all four isolates in {took:?}");
    for i in 0..4 {
        assert_eq!(s.read(i, "mail.host").0, json!("smtp.edge.example"));
    }
}

fn a_write_straight_at_the_origin_reaches_all_four_within_the_target(s: &Four) {
    s.prime("mail.from");
    let wrote = s.origin.call("PUT", "/options/mail.from", Some(r#"{"value": "ops@origin.example"}"#));
    assert_eq!(wrote.status, 200, "{:?}", wrote.body);
    let version = wrote.body["version"].as_u64().expect("the origin answers its version");
    let took = s.time_to_all("mail.from", version, TARGET);
    eprintln!("origin-side write reached all four isolates in {took:?}");
}

fn a_read_with_min_version_reads_its_own_write_on_any_isolate(s: &Four) {
    s.prime("mail.port");
    let wrote = s.isolates[0].put("/v1/options/mail.port", r#"{"value": 2525}"#);
    assert_eq!(wrote.status, 200, "{:?}", wrote.body);
    let version = wrote.body["version"].as_u64().expect("version");
    let by_query = s.isolates[1].get(&format!("/v1/options/mail.port?min_version={version}"));
    assert_eq!((by_query.status, by_query.body["value"].clone()), (200, json!(2525)), "{:?}", by_query.body);
    let by_header = support::call_with_headers(
        "GET",
        &format!("{}/v1/options/mail.port", s.isolates[2].url()),
        READ,
        &[("x-min-version", &version.to_string())],
    );
    assert_eq!((by_header.status, by_header.body["value"].clone()), (200, json!(2525)), "{:?}", by_header.body);
    let bad = s.isolates[3].get("/v1/options/mail.port?min_version=soon");
    assert_eq!((bad.status, bad.code()), (400, "invalid_body"));
}

fn the_hot_path_makes_no_beacon_call_about_one_check_per_isolate_per_interval(s: &Four) {
    let before = s.beacon_checks();
    let started = Instant::now();
    let load = Duration::from_secs(3);
    let reads: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let isolate = &s.isolates[i];
                scope.spawn(move || {
                    let mut n = 0;
                    while started.elapsed() < load {
                        assert_eq!(isolate.get("/v1/options/mail.host").status, 200);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a load thread")).sum()
    });
    let elapsed = started.elapsed();
    let checks = s.beacon_checks() - before;
    // One check per isolate per 500 ms at most, plus the one in flight.
    let allowed = 4 * (elapsed.as_millis() as u64 / 500 + 2);
    eprintln!("{reads} reads in {elapsed:?} made {checks} beacon checks (at most {allowed} allowed)");
    assert!(checks <= allowed, "{checks} checks for {reads} reads in {elapsed:?}");
    assert!(checks >= 4, "every isolate checked at least once under load: {checks}");
    assert!(reads as u64 >= 5 * checks, "reads must far outnumber checks: {reads} reads, {checks} checks");
}

fn stats_show_each_isolates_beacon_version_last_check_and_lag(s: &Four) {
    for (i, isolate) in s.isolates.iter().enumerate() {
        let stats = isolate.call("GET", "/v1/stats", Some(READ), None);
        let beacon = &stats.body["beacon"];
        assert_eq!(beacon["enabled"], json!(true), "isolate {}: {beacon}", i + 1);
        assert!(beacon["known_version"].as_u64() > Some(0), "isolate {}: {beacon}", i + 1);
        assert!(beacon["last_check_age_ms"].as_u64() < Some(60_000), "isolate {}: {beacon}", i + 1);
        assert!(beacon.get("behind").is_some_and(Value::is_u64), "{beacon}");
        eprintln!("isolate {}: the last beacon check took {} ms", i + 1, beacon["last_check_ms"]);
    }
}

/// The quiet-isolate decision (docs/design.md "Propagation"): a request
/// never awaits the beacon, so an isolate that checked nothing since a
/// change answers its first read from its fresh memory entry; the check that
/// read starts lands for the next one.
fn a_quiet_isolate_answers_its_first_read_from_memory_and_the_next_after_its_check(s: &Four) {
    s.prime("mail.subject-prefix");
    let (old, _) = s.read(3, "mail.subject-prefix");
    std::thread::sleep(Duration::from_millis(600)); // isolate 4 goes quiet
    let wrote = s.isolates[0].put("/v1/options/mail.subject-prefix", r#"{"value": "[quiet] "}"#);
    let version = wrote.body["version"].as_u64().expect("version");
    s.time_to_all_but(3, "mail.subject-prefix", version);
    let first = s.read(3, "mail.subject-prefix");
    assert_eq!(first.0, old, "the quiet isolate's first read is its fresh memory entry (no await)");
    let started = Instant::now();
    while s.read(3, "mail.subject-prefix").1 < version {
        assert!(started.elapsed() < TARGET, "the check started by the first read did not land within {TARGET:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("the quiet isolate answered the change {:?} after its first read", started.elapsed());
}

#[test]
fn four_isolates_serve_every_change_within_the_target_without_a_beacon_call_on_the_hot_path() {
    let s = Four::start();
    a_write_through_one_isolate_reaches_all_four_within_the_target(&s);
    a_write_straight_at_the_origin_reaches_all_four_within_the_target(&s);
    a_read_with_min_version_reads_its_own_write_on_any_isolate(&s);
    the_hot_path_makes_no_beacon_call_about_one_check_per_isolate_per_interval(&s);
    stats_show_each_isolates_beacon_version_last_check_and_lag(&s);
    a_quiet_isolate_answers_its_first_read_from_memory_and_the_next_after_its_check(&s);
}
