//! Request counters by route template, and the access log.
//!
//! End-to-end tests read `/_origin/stats` to count how often the edge
//! reached the origin (for instance to prove a negative cache holds), so
//! counts are keyed by route template (`GET /options/{name}`), never by raw
//! path. Requests to the stats routes themselves are not counted, so reading
//! the counters does not change them.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

/// Key used for requests that matched no route.
const UNMATCHED: &str = "(unmatched)";

/// The counters since start or the last reset.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Snapshot {
    /// Every counted request.
    pub requests: u64,
    /// Per `"METHOD /route/{template}"`.
    pub by_route: BTreeMap<String, u64>,
}

/// Shared counters.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<Snapshot>,
}

impl Stats {
    fn count(&self, route: String) {
        let mut s = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.requests += 1;
        *s.by_route.entry(route).or_insert(0) += 1;
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Zeroes the counters.
    pub fn reset(&self) {
        *self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Snapshot::default();
    }
}

/// Middleware: counts the request under its route template and logs one
/// line to stderr — method, path (no query), status, milliseconds. Headers
/// and bodies are never logged, so neither is the token.
pub async fn observe(State(stats): State<Arc<Stats>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(300).collect();
    let template = req.extensions().get::<MatchedPath>().map(|m| m.as_str().replace("{*", "{"));

    let response = next.run(req).await;

    let template = template.as_deref().unwrap_or(UNMATCHED);
    if !template.starts_with("/_origin/stats") {
        stats.count(format!("{method} {template}"));
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    // A closed stderr must not take the server down: ignore write errors.
    let _ = writeln!(std::io::stderr().lock(), "{method} {path} {} {ms:.1}ms", response.status().as_u16());
    response
}
