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

/// Refuses every call while the read or admin token is not set: a Worker
/// deployed without its secrets must not answer anyone, and must say why.
///
/// # Errors
/// `not_configured` naming the missing secrets (never a value).
pub fn require_configured(settings: &Settings) -> Result<(), Error> {
    let missing: Vec<&str> = settings.missing_secrets().into_iter().filter(|name| *name != "ORIGIN_TOKEN").collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::NotConfigured(format!(
        "this Worker is missing the secret{} {}: set {} with `wrangler secret put` (locally: .dev.vars)",
        if missing.len() == 1 { "" } else { "s" },
        missing.join(" and "),
        if missing.len() == 1 { "it" } else { "them" },
    )))
}

/// Checks an `Authorization` header value against the configured tokens.
///
/// # Errors
/// `not_configured` when the read or admin token is not set (see
/// [`require_configured`]); `unauthorized` when the header is missing, not
/// `Bearer`, or matches no token.
pub fn authorize(header: Option<&str>, settings: &Settings) -> Result<Access, Error> {
    require_configured(settings)?;
    let (Some(admin_token), Some(read_token)) = (&settings.admin_token, &settings.read_token) else {
        return Err(Error::NotConfigured("this Worker is missing its tokens".into()));
    };
    let Some(header) = header else {
        return Err(Error::Unauthorized("missing Authorization: Bearer <token>".into()));
    };
    let token = header
        .trim()
        .strip_prefix("Bearer ")
        .or_else(|| header.trim().strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| Error::Unauthorized("the Authorization header must be Bearer <token>".into()))?;
    if constant_time_eq(token.as_bytes(), admin_token.as_bytes()) {
        Ok(Access::Admin)
    } else if constant_time_eq(token.as_bytes(), read_token.as_bytes()) {
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
        Settings::from_vars(|name| match name {
            "READ_TOKEN" => Some("the-read-token".into()),
            "ADMIN_TOKEN" => Some("the-admin-token".into()),
            _ => None,
        })
    }

    #[test]
    fn read_and_admin_tokens_are_told_apart() {
        let s = settings();
        assert_eq!(authorize(Some("Bearer the-read-token"), &s), Ok(Access::Read));
        assert_eq!(authorize(Some("Bearer the-admin-token"), &s), Ok(Access::Admin));
    }

    #[test]
    fn without_its_tokens_the_worker_refuses_everyone_and_names_what_is_missing() {
        let only_admin = Settings::from_vars(|name| (name == "ADMIN_TOKEN").then(|| "the-admin-token".to_string()));
        for (settings, missing) in
            [(Settings::from_vars(|_| None), "READ_TOKEN and ADMIN_TOKEN"), (only_admin, "READ_TOKEN")]
        {
            for header in [None, Some("Bearer the-admin-token"), Some("Bearer dev-admin-token"), Some("Bearer ")] {
                let err = authorize(header, &settings).expect_err("refused");
                assert_eq!((err.code(), err.status()), ("not_configured", 503));
                assert!(err.to_string().contains(missing), "{err}");
                assert!(!err.to_string().contains("the-admin-token"));
            }
        }
    }

    #[test]
    fn missing_malformed_or_wrong_tokens_are_unauthorized_without_echoing_them() {
        let s = settings();
        for header in [
            None,
            Some(""),
            Some("the-admin-token"),
            Some("Basic abc"),
            Some("Bearer "),
            Some("Bearer the-admin-tokenX"),
            Some("Bearer dev-admin-token"),
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
