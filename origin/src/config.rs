//! Command line and environment configuration.
//!
//! Hand-parsed on purpose: a handful of flags do not justify an
//! argument-parsing dependency in a server that other builds share two
//! cores with.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Printed for `--help` and after a usage error.
pub const USAGE: &str = "\
edge-options-origin — reference origin for edge-options (origin contract over
SQLite or PostgreSQL)

USAGE:
    edge-options-origin [--listen ADDR] [--db PATH|URL] [--db-pool N]
                        [--db-ca FILE] (--token TOKEN | --dev)

OPTIONS:
    --listen ADDR   address to bind, IP:PORT; port 0 picks a free port
                    [env ORIGIN_LISTEN, default 127.0.0.1:8788]
    --db PATH|URL   a SQLite file (parent directory created if missing), or a
                    PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DB
                    (schema migrated at start; several origins may share it)
                    [env ORIGIN_DB, default .data/origin.sqlite3]
                    TLS as the URL's sslmode says: ?sslmode=require (TLS or
                    refuse to start; use it across any network; verify-full
                    and verify-ca mean the same), prefer (the default: TLS
                    when the server offers it, else plain, with a warning
                    for a host other than loopback), disable (plain). TLS
                    always verifies the certificate's chain and host name
    --db-pool N     PostgreSQL only: most connections this origin opens
                    [env ORIGIN_DB_POOL, default 10]
    --db-ca FILE    PostgreSQL only: PEM file of the CA certificate(s) that
                    signed the server's certificate (a managed service's CA
                    bundle, a private CA); replaces the built-in public roots
                    (Mozilla's, from webpki-roots) [env ORIGIN_DB_CA]
    --token TOKEN   bearer token every route but /healthz and /readyz requires
                    [env ORIGIN_TOKEN; required unless --dev]
    --dev           local development only: without a token, accept the
                    development token `dev-origin-token` (what the Worker's
                    .dev.vars.example sends); prints a warning at start
    -h, --help      print this help

Once bound it prints one line to stdout:
    origin listening on http://IP:PORT
and logs one line per request (method, path, status, ms) to stderr.
";

/// Default bind address: where the Worker's default `ORIGIN_URL` looks.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8788";
/// Default database file, under the git-ignored `.data/`.
pub const DEFAULT_DB: &str = ".data/origin.sqlite3";
/// Default PostgreSQL pool size: writes are serialized by the version
/// counter anyway, so more connections only help concurrent reads.
pub const DEFAULT_DB_POOL: usize = 10;
/// Largest `--db-pool` accepted.
pub const MAX_DB_POOL: usize = 1000;

/// Which database the origin runs on.
#[derive(Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A SQLite file: one origin process per file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://…` or `postgresql://…`):
    /// any number of origin processes may share the database. Holds the
    /// password, so it is never printed as is (see [`DbTarget::describe`]).
    Postgres(String),
}

impl DbTarget {
    /// `--db`'s value: a `postgres://` or `postgresql://` URL selects
    /// PostgreSQL, anything else is a SQLite path.
    pub fn parse(value: &str) -> Self {
        let lower = value.get(..13).unwrap_or(value).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            DbTarget::Postgres(value.to_string())
        } else {
            DbTarget::Sqlite(PathBuf::from(value))
        }
    }

    /// The target as it may be printed: the SQLite path, or the URL with
    /// any password replaced by `***` and its query left out (a query can
    /// carry `password=` too).
    pub fn describe(&self) -> String {
        match self {
            DbTarget::Sqlite(path) => path.display().to_string(),
            DbTarget::Postgres(url) => redact_url(url),
        }
    }
}

/// `scheme://user:secret@host/db?options` → `scheme://user:***@host/db?…`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "<postgres url>".to_string() };
    let (rest, query) = match rest.split_once('?') {
        Some((before, _)) => (before, "?…"),
        None => (rest, ""),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

impl std::fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}
/// The token `--dev` accepts when no token is given: the one the Worker's
/// `.dev.vars.example` sends. Never used without `--dev`, so an origin
/// deployed without a token refuses to start instead of accepting a token
/// that anyone can read in the repository.
pub const DEV_TOKEN: &str = "dev-origin-token";

/// Printed to stderr at start when `--dev` supplied the token.
pub const DEV_WARNING: &str = "origin: WARNING: --dev without a token: accepting the development token \
`dev-origin-token`, which anyone can read in the repository; never expose this origin";

