//! SQLite storage: schema, the global version counter and the connection.
//!
//! One connection behind a mutex, used from blocking threads: the origin is
//! a reference implementation, and a single writer makes "every write takes
//! the next version" trivially true. Each write is one `IMMEDIATE`
//! transaction that bumps the counter and stores the row with it, so the
//! counter never goes backwards, also across restarts.

pub mod changed;
pub mod changes;
pub mod maps;
pub mod options;
pub mod ownership;

pub use changes::Changes;
pub use maps::{MapSnapshot, Scope};
pub use options::OptionRecord;
pub use ownership::{Ownership, OwnershipInput};

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{ApiError, ApiResult};

/// Result of reading one record that may have been deleted.
#[derive(Debug)]
pub enum Lookup<T> {
    /// The record exists.
    Found(T),
    /// It was deleted; the tombstone keeps the version of the delete.
    Deleted { version: i64 },
    /// It was never written.
    Absent,
}

impl<T> Lookup<T> {
    /// The tombstone version, if the record was deleted.
    pub fn tombstone(&self) -> Option<i64> {
        match self {
            Lookup::Deleted { version } => Some(*version),
            _ => None,
        }
    }
}

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

/// Handle to the database, cheap to clone into every request.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
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
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
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

/// Unix seconds. A clock before 1970 reads as 0 rather than failing a write.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// Decodes a JSON value stored by this origin. A failure means the file was
/// edited by hand or corrupted: a fault of the origin, not of the caller.
pub(crate) fn decode_value(text: &str) -> ApiResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("stored value is not valid JSON: {e}")))
}

/// Encodes a value for storage.
pub(crate) fn encode_value(value: &serde_json::Value) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| ApiError::internal(format!("cannot encode value: {e}")))
}
