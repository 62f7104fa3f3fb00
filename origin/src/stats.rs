//! Request counters by route template, and the access log.
//!
//! End-to-end tests read `/_origin/stats` to count how often the edge
//! reached the origin (for instance to prove a negative cache holds), so
//! counts are keyed by route template (`GET /options/{name}`), never by raw
//! path. Requests to the stats routes themselves are not counted, so reading
//! the counters does not change them.
//!
//! Counting happens before authentication, so every part of a key is drawn
//! from a fixed set: the route templates of the route table (one key for
//! every path that matches none) and the standard methods (one key for any
//! other). However many odd methods and paths an unauthenticated client
//! sends, the map stays as small as the route table.

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

/// Methods counted under their own name; any other is counted as [`OTHER_METHOD`].
const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// Key used for every method outside [`KNOWN_METHODS`].
const OTHER_METHOD: &str = "OTHER";

/// The counter key of a request: `"METHOD /route/{template}"`, from a
/// bounded set whatever the client sent.
fn route_key(method: &str, template: Option<&str>) -> String {
    let method = KNOWN_METHODS.iter().find(|m| **m == method).copied().unwrap_or(OTHER_METHOD);
    format!("{method} {}", template.unwrap_or(UNMATCHED))
}

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

    if !template.as_deref().is_some_and(|t| t.starts_with("/_origin/stats")) {
        stats.count(route_key(method.as_str(), template.as_deref()));
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    // A closed stderr must not take the server down: ignore write errors.
    let shown: String = method.as_str().chars().take(16).collect();
    let _ = writeln!(std::io::stderr().lock(), "{shown} {path} {} {ms:.1}ms", response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_methods_and_unmatched_paths_share_bounded_keys() {
        let stats = Stats::default();
        for i in 0..1000 {
            stats.count(route_key(&format!("FOO{i}"), None));
            stats.count(route_key(&format!("BAR{i}"), Some("/options/{name}")));
        }
        stats.count(route_key("GET", Some("/options/{name}")));
        stats.count(route_key("get", None));
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.requests, 2002);
        let keys: Vec<&str> = snapshot.by_route.keys().map(String::as_str).collect();
        assert_eq!(keys, ["GET /options/{name}", "OTHER (unmatched)", "OTHER /options/{name}"]);
        assert_eq!(snapshot.by_route.get("OTHER (unmatched)"), Some(&1001));
    }
}
