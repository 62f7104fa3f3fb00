//! How a call to KV or the origin failed, and what each failure means for
//! the caller: counted toward backoff or not, a write's outcome known or
//! not, safe to show or not.

/// How a call to KV or the origin failed. A 404 from the origin is not a
/// failure (it is an answer: absent) and never appears here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// No connection, DNS failure, reset: nobody answered.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No answer within the hard timeout. For a write, the origin may or
    /// may not have applied it.
    #[error("timed out")]
    Timeout,
    /// The origin started answering (a status arrived) and the answer was
    /// then cut off. For a write, the origin may well have applied it.
    #[error("answer cut off: {0}")]
    Interrupted(String),
    /// An answer with an unexpected status (5xx, 401, 403, 408, 429, …):
    /// the origin, or the edge's own configuration, is at fault. Counts
    /// toward the key's backoff and the breaker.
    #[error("status {0}: {1}")]
    Status(u16, String),
    /// The origin refused the request as the caller's fault (400, 405, 409,
    /// 413, 414, 422, and 404 where 404 is not an answer): the origin is up,
    /// the input was not acceptable. Counts toward no backoff and no breaker
    /// (else a caller could hold the origin back for everyone with a few bad
    /// requests) and reaches the caller as a 4xx. Holds the status and the
    /// origin's error code when it gave a plain one (`invalid_id`), else "".
    #[error("refused with status {0} {1}")]
    Refused(u16, String),
    /// An answer that does not parse or break the contract.
    #[error("unreadable answer: {0}")]
    Garbage(String),
    /// Not asked at all: this isolate is backing off after origin failures
    /// (per key, or the whole origin while the breaker is open).
    #[error("not asked: backing off after origin failures")]
    Throttled,
}

impl TierError {
    /// A few words for what went wrong that never quote the origin (its
    /// status number and code at most): safe to put in an answer to a caller.
    pub fn kind(&self) -> String {
        match self {
            TierError::Unreachable(_) => "unreachable".into(),
            TierError::Timeout => "timed out".into(),
            TierError::Interrupted(_) => "answer cut off".into(),
            TierError::Status(status, _) => format!("status {status}"),
            TierError::Garbage(_) => "unreadable answer".into(),
            TierError::Throttled => "backing off".into(),
            TierError::Refused(status, _) => format!("refused with status {status}"),
        }
    }

    /// Whether the origin refused the request as the caller's fault
    /// ([`TierError::Refused`]): not a failure of the origin.
    pub fn is_refusal(&self) -> bool {
        matches!(self, TierError::Refused(..))
    }

    /// Whether a write that failed this way may still have been applied by
    /// the origin (so the caches can no longer be trusted for that key): no
    /// answer in time, an answer cut off, or a 2xx whose body is unreadable.
    pub fn write_outcome_unknown(&self) -> bool {
        matches!(self, TierError::Timeout | TierError::Interrupted(_) | TierError::Garbage(_))
    }
}
