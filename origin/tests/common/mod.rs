//! Test harness: starts the real `edge-options-origin` binary on port 0
//! with a temporary database and drives it over real HTTP.
//!
//! Every test that does not depend on the backend runs on both: written as
//! `fn name(backend: Backend)` and listed in [`on_both_backends!`], it
//! becomes the tests `name::sqlite` and `name::postgres`. SQLite gets a
//! file in the test's temporary folder; PostgreSQL a new database on one
//! throwaway server per test binary ([`postgres::PgServer`], started on
//! first use, stopped when the binary exits).
#![allow(dead_code)] // each test crate uses a different part of the harness

pub mod postgres;

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

/// Token the harness starts the origin with.
pub const TOKEN: &str = "test-origin-token";

/// Path of the binary under test, built by cargo for integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_edge-options-origin");

/// Which database an origin runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the test's folder.
    Sqlite,
    /// A fresh database on the test binary's PostgreSQL server.
    Postgres,
}

/// Turns each `fn name(backend: Backend)` into two tests, `name::sqlite`
/// and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::common::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$name($crate::common::Backend::Postgres)
            }
        }
    )+};
}

/// The test binary's PostgreSQL server, started on first use.
pub fn pg() -> &'static postgres::PgServer {
    static SERVER: OnceLock<postgres::PgServer> = OnceLock::new();
    SERVER.get_or_init(postgres::PgServer::start)
}

/// Where an origin keeps its data: what `--db` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbRef {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A database on [`pg`], by name.
    Postgres(String),
}

impl DbRef {
    /// A new, empty database of `backend` (a file in `dir` for SQLite).
    pub fn fresh(backend: Backend, dir: &TempDir) -> DbRef {
        match backend {
            Backend::Sqlite => DbRef::Sqlite(dir.path().join(format!("origin-{}.sqlite3", unique()))),
            Backend::Postgres => DbRef::Postgres(pg().create_database()),
        }
    }

    /// The `--db` argument.
    pub fn arg(&self) -> OsString {
        match self {
            DbRef::Sqlite(path) => path.clone().into_os_string(),
            DbRef::Postgres(name) => pg().url(name).into(),
        }
    }

    /// Runs SQL statements on the database behind the origin's back (to
    /// corrupt rows, to look at what is stored); answers the output of the
    /// last statement, one row a line, columns separated by `|`.
    pub fn sql(&self, sql: &str) -> String {
        match self {
            DbRef::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).expect("open the origin's database");
                db.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
                let statements: Vec<&str> = sql.split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
                let mut out = String::new();
                for statement in statements {
                    let mut stmt = db.prepare(statement).expect("prepare");
                    let width = stmt.column_count();
                    let mut rows = stmt.query([]).expect("query");
                    out.clear();
                    while let Some(row) = rows.next().expect("row") {
                        let cells: Vec<String> = (0..width)
                            .map(|i| match row.get_ref(i).expect("cell") {
                                rusqlite::types::ValueRef::Null => String::new(),
                                rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                                rusqlite::types::ValueRef::Real(f) => f.to_string(),
                                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                                rusqlite::types::ValueRef::Blob(b) => format!("{b:?}"),
                            })
                            .collect();
                        out.push_str(&cells.join("|"));
                        out.push('\n');
                    }
                }
                out.trim().to_string()
            }
            DbRef::Postgres(name) => pg().psql(name, sql),
        }
    }
}

/// A running origin; killed when dropped.
pub struct Origin {
    child: Child,
    /// The database it was started on.
    pub db: Option<DbRef>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The first stdout line, verbatim.
    pub banner: String,
    /// Where its stderr (the request log) goes.
    pub log: PathBuf,
    agent: ureq::Agent,
}

