//! The edge API's route table: method + path → what to do.
//!
//! Pure (no worker types), so it is compiled and tested natively. Path
//! segments and query strings are percent-decoded first (`percent`);
//! anything that does not decode to UTF-8 is the caller's error, never a
//! panic. Every limit a path or query
//! can break (`core::limits`: name and key bytes, id range, ids per batch)
//! is checked here, so such a request is refused before any I/O.

pub use super::percent::{parse_query, percent_decode};
use crate::core::error::Error;
use crate::core::last_event::parse_ids;
use crate::core::limits;
use crate::core::scope::{parse_id, Id, Scope};

/// HTTP methods the API knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    /// Anything else (HEAD, PATCH, …): always 405 on a known path.
    Other,
}

impl Method {
    /// Parses a method name as the runtime gives it.
    pub fn parse(name: &str) -> Method {
        match name.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "PUT" => Method::Put,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /healthz`
    Health,
    /// `GET /v1/options`
    ListOptions,
    /// `GET /v1/options/{name}`
    GetOption(String),
    /// `PUT /v1/options/{name}`
    SetOption(String),
    /// `DELETE /v1/options/{name}`
    DeleteOption(String),
    /// `GET /v1/{organizations|projects|users}/{id}/options[?…]`
    GetMap(Scope),
    /// `GET …/options/{key}`
    GetMapKey(Scope, String),
    /// `PUT …/options/{key}`
    SetMapKey(Scope, String),
    /// `DELETE …/options/{key}`
    DeleteMapKey(Scope, String),
    /// `GET /v1/projects/{id}/ownership`
    GetOwnership(Id),
    /// `PUT /v1/projects/{id}/ownership`
    PutOwnership(Id),
    /// `DELETE /v1/projects/{id}/ownership`
    DeleteOwnership(Id),
    /// `POST /v1/projects/{id}/owners`
    Owners(Id),
    /// `POST /v1/projects/{id}/event-hashes/last-processed`
    RecordLastEvents(Id),
    /// `GET /v1/projects/{id}/event-hashes/last-processed?ids=…`
    FetchLastEvents(Id, Vec<i64>),
    /// `GET /v1/whoami`
    WhoAmI,
    /// `GET /v1/stats`
    Stats,
    /// `POST /v1/admin/sync`
    Sync,
    /// `GET /v1/admin/beacon`: the version beacon's own counters (admin).
    BeaconStats,
}

impl Route {
    /// Whether the route changes state (and so needs the admin token).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Route::SetOption(_)
                | Route::DeleteOption(_)
                | Route::SetMapKey(..)
                | Route::DeleteMapKey(..)
                | Route::PutOwnership(_)
                | Route::DeleteOwnership(_)
                | Route::RecordLastEvents(_)
                | Route::Sync
        )
    }
}

/// Finds the route for `method`, `path` (the URL path, still encoded) and
/// `query` (the query string without `?`, still encoded).
///
/// # Errors
/// `not_found` for an unknown path, `method_not_allowed` for a known path
/// with another method, `invalid_body` for a segment that is not UTF-8, a
/// name or key over 1,024 bytes or more than 1,000 `ids`, `invalid_id` /
/// `invalid_scope` for bad ids and scope combinations.
pub fn route(method: Method, path: &str, query: &str) -> Result<Route, Error> {
    let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let segments: Vec<String> = raw.iter().map(|s| percent_decode(s)).collect::<Result<_, _>>()?;
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    let not_allowed = || Err(Error::MethodNotAllowed(format!("{} does not take this method", truncate(path, 200))));
    let map_scope = |kind: &str, id: &str| -> Result<Scope, Error> {
        match kind {
            "organizations" => Ok(Scope::Organization(parse_id(id, "the organization id")?)),
            "projects" => Ok(Scope::Project(parse_id(id, "the project id")?)),
            _ => {
                let user = parse_id(id, "the user id")?;
                let params = parse_query(query)?;
                let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
                Scope::user(user, param("project"), param("organization"))
            }
        }
    };
    match parts.as_slice() {
        ["v1", kind @ ("organizations" | "projects" | "users"), id, "options"] => match method {
            Method::Get => Ok(Route::GetMap(map_scope(kind, id)?)),
            _ => not_allowed(),
        },
        ["v1", kind @ ("organizations" | "projects" | "users"), id, "options", key] if !key.is_empty() => {
            let key = || checked_name("the key", key);
            match method {
                Method::Get => Ok(Route::GetMapKey(map_scope(kind, id)?, key()?)),
                Method::Put => Ok(Route::SetMapKey(map_scope(kind, id)?, key()?)),
                Method::Delete => Ok(Route::DeleteMapKey(map_scope(kind, id)?, key()?)),
                _ => not_allowed(),
            }
        }
        ["v1", "projects", id, "ownership"] => match method {
            Method::Get => Ok(Route::GetOwnership(parse_id(id, "the project id")?)),
            Method::Put => Ok(Route::PutOwnership(parse_id(id, "the project id")?)),
            Method::Delete => Ok(Route::DeleteOwnership(parse_id(id, "the project id")?)),
            _ => not_allowed(),
        },
        ["v1", "projects", id, "owners"] => match method {
            Method::Post => Ok(Route::Owners(parse_id(id, "the project id")?)),
            _ => not_allowed(),
        },
        ["v1", "projects", id, "event-hashes", "last-processed"] => match method {
            Method::Post => Ok(Route::RecordLastEvents(parse_id(id, "the project id")?)),
            Method::Get => {
                let project = parse_id(id, "the project id")?;
                let params = parse_query(query)?;
                let ids = params.iter().find(|(k, _)| k == "ids").map(|(_, v)| v.as_str()).unwrap_or("");
                Ok(Route::FetchLastEvents(project, parse_ids(ids)?))
            }
            _ => not_allowed(),
        },
        ["healthz"] => match method {
            Method::Get => Ok(Route::Health),
            _ => not_allowed(),
        },
        ["v1", "options"] => match method {
            Method::Get => Ok(Route::ListOptions),
            _ => not_allowed(),
        },
        ["v1", "options", name] if !name.is_empty() => {
            let name = || checked_name("the option name", name);
            match method {
                Method::Get => Ok(Route::GetOption(name()?)),
                Method::Put => Ok(Route::SetOption(name()?)),
                Method::Delete => Ok(Route::DeleteOption(name()?)),
                _ => not_allowed(),
            }
        }
        ["v1", "whoami"] => match method {
            Method::Get => Ok(Route::WhoAmI),
            _ => not_allowed(),
        },
        ["v1", "stats"] => match method {
            Method::Get => Ok(Route::Stats),
            _ => not_allowed(),
        },
        ["v1", "admin", "sync"] => match method {
            Method::Post => Ok(Route::Sync),
            _ => not_allowed(),
        },
        ["v1", "admin", "beacon"] => match method {
            Method::Get => Ok(Route::BeaconStats),
            _ => not_allowed(),
        },
        _ => Err(Error::NotFound(format!("no such endpoint: {}", truncate(path, 200)))),
    }
}

/// The methods `path` takes, for the `Allow` header of a 405.
pub fn allowed_methods(path: &str, query: &str) -> Vec<&'static str> {
    [(Method::Get, "GET"), (Method::Put, "PUT"), (Method::Post, "POST"), (Method::Delete, "DELETE")]
        .into_iter()
        .filter(|(method, _)| match route(*method, path, query) {
            Ok(_) => true,
            Err(e) => !matches!(e.code(), "method_not_allowed" | "not_found"),
        })
        .map(|(_, name)| name)
        .collect()
}

/// A name or key from the path, within `limits` (the origin's limits too),
/// so an over-long one is refused here, before any I/O.
fn checked_name(what: &str, name: &str) -> Result<String, Error> {
    limits::check_name(what, name)?;
    Ok(name.to_string())
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests;
