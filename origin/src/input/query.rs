//! Query strings: the change feeds' `updated_since`, `after` and `limit`,
//! and the user sub-scopes.

use crate::db::Scope;
use crate::error::{ApiError, ApiResult};

use super::path::id;

/// Decoded `(key, value)` pairs of a raw query string.
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The one value of `key`, if given; twice is an error.
fn single(pairs: &[(String, String)], key: &str) -> ApiResult<Option<String>> {
    let mut found = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone());
    let first = found.next();
    if found.next().is_some() {
        return Err(ApiError::invalid_body(format!("query parameter '{key}' given more than once")));
    }
    Ok(first)
}

/// Parses the required `updated_since=<unix seconds>` (0..=i64::MAX).
pub fn updated_since(query: Option<&str>) -> ApiResult<i64> {
    let pairs = pairs(query);
    let raw = single(&pairs, "updated_since")?
        .ok_or_else(|| ApiError::invalid_body("query parameter 'updated_since' (unix seconds) is required"))?;
    whole(&raw).ok_or_else(|| {
        ApiError::invalid_body(format!(
            "'updated_since' must be unix seconds, a non-negative integer; got '{}'",
            shown(&raw)
        ))
    })
}

/// Parses `after=<version>` (default 0) and `limit=<rows>` (default
/// `default_limit`, 1..=`max_limit`) of `GET /changes`.
pub fn changes_window(query: Option<&str>, default_limit: i64, max_limit: i64) -> ApiResult<(i64, i64)> {
    let pairs = pairs(query);
    let after = match single(&pairs, "after")? {
        None => 0,
        Some(raw) => whole(&raw).ok_or_else(|| {
            ApiError::invalid_body(format!("'after' must be a version, a non-negative integer; got '{}'", shown(&raw)))
        })?,
    };
    let limit = match single(&pairs, "limit")? {
        None => default_limit,
        Some(raw) => whole(&raw).filter(|n| (1..=max_limit).contains(n)).ok_or_else(|| {
            ApiError::invalid_body(format!("'limit' must be an integer from 1 to {max_limit}; got '{}'", shown(&raw)))
        })?,
    };
    Ok((after, limit))
}

/// A non-negative decimal integer of digits only (no sign, no spaces).
fn whole(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|n| *n >= 0 && !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()))
}

/// At most 40 characters of what the caller sent, for a message.
fn shown(raw: &str) -> String {
    raw.chars().take(40).collect()
}

/// Picks the user scope from `?project=P` / `?organization=O` (neither:
/// the user alone; both: `invalid_scope`).
pub fn user_scope(user: i64, query: Option<&str>) -> ApiResult<Scope> {
    let pairs = pairs(query);
    let project = single(&pairs, "project")?;
    let organization = single(&pairs, "organization")?;
    match (project, organization) {
        (Some(_), Some(_)) => Err(ApiError::invalid_scope("give either 'project' or 'organization', not both")),
        (Some(p), None) => Ok(Scope::UserInProject(user, id("project", &p)?)),
        (None, Some(o)) => Ok(Scope::UserInOrganization(user, id("organization", &o)?)),
        (None, None) => Ok(Scope::User(user)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updated_since_is_required_and_numeric() {
        assert_eq!(updated_since(Some("updated_since=0")).ok(), Some(0));
        assert_eq!(updated_since(Some("x=1&updated_since=17")).ok(), Some(17));
        for bad in [
            None,
            Some(""),
            Some("updated_since="),
            Some("updated_since=-1"),
            Some("updated_since=abc"),
            Some("updated_since=1&updated_since=2"),
            Some("updated_since=99999999999999999999"),
        ] {
            assert!(updated_since(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn changes_window_defaults_and_bounds() {
        assert_eq!(changes_window(None, 100, 1000).ok(), Some((0, 100)));
        assert_eq!(changes_window(Some("after=17&limit=1"), 100, 1000).ok(), Some((17, 1)));
        assert_eq!(changes_window(Some("limit=1000"), 100, 1000).ok(), Some((0, 1000)));
        for bad in [
            "after=",
            "after=-1",
            "after=x",
            "after=1&after=2",
            "after=99999999999999999999",
            "limit=0",
            "limit=1001",
            "limit=",
            "limit=+5",
            "limit=1&limit=2",
        ] {
            assert!(changes_window(Some(bad), 100, 1000).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_scopes_are_distinct_and_exclusive() {
        assert_eq!(user_scope(5, None).ok(), Some(Scope::User(5)));
        assert_eq!(user_scope(5, Some("project=7")).ok(), Some(Scope::UserInProject(5, 7)));
        assert_eq!(user_scope(5, Some("organization=7")).ok(), Some(Scope::UserInOrganization(5, 7)));
        assert!(user_scope(5, Some("project=7&organization=8")).is_err());
        assert!(user_scope(5, Some("project=0")).is_err());
        assert!(user_scope(5, Some("project=")).is_err());
    }
}
