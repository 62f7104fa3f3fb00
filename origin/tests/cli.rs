//! The command line: flags, environment, the startup line, the request
//! log, and clear failures at start.

mod common;

use std::process::{Command, Stdio};

use common::{pg, tempdir, Origin, BIN, TOKEN};
use serde_json::json;

#[test]
fn listening_line_reports_the_bound_port() {
    let dir = tempdir();
    let o = Origin::start(&dir);
    let port = o.port();
    assert_ne!(port, 0);
    assert_eq!(o.banner, format!("origin listening on http://127.0.0.1:{port}"));
    assert_eq!(o.send("GET", "/healthz", None, None).ok()["ok"], true);
}

#[test]
fn environment_configures_listen_db_and_token() {
    let dir = tempdir();
    let db = dir.path().join("made").join("by-env.sqlite3");
    let mut cmd = Command::new(BIN);
    cmd.env("ORIGIN_LISTEN", "127.0.0.1:0").env("ORIGIN_DB", &db).env("ORIGIN_TOKEN", TOKEN);
    let o = Origin::spawn(cmd, dir.path());
    o.put("/options/x", &json!({"value": 1})).ok();
    assert!(db.exists(), "database created, parent directory included");
}

#[test]
fn flags_override_the_environment() {
    let dir = tempdir();
    let mut cmd = Command::new(BIN);
    cmd.env("ORIGIN_TOKEN", "from-env")
        .env("ORIGIN_LISTEN", "127.0.0.1:1")
        .args(["--listen=127.0.0.1:0", "--token", TOKEN, "--db"])
        .arg(dir.path().join("o.sqlite3"));
    let o = Origin::spawn(cmd, dir.path());
    o.get("/options/x").assert_error(404, "not_found");
    o.send("GET", "/options/x", Some("from-env"), None).assert_error(401, "unauthorized");
}

#[test]
fn help_prints_usage_and_exits_0() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--listen",
        "--db",
        "--token",
        "--db-pool",
        "--db-ca",
        "ORIGIN_LISTEN",
        "ORIGIN_DB",
        "ORIGIN_TOKEN",
        "ORIGIN_DB_CA",
        "postgres://",
        "sslmode=require",
    ] {
        assert!(text.contains(word), "usage mentions {word}");
    }
}

