//! The edge API's route table: method + path → what to do.
//!
//! Pure (no worker types), so it is compiled and tested natively. Path
//! segments are percent-decoded here; anything that does not decode to
//! UTF-8 is the caller's error, never a panic. Every limit a path or query
//! can break (`core::limits`: name and key bytes, id range, ids per batch)
//! is checked here, so such a request is refused before any I/O.

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

    /// Whether the route needs a token at all.
    pub fn needs_token(&self) -> bool {
        !matches!(self, Route::Health)
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

/// Parses a query string into decoded `(name, value)` pairs (`+` is a space).
///
/// # Errors
/// `invalid_body` when a name or value does not decode to UTF-8.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, Error> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(&name.replace('+', " "))?, percent_decode(&value.replace('+', " "))?))
        })
        .collect()
}

/// Decodes `%XX` escapes; the result must be UTF-8.
pub fn percent_decode(segment: &str) -> Result<String, Error> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                None => return Err(Error::InvalidBody("malformed percent-escape in the path".into())),
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Error::InvalidBody("the path does not decode to UTF-8".into()))
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
mod tests {
    use super::*;

    /// `(method, path)` pairs documented in `openapi/edge.yaml`, from a
    /// plain-text walk (path keys indented 2 spaces, methods 4).
    fn documented() -> Vec<(String, String)> {
        let doc = include_str!("../../openapi/edge.yaml");
        let mut pairs = Vec::new();
        let mut in_paths = false;
        let mut path = String::new();
        for line in doc.lines() {
            if line == "paths:" {
                in_paths = true;
                continue;
            }
            if in_paths && !line.starts_with(' ') && !line.is_empty() {
                break;
            }
            if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
                path = format!("/{p}");
            } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')) {
                if ["get", "put", "post", "delete"].contains(&m) {
                    pairs.push((m.to_uppercase(), path.clone()));
                }
            }
        }
        pairs
    }

    fn concrete(path: &str) -> String {
        path.replace("{name}", "mail.host").replace("{id}", "7").replace("{key}", "k")
    }

    #[test]
    fn every_documented_endpoint_is_routed() {
        let pairs = documented();
        assert!(pairs.len() >= 7, "{pairs:?}");
        for (method, path) in pairs {
            assert!(
                route(Method::parse(&method), &concrete(&path), "").is_ok(),
                "{method} {path} is documented but not routed"
            );
        }
    }

    #[test]
    fn every_routed_endpoint_is_documented() {
        let pairs = documented();
        let served = [
            ("GET", "/healthz"),
            ("GET", "/v1/options"),
            ("GET", "/v1/options/{name}"),
            ("PUT", "/v1/options/{name}"),
            ("DELETE", "/v1/options/{name}"),
            ("GET", "/v1/organizations/{id}/options"),
            ("GET", "/v1/organizations/{id}/options/{key}"),
            ("PUT", "/v1/organizations/{id}/options/{key}"),
            ("DELETE", "/v1/organizations/{id}/options/{key}"),
            ("GET", "/v1/projects/{id}/options"),
            ("GET", "/v1/projects/{id}/options/{key}"),
            ("PUT", "/v1/projects/{id}/options/{key}"),
            ("DELETE", "/v1/projects/{id}/options/{key}"),
            ("GET", "/v1/users/{id}/options"),
            ("GET", "/v1/users/{id}/options/{key}"),
            ("PUT", "/v1/users/{id}/options/{key}"),
            ("DELETE", "/v1/users/{id}/options/{key}"),
            ("GET", "/v1/projects/{id}/ownership"),
            ("PUT", "/v1/projects/{id}/ownership"),
            ("DELETE", "/v1/projects/{id}/ownership"),
            ("POST", "/v1/projects/{id}/owners"),
            ("POST", "/v1/projects/{id}/event-hashes/last-processed"),
            ("GET", "/v1/projects/{id}/event-hashes/last-processed"),
            ("GET", "/v1/whoami"),
            ("GET", "/v1/stats"),
            ("POST", "/v1/admin/sync"),
        ];
        for (method, path) in served {
            assert!(route(Method::parse(method), &concrete(path), "").is_ok(), "{method} {path}");
            assert!(
                pairs.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is served but not in openapi/edge.yaml"
            );
        }
    }

    #[test]
    fn option_routes_by_method() {
        assert_eq!(route(Method::Get, "/v1/options/mail.host", ""), Ok(Route::GetOption("mail.host".into())));
        assert_eq!(route(Method::Put, "/v1/options/mail.host", ""), Ok(Route::SetOption("mail.host".into())));
        assert_eq!(route(Method::Delete, "/v1/options/mail.host", ""), Ok(Route::DeleteOption("mail.host".into())));
        assert_eq!(route(Method::Get, "/v1/options", ""), Ok(Route::ListOptions));
    }

    #[test]
    fn scoped_map_routes_carry_their_scope() {
        assert_eq!(route(Method::Get, "/v1/organizations/3/options", ""), Ok(Route::GetMap(Scope::Organization(3))));
        assert_eq!(
            route(Method::Put, "/v1/projects/4/options/a%20b", ""),
            Ok(Route::SetMapKey(Scope::Project(4), "a b".into()))
        );
        assert_eq!(
            route(Method::Get, "/v1/users/5/options", "project=6"),
            Ok(Route::GetMap(Scope::UserInProject(5, 6)))
        );
        assert_eq!(
            route(Method::Delete, "/v1/users/5/options/k", "organization=7&x=1"),
            Ok(Route::DeleteMapKey(Scope::UserInOrganization(5, 7), "k".into()))
        );
        assert_eq!(route(Method::Get, "/v1/users/5/options", "").ok(), Some(Route::GetMap(Scope::User(5))));
    }

    #[test]
    fn bad_ids_and_scopes_are_400_not_404() {
        let cases = [
            ("/v1/organizations/0/options", "", "invalid_id"),
            ("/v1/projects/-1/options", "", "invalid_id"),
            ("/v1/users/99999999999999999999/options", "", "invalid_id"),
            ("/v1/users/1/options", "project=1&organization=2", "invalid_scope"),
            ("/v1/users/1/options", "project=abc", "invalid_id"),
            ("/v1/projects/x/ownership", "", "invalid_id"),
            ("/v1/projects/1/event-hashes/last-processed", "ids=1,a", "invalid_id"),
        ];
        for (path, query, code) in cases {
            assert_eq!(route(Method::Get, path, query).map_err(|e| e.code()), Err(code), "{path}?{query}");
        }
    }

    #[test]
    fn names_and_keys_over_1024_bytes_are_refused_at_routing() {
        let fits = "n".repeat(limits::MAX_NAME_BYTES);
        let over = "n".repeat(limits::MAX_NAME_BYTES + 1);
        // Encoded: the limit is on the decoded bytes (%C3%BC is one 2-byte character).
        let encoded_over = "%C3%BC".repeat(limits::MAX_NAME_BYTES / 2 + 1);
        for method in [Method::Get, Method::Put, Method::Delete] {
            assert!(route(method, &format!("/v1/options/{fits}"), "").is_ok());
            assert!(route(method, &format!("/v1/projects/1/options/{fits}"), "").is_ok());
            for bad in [&over, &encoded_over] {
                for path in [format!("/v1/options/{bad}"), format!("/v1/users/2/options/{bad}")] {
                    let got = route(method, &path, "project=3").map_err(|e| e.code());
                    assert_eq!(got, Err("invalid_body"), "{method:?} {}", &path[..30]);
                }
            }
        }
        assert_eq!(allowed_methods(&format!("/v1/options/{over}"), ""), ["GET", "PUT", "DELETE"]);
    }

    #[test]
    fn more_than_1000_ids_are_refused_at_routing() {
        let path = "/v1/projects/1/event-hashes/last-processed";
        let most = vec!["7"; limits::MAX_FETCH_BATCH].join(",");
        assert!(
            matches!(route(Method::Get, path, &format!("ids={most}")), Ok(Route::FetchLastEvents(1, ids)) if ids.len() == 1000)
        );
        let over = vec!["7"; limits::MAX_FETCH_BATCH + 1].join(",");
        assert_eq!(route(Method::Get, path, &format!("ids={over}")).map_err(|e| e.code()), Err("invalid_body"));
    }

    #[test]
    fn ownership_and_event_hash_routes() {
        assert_eq!(route(Method::Put, "/v1/projects/9/ownership", ""), Ok(Route::PutOwnership(9)));
        assert_eq!(route(Method::Post, "/v1/projects/9/owners", ""), Ok(Route::Owners(9)));
        assert_eq!(
            route(Method::Get, "/v1/projects/9/event-hashes/last-processed", "ids=3,1"),
            Ok(Route::FetchLastEvents(9, vec![3, 1]))
        );
        assert_eq!(
            route(Method::Post, "/v1/projects/9/event-hashes/last-processed", ""),
            Ok(Route::RecordLastEvents(9))
        );
        assert!(Route::RecordLastEvents(9).is_write());
        assert!(!Route::Owners(9).is_write(), "evaluating owners reads only");
    }

    #[test]
    fn allow_lists_the_methods_a_path_takes() {
        assert_eq!(allowed_methods("/v1/stats", ""), ["GET"]);
        assert_eq!(allowed_methods("/v1/options/x", ""), ["GET", "PUT", "DELETE"]);
        assert_eq!(
            allowed_methods("/v1/projects/0/ownership", ""),
            ["GET", "PUT", "DELETE"],
            "bad ids still say which methods exist"
        );
        assert_eq!(allowed_methods("/v1/projects/1/event-hashes/last-processed", ""), ["GET", "POST"]);
    }

    #[test]
    fn query_strings_decode_and_never_panic() {
        assert_eq!(
            parse_query("a=1&b=x+y&c=%C3%BC&d"),
            Ok(vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "ü".into()),
                ("d".into(), "".into())
            ])
        );
        assert_eq!(parse_query("a=%FF").map_err(|e| e.code()), Err("invalid_body"));
        assert_eq!(parse_query(""), Ok(vec![]));
    }

    #[test]
    fn known_path_with_other_method_is_405() {
        for (m, p) in [
            (Method::Post, "/v1/options/x"),
            (Method::Delete, "/v1/options"),
            (Method::Other, "/healthz"),
            (Method::Get, "/v1/admin/sync"),
        ] {
            assert_eq!(route(m, p, "").map_err(|e| e.code()), Err("method_not_allowed"), "{m:?} {p}");
        }
    }

    #[test]
    fn unknown_paths_are_404() {
        for p in ["/", "/v1", "/v1/options/", "/v1/options/a/b", "/v2/options", "/healthz/x"] {
            assert_eq!(route(Method::Get, p, "").map_err(|e| e.code()), Err("not_found"), "{p}");
        }
    }

    #[test]
    fn names_are_percent_decoded() {
        assert_eq!(route(Method::Get, "/v1/options/sentry%3Aa%20b", ""), Ok(Route::GetOption("sentry:a b".into())));
        assert_eq!(route(Method::Get, "/v1/options/%C3%BC", ""), Ok(Route::GetOption("ü".into())));
    }

    #[test]
    fn broken_escapes_are_invalid_not_panics() {
        for p in ["/v1/options/%", "/v1/options/%zz", "/v1/options/%C3", "/v1/options/%FF%FE", "/v1/options/%E2%82"] {
            assert_eq!(route(Method::Get, p, "").map_err(|e| e.code()), Err("invalid_body"), "{p}");
        }
    }

    #[test]
    fn writes_need_admin_and_health_needs_no_token() {
        assert!(Route::SetOption("x".into()).is_write());
        assert!(Route::Sync.is_write());
        assert!(!Route::GetOption("x".into()).is_write());
        assert!(!Route::Health.needs_token());
        assert!(Route::Stats.needs_token());
    }
}
