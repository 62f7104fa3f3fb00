//! Reference origin for edge-options: the origin contract (openapi/origin.yaml;
//! what the edge relies on, and why: docs/design.md "The reference origin")
//! (options, scoped option maps, project ownership, a change feed) served
//! over HTTP from a SQLite file (so the whole system runs on one machine) or
//! from a PostgreSQL database shared by several replicas.
//!
//! Module map: [`config`] (CLI), [`server`] (bind + serve), [`routes`]
//! (route table and handlers), [`input`] (validation of what callers send),
//! [`db`] (the storage trait; SQLite and PostgreSQL behind it), [`auth`], [`limit`], [`stats`]
//! (counters + access log), [`error`] (the JSON error shape).

// No request, stored row or argument may panic the server: kept true by the
// compiler for all non-test code.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod auth;
mod config;
mod db;
mod error;
mod input;
mod limit;
mod routes;
mod server;
mod stats;

use std::io::Write;
use std::process::ExitCode;

use config::Command;

fn main() -> ExitCode {
    let command = config::parse(std::env::args_os().skip(1), |k| std::env::var(k).ok());
    let config = match command {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            let _ = std::io::stdout().lock().write_all(config::USAGE.as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            let _ = writeln!(std::io::stderr().lock(), "origin: {message}\n\n{}", config::USAGE);
            return ExitCode::from(2);
        }
    };
    if config.dev_token {
        let _ = writeln!(std::io::stderr().lock(), "{}", config::DEV_WARNING);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "origin: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(std::io::stderr().lock(), "origin: {message}");
            ExitCode::FAILURE
        }
    }
}
