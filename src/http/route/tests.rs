//! The route table against openapi/edge.yaml and the rules of each route.

use super::*;

/// `(method, path)` pairs documented in `openapi/edge.yaml`, from a
/// plain-text walk (path keys indented 2 spaces, methods 4).
fn documented() -> Vec<(String, String)> {
    let doc = include_str!("../../../openapi/edge.yaml");
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
    assert_eq!(route(Method::Get, "/v1/users/5/options", "project=6"), Ok(Route::GetMap(Scope::UserInProject(5, 6))));
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
    assert_eq!(route(Method::Post, "/v1/projects/9/event-hashes/last-processed", ""), Ok(Route::RecordLastEvents(9)));
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
fn writes_need_admin() {
    assert!(Route::SetOption("x".into()).is_write());
    assert!(Route::Sync.is_write());
    assert!(!Route::GetOption("x".into()).is_write());
}
