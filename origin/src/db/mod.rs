//! Storage: one trait ([`Storage`]) and two implementations — SQLite (one
//! file, one process: the default, what `scripts/dev` runs) and PostgreSQL
//! (several stateless replicas over one database). Routes, validation and
//! the wire format only ever see the trait.
//!
//! Every backend keeps the same promises, which the edge relies on:
//!
//! - every write takes the next value of one global `version` counter, so
//!   versions are unique and strictly increasing across all writes (of any
//!   replica), deletes included, and never go backwards, across restarts too;
//! - a refused write (a delete of nothing) takes no version;
//! - when a version is visible to a reader, every lower version is visible
//!   too or was rolled back and never used, so the change feed paged by
//!   version never skips a committed change (each backend says how);
//! - a delete leaves a tombstone carrying its version; a map keeps a row
//!   with its latest version even when emptied.

pub mod changed;
pub mod changes;
pub mod model;
pub mod postgres;
pub mod sqlite;

pub use changes::{Changes, Page};
pub use model::{Lookup, MapSnapshot, OptionRecord, Ownership, OwnershipInput, Scope};

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::config::DbTarget;
use crate::error::ApiResult;

/// What the routes need from a database. Every method is one unit of work
/// (one transaction where it writes); errors are [`crate::error::ApiError`]s
/// already: 503 `unavailable` when the database cannot be reached (the
/// edge then serves stale), 500 `internal` for a fault of the origin.
#[async_trait]
pub trait Storage: Send + Sync {
    /// Reads one option.
    async fn option(&self, name: String) -> ApiResult<Lookup<OptionRecord>>;

    /// Stores `value` under `name` with the next version.
    async fn put_option(&self, name: String, value: Value) -> ApiResult<OptionRecord>;

    /// Deletes `name`, leaving a tombstone. Answers the delete's version,
    /// or the lookup that shows why nothing was deleted (then no version
    /// was taken).
    async fn delete_option(&self, name: String) -> ApiResult<Result<i64, Lookup<OptionRecord>>>;

    /// Reads a whole map (version 0 when never written).
    async fn map(&self, scope: Scope) -> ApiResult<MapSnapshot>;

    /// Stores `key = value` in the map; answers the map after the write.
    async fn put_map_key(&self, scope: Scope, key: String, value: Value) -> ApiResult<MapSnapshot>;

    /// Removes `key` from the map; `None` (and no version taken) when the
    /// key was not there.
    async fn delete_map_key(&self, scope: Scope, key: String) -> ApiResult<Option<MapSnapshot>>;

    /// Reads a project's ownership record.
    async fn ownership(&self, project: i64) -> ApiResult<Lookup<Ownership>>;

    /// Replaces a project's ownership record.
    async fn put_ownership(&self, project: i64, input: OwnershipInput) -> ApiResult<Ownership>;

    /// Deletes a project's record, leaving a tombstone; like
    /// [`Storage::delete_option`].
    async fn delete_ownership(&self, project: i64) -> ApiResult<Result<i64, Lookup<Ownership>>>;

    /// `GET /changes`: the changes after version `after`, at most `limit`
    /// rows (1..=`changes::MAX_LIMIT`), read in one snapshot.
    async fn changes_after(&self, after: i64, limit: i64) -> ApiResult<Page>;

    /// `GET /options?updated_since=`: the older feed, read in one snapshot.
    async fn changes_since(&self, since: i64) -> ApiResult<Changes>;

    /// Whether the database answers now (for `/healthz` and `/readyz`).
    async fn ping(&self) -> ApiResult<()>;

    /// `sqlite` or `postgres`, for `/healthz`.
    fn kind(&self) -> &'static str;
}

/// The database every handler shares, cheap to clone.
pub type Db = Arc<dyn Storage>;

/// Opens the database `target` names: a SQLite file (created if missing)
/// or a PostgreSQL database (connected with at most `pool_size`
/// connections, over TLS verified against the CA file `ca` when given,
/// migrated). Errors are messages for the operator and never contain a
/// password.
pub async fn open(target: &DbTarget, pool_size: usize, ca: Option<&Path>) -> Result<Db, String> {
    match target {
        DbTarget::Sqlite(path) => Ok(Arc::new(sqlite::SqliteDb::open(path)?)),
        DbTarget::Postgres(url) => Ok(Arc::new(postgres::PgDb::open(url, pool_size, ca).await?)),
    }
}
