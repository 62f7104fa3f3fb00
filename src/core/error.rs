//! The one error type of the core, with the stable codes of the edge API
//! (openapi/edge.yaml, README "Errors").
//!
//! Every variant maps to exactly one `code()` string and one status
//! (`Error::status`, the only place statuses are chosen), and its fields —
//! code, message, and for rules text the line and column — are chosen once
//! too (`Error::to_json`): the HTTP layer renders them as the `error` of its
//! answer (`http::reply::error`), the JS layer as the properties of an
//! `Error`. Messages are for people and never carry a secret (tokens,
//! credential values) nor what an origin said (`Reason::detail`).

use serde_json::{Map, Value};

/// What can go wrong in a lookup or a write, as the caller should see it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request body is not what the endpoint takes (bad JSON, wrong shape).
    #[error("{0}")]
    InvalidBody(String),
    /// A value does not match the registered type of its option.
    #[error("{0}")]
    InvalidType(String),
    /// A scope combination that cannot exist (e.g. user within both a project and an organization).
    #[error("{0}")]
    InvalidScope(String),
    /// Ownership rules text that does not parse (and where, when the edge
    /// parsed it).
    #[error("{0}")]
    InvalidRules(RulesReason),
    /// An id in the path or query that is not a positive integer in range.
    #[error("{0}")]
    InvalidId(String),
    /// A body larger than the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// Missing or wrong token.
    #[error("{0}")]
    Unauthorized(String),
    /// The token is valid but may not do this (read token on a write).
    #[error("{0}")]
    Forbidden(String),
    /// The option is flagged `immutable`: no runtime set or delete.
    #[error("option {:?} is immutable and cannot be changed at runtime", quote(.0))]
    Immutable(String),
    /// The option is flagged `nostore`: it never reaches the stores.
    #[error("option {:?} is nostore: it lives only in config and defaults", quote(.0))]
    NoStore(String),
    /// The name is neither registered nor under a legacy prefix.
    #[error("unknown option {:?}", quote(.0))]
    UnknownOption(String),
    /// No such route or resource.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The origin answered, but refused or failed the operation.
    #[error("{0}")]
    OriginError(Reason),
    /// Nothing could be served: the origin is unreachable and nothing is cached.
    #[error("{0}")]
    Unavailable(Reason),
    /// The origin did not answer within the hard timeout.
    #[error("{0}")]
    OriginTimeout(Reason),
    /// The Worker lacks a secret it needs; the message names it, never a value.
    #[error("{0}")]
    NotConfigured(String),
}

/// The message of an error caused by the origin or KV, and what they said.
///
/// Callers see only `message`, written by the edge: an origin is somebody
/// else's service and its error text can hold anything ("database error:
/// …", hostnames, queries). `detail` keeps that text for the operator's
/// `DEBUG` log line and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// What the caller is told.
    pub message: String,
    /// What the origin or the runtime said, for the operator's log only.
    pub detail: Option<String>,
}

impl Reason {
    /// A message with the underlying cause kept for the log.
    pub fn with_detail(message: impl Into<String>, detail: impl std::fmt::Display) -> Reason {
        Reason { message: message.into(), detail: Some(detail.to_string()) }
    }
}

impl From<String> for Reason {
    fn from(message: String) -> Reason {
        Reason { message, detail: None }
    }
}

impl From<&str> for Reason {
    fn from(message: &str) -> Reason {
        Reason { message: message.to_string(), detail: None }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why rules text was refused and, when the edge parsed it, where: the
/// position of the offending token, so a client can mark it without reading
/// the message (which says it in words too: "line L, column C: …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesReason {
    /// What the caller is told.
    pub message: String,
    /// Where in the text; `None` when the origin refused the rules.
    pub position: Option<Position>,
}

/// A place in a text: 1-based line and column, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl From<String> for RulesReason {
    fn from(message: String) -> RulesReason {
        RulesReason { message, position: None }
    }
}

impl From<&str> for RulesReason {
    fn from(message: &str) -> RulesReason {
        RulesReason { message: message.to_string(), position: None }
    }
}

impl std::fmt::Display for RulesReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Longest name quoted back in a message: names come from the world and may
/// be any length; the message only needs enough to recognise it.
const QUOTE_CHARS: usize = 100;

fn quote(name: &str) -> String {
    if name.chars().count() <= QUOTE_CHARS {
        name.to_string()
    } else {
        let head: String = name.chars().take(QUOTE_CHARS).collect();
        format!("{head}…")
    }
}

