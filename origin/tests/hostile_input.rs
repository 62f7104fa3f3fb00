//! Auth, error shapes, and input the caller controls: never a 500.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{enc, tempdir, Backend, Origin, TOKEN};
use serde_json::json;

on_both_backends!(
    missing_token_is_401,
    token_must_use_the_bearer_scheme,
    health_and_readiness_need_no_token,
    unknown_route_is_404_and_wrong_method_is_405,
    bad_ids_get_invalid_id_not_500,
    malformed_bodies_are_invalid_body,
    body_over_1_mib_is_413_too_large,
    odd_paths_and_queries_never_answer_500,
);

/// One request per route, with a valid path and body.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/options/x"),
    ("PUT", "/options/x"),
    ("DELETE", "/options/x"),
    ("GET", "/options?updated_since=0"),
    ("GET", "/changes?after=0&limit=5"),
    ("GET", "/organizations/1/options"),
    ("PUT", "/organizations/1/options/k"),
    ("DELETE", "/organizations/1/options/k"),
    ("GET", "/projects/1/options"),
    ("PUT", "/projects/1/options/k"),
    ("DELETE", "/projects/1/options/k"),
    ("GET", "/users/1/options?project=2"),
    ("PUT", "/users/1/options/k?organization=2"),
    ("DELETE", "/users/1/options/k"),
    ("GET", "/projects/1/ownership"),
    ("PUT", "/projects/1/ownership"),
    ("DELETE", "/projects/1/ownership"),
    ("GET", "/_origin/stats"),
    ("POST", "/_origin/stats/reset"),
    ("GET", "/no/such/route"),
];

