//! End-to-end harness: the real reference origin and the real Worker under
//! `wrangler dev`, on free ports with temporary state, driven over HTTP.
//!
//! Needs the built origin binary and the built Worker (`scripts/test` builds
//! both first). Every process is started in its own process group and the
//! whole group is killed on drop, so a test leaves nothing running behind,
//! and nothing here touches a developer's `.data/` or `.wrangler/state`.

#![allow(dead_code)]

pub mod fault_proxy;
/// A throwaway PostgreSQL server (shared with the origin's own tests).
#[path = "../../origin/tests/common/postgres.rs"]
pub mod postgres;
pub mod round_robin;

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The tokens of `.dev.vars.example`, which every test Worker is given.
pub const READ: &str = "dev-read-token";
pub const ADMIN: &str = "dev-admin-token";
/// The token the Worker sends and the origin (started with `--dev`) accepts.
pub const ORIGIN_TOKEN: &str = "dev-origin-token";

/// Creates `.dev.vars` from `.dev.vars.example` when it is missing, as
/// `scripts/dev` does: `wrangler dev` of the repository's config reads its
/// secrets from there. Tests pass their tokens with `--var` as well (which
/// wins over `.dev.vars`), so a developer's own `.dev.vars` cannot change
/// what they prove.
pub fn ensure_dev_vars() {
    let target = root().join(".dev.vars");
    if target.exists() {
        return;
    }
    let example = std::fs::read(root().join(".dev.vars.example")).expect("read .dev.vars.example");
    // Several tests may start at once: only the first creates the file.
    if let Ok(mut file) = std::fs::OpenOptions::new().write(true).create_new(true).open(&target) {
        std::io::Write::write_all(&mut file, &example).expect("write .dev.vars");
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn kill_group(child: &mut Child) {
    let pid = child.id();
    // `kill -s SIG -- -PGID` signals the whole group; the short form
    // `kill -TERM -PGID` is silently misread by procps.
    let group = format!("-{pid}");
    let _ = Command::new("kill").args(["-s", "TERM", "--", &group]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
    let _ = child.wait();
}

/// The reference origin, over a SQLite file in a temporary folder (or a
/// PostgreSQL database: [`Origin::start_on_db`]).
pub struct Origin {
    child: Option<Child>,
    pub port: u16,
    db: OsString,
    /// While stopped, its port is held by a listener that drops every
    /// connection (as good as "connection refused" to a client), so no other
    /// process of a parallel test can take the port and answer in its place.
    held: Option<PortHold>,
}

/// A port kept bound while its server is down: every connection is closed
/// at once without a byte read or sent. Released on drop.
struct PortHold {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PortHold {
    /// Holds `port`, or `None` when it cannot be bound (then nothing holds it).
    fn start(port: u16) -> Option<PortHold> {
        let listener = TcpListener::bind(("127.0.0.1", port)).ok()?;
        listener.set_nonblocking(true).ok()?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => drop(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Some(PortHold { stop, thread: Some(thread) })
    }
}

impl Drop for PortHold {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Origin {
    /// Starts a new origin on a free port with an empty database in `dir`.
    pub fn start(dir: &Path) -> Origin {
        Origin::start_on_db(dir.join("origin.sqlite3"))
    }

    /// Starts a new origin on a free port over `db`: a SQLite path or a
    /// `postgres://` URL (several origins may share one PostgreSQL database).
    pub fn start_on_db(db: impl Into<OsString>) -> Origin {
        let mut origin = Origin { child: None, port: 0, db: db.into(), held: None };
        origin.launch(0);
        origin
    }

    fn binary() -> PathBuf {
        std::env::var_os("EDGE_OPTIONS_ORIGIN_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target/debug/edge-options-origin"))
    }

    fn launch(&mut self, port: u16) {
        let bin = Origin::binary();
        assert!(bin.exists(), "no origin binary at {} — run scripts/test (it builds it)", bin.display());
        // `--dev`: the origin accepts the development token, as under scripts/dev.
        let mut child = Command::new(&bin)
            .args(["--dev", "--listen", &format!("127.0.0.1:{port}"), "--db"])
            .arg(&self.db)
            .env_remove("ORIGIN_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start the origin");
        let stdout = child.stdout.take().expect("origin stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("the origin printed where it listens");
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or_else(|| panic!("unexpected origin banner: {line:?}"));
        self.port = port;
        self.child = Some(child);
    }

    /// Base URL of this origin.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the origin (its data stays on disk). Its port stays held, so
    /// clients see connections refused until `restart`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
            self.held = PortHold::start(self.port);
        }
    }

    /// Kills the origin at once (SIGKILL: no graceful shutdown, requests in
    /// flight are cut off), as a crashed replica.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and database.
    pub fn restart(&mut self) {
        self.stop();
        self.held = None;
        let port = self.port;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The port may linger briefly after the old process exits.
            if TcpListener::bind(("127.0.0.1", port)).is_ok() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.launch(port);
    }

    /// A request straight to the origin, bypassing the edge.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        call(method, &format!("{}{}", self.url(), path), Some(ORIGIN_TOKEN), body)
    }

    /// How many requests the origin received for a route template, e.g.
    /// `"GET /options/{name}"`, since it started or was last reset.
    pub fn count(&self, route: &str) -> u64 {
        let stats = self.call("GET", "/_origin/stats", None);
        assert_eq!(stats.status, 200, "origin stats: {:?}", stats.body);
        stats.body["by_route"][route].as_u64().unwrap_or(0)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }
}

/// The repository's `wrangler.toml` copied into `dir` as tests run it:
/// without `[build]` (so no build step and no watcher), with absolute
/// paths (`main`, the assets folder), and named `name` when given (a
/// second Worker of the same build). Every token comes from `--var`; no
/// `.dev.vars` is beside the copy. Answers the copy's path.
pub fn config_copy(dir: &Path, name: Option<&str>) -> PathBuf {
    let config = std::fs::read_to_string(root().join("wrangler.toml")).expect("read wrangler.toml");
    let mut copy = String::new();
    let mut section = String::new();
    for line in config.lines() {
        if line.starts_with('[') {
            section = line.trim().to_string();
        }
        if section == "[build]" {
            continue;
        }
        let line = match (line.trim(), name) {
            (l, Some(name)) if l.starts_with("name = ") && section.is_empty() => format!("name = \"{name}\""),
            ("main = \"build/index.js\"", _) => {
                format!("main = {:?}", root().join("build/index.js").display().to_string())
            }
            ("directory = \"www\"", _) => format!("directory = {:?}", root().join("www").display().to_string()),
            _ => line.to_string(),
        };
        copy.push_str(&line);
        copy.push('\n');
    }
    std::fs::create_dir_all(dir).expect("config dir");
    let path = dir.join("wrangler.toml");
    std::fs::write(&path, copy).expect("write the config copy");
    path
}

/// The beacon Worker's config for a stack against `origin_url`, written by
/// `scripts/beacon-config` into its own folder under `state` (with the
/// origin token of these tests beside it).
fn beacon_config(origin_url: &str, state: &Path, port: u16) -> PathBuf {
    let dir = state.join(format!("beacon-{port}"));
    let status = Command::new(root().join("scripts/beacon-config"))
        .arg(origin_url)
        .arg(&dir)
        .env("ORIGIN_TOKEN", ORIGIN_TOKEN)
        .stdout(Stdio::null())
        .status()
        .expect("run scripts/beacon-config");
    assert!(status.success(), "scripts/beacon-config failed ({status})");
    dir.join("wrangler.toml")
}

/// The Worker under `wrangler dev`, with KV persisted in its own folder.
pub struct Worker {
    child: Option<Child>,
    pub port: u16,
    log: PathBuf,
}

impl Worker {
    /// Starts `wrangler dev` against `origin_url` with KV state under
    /// `state`, the tokens of `.dev.vars.example`, plus extra
    /// `--var NAME:VALUE` pairs. Waits until `/healthz` answers 200.
    ///
    /// The version beacon is off (`BEACON_CHECK_MS=0`) unless `vars` turn
    /// it on: these suites prove the time-based lifecycle, the sync job and
    /// origin faults, and count the origin's requests, which the beacon's
    /// own poll of the change feed would add to (tests/e2e_propagation.rs
    /// runs the beacon).
    pub fn start(origin_url: &str, state: &Path, vars: &[(&str, &str)]) -> Worker {
        ensure_dev_vars();
        let mut all = vec![
            ("READ_TOKEN", READ),
            ("ADMIN_TOKEN", ADMIN),
            ("ORIGIN_TOKEN", ORIGIN_TOKEN),
            ("BEACON_CHECK_MS", "0"),
        ];
        all.retain(|(name, _)| !vars.iter().any(|(n, _)| n == name));
        all.extend_from_slice(vars);
        let worker = Worker::launch(&root().join("wrangler.toml"), origin_url, state, &all);
        let health = worker.call("GET", "/healthz", None, None);
        assert_eq!(health.status, 200, "the Worker is not fully configured: {}", health.body);
        worker
    }

    /// Starts `wrangler dev` as a deployment that forgot its secrets: the
    /// repository's config copied into `state` (where no `.dev.vars` is),
    /// with only `vars` given. Waits until `/healthz` answers at all.
    pub fn start_without_secrets(origin_url: &str, state: &Path, vars: &[(&str, &str)]) -> Worker {
        let dir = state.join("unconfigured");
        let path = config_copy(&dir, None);
        assert!(!dir.join(".dev.vars").exists() && !dir.join(".env").exists());
        Worker::launch(&path, origin_url, state, vars)
    }

    /// Starts `wrangler dev` of another Worker's `config` (e.g.
    /// `examples/rust-worker/wrangler.toml`, built beforehand) against
    /// `origin_url` with KV state under `state` and only `vars`, run from
    /// the config's folder (where its `[build]` command expects to run).
    /// Waits until its `/healthz` answers 200.
    pub fn start_config(config: &Path, origin_url: &str, state: &Path, vars: &[(&str, &str)]) -> Worker {
        let dir = config.parent().map(Path::to_path_buf).unwrap_or_else(root);
        Worker::launch_in(&dir, config, origin_url, state, vars)
    }

    fn launch(config: &Path, origin_url: &str, state: &Path, vars: &[(&str, &str)]) -> Worker {
        Worker::launch_in(&root(), config, origin_url, state, vars)
    }

    fn launch_in(cwd: &Path, config: &Path, origin_url: &str, state: &Path, vars: &[(&str, &str)]) -> Worker {
        Worker::launch_with_env(cwd, config, origin_url, state, vars, &[])
    }

    /// Starts `wrangler dev` of `config` from `cwd` with the tokens of
    /// `.dev.vars.example`, `vars`, and extra environment `env` for wrangler
    /// itself (e.g. `WRANGLER_REGISTRY_PATH`, the local dev registry through
    /// which Workers of separate `wrangler dev` processes reach each other's
    /// Durable Objects). Waits until `/healthz` answers.
    pub fn start_with_env(
        cwd: &Path,
        config: &Path,
        origin_url: &str,
        state: &Path,
        vars: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Worker {
        ensure_dev_vars();
        let mut all = vec![("READ_TOKEN", READ), ("ADMIN_TOKEN", ADMIN), ("ORIGIN_TOKEN", ORIGIN_TOKEN)];
        all.extend_from_slice(vars);
        Worker::launch_with_env(cwd, config, origin_url, state, &all, env)
    }

    fn launch_with_env(
        cwd: &Path,
        config: &Path,
        origin_url: &str,
        state: &Path,
        vars: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Worker {
        let port = free_port();
        // The repository's config binds the version beacon of the beacon
        // Worker: run it in the same `wrangler dev`, as scripts/dev does.
        // The repository's config runs from a copy without `[build]`: the
        // Worker is built before the tests, and with a build step wrangler
        // also watches src/, where a stray file event restarts it mid-test
        // (its restart then fails on its own port, "Address already in use").
        let repository = config == root().join("wrangler.toml");
        let copy = repository.then(|| config_copy(&state.join(format!("edge-{port}")), None));
        let config = copy.as_deref().unwrap_or(config);
        let beacon = repository.then(|| beacon_config(origin_url, state, port));
        let log = state.join(format!("wrangler-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("wrangler log");
        let wrangler = root().join("node_modules/.bin/wrangler");
        assert!(wrangler.exists(), "no wrangler at {} — run scripts/test (it installs it)", wrangler.display());
        let mut cmd = Command::new(wrangler);
        cmd.current_dir(cwd)
            .args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .arg("--config")
            .arg(config)
            .args(beacon.iter().flat_map(|path| [Path::new("--config"), path.as_path()]))
            .args(["--inspector-port", &free_port().to_string()])
            .arg("--persist-to")
            .arg(state.join("wrangler-state"))
            .args(["--var", &format!("ORIGIN_URL:{origin_url}")])
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            // The Worker is built before the tests; never rebuild it under them.
            .env("EDGE_OPTIONS_NO_BUILD", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .process_group(0);
        for (name, value) in vars {
            cmd.args(["--var", &format!("{name}:{value}")]);
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = cmd.spawn().expect("start wrangler dev");
        let mut worker = Worker { child: Some(child), port, log };
        worker.wait_ready();
        worker
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("wrangler dev exited ({status}):\n{}", self.log_tail());
                }
            }
            if let Ok(reply) = try_call("GET", &format!("{}/healthz", self.url()), None, None) {
                if reply.status == 200 || reply.body.get("missing").is_some() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("wrangler dev was not ready within 120 s:\n{}", self.log_tail());
    }

    /// Everything wrangler (and the Worker's `console` lines) printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines wrangler printed, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Base URL of this Worker.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A request to the Worker with `token`.
    pub fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
        call(method, &format!("{}{}", self.url(), path), token, body)
    }

    /// `GET path` with the read token.
    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, Some(READ), None)
    }

    /// `PUT path` with the admin token and `body`.
    pub fn put(&self, path: &str, body: &str) -> Reply {
        self.call("PUT", path, Some(ADMIN), Some(body))
    }

    /// Stops wrangler (KV state stays on disk).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An origin and a Worker in one temporary folder.
pub struct Stack {
    pub worker: Worker,
    pub origin: Origin,
    pub dir: tempfile::TempDir,
    /// The extra vars the Worker was started with (kept by `new_isolate`).
    vars: Vec<(String, String)>,
}

impl Stack {
    /// A fresh origin and Worker with empty state.
    pub fn start() -> Stack {
        Stack::start_with(&[])
    }

    /// Same, with extra Worker vars.
    pub fn start_with(vars: &[(&str, &str)]) -> Stack {
        let dir = tempfile::tempdir().expect("temp dir");
        let origin = Origin::start(dir.path());
        let worker = Worker::start(&origin.url(), dir.path(), vars);
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Stack { worker, origin, dir, vars }
    }

    /// Restarts the Worker on the same KV state: a new isolate, so isolate
    /// memory is empty while KV keeps what was written.
    pub fn new_isolate(&mut self) {
        self.worker.stop();
        let vars: Vec<(&str, &str)> = self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.worker = Worker::start(&self.origin.url(), self.dir.path(), &vars);
    }
}

/// An origin, a [`fault_proxy::FaultProxy`] in front of it and a Worker that
/// reaches the origin only through the proxy. `origin.call` still goes
/// straight to the origin, so tests can check what it really holds. Fields
/// drop in order: the Worker first, then the proxy, then the origin.
pub struct ProxiedStack {
    pub worker: Worker,
    pub proxy: fault_proxy::FaultProxy,
    pub origin: Origin,
    pub dir: tempfile::TempDir,
}

impl Stack {
    /// A fresh origin, a fault proxy in `Pass` in front of it, and a Worker
    /// with extra `vars` whose `ORIGIN_URL` is the proxy.
    pub fn start_behind_proxy(vars: &[(&str, &str)]) -> ProxiedStack {
        let dir = tempfile::tempdir().expect("temp dir");
        let origin = Origin::start(dir.path());
        let proxy = fault_proxy::FaultProxy::start(origin.port);
        let worker = Worker::start(&proxy.url(), dir.path(), vars);
        ProxiedStack { worker, proxy, origin, dir }
    }
}

impl ProxiedStack {
    /// Where `wrangler dev` persists this stack's local KV (for
    /// `wrangler kv … --local --persist-to`).
    pub fn kv_dir(&self) -> PathBuf {
        self.dir.path().join("wrangler-state")
    }

    /// `wrangler kv` on this stack's local KV (see [`wrangler_kv`]).
    pub fn wrangler_kv(&self, args: &[&str], file: Option<&serde_json::Value>) -> String {
        wrangler_kv(self.dir.path(), args, file)
    }
}

impl Stack {
    /// `wrangler kv` on this stack's local KV (see [`wrangler_kv`]).
    #[allow(dead_code)] // not every test binary edits KV
    pub fn wrangler_kv(&self, args: &[&str], file: Option<&serde_json::Value>) -> String {
        wrangler_kv(self.dir.path(), args, file)
    }
}

/// Runs `wrangler kv <args> --binding CACHE --local --persist-to <dir's
/// KV>` (where a stack in `dir` persists it), in its own process group,
/// killed if it takes over 60 s; answers its stdout. `file` is written
/// first and its path appended to `args` (bulk commands take one).
#[allow(dead_code)] // not every test binary edits KV
pub fn wrangler_kv(dir: &Path, args: &[&str], file: Option<&serde_json::Value>) -> String {
    let stamp = format!("{:?}", Instant::now()).replace(|c: char| !c.is_ascii_alphanumeric(), "");
    let (out_path, err_path) = (dir.join(format!("kv-{stamp}.out")), dir.join(format!("kv-{stamp}.err")));
    let mut cmd = Command::new(root().join("node_modules/.bin/wrangler"));
    cmd.current_dir(root()).arg("kv").args(args);
    if let Some(content) = file {
        let path = dir.join(format!("kv-{stamp}.json"));
        std::fs::write(&path, content.to_string()).expect("write the wrangler kv input");
        cmd.arg(path);
    }
    cmd.args(["--binding", "CACHE", "--local", "--persist-to"])
        .arg(dir.join("wrangler-state"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("kv stdout"))
        .stderr(std::fs::File::create(&err_path).expect("kv stderr"))
        .process_group(0);
    let mut child = cmd.spawn().expect("start wrangler kv");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
            let _ = child.wait();
            panic!("wrangler kv {args:?} took over 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(status.success(), "wrangler kv {args:?} failed:\n{}\n{}", read(&out_path), read(&err_path));
    read(&out_path)
}

/// An HTTP answer: status, the `x-cache` header, and the body as JSON
/// (a JSON string holding the text when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub cache: Option<String>,
    pub body: Value,
}

impl Reply {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }
}

/// One request; panics only if nobody answered at all.
pub fn call(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    try_call(method, url, token, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// A request with `token` and extra `headers`, no body.
pub fn call_with_headers(method: &str, url: &str, token: &str, headers: &[(&str, &str)]) -> Reply {
    try_call_with(method, url, Some(token), None, headers).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

fn try_call(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Result<Reply, String> {
    try_call_with(method, url, token, body, &[])
}

fn try_call_with(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
    let mut request = agent.request(method, url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some(body) => request.set("content-type", "application/json").send_string(body),
        None => request.call(),
    };
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(e) => return Err(e.to_string()),
    };
    let status = response.status();
    let cache = response.header("x-cache").map(str::to_string);
    let text = response.into_string().map_err(|e| e.to_string())?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Reply { status, cache, body })
}