impl Error {
    /// The stable machine-readable code of the edge API. Never changes for a variant.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidBody(_) => "invalid_body",
            Error::InvalidType(_) => "invalid_type",
            Error::InvalidScope(_) => "invalid_scope",
            Error::InvalidRules(_) => "invalid_rules",
            Error::InvalidId(_) => "invalid_id",
            Error::TooLarge(_) => "too_large",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::Immutable(_) => "immutable",
            Error::NoStore(_) => "nostore",
            Error::UnknownOption(_) => "unknown_option",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed(_) => "method_not_allowed",
            Error::OriginError(_) => "origin_error",
            Error::Unavailable(_) => "unavailable",
            Error::OriginTimeout(_) => "origin_timeout",
            Error::NotConfigured(_) => "not_configured",
        }
    }

    /// What the origin or the runtime said about this error, for the
    /// operator's log; never part of an answer.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::OriginError(r) | Error::Unavailable(r) | Error::OriginTimeout(r) => r.detail.as_deref(),
            _ => None,
        }
    }

    /// Where in rules text the error is (`invalid_rules` the edge found).
    pub fn position(&self) -> Option<Position> {
        match self {
            Error::InvalidRules(reason) => reason.position,
            _ => None,
        }
    }

    /// The error's fields as every front end shows them: `{code, message}`,
    /// plus `line` and `column` for rules text the edge could place. (The
    /// status travels apart; `detail` never leaves the operator's log.)
    pub fn to_json(&self) -> Value {
        let mut fields = Map::new();
        fields.insert("code".into(), Value::from(self.code()));
        fields.insert("message".into(), Value::from(self.to_string()));
        if let Some(Position { line, column }) = self.position() {
            fields.insert("line".into(), Value::from(line));
            fields.insert("column".into(), Value::from(column));
        }
        Value::Object(fields)
    }

    /// The HTTP status for this error. The only place statuses are chosen.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidBody(_)
            | Error::InvalidType(_)
            | Error::InvalidScope(_)
            | Error::InvalidRules(_)
            | Error::InvalidId(_) => 400,
            Error::TooLarge(_) => 413,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) | Error::Immutable(_) | Error::NoStore(_) => 403,
            Error::UnknownOption(_) | Error::NotFound(_) => 404,
            Error::MethodNotAllowed(_) => 405,
            Error::OriginError(_) => 502,
            Error::Unavailable(_) | Error::NotConfigured(_) => 503,
            Error::OriginTimeout(_) => 504,
        }
    }
}

impl From<super::limits::Refusal> for Error {
    fn from(refusal: super::limits::Refusal) -> Error {
        use super::limits::Refusal;
        match refusal {
            Refusal::Invalid(m) => Error::InvalidBody(m),
            Refusal::BadId(m) => Error::InvalidId(m),
            Refusal::TooLarge(m) => Error::TooLarge(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_in_messages() {
        let message = Error::UnknownOption("x".repeat(5000)).to_string();
        assert!(message.len() < 200, "{}", message.len());
    }

    #[test]
    fn the_detail_of_an_origin_error_is_kept_out_of_its_message() {
        let e = Error::OriginError(Reason::with_detail("the origin failed (status 500)", "database error: disk I/O"));
        assert_eq!(e.to_string(), "the origin failed (status 500)");
        assert_eq!(e.detail(), Some("database error: disk I/O"));
    }

    #[test]
    fn a_placed_rules_error_carries_its_line_and_column_and_others_only_code_and_message() {
        let placed = Error::InvalidRules(RulesReason {
            message: "line 3, column 1: unknown matcher type".into(),
            position: Some(Position { line: 3, column: 1 }),
        });
        assert_eq!(
            placed.to_json(),
            serde_json::json!({"code": "invalid_rules", "message": "line 3, column 1: unknown matcher type", "line": 3, "column": 1})
        );
        let refused = Error::InvalidRules("the origin refused these rules".into());
        assert_eq!(refused.position(), None);
        assert_eq!(
            refused.to_json(),
            serde_json::json!({"code": "invalid_rules", "message": "the origin refused these rules"})
        );
        let hidden = Error::OriginError(Reason::with_detail("the origin failed", "database error"));
        assert_eq!(hidden.to_json(), serde_json::json!({"code": "origin_error", "message": "the origin failed"}));
    }

    #[test]
    fn every_code_has_the_status_the_edge_api_gives_it() {
        let cases = [
            (Error::InvalidBody(String::new()), "invalid_body", 400),
            (Error::InvalidType(String::new()), "invalid_type", 400),
            (Error::InvalidScope(String::new()), "invalid_scope", 400),
            (Error::InvalidRules("".into()), "invalid_rules", 400),
            (Error::InvalidId(String::new()), "invalid_id", 400),
            (Error::TooLarge(String::new()), "too_large", 413),
            (Error::Unauthorized(String::new()), "unauthorized", 401),
            (Error::Forbidden(String::new()), "forbidden", 403),
            (Error::Immutable(String::new()), "immutable", 403),
            (Error::NoStore(String::new()), "nostore", 403),
            (Error::UnknownOption(String::new()), "unknown_option", 404),
            (Error::NotFound(String::new()), "not_found", 404),
            (Error::MethodNotAllowed(String::new()), "method_not_allowed", 405),
            (Error::OriginError("".into()), "origin_error", 502),
            (Error::Unavailable("".into()), "unavailable", 503),
            (Error::OriginTimeout("".into()), "origin_timeout", 504),
            (Error::NotConfigured(String::new()), "not_configured", 503),
        ];
        for (err, code, status) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.status(), status, "{code}");
        }
    }
}
