//! What a PostgreSQL failure means to the caller: 503 `unavailable` when
//! the database cannot be reached or asks to be retried (down, restarting,
//! out of connections, a standby after a failover), 500 `internal` for a
//! fault of the origin itself. Only the first kind is worth the edge
//! serving stale and trying again.

use deadpool_postgres::PoolError;

use crate::error::ApiError;

/// SQLSTATE classes and codes that mean "not now" rather than "never":
/// connection exceptions (08), operator intervention (57: shutdown, crash,
/// cannot connect now, statement cancelled), insufficient resources (53:
/// too many connections, out of memory or disk), transaction rollback (40:
/// serialization failure, deadlock), and a read-only transaction (25006: the
/// database is a standby, as right after a failover).
fn retryable(code: &str) -> bool {
    ["08", "57", "53", "40"].iter().any(|class| code.starts_with(class)) || code == "25006"
}

/// The error and its causes, one after the other (the driver's own text is
/// only the kind of failure; the cause says what happened).
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        let text = chain(&e);
        let unavailable = match e.code() {
            Some(code) => retryable(code.code()),
            // No SQLSTATE: the driver's own failure. Those about our own
            // queries and rows (a column of an unexpected type, a wrong
            // parameter count) are faults of the origin; everything else
            // (I/O, a closed connection, connecting, a timeout, TLS or
            // authentication) means the database is out of reach.
            None => !["error serializing", "error deserializing", "invalid column", "query returned", "expected "]
                .iter()
                .any(|prefix| text.starts_with(prefix)),
        };
        if unavailable {
            ApiError::unavailable(format!("database unavailable: {text}"))
        } else {
            ApiError::internal(format!("database error: {text}"))
        }
    }
}

impl From<PoolError> for ApiError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Backend(e) => e.into(),
            PoolError::NoRuntimeSpecified => ApiError::internal("database pool misconfigured: no runtime"),
            // Waiting for a free connection or for a new one timed out, or
            // the pool is closing: nothing answered in time.
            other => ApiError::unavailable(format!("database unavailable: {}", chain(&other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_shutdown_and_contention_codes_are_retryable_and_the_rest_are_not() {
        for code in ["08006", "08001", "57P01", "57P03", "53300", "40001", "40P01", "25006"] {
            assert!(retryable(code), "{code}");
        }
        for code in ["23505", "42P01", "22021", "XX000", "25P02"] {
            assert!(!retryable(code), "{code}");
        }
    }
}
