//! TLS from the origin to PostgreSQL, against a real server with `ssl=on`
//! and a certificate made for this test binary: the URL's `sslmode` decides
//! whether TLS is used, and when it is the server's certificate is always
//! verified; anything wrong stops the origin at start with one line saying
//! what. One TLS server (with a private CA) for the whole file, one more
//! for a self-signed certificate; the refusal by a server without TLS uses
//! the harness's usual server.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::postgres::{PgServer, Signer};
use common::{pg, tempdir, Origin, BIN, TOKEN};
use serde_json::json;

/// The file's TLS server, started on first use.
fn tls_pg() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(|| PgServer::start_with_tls(Signer::Ca))
}

/// `postgres://postgres:s3cret-pw@HOST:PORT/DB?QUERY` on `server`, a
/// password in it to check it is never shown (the test server trusts
/// every local connection, so it is not checked).
fn url(server: &PgServer, host: &str, db: &str, query: &str) -> String {
    format!("postgres://postgres:s3cret-pw@{host}:{}/{db}?{query}", server.port())
}

/// Starts an origin on `url`, with `--db-ca` when `ca` says so.
fn origin(url: &str, ca: Option<&Path>, dir: &tempfile::TempDir) -> Origin {
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", "127.0.0.1:0", "--token", TOKEN, "--db", url]);
    if let Some(ca) = ca {
        cmd.arg("--db-ca").arg(ca);
    }
    Origin::spawn(cmd, dir.path())
}

/// Whether the origin's connections to `db` are encrypted, as the server
/// sees them: `count|all encrypted` over the origin's connections.
fn server_side_tls(server: &PgServer, db: &str) -> String {
    server.psql(
        db,
        &format!(
            "SELECT count(*), bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'edge-options-origin' AND a.datname = '{db}'"
        ),
    )
}

/// Runs the origin with `args` (and `env`), which must refuse to start
/// within 30 s: no listening line, a non-zero exit, and one `origin:` line
/// on stderr, which is answered.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", "127.0.0.1:0", "--token", TOKEN]).args(args).env_remove("ORIGIN_DB_CA");
    cmd.envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn origin");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("poll origin").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?}: the origin neither started nor refused within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("origin output");
    assert!(!out.status.success(), "{args:?} should refuse to start");
    assert!(out.stdout.is_empty(), "{args:?}: no listening line on failure");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.starts_with("origin: WARNING:")).collect();
    assert!(lines.len() == 1 && lines[0].starts_with("origin: "), "one line for the operator: {stderr}");
    assert!(!stderr.contains("s3cret-pw"), "the password is never shown: {stderr}");
    stderr
}

#[test]
fn sslmode_require_with_the_ca_writes_and_reads_over_verified_tls() {
    let dir = tempdir();
    let db = tls_pg().create_database();
    let o = origin(&url(tls_pg(), "127.0.0.1", &db, "sslmode=require"), Some(&tls_pg().ca_file()), &dir);
    let version = o.put("/options/over-tls", &json!({"value": {"secret": "kept"}})).version();
    let read = o.get("/options/over-tls").ok();
    assert_eq!((read["value"]["secret"].as_str(), read["version"].as_i64()), (Some("kept"), Some(version)));
    let seen = server_side_tls(tls_pg(), &db);
    assert!(seen.ends_with("|t") && !seen.starts_with("0|"), "the server sees only TLS connections: {seen}");
    let stored: serde_json::Value =
        serde_json::from_str(&tls_pg().psql(&db, "SELECT value FROM options")).expect("the stored value is JSON");
    assert_eq!(stored, json!({"secret": "kept"}));
    assert!(!o.log_text().contains("WARNING"), "loopback with TLS required: {}", o.log_text());
}

#[test]
fn sslmode_prefer_uses_tls_when_the_server_offers_it_with_the_ca_from_the_environment() {
    let dir = tempdir();
    let db = tls_pg().create_database();
    // No sslmode in the URL: the driver's default, prefer.
    let mut cmd = Command::new(BIN);
    cmd.env("ORIGIN_DB", tls_pg().url(&db)).env("ORIGIN_DB_CA", tls_pg().ca_file());
    cmd.args(["--listen", "127.0.0.1:0", "--token", TOKEN]);
    let o = Origin::spawn(cmd, dir.path());
    o.put("/options/x", &json!({"value": 1})).ok();
    assert_eq!(o.get("/options/x").ok()["value"], 1);
    let seen = server_side_tls(tls_pg(), &db);
    assert!(seen.ends_with("|t") && !seen.starts_with("0|"), "prefer took TLS: {seen}");
}