/// What the server runs with.
#[derive(Clone)]
pub struct Config {
    /// Address to bind.
    pub listen: SocketAddr,
    /// The database: a SQLite file or a PostgreSQL URL.
    pub db: DbTarget,
    /// Most PostgreSQL connections (unused with SQLite).
    pub db_pool: usize,
    /// PEM file of the CAs that PostgreSQL's certificate must chain to,
    /// instead of the built-in public roots (unused with SQLite).
    pub db_ca: Option<PathBuf>,
    /// Bearer token; never printed.
    pub token: String,
    /// The token is the development token, supplied by `--dev`.
    pub dev_token: bool,
}

// Hand-written so that a stray `{:?}` can never print the token.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("db", &self.db)
            .field("db_pool", &self.db_pool)
            .field("db_ca", &self.db_ca)
            .field("token", &"<redacted>")
            .field("dev_token", &self.dev_token)
            .finish()
    }
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    /// Run the server.
    Run(Config),
    /// Print [`USAGE`] and exit 0.
    Help,
}

/// Parses `args` (without the program name), falling back to `env` for
/// unset flags and then to the defaults. Errors are messages for a human.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut listen = None;
    let mut db = None;
    let mut db_pool = None;
    let mut db_ca = None;
    let mut token = None;
    let mut dev = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.into_string().map_err(|a| format!("argument is not valid UTF-8: {a:?}"))?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let slot = match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--dev" if inline.is_none() => {
                dev = true;
                continue;
            }
            "--listen" => &mut listen,
            "--db" => &mut db,
            "--db-pool" => &mut db_pool,
            "--db-ca" => &mut db_ca,
            "--token" => &mut token,
            _ => return Err(format!("unknown argument '{arg}'")),
        };
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .into_string()
                .map_err(|v| format!("{flag} value is not valid UTF-8: {v:?}"))?,
        };
        *slot = Some(value);
    }

    let listen = listen.or_else(|| env("ORIGIN_LISTEN")).unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let listen: SocketAddr =
        listen.parse().map_err(|e| format!("invalid listen address '{listen}' (want IP:PORT): {e}"))?;
    let db = db.or_else(|| env("ORIGIN_DB")).unwrap_or_else(|| DEFAULT_DB.to_string());
    if db.is_empty() {
        return Err("--db must not be empty".into());
    }
    let db = DbTarget::parse(&db);
    let db_pool = match db_pool.or_else(|| env("ORIGIN_DB_POOL")) {
        None => DEFAULT_DB_POOL,
        Some(n) => match n.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_DB_POOL).contains(&n) => n,
            _ => return Err(format!("invalid --db-pool '{n}' (want a number from 1 to {MAX_DB_POOL})")),
        },
    };
    // An empty ORIGIN_DB_CA is unset (as a blanked variable in a unit
    // file); an empty --db-ca is a mistake.
    let db_ca = match db_ca.or_else(|| env("ORIGIN_DB_CA").filter(|f| !f.trim().is_empty())) {
        Some(file) if file.trim().is_empty() => return Err("--db-ca must not be empty".into()),
        file => file.map(PathBuf::from),
    };
    let token = token.or_else(|| env("ORIGIN_TOKEN").filter(|t| !t.trim().is_empty()));
    let (token, dev_token) = match token {
        Some(token) if token.trim().is_empty() => return Err("--token must not be empty".into()),
        Some(token) => (token, false),
        None if dev => (DEV_TOKEN.to_string(), true),
        None => {
            return Err("no token: pass --token TOKEN or set ORIGIN_TOKEN (or --dev, for local development only)".into())
        }
    };
    Ok(Command::Run(Config { listen, db, db_pool, db_ca, token, dev_token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        parse(args.iter().map(OsString::from), move |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_apply_to_listen_and_db() {
        let Ok(Command::Run(c)) = run(&["--token", "t"], &[]) else { panic!("expected run") };
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.db, DbTarget::Sqlite(PathBuf::from(DEFAULT_DB)));
        assert_eq!(c.db_pool, DEFAULT_DB_POOL);
        assert_eq!(c.db_ca, None, "no CA file: the built-in roots");
        assert_eq!((c.token.as_str(), c.dev_token), ("t", false));
    }

    #[test]
    fn without_a_token_it_refuses_to_start_unless_told_dev() {
        let err = run(&[], &[]).err().unwrap_or_default();
        assert!(err.contains("no token") && err.contains("--dev"), "{err}");
        assert!(run(&[], &[("ORIGIN_TOKEN", " ")]).is_err(), "an empty token is no token");
        let Ok(Command::Run(c)) = run(&["--dev"], &[]) else { panic!("expected run") };
        assert_eq!((c.token.as_str(), c.dev_token), (DEV_TOKEN, true));
        let Ok(Command::Run(c)) = run(&["--dev", "--token", "mine"], &[]) else { panic!("expected run") };
        assert_eq!((c.token.as_str(), c.dev_token), ("mine", false), "a given token wins over --dev");
        assert!(run(&["--dev=yes"], &[]).is_err(), "--dev takes no value");
    }

    #[test]
    fn flags_beat_env_and_env_beats_defaults() {
        let env = [("ORIGIN_LISTEN", "127.0.0.1:1"), ("ORIGIN_TOKEN", "envtok")];
        let Ok(Command::Run(c)) = run(&["--listen=127.0.0.1:0", "--db", "x.db"], &env) else { panic!("expected run") };
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.db, DbTarget::Sqlite(PathBuf::from("x.db")));
        assert_eq!(c.token, "envtok");
    }

    #[test]
    fn bad_input_is_a_message_not_a_panic() {
        assert!(run(&["--listen", "nope"], &[]).is_err());
        assert!(run(&["--listen"], &[]).is_err());
        assert!(run(&["--what"], &[]).is_err());
        assert!(run(&["--token", ""], &[]).is_err());
        assert!(run(&["--token", "  "], &[]).is_err());
        for pool in ["0", "-1", "x", "", "1001"] {
            assert!(run(&["--dev", "--db-pool", pool], &[]).is_err(), "--db-pool {pool}");
        }
        assert!(matches!(run(&["--help"], &[]), Ok(Command::Help)));
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_anything_else_is_a_sqlite_path() {
        let url = "postgres://origin:s3cret@db.internal:5432/edge";
        let Ok(Command::Run(c)) = run(&["--dev", "--db", url, "--db-pool", "4"], &[]) else { panic!("expected run") };
        assert_eq!((c.db.clone(), c.db_pool), (DbTarget::Postgres(url.to_string()), 4));
        let env = [("ORIGIN_DB", "PostgreSQL://h/d"), ("ORIGIN_DB_POOL", "7")];
        let Ok(Command::Run(c)) = run(&["--dev"], &env) else { panic!("expected run") };
        assert_eq!((c.db, c.db_pool), (DbTarget::Postgres("PostgreSQL://h/d".to_string()), 7));
        for path in ["postgres.sqlite3", "./postgres://x", "/var/lib/postgres/o.db"] {
            assert_eq!(DbTarget::parse(path), DbTarget::Sqlite(PathBuf::from(path)), "{path}");
        }
    }

    #[test]
    fn the_database_ca_file_comes_from_the_flag_or_the_environment() {
        let env = [("ORIGIN_DB_CA", "/etc/env-ca.pem")];
        let Ok(Command::Run(c)) = run(&["--dev", "--db-ca", "/etc/flag-ca.pem"], &env) else { panic!("expected run") };
        assert_eq!(c.db_ca, Some(PathBuf::from("/etc/flag-ca.pem")), "the flag beats the environment");
        let Ok(Command::Run(c)) = run(&["--dev"], &env) else { panic!("expected run") };
        assert_eq!(c.db_ca, Some(PathBuf::from("/etc/env-ca.pem")));
        let Ok(Command::Run(c)) = run(&["--dev"], &[("ORIGIN_DB_CA", " ")]) else { panic!("expected run") };
        assert_eq!(c.db_ca, None, "a blank ORIGIN_DB_CA is unset");
        assert!(run(&["--dev", "--db-ca", ""], &[]).is_err(), "an empty --db-ca is a mistake");
        assert!(run(&["--dev", "--db-ca"], &[]).is_err(), "--db-ca needs a value");
    }

    #[test]
    fn a_postgres_password_is_never_printed() {
        for (url, shown) in [
            ("postgres://origin:s3cret@db:5432/edge", "postgres://origin:***@db:5432/edge"),
            ("postgresql://origin:s3cret@db/edge?password=s3cret&x=1", "postgresql://origin:***@db/edge?…"),
            ("postgres://origin@db/edge", "postgres://origin@db/edge"),
            ("postgres://a:b:s3cret@h@db/edge", "postgres://a:***@db/edge"),
            ("postgres://db", "postgres://db"),
        ] {
            let target = DbTarget::parse(url);
            assert_eq!(target.describe(), shown);
            assert!(!format!("{target:?}").contains("s3cret"));
        }
        let Ok(Command::Run(c)) = run(&["--dev", "--db", "postgres://u:s3cret@h/d"], &[]) else {
            panic!("expected run")
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let Ok(Command::Run(c)) = run(&["--token", "s3cret"], &[]) else { panic!("expected run") };
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