fn fails(args: &[&str]) -> String {
    let out = Command::new(BIN).env_remove("ORIGIN_TOKEN").args(args).stdin(Stdio::null()).output().expect("run");
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(out.stdout.is_empty(), "no listening line on failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_start_configuration_exits_non_zero_with_a_message() {
    let dir = tempdir();
    let db = dir.path().join("o.sqlite3");
    let db = db.to_str().expect("utf-8 path");
    assert!(fails(&["--listen", "not-an-address", "--db", db]).contains("invalid listen address"));
    assert!(fails(&["--listen", "127.0.0.1:99999", "--db", db]).contains("invalid listen address"));
    assert!(fails(&["--bogus"]).contains("unknown argument"));
    assert!(fails(&["--db"]).contains("needs a value"));

    // A database path under a regular file cannot be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let under_file = file.join("o.sqlite3");
    let msg = fails(&["--token", TOKEN, "--listen", "127.0.0.1:0", "--db", under_file.to_str().expect("utf-8")]);
    assert!(msg.contains("cannot"), "{msg}");

    // A file that is not a database.
    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(&junk, vec![b'j'; 4096]).expect("write");
    let msg = fails(&["--token", TOKEN, "--listen", "127.0.0.1:0", "--db", junk.to_str().expect("utf-8")]);
    assert!(msg.contains("database"), "{msg}");

    // A port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    assert!(fails(&["--token", TOKEN, "--listen", &addr, "--db", db]).contains("cannot listen"));
}

#[test]
fn without_a_token_it_refuses_to_start_and_says_how_to_give_one() {
    let dir = tempdir();
    let db = dir.path().join("o.sqlite3");
    let msg = fails(&["--listen", "127.0.0.1:0", "--db", db.to_str().expect("utf-8")]);
    assert!(msg.contains("no token") && msg.contains("--token") && msg.contains("--dev"), "{msg}");
    assert!(!db.exists(), "nothing was created");
}

#[test]
fn dev_mode_accepts_the_development_token_and_warns_about_it() {
    let dir = tempdir();
    let mut cmd = Command::new(BIN);
    cmd.env_remove("ORIGIN_TOKEN").args(["--dev", "--listen", "127.0.0.1:0", "--db"]).arg(dir.path().join("o.sqlite3"));
    let o = Origin::spawn(cmd, dir.path());
    o.send("GET", "/options/x", Some("dev-origin-token"), None).assert_error(404, "not_found");
    o.send("GET", "/options/x", Some(TOKEN), None).assert_error(401, "unauthorized");
    let log = o.log_text();
    assert!(log.lines().next().is_some_and(|l| l.contains("WARNING") && l.contains("--dev")), "{log}");
}

#[test]
fn request_log_has_one_line_per_request_and_never_the_token() {
    let dir = tempdir();
    let o = Origin::start(&dir);
    o.put("/options/logged?secret=query", &json!({"value": "body-secret"})).ok();
    o.get("/options/logged");
    o.send("GET", "/options/logged", Some("wrong-guess"), None);
    drop(o.get("/nope"));
    // Lines are written after the response; give the last one a moment.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = o.log_text();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 4, "{log}");
    assert!(lines[0].starts_with("PUT /options/logged 200 "), "{log}");
    assert!(lines[0].ends_with("ms"), "{log}");
    assert!(lines[1].starts_with("GET /options/logged 200 "), "{log}");
    assert!(lines[2].starts_with("GET /options/logged 401 "), "{log}");
    assert!(lines[3].starts_with("GET /nope 404 "), "{log}");
    for secret in [TOKEN, "wrong-guess", "body-secret", "secret=query"] {
        assert!(!log.contains(secret), "log leaks {secret}: {log}");
    }
}

#[test]
fn a_postgres_url_in_the_environment_selects_postgres_and_migrates_it() {
    let dir = tempdir();
    let name = pg().create_database();
    let mut cmd = Command::new(BIN);
    cmd.env("ORIGIN_LISTEN", "127.0.0.1:0")
        .env("ORIGIN_DB", pg().url(&name))
        .env("ORIGIN_DB_POOL", "2")
        .env("ORIGIN_TOKEN", TOKEN);
    let o = Origin::spawn(cmd, dir.path());
    assert_eq!(o.send("GET", "/healthz", None, None).ok()["backend"], "postgres");
    o.put("/options/x", &json!({"value": 1})).ok();
    assert_eq!(
        pg().psql(&name, "SELECT version, description FROM schema_migrations"),
        "1|options, option maps, ownership and the version counter"
    );
    assert_eq!(pg().psql(&name, "SELECT convert_from(name, 'UTF8'), value, version FROM options"), "x|1|1");
}

#[test]
fn an_unreachable_or_bad_postgres_url_exits_non_zero_without_showing_the_password() {
    // Nothing listens on a port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let url = format!("postgres://origin:s3cret-pw@127.0.0.1:{port}/edge");
    let msg = fails(&["--token", TOKEN, "--listen", "127.0.0.1:0", "--db", &url]);
    assert!(msg.contains("cannot connect to database") && msg.contains("origin:***@127.0.0.1"), "{msg}");
    assert!(!msg.contains("s3cret-pw"), "{msg}");

    let msg = fails(&["--token", TOKEN, "--listen", "127.0.0.1:0", "--db", "postgres://u:s3cret-pw@h:notaport/d"]);
    assert!(msg.contains("invalid PostgreSQL URL") && !msg.contains("s3cret-pw"), "{msg}");

    // A database that does not exist on a server that does.
    let missing = format!("postgres://postgres:s3cret-pw@127.0.0.1:{}/no_such_database", pg().port());
    let msg = fails(&["--token", TOKEN, "--listen", "127.0.0.1:0", "--db", &missing]);
    assert!(msg.contains("no_such_database") && !msg.contains("s3cret-pw"), "{msg}");

    assert!(fails(&["--dev", "--db-pool", "0"]).contains("--db-pool"));
}
