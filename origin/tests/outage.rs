//! A replica whose PostgreSQL goes away answers 503 `unavailable` (the
//! edge then serves stale), says so on `/healthz` and `/readyz`, and
//! recovers by itself when the database returns, without a restart.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::postgres::PgServer;
use common::{tempdir, Origin, BIN, TOKEN};
use serde_json::json;

fn replica(server: &PgServer, dir: &tempfile::TempDir) -> Origin {
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", "127.0.0.1:0", "--token", TOKEN, "--db-pool", "4", "--db", &server.url("postgres")]);
    Origin::spawn(cmd, dir.path())
}

#[test]
fn replicas_answer_503_while_the_database_is_down_and_recover_without_a_restart() {
    // This binary's own server: stopping the shared one would fail other tests.
    let mut server = PgServer::start();
    let dir = tempdir();
    let (a, b) = (replica(&server, &dir), replica(&server, &dir));
    let before = a.put("/options/kept", &json!({"value": "before"})).version();
    b.put("/projects/1/options/k", &json!({"value": 1})).ok();

    server.stop();
    for o in [&a, &b] {
        let started = Instant::now();
        o.get("/options/kept").assert_error(503, "unavailable");
        o.put("/options/lost", &json!({"value": 1})).assert_error(503, "unavailable");
        o.delete("/options/kept").assert_error(503, "unavailable");
        o.get("/projects/1/options").assert_error(503, "unavailable");
        o.get("/changes?after=0").assert_error(503, "unavailable");
        assert!(started.elapsed() < Duration::from_secs(30), "503 comes without waiting for long");
        let health = o.send("GET", "/healthz", None, None).ok();
        assert_eq!((health["ok"].clone(), health["database"].clone()), (json!(true), json!("unreachable")));
        o.send("GET", "/readyz", None, None).assert_error(503, "unavailable");
    }

    server.start_again();
    for o in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(30);
        while o.send("GET", "/readyz", None, None).status != 200 {
            assert!(Instant::now() < deadline, "the replica did not recover within 30 s:\n{}", o.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(o.send("GET", "/healthz", None, None).ok()["database"], "reachable");
        assert_eq!(o.get("/options/kept").ok()["value"], "before", "data written before the outage is there");
    }
    // Nothing refused during the outage was written, and versions go on.
    a.get("/options/lost").assert_error(404, "not_found");
    assert_eq!(b.put("/options/after", &json!({"value": 2})).version(), before + 2);
    assert_eq!(a.get("/projects/1/options").ok()["values"], json!({"k": 1}));
}
