//! Property tests of what the Worker does with raw requests before any
//! handler runs: body parsing (`http::body`), the route table, percent
//! decoding and query strings (`http::route`), and token checks
//! (`http::auth`). Whatever comes in, the answer is a route or one of
//! the edge API's error codes with a 4xx status, never a panic.
//!
//! The default case counts keep this file to a few seconds; run it longer
//! with e.g. `PROPTEST_CASES=100000 cargo test --test prop_http` (the
//! variable replaces every test's own count).

mod prop_support;

use edge_options::core::error::Error;
use edge_options::core::scope::{Scope, MAX_ID};
use edge_options::core::settings::Settings;
use edge_options::http::auth::{authorize, require_admin, Access};
use edge_options::http::body::parse_json;
use edge_options::http::percent::query_of;
use edge_options::http::route::{parse_query, percent_decode, route, Method, Route};
use edge_options::tiers::origin_wire::encode_segment;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use prop_support::cases;

/// Every error code of the edge API (openapi/edge.yaml).
const API_CODES: [&str; 16] = [
    "invalid_body",
    "invalid_type",
    "invalid_scope",
    "invalid_rules",
    "invalid_id",
    "too_large",
    "unauthorized",
    "forbidden",
    "immutable",
    "nostore",
    "unknown_option",
    "not_found",
    "method_not_allowed",
    "origin_error",
    "unavailable",
    "origin_timeout",
];

/// An error of the edge API with a 4xx status, and one of `allowed`.
fn check_client_error(err: &Error, allowed: &[&str]) -> Result<(), TestCaseError> {
    prop_assert!(API_CODES.contains(&err.code()), "{:?} is not an edge API code", err.code());
    prop_assert!((400..500).contains(&err.status()), "{} answers {}", err.code(), err.status());
    prop_assert!(allowed.contains(&err.code()), "{} not expected here: {}", err.code(), err);
    Ok(())
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => prop::sample::select(vec![
            '%', '/', '+', '&', '=', '?', '#', ',', '.', ' ', '\t', '\n', '\r', '\u{0}', '\u{feff}', '\u{a0}', 'ü',
            '🦀', '0', '1', '9', '-', 'a', 'F', 'z',
        ]),
    ]
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// Path segments the route table knows, ids good and bad, broken escapes.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "v1", "v2", "options", "organizations", "projects", "users", "ownership", "owners", "event-hashes",
            "last-processed", "healthz", "stats", "admin", "sync", "", ".", "..", "1", "7", "0", "-1", "+1", "007",
            "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999999999999", "1e3",
            "0x10", " 1", "%", "%2", "%zz", "%C3", "%C3%BC", "%FF", "%FF%FE", "%E2%82", "%00", "%2F", "%25", "mail.host",
            "a%20b", "%F0%9F%A6%80",
        ])
        .prop_map(str::to_string),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        2 => any_text(12),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(segment(), 0..7).prop_map(|s| format!("/{}", s.join("/"))),
        1 => any_text(60),
        1 => any::<String>(),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let pair = prop_oneof![
        4 => (
            prop::sample::select(vec!["project", "organization", "ids", "x", "", "ids%3D", "pro+ject"]),
            prop_oneof![
                prop::sample::select(vec![
                    "", "1", "2", "0", "-1", "abc", "1,2,3", "1,,2", ",", " 1 , 2 ", "%FF", "%", "9223372036854775808",
                    "-9223372036854775808", "1%2C2", "+1",
                ])
                .prop_map(str::to_string),
                prop::collection::vec(any::<i64>(), 0..5).prop_map(|ids| {
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                }),
                any_text(10),
            ],
        )
            .prop_map(|(k, v)| format!("{k}={v}")),
        1 => any_text(10),
    ];
    prop_oneof![4 => prop::collection::vec(pair, 0..4).prop_map(|p| p.join("&")), 1 => any_text(30)]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["GET", "PUT", "POST", "DELETE", "get", "Put", "HEAD", "PATCH", "OPTIONS", ""])
            .prop_map(str::to_string),
        any_text(8),
    ]
}

fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    // Integers and strings only: a float may not survive a JSON round trip
    // exactly (prop_envelope looks at that).
    prop_support::json_tree(depth, any_text(12).boxed(), None)
}