/// An answer: status and JSON body (`Null` when the body is empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The error code of an error answer, after checking the error shape.
    pub fn code(&self) -> &str {
        let err = &self.body["error"];
        assert!(err.is_object(), "not an error body: {}", self.body);
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {}", self.body);
        err["code"].as_str().unwrap_or_else(|| panic!("no code: {}", self.body))
    }

    /// Asserts status and error code together.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
    }

    /// Asserts 200 and returns the body.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "body: {}", self.body);
        self.body
    }

    /// The `version` field as an integer.
    pub fn version(&self) -> i64 {
        self.body["version"].as_i64().unwrap_or_else(|| panic!("no version in {}", self.body))
    }
}

/// A fresh temporary directory (kept alive by the caller).
pub fn tempdir() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

impl Origin {
    /// Starts an origin on a fresh SQLite file inside `dir`.
    pub fn start(dir: &TempDir) -> Self {
        Self::on(Backend::Sqlite, dir)
    }

    /// Starts an origin on a fresh database of `backend`, logging into `dir`.
    pub fn on(backend: Backend, dir: &TempDir) -> Self {
        Self::start_on(&DbRef::fresh(backend, dir), dir.path())
    }

    /// Starts an origin on `db` (again, or a second one on the same
    /// database), logging into `log_dir`.
    pub fn start_on(db: &DbRef, log_dir: &Path) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(["--listen", "127.0.0.1:0", "--token", TOKEN, "--db"]).arg(db.arg());
        let mut origin = Self::spawn(cmd, log_dir);
        origin.db = Some(db.clone());
        origin
    }

    /// Runs SQL on this origin's database behind its back (see [`DbRef::sql`]).
    pub fn sql(&self, sql: &str) -> String {
        self.db.as_ref().expect("an origin started on a known database").sql(sql)
    }

    /// Starts `cmd` (the binary with its arguments) and waits for its
    /// listening line.
    pub fn spawn(mut cmd: Command, log_dir: &Path) -> Self {
        let log = log_dir.join(format!("origin-{}.log", unique()));
        let stderr = File::create(&log).expect("log file");
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::from(stderr)).spawn().expect("spawn origin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let banner = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if !line.is_empty() => line.trim_end().to_string(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("origin did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
        };
        let base = banner
            .strip_prefix("origin listening on ")
            .unwrap_or_else(|| panic!("unexpected banner {banner:?}"))
            .to_string();
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build();
        Self { child, db: None, base, banner, log, agent }
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
    }

    /// Sends a request; `token: None` sends no Authorization header.
    pub fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<&[u8]>) -> Reply {
        let mut req = self.agent.request(method, &format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.set("Authorization", &format!("Bearer {token}"));
        }
        let result = match body {
            Some(bytes) => req.set("Content-Type", "application/json").send_bytes(bytes),
            None => req.call(),
        };
        let resp = match result {
            Ok(resp) => resp,
            Err(ureq::Error::Status(_, resp)) => resp,
            Err(e) => panic!("{method} {path}: transport error {e}"),
        };
        let status = resp.status();
        let text = resp.into_string().expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        };
        assert_ne!(status, 500, "{method} {path} answered 500: {body}");
        Reply { status, body }
    }

    /// Authenticated GET.
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, Some(TOKEN), None)
    }

    /// Authenticated PUT of a JSON body.
    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.send("PUT", path, Some(TOKEN), Some(body.to_string().as_bytes()))
    }

    /// Authenticated PUT of raw bytes.
    pub fn put_raw(&self, path: &str, body: &[u8]) -> Reply {
        self.send("PUT", path, Some(TOKEN), Some(body))
    }

    /// Authenticated DELETE.
    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, Some(TOKEN), None)
    }

    /// Authenticated POST with an empty JSON object.
    pub fn post(&self, path: &str) -> Reply {
        self.send("POST", path, Some(TOKEN), Some(b"{}"))
    }

    /// Kills the process (no graceful shutdown: what survives must already
    /// be on disk) and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The request log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes every byte that is not unreserved, so any string can be
/// sent as one path segment.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}
