//! End-to-end: one set of limits (`src/core/limits.rs`), enforced by the
//! Worker before any origin call, and origin refusals that count toward
//! nothing.
//!
//! Before, a name the origin refuses (over 1,024 bytes, under a legacy
//! prefix) went to the origin, came back as a 502/503, and counted toward
//! the per-key backoff and the isolate-wide breaker: five such reads with the
//! read token opened the breaker for every key. Here the Worker reaches the
//! origin only through a counting fault proxy, so "no origin call" is
//! counted, not assumed. One stack for the whole file (two cores).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};
use support::fault_proxy::Fault;
use support::{ProxiedStack, Stack, ADMIN, READ};

/// A name over the limit under the legacy prefix (which accepts any name).
fn long_name(n: usize) -> String {
    format!("legacy.{n}.{}", "n".repeat(1100))
}

/// `method path` with `token`, the body sent in `chunk`-byte chunks with
/// `Transfer-Encoding: chunked` (no `Content-Length`), or with a
/// `Content-Length` when `chunked` is false. The body is written from a
/// thread of its own while the answer is read, since the Worker answers a
/// body over the limit before it has all arrived. Answers the status and
/// the body as JSON.
fn send_body(url: &str, method: &str, path: &str, token: &str, body: Vec<u8>, chunked: bool) -> (u16, Value) {
    let addr = url.trim_start_matches("http://");
    let stream = TcpStream::connect(addr).expect("connect to the Worker");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("read timeout");
    stream.set_write_timeout(Some(Duration::from_secs(20))).expect("write timeout");
    let framing =
        if chunked { "transfer-encoding: chunked".to_string() } else { format!("content-length: {}", body.len()) };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\n{framing}\r\nconnection: close\r\n\r\n"
    );
    let mut writer = stream.try_clone().expect("clone the stream");
    let sending = std::thread::spawn(move || {
        writer.write_all(head.as_bytes())?;
        if !chunked {
            return writer.write_all(&body);
        }
        for chunk in body.chunks(16 * 1024) {
            writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
            writer.write_all(chunk)?;
            writer.write_all(b"\r\n")?;
        }
        writer.write_all(b"0\r\n\r\n")
    });
    let mut answer = Vec::new();
    let mut reader = stream;
    let _ = reader.read_to_end(&mut answer);
    let _ = sending.join();
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = text.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, json)
}

fn assert_refused(reply: &support::Reply, status: u16, code: &str, what: &str) {
    assert_eq!((reply.status, reply.code()), (status, code), "{what}: {:?}", reply.body);
}

fn stats(s: &ProxiedStack) -> Value {
    let stats = s.worker.get("/v1/stats");
    assert_eq!(stats.status, 200, "{:?}", stats.body);
    stats.body
}