fn body_for(method: &str, path: &str) -> Option<&'static [u8]> {
    match (method, path.contains("ownership")) {
        ("PUT", true) => Some(br#"{"raw":"path:* #t"}"#),
        ("PUT", false) => Some(br#"{"value":1}"#),
        ("POST", _) => Some(b"{}"),
        _ => None,
    }
}

fn missing_token_is_401(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for (method, path) in ROUTES {
        let body = body_for(method, path);
        o.send(method, path, None, body).assert_error(401, "unauthorized");
        o.send(method, path, Some("wrong-token"), body).assert_error(401, "unauthorized");
        o.send(method, path, Some(&format!("{TOKEN}x")), body).assert_error(401, "unauthorized");
        o.send(method, path, Some(&TOKEN[..TOKEN.len() - 1]), body).assert_error(401, "unauthorized");
    }
    // Nothing was written by the refused requests.
    o.get("/options/x").assert_error(404, "not_found");
}

fn token_must_use_the_bearer_scheme(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let agent = ureq::agent();
    for header in [TOKEN.to_string(), format!("Basic {TOKEN}"), format!("Token {TOKEN}"), "Bearer".into()] {
        let status = match agent.get(&format!("{}/options/x", o.base)).set("Authorization", &header).call() {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(status, 401, "{header}");
    }
    let ok = agent.get(&format!("{}/options/x", o.base)).set("Authorization", &format!("bearer {TOKEN}")).call();
    assert!(matches!(ok, Err(ureq::Error::Status(404, _))), "scheme is case-insensitive");
}

fn health_and_readiness_need_no_token(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let kind = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let health = json!({"ok": true, "database": "reachable", "backend": kind});
    assert_eq!(o.send("GET", "/healthz", None, None).ok(), health);
    assert_eq!(o.send("GET", "/healthz", Some("whatever"), None).ok(), health);
    assert_eq!(o.send("GET", "/readyz", None, None).ok(), json!({"ok": true}));
    assert_eq!(o.send("GET", "/readyz", Some("whatever"), None).ok(), json!({"ok": true}));
}

fn unknown_route_is_404_and_wrong_method_is_405(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for path in [
        "/",
        "/nope",
        "/v1/options/x",
        "/organizations",
        "/organizations/1",
        "/projects/1/owners",
        "/_origin/other",
        "/healthz/x",
    ] {
        o.get(path).assert_error(404, "not_found");
    }
    for (method, path) in [
        ("POST", "/options/x"),
        ("PATCH", "/options/x"),
        ("PUT", "/options"),
        ("DELETE", "/options"),
        ("POST", "/organizations/1/options"),
        ("GET", "/organizations/1/options/k"),
        ("PUT", "/projects/1/options"),
        ("POST", "/projects/1/ownership"),
        ("POST", "/healthz"),
        ("POST", "/readyz"),
        ("POST", "/_origin/stats"),
        ("GET", "/_origin/stats/reset"),
    ] {
        o.send(method, path, Some(TOKEN), Some(b"{}")).assert_error(405, "method_not_allowed");
    }
}

fn bad_ids_get_invalid_id_not_500(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let bad_ids = [
        "0",
        "-1",
        "-0",
        "+1",
        "01.0",
        "1e3",
        "0x1F",
        "abc",
        "9223372036854775808",
        "99999999999999999999999999999999999999",
        "%FF",
        "%00",
        "1%00",
        "%20",
        "%EF%BC%91", /* fullwidth 1 */
        "NaN",
        "1_000",
    ];
    for id in bad_ids {
        for (method, path) in [
            ("GET", format!("/organizations/{id}/options")),
            ("PUT", format!("/organizations/{id}/options/k")),
            ("DELETE", format!("/projects/{id}/options/k")),
            ("GET", format!("/users/{id}/options")),
            ("GET", format!("/projects/{id}/ownership")),
            ("PUT", format!("/projects/{id}/ownership")),
            ("DELETE", format!("/projects/{id}/ownership")),
        ] {
            o.send(method, &path, Some(TOKEN), body_for(method, &path)).assert_error(400, "invalid_id");
        }
    }
    // The edges of the range are fine.
    o.get("/organizations/1/options").ok();
    o.get("/organizations/9223372036854775807/options").ok();
    o.put("/users/9223372036854775807/options/k?project=9223372036854775807", &json!({"value": 1})).ok();
}

fn malformed_bodies_are_invalid_body(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let deep = format!("{{\"value\":{}1{}}}", "[".repeat(50_000), "]".repeat(50_000));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"   ".to_vec(),
        b"{".to_vec(),
        b"{\"value\":}".to_vec(),
        b"{\"value\":1,}".to_vec(),
        b"{\"value\":1} trailing".to_vec(),
        b"{'value':1}".to_vec(),
        b"{\"value\":1e999}".to_vec(),
        b"{\"value\":\"\xff\xfe\"}".to_vec(),
        b"\xef\xbb\xbf{\"value\":1}".to_vec(), // byte-order mark
        b"{\"value\":\"\\ud800\"}".to_vec(),   // lone surrogate escape
        deep.into_bytes(),
    ];
    for body in &bodies {
        for path in
            ["/options/x", "/organizations/1/options/k", "/users/1/options/k?project=1", "/projects/1/ownership"]
        {
            o.put_raw(path, body).assert_error(400, "invalid_body");
        }
    }
    o.get("/options/x").assert_error(404, "not_found");
}

fn body_over_1_mib_is_413_too_large(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    // Just under the limit is fine.
    let fits = format!("{{\"value\":\"{}\"}}", "a".repeat(1024 * 1024 - 20));
    o.put_raw("/options/big", fits.as_bytes()).ok();

    // Over the limit, declared by Content-Length: refused before the body is read.
    let mut stream = TcpStream::connect(("127.0.0.1", o.port())).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let head = format!(
        "PUT /options/huge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{\"value\":\"",
        2 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"too_large\""), "{answer}");

    // Over the limit, streamed in chunks with no declared length.
    let mut stream = TcpStream::connect(("127.0.0.1", o.port())).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let head = format!(
        "PUT /options/huge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("write");
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..20 {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if stream.write_all(&frame).is_err() {
            break; // the server may stop reading once over the limit
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    o.get("/options/huge").assert_error(404, "not_found");
}

fn odd_paths_and_queries_never_answer_500(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let long_digits = "9".repeat(5000);
    let odd = [
        "%",
        "%%",
        "%zz",
        "%FF%FE",
        "%00",
        "%C0%AF",
        "😀",
        "\u{202e}",
        "a b",
        "..",
        ".",
        "~",
        "%2F",
        "%2F%2F",
        long_digits.as_str(),
    ];
    for seg in odd {
        let seg_enc = if seg.starts_with('%') { seg.to_string() } else { enc(seg) };
        for path in [
            format!("/options/{seg_enc}"),
            format!("/organizations/{seg_enc}/options"),
            format!("/organizations/1/options/{seg_enc}"),
            format!("/users/1/options?project={seg_enc}"),
            format!("/users/{seg_enc}/options/k?organization={seg_enc}"),
            format!("/options?updated_since={seg_enc}"),
            format!("/changes?after={seg_enc}&limit={seg_enc}"),
            format!("/projects/{seg_enc}/ownership"),
        ] {
            for method in ["GET", "PUT", "DELETE"] {
                let reply = o.send(method, &path, Some(TOKEN), body_for(method, &path));
                assert!(reply.status < 500, "{method} {path}: {}", reply.body);
                if reply.status >= 400 {
                    reply.code();
                }
            }
        }
    }
}

/// Sends `method path` with `body` on `stream`, the body a moment after
/// the head (as a client writing them separately can), and reads the whole
/// answer; `None` when the server closed the connection instead.
fn exchange(stream: &mut TcpStream, method: &str, path: &str, body: &str) -> Option<String> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(body.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if rest.len() >= length {
                return Some(text);
            }
        }
    }
}

#[test]
fn a_request_refused_before_its_body_is_read_leaves_the_connection_usable() {
    let dir = tempdir();
    let o = Origin::start(&dir);
    let mut stream = TcpStream::connect(("127.0.0.1", o.port())).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    // Refused by the path (not UTF-8 once decoded) before any body is read.
    for path in ["/organizations/9/options/%FF", "/options/%FF%FE", "/users/%FF/options/k"] {
        let first = exchange(&mut stream, "PUT", path, r#"{"value":1}"#).expect("an answer");
        assert!(first.starts_with("HTTP/1.1 400"), "{first}");
        let second = exchange(&mut stream, "PUT", "/options/x", r#"{"value":2}"#);
        let second = second.unwrap_or_else(|| panic!("the connection was closed after the refusal of {path}"));
        assert!(second.starts_with("HTTP/1.1 200"), "{second}");
    }
}