#[test]
fn without_the_ca_the_origin_refuses_to_start_naming_the_certificate_problem() {
    let db = tls_pg().create_database();
    // The test CA is none of the public roots; prefer verifies too, once
    // the server offers TLS, and never falls back to plain text.
    for query in ["sslmode=require", "sslmode=prefer"] {
        let msg = refused(&["--db", &url(tls_pg(), "127.0.0.1", &db, query)], &[]);
        assert!(msg.contains("cannot connect to database postgres://postgres:***@127.0.0.1"), "{query}: {msg}");
        assert!(msg.contains("UnknownIssuer") && msg.contains("--db-ca"), "{query}: {msg}");
        assert!(msg.contains("on this machine, sslmode=disable"), "a way out on loopback: {msg}");
    }
}

#[test]
fn a_self_signed_server_certificate_given_as_the_ca_file_is_trusted() {
    // A server of its own: its certificate is its own CA.
    let server = PgServer::start_with_tls(Signer::SelfSigned);
    let dir = tempdir();
    let db = server.create_database();
    let o = origin(&url(&server, "127.0.0.1", &db, "sslmode=verify-full"), Some(&server.ca_file()), &dir);
    o.put("/options/self-signed", &json!({"value": 7})).ok();
    assert_eq!(o.get("/options/self-signed").ok()["value"], 7);
    let seen = server_side_tls(&server, &db);
    assert!(seen.ends_with("|t") && !seen.starts_with("0|"), "libpq's verify-full is TLS required: {seen}");
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    let db = tls_pg().create_database();
    // Connects to 127.0.0.1 (hostaddr) but checks the certificate for the
    // name `localhost`, which it does not list.
    let ca = tls_pg().ca_file();
    let ca = ca.to_str().expect("utf-8 path");
    let db_url = url(tls_pg(), "localhost", &db, "hostaddr=127.0.0.1&sslmode=require");
    let msg = refused(&["--db", &db_url, "--db-ca", ca], &[]);
    assert!(msg.contains("localhost") && msg.contains("not valid for name"), "{msg}");
    assert!(msg.contains("host name the certificate lists"), "{msg}");
}

#[test]
fn a_bad_ca_file_refuses_to_start_naming_the_file() {
    let dir = tempdir();
    let db = tls_pg().create_database();
    let db_url = url(tls_pg(), "127.0.0.1", &db, "sslmode=require");
    let missing = dir.path().join("missing-ca.pem");
    let msg = refused(&["--db", &db_url], &[("ORIGIN_DB_CA", missing.to_str().expect("utf-8 path"))]);
    assert!(msg.contains("cannot read the database CA file") && msg.contains("missing-ca.pem"), "{msg}");
    // A private key is PEM too, but no certificate.
    let key_only = dir.path().join("key-only.pem");
    std::fs::write(&key_only, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").expect("write");
    let msg = refused(&["--db", &db_url, "--db-ca", key_only.to_str().expect("utf-8 path")], &[]);
    assert!(msg.contains("key-only.pem") && msg.contains("no PEM certificate"), "{msg}");
}

#[test]
fn sslmode_require_against_a_server_without_tls_refuses_to_start() {
    let db = pg().create_database();
    let msg = refused(&["--db", &url(pg(), "127.0.0.1", &db, "sslmode=require")], &[]);
    assert!(msg.contains("127.0.0.1") && msg.contains("server does not support TLS"), "{msg}");
    assert!(msg.contains("does not offer TLS"), "{msg}");
}

#[test]
fn sslmode_disable_still_connects_in_plain_text() {
    let dir = tempdir();
    let db = tls_pg().create_database();
    let o = origin(&url(tls_pg(), "127.0.0.1", &db, "sslmode=disable"), None, &dir);
    o.put("/options/plain", &json!({"value": true})).ok();
    assert_eq!(o.get("/options/plain").ok()["value"], true);
    let seen = server_side_tls(tls_pg(), &db);
    assert!(seen.ends_with("|f") && !seen.starts_with("0|"), "the server sees plain connections: {seen}");
}
