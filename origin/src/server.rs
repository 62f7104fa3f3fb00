//! Binding, the startup line, serving and graceful shutdown.

use std::io::Write;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::{self, Db};
use crate::routes;
use crate::stats::Stats;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The bearer token every route but `/healthz` requires.
    pub token: Arc<str>,
    /// Request counters for `/_origin/stats`.
    pub stats: Arc<Stats>,
}

/// Opens the database (PostgreSQL: connects and migrates), binds, prints `origin listening on http://IP:PORT`
/// (the *bound* port, so `--listen 127.0.0.1:0` works for tests) and serves
/// until SIGINT/SIGTERM. Errors are messages for the operator.
pub async fn run(config: Config) -> Result<(), String> {
    let db = db::open(&config.db, config.db_pool, config.db_ca.as_deref()).await?;
    let listener =
        TcpListener::bind(config.listen).await.map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| format!("cannot read the bound address: {e}"))?;

    let state = AppState { db, token: Arc::from(config.token), stats: Arc::new(Stats::default()) };
    let app = routes::router(state);

    // Tests parse this exact line to find the port; it must be flushed
    // because stdout is a pipe (block-buffered) under a test harness.
    let mut out = std::io::stdout().lock();
    writeln!(out, "origin listening on http://{addr}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(out);

    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.map_err(|e| format!("server error: {e}"))
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish and the
/// database closes cleanly.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
