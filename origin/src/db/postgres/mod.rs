//! PostgreSQL storage: several stateless origin replicas over one database.
//!
//! **Versions.** One counter row (`meta.version`), incremented inside each
//! write transaction (`UPDATE meta SET value = value + 1 … RETURNING
//! value`), before anything else the transaction writes. The row lock
//! that `UPDATE` takes is held until commit, so writers — of any replica —
//! take versions one at a time, and a writer only gets its version after
//! the previous holder has committed (PostgreSQL makes a commit visible
//! before it releases that transaction's locks). Hence versions are unique
//! and strictly increasing, commit order is version order, a refused or
//! failed write rolls its increment back (no version used), and when a
//! reader sees version `N` it also sees every committed version below `N`:
//! the change feed, read in one `REPEATABLE READ` snapshot and paged by
//! version, can never step past a change that commits later. The cost is
//! that writes are serialized across replicas for the time a write holds
//! the lock (one statement for option and ownership PUTs, a short
//! transaction for the rest); reads are not affected. Taking the counter
//! first in every write also gives one lock order, so writes never
//! deadlock each other.
//!
//! **Connections.** A `deadpool-postgres` pool (`--db-pool`), with bounded
//! waits: when the database is down every call fails fast as 503
//! `unavailable`, and dead connections are dropped and replaced as they
//! are handed out, so a replica recovers by itself when the database
//! returns.
//!
//! **TLS.** As the URL's `sslmode` says, always verifying the server's
//! certificate (see [`tls`]).

pub mod changed;
mod error;
pub mod maps;
pub mod migrate;
pub mod options;
pub mod ownership;
mod tls;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use serde_json::Value;
use tokio_postgres::config::SslMode;
use tokio_postgres::IsolationLevel;

use super::changed::Window;
use super::changes::{self, Changes, Page};
use super::model::{Lookup, MapSnapshot, OptionRecord, Ownership, OwnershipInput, Scope};
use super::Storage;
use crate::config::DbTarget;
use crate::error::ApiResult;

/// Longest wait to open one connection (unless the URL sets `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a free connection of the pool before answering 503.
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL backend: a connection pool, cheap to share.
pub struct PgDb {
    pool: Pool,
}

impl PgDb {
    /// Connects to `url` with a pool of at most `pool_size` connections, TLS
    /// as the URL's `sslmode` says (verified against the CA file `ca`, else
    /// the built-in public roots), and applies the schema's migrations.
    /// Errors are messages for the operator, with the URL's password left
    /// out; a connection that may cross a network in clear text is warned
    /// about on stderr.
    pub async fn open(url: &str, pool_size: usize, ca: Option<&Path>) -> Result<Self, String> {
        let shown = DbTarget::Postgres(url.to_string()).describe();
        let mut config: tokio_postgres::Config = tls::driver_url(url).parse().map_err(|e| {
            let text = error::chain(&e);
            let hint = tls::url_hint(&text).map(|hint| format!(" ({hint})")).unwrap_or_default();
            format!("invalid PostgreSQL URL {shown}: {text}{hint}")
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("edge-options-origin");
        }
        let tls = tls::connector(ca)?;
        let local = tls::remote_hosts(&config).is_empty();
        if let Some(warning) = tls::plain_text_warning(&config) {
            warn(&warning);
        }
        if ca.is_some() && config.get_ssl_mode() == SslMode::Disable {
            warn("--db-ca is unused: the URL says sslmode=disable");
        }
        let manager = Manager::from_config(config, tls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| format!("cannot create the connection pool: {e}"))?;
        let mut client = pool.get().await.map_err(|e| {
            // The driver's error itself, without the pool's "Error occurred
            // while creating a new object" in front.
            let e: &(dyn std::error::Error + 'static) = match &e {
                PoolError::Backend(driver) => driver,
                other => other,
            };
            let hint = tls::hint(e, ca, local).map(|hint| format!(" ({hint})")).unwrap_or_default();
            format!("cannot connect to database {shown}: {}{hint}", error::chain(e))
        })?;
        let warning = migrate::run(&mut client).await.map_err(|e| format!("database {shown}: {e}"))?;
        if let Some(warning) = warning {
            warn(&warning);
        }
        Ok(Self { pool })
    }

    async fn client(&self) -> ApiResult<deadpool_postgres::Client> {
        Ok(self.pool.get().await?)
    }
}

/// Prints a startup warning for the operator.
fn warn(warning: &str) {
    let _ = writeln!(std::io::stderr().lock(), "origin: WARNING: {warning}");
}

/// Takes the next version: the first statement of every write transaction
/// (see the module's documentation for why that order matters).
pub(crate) async fn next_version(tx: &impl GenericClient) -> ApiResult<i64> {
    let stmt = tx.prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value").await?;
    Ok(tx.query_one(&stmt, &[]).await?.try_get(0)?)
}

#[async_trait]
impl Storage for PgDb {
    async fn option(&self, name: String) -> ApiResult<Lookup<OptionRecord>> {
        options::get(&self.client().await?, &name).await
    }

    async fn put_option(&self, name: String, value: Value) -> ApiResult<OptionRecord> {
        options::put(&self.client().await?, name, value).await
    }

    async fn delete_option(&self, name: String) -> ApiResult<Result<i64, Lookup<OptionRecord>>> {
        options::delete(&mut self.client().await?, &name).await
    }

    async fn map(&self, scope: Scope) -> ApiResult<MapSnapshot> {
        maps::get(&self.client().await?, scope).await
    }

    async fn put_map_key(&self, scope: Scope, key: String, value: Value) -> ApiResult<MapSnapshot> {
        maps::put(&mut self.client().await?, scope, &key, &value).await
    }

    async fn delete_map_key(&self, scope: Scope, key: String) -> ApiResult<Option<MapSnapshot>> {
        maps::delete(&mut self.client().await?, scope, &key).await
    }

    async fn ownership(&self, project: i64) -> ApiResult<Lookup<Ownership>> {
        ownership::get(&self.client().await?, project).await
    }

    async fn put_ownership(&self, project: i64, input: OwnershipInput) -> ApiResult<Ownership> {
        ownership::put(&self.client().await?, project, input).await
    }

    async fn delete_ownership(&self, project: i64) -> ApiResult<Result<i64, Lookup<Ownership>>> {
        ownership::delete(&mut self.client().await?, project).await
    }

    async fn changes_after(&self, after: i64, limit: i64) -> ApiResult<Page> {
        let mut client = self.client().await?;
        // One snapshot for every query of the page (rows, then the maps' values).
        let tx =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
        let rows = changed::rows(&tx, Window::After { after, limit: limit.saturating_add(1) }).await?;
        let (rows, more) = changes::cut(rows, limit);
        let mut values = changed::map_values(&tx, &rows).await?;
        let page = changes::page(rows, after, more, &mut |scope| Ok(values.take(scope)))?;
        tx.commit().await?;
        Ok(page)
    }

    async fn changes_since(&self, since: i64) -> ApiResult<Changes> {
        let mut client = self.client().await?;
        let tx =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
        let rows = changed::rows(&tx, Window::UpdatedSince(since)).await?;
        let mut values = changed::map_values(&tx, &rows).await?;
        let changes = changes::since(rows, &mut |scope| Ok(values.take(scope)))?;
        tx.commit().await?;
        Ok(changes)
    }

    async fn ping(&self) -> ApiResult<()> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }
}
