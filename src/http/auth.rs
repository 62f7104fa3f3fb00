//! Who is asking: the read token, the admin token, or nobody.
//!
//! Tokens are compared in constant time (for equal lengths), and never
//! appear in an error message or a log line.

use crate::core::error::Error;
use crate::core::settings::Settings;

/// What a valid token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only; credential values are hidden.
    Read,
    /// Reads and writes; credential values are shown.
    Admin,
}

/// Checks an `Authorization` header value against the configured tokens.
///
/// # Errors
/// `unauthorized` when the header is missing, not `Bearer`, or matches no token.
pub fn authorize(header: Option<&str>, settings: &Settings) -> Result<Access, Error> {
    let Some(header) = header else {
        return Err(Error::Unauthorized("missing Authorization: Bearer <token>".into()));
    };
    let token = header
        .trim()
        .strip_prefix("Bearer ")
        .or_else(|| header.trim().strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| Error::Unauthorized("the Authorization header must be Bearer <token>".into()))?;
    if constant_time_eq(token.as_bytes(), settings.admin_token.as_bytes()) {
        Ok(Access::Admin)
    } else if constant_time_eq(token.as_bytes(), settings.read_token.as_bytes()) {
        Ok(Access::Read)
    } else {
        Err(Error::Unauthorized("the token is not valid".into()))
    }
}

/// Refuses a write to anyone but an admin.
pub fn require_admin(access: Access) -> Result<(), Error> {
    match access {
        Access::Admin => Ok(()),
        Access::Read => Err(Error::Forbidden("this needs the admin token; the read token can only read".into())),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::from_vars(|_| None)
    }

    #[test]
    fn read_and_admin_tokens_are_told_apart() {
        let s = settings();
        assert_eq!(authorize(Some("Bearer dev-read-token"), &s), Ok(Access::Read));
        assert_eq!(authorize(Some("Bearer dev-admin-token"), &s), Ok(Access::Admin));
    }

    #[test]
    fn missing_malformed_or_wrong_tokens_are_unauthorized_without_echoing_them() {
        let s = settings();
        for header in [
            None,
            Some(""),
            Some("dev-admin-token"),
            Some("Basic abc"),
            Some("Bearer "),
            Some("Bearer dev-admin-tokenX"),
            Some("Bearer wrong-secret"),
        ] {
            let err = authorize(header, &s).expect_err("refused");
            assert_eq!(err.code(), "unauthorized");
            assert!(!err.to_string().contains("wrong-secret"));
        }
    }

    #[test]
    fn read_token_cannot_write() {
        assert_eq!(require_admin(Access::Read).map_err(|e| e.code()), Err("forbidden"));
        assert!(require_admin(Access::Admin).is_ok());
    }
}
