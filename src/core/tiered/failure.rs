//! The caller-facing error of a read or write that failed: a stable code
//! and a message written by the edge; what the origin or KV said stays in
//! the error's `detail` (the operator's log), never in the answer.

use super::read::ReadFailure;
use crate::core::error::{Error, Reason};
use crate::core::ports::TierError;

/// The caller-facing error for a write the origin did not take: nothing was
/// changed anywhere, and the code says why. The message is the edge's own;
/// what the origin or the runtime said stays in the error's `detail` (the
/// operator's log).
pub fn origin_write_error(e: TierError) -> Error {
    let message = match &e {
        TierError::Unreachable(_) => "the origin is unreachable; nothing was changed".to_string(),
        TierError::Timeout => {
            return Error::OriginTimeout(Reason::with_detail(
                "the origin did not answer in time; the write may or may not have been applied there \
                 (the edge dropped its cached copy, so the next read asks the origin)",
                &e,
            ))
        }
        TierError::Interrupted(_) => "the origin's answer was cut off; the write may have been applied there \
                                      (the edge dropped its cached copy, so the next read asks the origin)"
            .to_string(),
        TierError::Status(status, _) => {
            format!("the origin refused the write with status {status}; nothing was changed")
        }
        TierError::Garbage(_) => "the origin answered the write with something unreadable; it may have been applied \
                                  there (the edge dropped its cached copy, so the next read asks the origin)"
            .to_string(),
        TierError::Throttled => return Error::Unavailable("the origin is backing off after failures".into()),
        TierError::Refused(status, code) => return refusal_error(*status, code, "nothing was changed"),
    };
    match e {
        TierError::Unreachable(_) => Error::Unavailable(Reason::with_detail(message, &e)),
        _ => Error::OriginError(Reason::with_detail(message, &e)),
    }
}

/// The caller-facing 4xx for a request the origin refused as the caller's
/// fault (`TierError::Refused`): the origin's code when it is one of ours
/// (`invalid_id`, `too_large`, …), else one chosen by status (413 and 414
/// `too_large`, 404 `not_found`, any other `invalid_body`). The message is
/// ours; `outcome` says what followed ("nothing was changed").
pub fn refusal_error(status: u16, code: &str, outcome: &str) -> Error {
    let shown = if code.is_empty() { String::new() } else { format!(", {code}") };
    let message = format!("the origin refused this request (status {status}{shown}); {outcome}");
    match (code, status) {
        ("invalid_id", _) => Error::InvalidId(message),
        ("invalid_scope", _) => Error::InvalidScope(message),
        ("invalid_type", _) => Error::InvalidType(message),
        ("invalid_rules", _) => Error::InvalidRules(message.into()),
        ("too_large", _) | (_, 413 | 414) => Error::TooLarge(message),
        ("not_found", _) | (_, 404) => Error::NotFound(message),
        _ => Error::InvalidBody(message),
    }
}

/// The caller-facing error for a read with nothing to serve: no fresh or
/// stale copy, and neither KV nor the origin could answer. As for writes,
/// what the tiers said goes to `detail`, not to the caller.
pub fn read_failure_error(failure: ReadFailure) -> Error {
    let detail = match &failure.kv {
        Some(kv) => format!("origin: {}; KV: {kv}", failure.origin),
        None => format!("origin: {}", failure.origin),
    };
    match failure.origin {
        TierError::Timeout => Error::OriginTimeout(Reason::with_detail(
            "the origin did not answer in time and no cached copy was available",
            detail,
        )),
        TierError::Throttled => Error::Unavailable(Reason::with_detail(
            "no cached copy was available and the origin is not being asked for a moment after failures",
            detail,
        )),
        TierError::Refused(status, code) => refusal_error(status, &code, "nothing was read"),
        other => Error::Unavailable(Reason::with_detail(
            format!("no cached copy was available and the origin could not answer ({})", other.kind()),
            detail,
        )),
    }
}
