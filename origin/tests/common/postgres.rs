//! A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries
//! (`scripts/setup` installs them), a fresh cluster in a temporary folder,
//! on a free port of 127.0.0.1, with durability off (tests never need it).
//!
//! - Runs as an unprivileged user: `initdb` and `postgres` refuse root, and
//!   CI runs as root, so as root they run as `nobody` (owning the folder).
//! - Stopped and removed however the test process ends: `postgres` runs
//!   under a small `sh` watchdog reading a pipe from this process. Closing
//!   the pipe — dropping the server, or the process exiting for any reason,
//!   a panic or a SIGKILL included, even from a `static` that is never
//!   dropped — makes the watchdog shut PostgreSQL down (fast) and remove
//!   the folder. [`PgServer::stop`] writes `stop` instead: PostgreSQL shuts
//!   down and its data stays, for [`PgServer::start_again`].
//! - [`PgServer::start_with_tls`] turns TLS on, with a certificate made
//!   at start by the `openssl` command (which Debian's PostgreSQL packages
//!   depend on): signed by a CA made with it, or self-signed.
//! - Uses only the standard library and the PostgreSQL binaries (`psql`
//!   for statements), so both the origin's tests and the end-to-end
//!   harness include this file.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The watchdog: starts `postgres`, waits for a line or the end of its
/// stdin, then shuts PostgreSQL down (SIGINT: fast shutdown) and, unless
/// the line was `stop`, removes the folder. `$0` is the binaries' folder,
/// `$1` the server's folder, `$2` the port, and any further arguments go
/// to `postgres` (the TLS settings).
const WATCHDOG: &str = r#"
root=$1 port=$2
shift 2
"$0/postgres" -D "$root/data" -p "$port" -k "$root" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=300 -c shared_buffers=32MB "$@" >>"$root/postgres.log" 2>&1 &
pg=$!
if read -r line; then :; else line=eof; fi
kill -INT "$pg" 2>/dev/null
wait "$pg"
[ "$line" = stop ] || rm -rf "$root"
"#;

/// OpenSSL's configuration for the test certificates: a CA, and a server
/// certificate it signs, valid for 127.0.0.1 only (so connecting by the
/// name `localhost` must fail the host name check); or the same server
/// certificate, self-signed.
const TLS_CNF: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = edge-options test CA
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// Who signs a TLS server's certificate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// A CA made for the server: the usual private CA.
    Ca,
    /// The certificate itself.
    SelfSigned,
}

/// A running (or stopped) throwaway PostgreSQL server.
pub struct PgServer {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    user: Option<(u32, u32)>,
    /// Extra `postgres` arguments (`-c ssl=on …` for a TLS server).
    settings: Vec<String>,
    watchdog: Option<(Child, ChildStdin)>,
}

impl PgServer {
    /// Creates a cluster in a new temporary folder and starts it on a free
    /// port, without TLS; panics with what to do when PostgreSQL is not
    /// installed.
    pub fn start() -> PgServer {
        Self::create(None)
    }

    /// Like [`PgServer::start`], with TLS on (`ssl=on`; clients may still
    /// connect without it) and a server certificate for 127.0.0.1 that
    /// `signer` signs, made with the `openssl` command at start (a few
    /// milliseconds); what a client must trust is at [`PgServer::ca_file`].
    pub fn start_with_tls(signer: Signer) -> PgServer {
        Self::create(Some(signer))
    }

