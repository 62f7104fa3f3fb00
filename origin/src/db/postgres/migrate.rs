//! The PostgreSQL schema, as versioned migrations applied at start-up.
//!
//! Each migration runs once per database, recorded in `schema_migrations`.
//! All of them run in one transaction that first takes a transaction-level
//! advisory lock, so replicas starting at once apply them one at a time:
//! the first applies what is missing, the others wait, then find nothing
//! left to do. DDL is transactional in PostgreSQL, so a migration that
//! fails leaves nothing half-applied, and the replica does not start.
//!
//! Migrations are append-only: a released one is never edited, a change
//! is a new one. An origin that finds migrations it does not know (a newer
//! release ran against this database) still starts, since migrations only
//! add, and says so.

use deadpool_postgres::GenericClient;

use super::error::chain;

/// The advisory lock key the migrations take (any constant shared by
/// every replica; this is "edge-opt" in ASCII).
const LOCK_KEY: i64 = 0x6564_6765_2d6f_7074;

/// `(version, what it does, SQL)`, in order.
///
/// Names, map keys and ownership rules are `BYTEA`: the contract accepts any
/// UTF-8 in them, NUL included, which PostgreSQL `TEXT` cannot hold. Values
/// are the JSON text exactly as stored (`TEXT`: JSON escapes NUL).
/// `options.value` and `ownership.raw` are NULL for tombstones; `maps` keeps
/// each map's latest version even when it is empty. The `version` indexes
/// serve the change feed (`version > $1 ORDER BY version LIMIT $2`).
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "options, option maps, ownership and the version counter",
    "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('version', 0);

CREATE TABLE options (
    name       BYTEA PRIMARY KEY,
    value      TEXT,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX options_by_version ON options (version);
CREATE INDEX options_by_updated_at ON options (updated_at);

CREATE TABLE maps (
    scope      TEXT NOT NULL,
    owner_id   BIGINT NOT NULL,
    within_id  BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, owner_id, within_id)
);
CREATE INDEX maps_by_version ON maps (version);
CREATE INDEX maps_by_updated_at ON maps (updated_at);

CREATE TABLE map_values (
    scope      TEXT NOT NULL,
    owner_id   BIGINT NOT NULL,
    within_id  BIGINT NOT NULL,
    key        BYTEA NOT NULL,
    value      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, owner_id, within_id, key)
);

CREATE TABLE ownership (
    project_id      BIGINT PRIMARY KEY,
    raw             BYTEA,
    fallthrough     BOOLEAN NOT NULL,
    auto_assignment BOOLEAN NOT NULL,
    is_active       BOOLEAN NOT NULL,
    version         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ownership_by_version ON ownership (version);
CREATE INDEX ownership_by_updated_at ON ownership (updated_at);
",
)];

/// Applies every migration this database lacks; answers a warning for the
/// operator when the database has migrations this origin does not know.
pub async fn run(client: &mut deadpool_postgres::Client) -> Result<Option<String>, String> {
    let fail = |what: &str, e: tokio_postgres::Error| format!("{what}: {}", chain(&e));
    let tx = client.transaction().await.map_err(|e| fail("cannot begin the migration", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(|e| fail("cannot take the migration lock", e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(|e| fail("cannot create schema_migrations", e))?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM schema_migrations ORDER BY version", &[])
        .await
        .map_err(|e| fail("cannot read schema_migrations", e))?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(|e| fail("cannot read schema_migrations", e))?;
    for (version, description, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.batch_execute(sql).await.map_err(|e| fail(&format!("migration {version} ({description}) failed"), e))?;
        tx.execute("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", &[version, description])
            .await
            .map_err(|e| fail(&format!("cannot record migration {version}"), e))?;
    }
    tx.commit().await.map_err(|e| fail("cannot commit the migrations", e))?;
    let known = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    Ok(applied.iter().max().filter(|newest| **newest > known).map(|newest| {
        format!("the database has schema migration {newest}, newer than this origin knows ({known}); starting anyway")
    }))
}