#[test]
fn bad_input_is_refused_before_the_origin_and_origin_refusals_never_open_the_breaker() {
    let s = Stack::start_behind_proxy(&[("LEGACY_PREFIXES", "legacy.")]);
    let w = &s.worker;
    let url = w.url();
    let connections = s.proxy.requests();

    // --- with the read token -------------------------------------------------
    for n in 0..100 {
        assert_refused(&w.get(&format!("/v1/options/{}", long_name(n))), 400, "invalid_body", "over-long name");
    }
    // The limit is on the decoded bytes: 600 × "ü" is 1,200 bytes.
    assert_refused(&w.get(&format!("/v1/options/legacy.{}", "%C3%BC".repeat(600))), 400, "invalid_body", "encoded");
    let long_key = "k".repeat(1025);
    for scope in ["organizations/1", "projects/1", "users/1"] {
        let reply = w.get(&format!("/v1/{scope}/options/{long_key}"));
        assert_refused(&reply, 400, "invalid_body", "over-long key");
    }
    let bad_ids = [
        ("/v1/projects/0/ownership", "invalid_id"),
        ("/v1/projects/-1/options", "invalid_id"),
        ("/v1/organizations/9223372036854775808/options", "invalid_id"),
        ("/v1/users/99999999999999999999/options", "invalid_id"),
        ("/v1/users/1/options?project=x", "invalid_id"),
        ("/v1/users/1/options?organization=0", "invalid_id"),
        ("/v1/users/1/options?project=1&organization=2", "invalid_scope"),
        ("/v1/projects/1/event-hashes/last-processed?ids=0", "invalid_id"),
        ("/v1/projects/1/event-hashes/last-processed?ids=1,x", "invalid_id"),
    ];
    for (path, code) in bad_ids {
        assert_refused(&w.get(path), 400, code, path);
    }
    let ids = vec!["7"; 1001].join(",");
    let reply = w.get(&format!("/v1/projects/1/event-hashes/last-processed?ids={ids}"));
    assert_refused(&reply, 400, "invalid_body", "1,001 ids");
    let reply = w.call("POST", "/v1/projects/0/owners", Some(READ), Some("{}"));
    assert_refused(&reply, 400, "invalid_id", "owners of project 0");

    // Event data over the body limit (1 MiB): announced, and chunked with no
    // Content-Length (read as it streams in; refused once past the limit).
    let event = format!(r#"{{"request":{{"url":"{}"}}}}"#, "u".repeat(2 * 1024 * 1024));
    for chunked in [false, true] {
        let (status, body) =
            send_body(&url, "POST", "/v1/projects/1/owners", READ, event.clone().into_bytes(), chunked);
        assert_eq!((status, &body["error"]["code"]), (413, &json!("too_large")), "chunked {chunked}: {body}");
    }

    // --- a few with the admin token -------------------------------------------
    let name = long_name(1000);
    assert_refused(&w.put(&format!("/v1/options/{name}"), r#"{"value":"v"}"#), 400, "invalid_body", "PUT name");
    let reply = w.call("DELETE", &format!("/v1/options/{name}"), Some(ADMIN), None);
    assert_refused(&reply, 400, "invalid_body", "DELETE name");
    assert_refused(
        &w.put(&format!("/v1/projects/1/options/{long_key}"), r#"{"value":1}"#),
        400,
        "invalid_body",
        "PUT key",
    );
    let rules = format!(r##"{{"raw":"path:* #t\n{}"}}"##, "# c\\n".repeat(300 * 1024 / 4));
    assert_refused(&w.put("/v1/projects/1/ownership", &rules), 413, "too_large", "rules over 256 KiB");
    let value = format!(r#"{{"value":"{}"}}"#, "v".repeat(1024 * 1024));
    for chunked in [false, true] {
        let (status, body) =
            send_body(&url, "PUT", "/v1/options/legacy.big", ADMIN, value.clone().into_bytes(), chunked);
        assert_eq!((status, &body["error"]["code"]), (413, &json!("too_large")), "chunked {chunked}: {body}");
    }
    let hashes: Vec<u64> = (1..=501).collect();
    let record = json!({ "hash_ids": hashes, "event_id": "ev" }).to_string();
    let reply = w.call("POST", "/v1/projects/1/event-hashes/last-processed", Some(ADMIN), Some(&record));
    assert_refused(&reply, 400, "invalid_body", "501 hash ids");
    let record = json!({ "hash_ids": [1], "event_id": "e".repeat(257) }).to_string();
    let reply = w.call("POST", "/v1/projects/1/event-hashes/last-processed", Some(ADMIN), Some(&record));
    assert_refused(&reply, 400, "invalid_body", "event id over 256 bytes");

    // --- nothing reached the origin; the breaker is closed -------------------
    assert_eq!(s.proxy.requests(), connections, "no request reached the origin: {:?}", s.proxy.seen());
    let after = stats(&s);
    assert_eq!(after["breaker_open"], json!(false), "{after}");
    assert_eq!((after["origin_errors"].as_u64(), after["origin_refusals"].as_u64()), (Some(0), Some(0)), "{after}");
    assert_eq!(after["throttled"].as_u64(), Some(0), "{after}");

    // --- a valid read still reaches the origin ---------------------------------
    assert_eq!(s.origin.call("PUT", "/options/legacy.ok", Some(r#"{"value":"yes"}"#)).status, 200);
    let read = w.get("/v1/options/legacy.ok");
    assert_eq!((read.status, read.cache.as_deref(), &read.body["value"]), (200, Some("origin"), &json!("yes")));
    assert_eq!(s.origin.count("GET /options/{name}"), 1, "the valid read reached the origin");
    let fits = format!("legacy.{}", "n".repeat(1024 - "legacy.".len()));
    let read = w.get(&format!("/v1/options/{fits}"));
    // Unset: the default answers, and the origin was asked (`lookup`).
    let answered = (read.status, read.body["lookup"].as_str());
    assert_eq!(answered, (200, Some("origin")), "1,024 bytes is within the limit: {:?}", read.body);

    // A chunked body within the limit is read whole (and its project's record
    // asked of the origin).
    let (status, body) =
        send_body(&url, "POST", "/v1/projects/1/owners", READ, br#"{"tags":[["a","b"]]}"#.to_vec(), true);
    assert_eq!((status, &body["owners"]), (200, &json!("everyone")), "{body}");

    // --- an origin refusing (400) counts toward nothing -------------------------
    s.proxy.set(Fault::Status400);
    for project in 100..110 {
        let reply = w.get(&format!("/v1/projects/{project}/options"));
        assert_refused(&reply, 400, "invalid_id", "the origin's refusal, with its code");
    }
    let reply = w.get("/v1/options/legacy.refused");
    assert_refused(&reply, 400, "invalid_id", "an option read the origin refuses is no degraded default");
    let refused = stats(&s);
    assert_eq!(refused["breaker_open"], json!(false), "{refused}");
    assert_eq!((refused["origin_errors"].as_u64(), refused["origin_refusals"].as_u64()), (Some(0), Some(11)));
    assert_eq!(refused["degraded"].as_u64(), Some(0), "{refused}");
    s.proxy.set(Fault::Pass);
    let read = w.get("/v1/projects/100/options");
    assert_eq!((read.status, read.cache.as_deref()), (200, Some("origin")), "asked again at once: no backoff");
    assert!(!stats(&s)["breaker_open"].as_bool().unwrap_or(true));
}