    fn create(tls: Option<Signer>) -> PgServer {
        let bin = bin_dir();
        let user = unprivileged_user();
        let root = std::env::temp_dir().join(format!("edge-options-pg-{}-{}", std::process::id(), unique()));
        std::fs::create_dir(&root).unwrap_or_else(|e| panic!("create {}: {e}", root.display()));
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid)).expect("hand the folder to the unprivileged user");
        }
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(root.join("data"))
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])
            .current_dir(&root)
            .stdin(Stdio::null());
        as_user(&mut initdb, user);
        let out = initdb.output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let settings = tls.map(|signer| make_certificates(&root, user, signer)).unwrap_or_default();
        let mut server = PgServer { bin, root, port: free_port(), user, settings, watchdog: None };
        server.start_again();
        server
    }

    /// Starts PostgreSQL on the same data and port (after [`PgServer::stop`]).
    pub fn start_again(&mut self) {
        assert!(self.watchdog.is_none(), "PostgreSQL is already running");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg(&self.bin)
            .arg(&self.root)
            .arg(self.port.to_string())
            .args(&self.settings)
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        as_user(&mut cmd, self.user);
        let mut child = cmd.spawn().expect("start the PostgreSQL watchdog");
        let stdin = child.stdin.take().expect("watchdog stdin");
        self.watchdog = Some((child, stdin));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", "2"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            if let Some((child, _)) = self.watchdog.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("PostgreSQL exited ({status}) at start:\n{}", self.log());
                }
            }
            assert!(Instant::now() < deadline, "PostgreSQL did not accept connections within 60 s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Shuts PostgreSQL down (fast: sessions are ended) and waits for it;
    /// its data stays for [`PgServer::start_again`].
    pub fn stop(&mut self) {
        if let Some((mut child, mut stdin)) = self.watchdog.take() {
            let _ = stdin.write_all(b"stop\n");
            drop(stdin);
            wait_for(&mut child);
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM file a client must trust (a server from
    /// [`PgServer::start_with_tls`]): the CA's certificate, or the
    /// self-signed certificate itself.
    pub fn ca_file(&self) -> PathBuf {
        self.root.join("tls").join("ca.crt")
    }

    /// The connection URL of database `db`, as the origin's `--db` takes it.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a new, empty database and answers its name.
    pub fn create_database(&self) -> String {
        let name = format!("t_{}_{}", std::process::id(), unique());
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        name
    }

    /// Runs `sql` in database `db` with `psql`; answers its output
    /// (unaligned, tuples only); panics when it fails.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"])
            .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Closing the pipe shuts PostgreSQL down and removes the folder.
        if let Some((mut child, stdin)) = self.watchdog.take() {
            drop(stdin);
            wait_for(&mut child);
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Makes a server certificate that `signer` signs (and the CA) in
/// `root/tls` with the `openssl` command, the certificate to trust in
/// `ca.crt`, hands the files to `user`, and answers the `postgres`
/// arguments that turn TLS on with them.
fn make_certificates(root: &Path, user: Option<(u32, u32)>, signer: Signer) -> Vec<String> {
    let dir = root.join("tls");
    std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    std::fs::write(dir.join("tls.cnf"), TLS_CNF).expect("write the OpenSSL configuration");
    // A CA (P-256 key, self-signed), then a server key and a certificate the
    // CA signs; or one self-signed server certificate. No argument has a space.
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let steps = match signer {
        Signer::Ca => vec![
            format!("req -x509 -new -config tls.cnf -extensions ca -days 3 {key} -keyout ca.key -out ca.crt"),
            format!("req -new -config tls.cnf -subj /CN=127.0.0.1 {key} -keyout server.key -out server.csr"),
            "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 3 -extfile tls.cnf \
             -extensions server -out server.crt"
                .to_string(),
        ],
        Signer::SelfSigned => vec![format!(
            "req -x509 -new -config tls.cnf -extensions server -subj /CN=127.0.0.1 -days 3 {key} \
             -keyout server.key -out server.crt"
        )],
    };
    for step in steps {
        let out = Command::new("openssl")
            .args(step.split_whitespace())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run openssl (Debian's openssl package; PostgreSQL's packages need it): {e}"));
        assert!(out.status.success(), "openssl {step} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    if signer == Signer::SelfSigned {
        std::fs::copy(dir.join("server.crt"), dir.join("ca.crt")).expect("the certificate to trust");
    }
    // PostgreSQL refuses a key that others can read, or that it does not
    // own; and the watchdog, as that user, removes the folder at the end.
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600))
        .expect("chmod the server key");
    if let Some((uid, gid)) = user {
        let files = std::fs::read_dir(&dir).expect("list the TLS folder").map(|entry| entry.expect("entry").path());
        for path in files.chain([dir.clone()]) {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).expect("hand the TLS files to the unprivileged user");
        }
    }
    let file = |name: &str| dir.join(name).display().to_string();
    [
        "ssl=on".to_string(),
        format!("ssl_cert_file={}", file("server.crt")),
        format!("ssl_key_file={}", file("server.key")),
    ]
    .into_iter()
    .flat_map(|setting| ["-c".to_string(), setting])
    .collect()
}

/// Waits up to 30 s for the watchdog (and so PostgreSQL) to end, then kills it.
fn wait_for(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", child.id())]).status();
    let _ = child.wait();
}

/// Where the PostgreSQL server binaries are: `EDGE_OPTIONS_PG_BIN`, else
/// Debian's `/usr/lib/postgresql/<newest>/bin`, else `initdb` on `PATH`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EDGE_OPTIONS_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").exists() && dir.join("postgres").exists());
    on_path.unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found: run scripts/setup (it installs Debian's postgresql) \
             or set EDGE_OPTIONS_PG_BIN to the folder holding initdb and postgres"
        )
    })
}

/// `Some((uid, gid))` of `nobody` when this process is root (PostgreSQL
/// refuses to run as root), else `None`: run as ourselves.
fn unprivileged_user() -> Option<(u32, u32)> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entry = passwd.lines().find(|line| line.starts_with("nobody:"));
    let fields: Vec<&str> = entry.map(|line| line.split(':').collect()).unwrap_or_default();
    match (fields.get(2).and_then(|u| u.parse().ok()), fields.get(3).and_then(|g| g.parse().ok())) {
        (Some(uid), Some(gid)) => Some((uid, gid)),
        _ => panic!("running as root and no `nobody` user to run PostgreSQL as (PostgreSQL refuses root)"),
    }
}

fn as_user(cmd: &mut Command, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid).env("HOME", "/tmp");
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn unique() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
