//! SQLite storage: schema, the global version counter and the connection.
//!
//! One connection behind a mutex, used from blocking threads: a single
//! writer makes "every write takes the next version" trivially true. Each
//! write is one `IMMEDIATE` transaction that bumps the counter and stores
//! the row with it, so the counter never goes backwards, also across
//! restarts; and since SQLite has one writer at a time (here also one
//! connection), when a version is visible every lower version is visible
//! too or was rolled back and never used — what the change feed needs.

pub mod changed;
pub mod maps;
pub mod options;
pub mod ownership;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde_json::Value;

use super::changed::Window;
use super::changes::{self, Changes, Page};
use super::model::{now, Lookup, MapSnapshot, OptionRecord, Ownership, OwnershipInput, Scope};
use super::Storage;
use crate::error::{ApiError, ApiResult};

/// Schema, idempotent. `options.value` and `ownership.raw` are NULL for
/// tombstones; `maps` keeps each map's latest version even when it is empty.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', 0);

CREATE TABLE IF NOT EXISTS options (
    name       TEXT PRIMARY KEY,
    value      TEXT,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS options_by_updated_at ON options (updated_at);

CREATE TABLE IF NOT EXISTS maps (
    scope      TEXT NOT NULL,
    owner_id   INTEGER NOT NULL,
    within_id  INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, owner_id, within_id)
);
CREATE INDEX IF NOT EXISTS maps_by_updated_at ON maps (updated_at);

CREATE TABLE IF NOT EXISTS map_values (
    scope      TEXT NOT NULL,
    owner_id   INTEGER NOT NULL,
    within_id  INTEGER NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, owner_id, within_id, key)
);

CREATE TABLE IF NOT EXISTS ownership (
    project_id      INTEGER PRIMARY KEY,
    raw             TEXT,
    fallthrough     INTEGER NOT NULL,
    auto_assignment INTEGER NOT NULL,
    is_active       INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ownership_by_updated_at ON ownership (updated_at);

PRAGMA user_version = 1;
";

/// The SQLite backend, cheap to clone into every request.
#[derive(Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    /// Opens (creating if needed) the database at `path`, its parent
    /// directory included, and applies the schema.
    pub fn open(path: &Path) -> Result<Self, String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create directory {}: {e}", parent.display()))?;
        }
        let conn = Connection::open(path).map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| conn.busy_timeout(std::time::Duration::from_secs(5)))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .map_err(|e| format!("cannot initialise database {}: {e}", path.display()))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` with the connection on a blocking thread, so SQLite never
    /// stalls the async runtime.
    async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> ApiResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A poisoned lock only means another request panicked mid-way;
            // SQLite's transaction rolled back, so the connection is sound.
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| ApiError::internal(format!("database task failed: {e}")))?
    }
}

/// Starts a write: an `IMMEDIATE` transaction (so the counter cannot race)
/// plus the next version and the current time to stamp the write with.
pub(crate) fn begin_write(conn: &mut Connection) -> ApiResult<(Transaction<'_>, i64, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 =
        tx.query_row("UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value", [], |row| row.get(0))?;
    Ok((tx, version, now()))
}

#[async_trait]
impl Storage for SqliteDb {
    async fn option(&self, name: String) -> ApiResult<Lookup<OptionRecord>> {
        self.run(move |c| options::get(c, &name)).await
    }

    async fn put_option(&self, name: String, value: Value) -> ApiResult<OptionRecord> {
        self.run(move |c| options::put(c, &name, value)).await
    }

    async fn delete_option(&self, name: String) -> ApiResult<Result<i64, Lookup<OptionRecord>>> {
        self.run(move |c| options::delete(c, &name)).await
    }

    async fn map(&self, scope: Scope) -> ApiResult<MapSnapshot> {
        self.run(move |c| maps::get(c, scope)).await
    }

    async fn put_map_key(&self, scope: Scope, key: String, value: Value) -> ApiResult<MapSnapshot> {
        self.run(move |c| maps::put(c, scope, &key, &value)).await
    }

    async fn delete_map_key(&self, scope: Scope, key: String) -> ApiResult<Option<MapSnapshot>> {
        self.run(move |c| maps::delete(c, scope, &key)).await
    }

    async fn ownership(&self, project: i64) -> ApiResult<Lookup<Ownership>> {
        self.run(move |c| ownership::get(c, project)).await
    }

    async fn put_ownership(&self, project: i64, input: OwnershipInput) -> ApiResult<Ownership> {
        self.run(move |c| ownership::put(c, project, input)).await
    }

    async fn delete_ownership(&self, project: i64) -> ApiResult<Result<i64, Lookup<Ownership>>> {
        self.run(move |c| ownership::delete(c, project)).await
    }

    async fn changes_after(&self, after: i64, limit: i64) -> ApiResult<Page> {
        self.run(move |c| {
            // One read transaction: one snapshot for the rows and the maps' values.
            let tx = c.transaction()?;
            let rows = changed::rows(&tx, Window::After { after, limit: limit.saturating_add(1) })?;
            let (rows, more) = changes::cut(rows, limit);
            changes::page(rows, after, more, &mut |scope| maps::read_values(&tx, scope))
        })
        .await
    }

    async fn changes_since(&self, since: i64) -> ApiResult<Changes> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let rows = changed::rows(&tx, Window::UpdatedSince(since))?;
            changes::since(rows, &mut |scope| maps::read_values(&tx, scope))
        })
        .await
    }

    async fn ping(&self) -> ApiResult<()> {
        self.run(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}