/// Bytes that are mostly JSON-ish, sometimes anything at all.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..300),
        2 => arb_json(4).prop_map(|v| serde_json::to_vec(&v).expect("json")),
        2 => (arb_json(3), prop::sample::select(vec!["value", "raw", "hash_ids", "event_id", "valu"]))
            .prop_map(|(v, k)| serde_json::to_vec(&serde_json::json!({ k: v })).expect("json")),
        1 => (arb_json(3), any::<prop::sample::Index>()).prop_map(|(v, at)| {
            // Valid JSON cut short, or with a stray byte in it.
            let mut bytes = serde_json::to_vec(&serde_json::json!({ "value": v })).expect("json");
            let at = at.index(bytes.len());
            if at % 2 == 0 { bytes.truncate(at) } else { bytes.insert(at, 0xff) }
            bytes
        }),
        1 => prop::sample::select(vec![
            &b""[..], b" ", b"\t\r\n ", b"null", b"{}", b"[]", b"\"value\"", b"{\"value\":null}", b"\xef\xbb\xbf{}",
            b"{\"value\":1}{", b"{\"value\":1e999}", b"{\"value\":-0}", b"{\"value\":\"\\ud800\"}",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

/// The body shapes the Worker's handlers take.
#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct ValueBody {
    value: Value,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct OwnershipBody {
    raw: String,
    fallthrough: Option<bool>,
    auto_assignment: Option<bool>,
    is_active: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct LastEventsBody {
    hash_ids: Vec<i64>,
    event_id: String,
}

fn check_body<T: serde::de::DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<(), TestCaseError> {
    match parse_json::<T>(bytes, limit, "a body") {
        Ok(_) => {
            prop_assert!(bytes.len() <= limit);
            prop_assert!(std::str::from_utf8(bytes).is_ok());
        }
        Err(err) => {
            check_client_error(&err, &["invalid_body", "too_large"])?;
            prop_assert_eq!(err.code() == "too_large", bytes.len() > limit, "{}", err);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn arbitrary_body_bytes_never_panic_and_errors_are_4xx(bytes in body_bytes(), limit in 0usize..400) {
        check_body::<Value>(&bytes, limit)?;
        check_body::<ValueBody>(&bytes, limit)?;
        check_body::<OwnershipBody>(&bytes, limit)?;
        check_body::<LastEventsBody>(&bytes, limit)?;
        check_body::<Vec<i64>>(&bytes, limit)?;
    }

    #[test]
    fn json_bodies_within_the_limit_parse_to_what_was_sent(value in arb_json(4)) {
        let bytes = serde_json::to_vec(&serde_json::json!({ "value": value })).expect("json");
        let got: ValueBody = parse_json(&bytes, bytes.len(), "a body").expect("parses");
        prop_assert_eq!(got.value, value);
        prop_assert_eq!(
            parse_json::<ValueBody>(&bytes, bytes.len() - 1, "a body").map_err(|e| e.code()).err(),
            Some("too_large")
        );
    }

    #[test]
    fn arbitrary_routes_never_panic_and_errors_are_4xx(m in method(), p in path(), q in query()) {
        match route(Method::parse(&m), &p, &q) {
            Ok(r) => {
                // Only a method that can change state routes to a write (the admin token's).
                let writes = ["PUT", "POST", "DELETE"].contains(&m.to_ascii_uppercase().as_str());
                prop_assert!(!r.is_write() || writes, "{} {} routes to a write: {:?}", m, p, r);
            }
            Err(err) => check_client_error(
                &err,
                &["not_found", "method_not_allowed", "invalid_body", "invalid_id", "invalid_scope"],
            )?,
        }
    }

    #[test]
    fn method_parse_never_panics(name in any::<String>()) {
        let m = Method::parse(&name);
        let known = ["GET", "PUT", "POST", "DELETE"].contains(&name.to_ascii_uppercase().as_str());
        prop_assert_eq!(m != Method::Other, known);
    }

    #[test]
    fn percent_decode_never_panics(text in prop_oneof![any_text(40), "(%[0-9A-Fa-f]{0,2}|[a-z/]){0,20}"]) {
        if let Err(err) = percent_decode(&text) {
            check_client_error(&err, &["invalid_body"])?;
        }
    }

    #[test]
    fn percent_decode_inverts_encode_segment(text in any::<String>()) {
        prop_assert_eq!(percent_decode(&encode_segment(&text)), Ok(text));
    }

    #[test]
    fn the_query_string_is_cut_from_the_url_text_up_to_a_fragment(
        path in "(/[a-z0-9%.:-]{0,12}){0,4}",
        q in query(),
        fragment in prop::option::of("[#?a-z=&]{0,12}"),
    ) {
        let q = q.replace('#', "%23");
        let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
        let url = format!("https://edge.example{path}?{q}{fragment}");
        prop_assert_eq!(query_of(&url), q.as_str());
        let no_query = format!("https://edge.example{path}{fragment}");
        prop_assert_eq!(query_of(&no_query), "");
    }

    #[test]
    fn parse_query_never_panics_and_round_trips(
        q in query(),
        pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..5),
    ) {
        if let Err(err) = parse_query(&q) {
            check_client_error(&err, &["invalid_body"])?;
        }
        let encoded: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{}={}", encode_segment(k), encode_segment(v))).collect();
        prop_assert_eq!(parse_query(&encoded.join("&")), Ok(pairs));
    }

    #[test]
    fn encoded_names_and_keys_route_to_themselves(name in any::<String>().prop_filter("non-empty", |s| !s.is_empty()), id in 1..=MAX_ID) {
        let seg = encode_segment(&name);
        prop_assert_eq!(route(Method::Get, &format!("/v1/options/{seg}"), ""), Ok(Route::GetOption(name.clone())));
        prop_assert_eq!(route(Method::Put, &format!("/v1/options/{seg}"), ""), Ok(Route::SetOption(name.clone())));
        prop_assert_eq!(
            route(Method::Delete, &format!("/v1/projects/{id}/options/{seg}"), ""),
            Ok(Route::DeleteMapKey(Scope::Project(id), name.clone()))
        );
        prop_assert_eq!(
            route(Method::Put, &format!("/v1/users/{id}/options/{seg}"), &format!("organization={id}")),
            Ok(Route::SetMapKey(Scope::UserInOrganization(id, id), name))
        );
    }

    #[test]
    fn ids_route_exactly_when_in_range(id in prop_oneof![any::<u64>(), 0..=3u64, (MAX_ID - 2)..=(MAX_ID + 2)]) {
        let got = route(Method::Get, &format!("/v1/projects/{id}/ownership"), "");
        if (1..=MAX_ID).contains(&id) {
            prop_assert_eq!(got, Ok(Route::GetOwnership(id)));
        } else {
            prop_assert_eq!(got.map_err(|e| e.code()), Err("invalid_id"));
        }
        let got = route(Method::Get, "/v1/users/1/options", &format!("project={id}"));
        if (1..=MAX_ID).contains(&id) {
            prop_assert_eq!(got, Ok(Route::GetMap(Scope::UserInProject(1, id))));
        } else {
            prop_assert_eq!(got.map_err(|e| e.code()), Err("invalid_id"));
        }
    }

    #[test]
    fn last_processed_ids_round_trip(ids in prop::collection::vec(any::<i64>(), 0..20)) {
        let q = format!("ids={}", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        prop_assert_eq!(
            route(Method::Get, "/v1/projects/3/event-hashes/last-processed", &q),
            Ok(Route::FetchLastEvents(3, ids))
        );
    }

    #[test]
    fn arbitrary_authorization_headers_never_panic(
        header in prop::option::of(prop_oneof![
            any_text(40),
            any_text(20).prop_map(|t| format!("Bearer {t}")),
            prop::sample::select(vec![
                "Bearer dev-admin-token", "bearer dev-read-token", "  Bearer   dev-admin-token  ", "BEARER dev-admin-token",
                "Bearer dev-admin-token\u{0}", "Bearer\tdev-admin-token", "Bearer dev-read-token dev-admin-token",
            ])
            .prop_map(str::to_string),
        ]),
    ) {
        let settings = Settings::from_vars(|name| match name {
            "READ_TOKEN" => Some("dev-read-token".into()),
            "ADMIN_TOKEN" => Some("dev-admin-token".into()),
            _ => None,
        });
        match authorize(header.as_deref(), &settings) {
            Ok(access) => {
                let header = header.expect("a header was given");
                let token = if access == Access::Admin { &settings.admin_token } else { &settings.read_token };
                prop_assert!(header.contains(token.as_deref().unwrap_or("<none>")), "{header:?} was taken as {access:?}");
                prop_assert_eq!(require_admin(access).is_ok(), access == Access::Admin);
            }
            Err(err) => {
                check_client_error(&err, &["unauthorized"])?;
                let message = err.to_string();
                prop_assert!(!message.contains("dev-admin-token") && !message.contains("dev-read-token"));
            }
        }
    }
}
