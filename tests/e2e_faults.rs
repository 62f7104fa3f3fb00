//! End-to-end fault injection: the real Worker under `wrangler dev` reaches
//! the real origin only through a fault proxy (`support::fault_proxy`) that
//! refuses, hangs, slows, answers 500 or garbage, or cuts answers mid-body,
//! while tests read the origin directly to see what it really holds
//! (docs/design.md "Failure rules", README "How a read is answered").
//!
//! Every scenario proves the fault was hit (the proxy counts what reached it)
//! and that nothing was half-applied. Each failing read uses its own key,
//! and no more than four reads fail in a row, so the per-key backoff and the
//! isolate-wide breaker (docs/design.md "Per-key backoff and the breaker")
//! do not change what these tests see; their own scenarios, and those of
//! soft timeouts, have suites of their own (listed at the end of this file).
//!
//! To see `stale`, the KV copy of an entry must be absent or older than the
//! isolate's (otherwise KV answers before the origin is asked): the tests
//! play an expired or lagging KV with `wrangler kv … --local` on the same
//! local KV files `wrangler dev` uses.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::fault_proxy::{Fault, FaultProxy};
use support::{ProxiedStack, Reply, Stack, Worker, ADMIN};

/// The hard timeout of origin calls in these stacks.
const TIMEOUT: (&str, &str) = ("ORIGIN_TIMEOUT_MS", "800");

/// Loose bound on any answer under a fault: proves nothing hangs.
const NO_HANG: Duration = Duration::from_secs(10);

/// Runs `call`; answers its result, how long it took, how many connections
/// the proxy accepted meanwhile and the request lines it read meanwhile.
fn through_proxy<T>(proxy: &FaultProxy, call: impl FnOnce() -> T) -> (T, Duration, u64, Vec<String>) {
    let (connections, lines) = (proxy.requests(), proxy.seen().len());
    let started = Instant::now();
    let out = call();
    let took = started.elapsed();
    (out, took, proxy.requests() - connections, proxy.seen()[lines..].to_vec())
}

/// Asserts the proxy received exactly one request, `line` (unless the fault
/// refuses connections: a refused request is never read).
fn assert_one_request(fault: Fault, connections: u64, lines: &[String], line: &str, what: &str) {
    assert_eq!(connections, 1, "{what}: the proxy should have received exactly one request");
    if fault != Fault::Refuse {
        assert_eq!(lines, [line.to_string()], "{what}: the request that reached the proxy");
    }
}

/// Asserts the proxy received at least one request, among them `line`
/// (unless the fault refuses connections). With a stale copy in hand a slow
/// or hanging origin also gets a background refresh, which may land during
/// the next call: exact counts are for reads with nothing cached.
fn assert_reached(fault: Fault, connections: u64, lines: &[String], line: &str, what: &str) {
    assert!(connections >= 1, "{what}: the request never reached the proxy");
    if fault != Fault::Refuse {
        assert!(lines.iter().any(|l| l == line), "{what}: {line:?} not among {lines:?}");
    }
}

/// Waits (at most 5 s) until the Worker has no origin fetch in flight, so
/// background refreshes of one scenario do not spill into the next.
fn settle(w: &Worker) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while w.get("/v1/stats").body["in_flight"].as_u64().unwrap_or(0) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Everything the origin counted (requests to its stats are not counted).
fn origin_requests(s: &ProxiedStack) -> u64 {
    let stats = s.origin.call("GET", "/_origin/stats", None);
    assert_eq!(stats.status, 200, "origin stats: {:?}", stats.body);
    stats.body["requests"].as_u64().unwrap_or(0)
}

/// Reads `path` until `done` holds, for at most 10 s. A key whose origin
/// read just failed may not be asked again for a moment (per-key backoff);
/// what matters here is that it recovers, not when.
fn read_until(w: &Worker, path: &str, done: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = w.get(path);
        if done(&reply) {
            return reply;
        }
        assert!(Instant::now() < deadline, "{path} did not recover: {} {:?}", reply.status, reply.body);
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The raw KV texts of `keys` (`null` where KV has none).
fn kv_get(s: &ProxiedStack, keys: &[String]) -> Value {
    let out = s.wrangler_kv(&["bulk", "get"], Some(&json!(keys)));
    // The JSON is followed by a "Success!" line.
    let start = out.find('{').unwrap_or_else(|| panic!("no JSON from wrangler kv bulk get:\n{out}"));
    let found: Value = serde_json::Deserializer::from_str(&out[start..])
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("unreadable wrangler kv bulk get output:\n{out}"));
    json!(keys.iter().map(|k| found[k]["value"].clone()).collect::<Vec<_>>())
}

// ---------------------------------------------------------------------------
// The proxy itself, against the real origin and no Worker.
// ---------------------------------------------------------------------------

#[test]
fn fault_proxy_injects_each_fault_as_documented() {
    let dir = tempfile::tempdir().expect("temp dir");
    let origin = support::Origin::start(dir.path());
    assert_eq!(origin.call("PUT", "/options/mail.host", Some(r#"{"value":"through"}"#)).status, 200);
    let proxy = FaultProxy::start(origin.port);
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(1)).build();
    // Status, `connection` header and body (or why the body could not be
    // read); `Err` when no answer came at all.
    type Answer = (u16, Option<String>, Result<String, String>);
    let get = || -> Result<Answer, String> {
        let result = agent
            .get(&format!("{}/options/mail.host", proxy.url()))
            .set("Authorization", &format!("Bearer {}", support::ORIGIN_TOKEN))
            .call();
        match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                Ok((r.status(), r.header("connection").map(str::to_string), r.into_string().map_err(|e| e.to_string())))
            }
            Err(e) => Err(e.to_string()),
        }
    };

    let (status, connection, text) = get().expect("an answer");
    assert_eq!((status, connection.as_deref()), (200, Some("close")));
    assert!(text.expect("a body").contains("through"));

    proxy.set(Fault::Status500);
    let (status, _, text) = get().expect("an answer");
    assert_eq!((status, text.as_deref()), (500, Ok(support::fault_proxy::STATUS_500_BODY)));

    proxy.set(Fault::Garbage200);
    let (status, _, text) = get().expect("an answer");
    assert_eq!((status, text.as_deref()), (200, Ok(support::fault_proxy::GARBAGE_BODY)));

    proxy.set(Fault::ResetMidBody);
    let (status, _, text) = get().expect("an answer");
    assert_eq!(status, 200);
    assert!(text.is_err(), "the body was cut: {text:?}");

    proxy.set(Fault::Refuse);
    assert!(get().is_err(), "refused");

    proxy.set(Fault::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(get().expect("an answer").0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    proxy.set(Fault::Hang);
    let started = Instant::now();
    assert!(get().is_err(), "no answer within the client's timeout");
    assert!(started.elapsed() >= Duration::from_secs(1));

    assert_eq!(proxy.requests(), 7);
    let expected = vec!["GET /options/mail.host".to_string(); 6];
    assert_eq!(proxy.seen(), expected, "every request read but the refused one");
    // The origin saw the reads passed on (Pass, Slow, ResetMidBody) and no other.
    let stats = origin.call("GET", "/_origin/stats", None).body;
    assert_eq!(stats["by_route"]["GET /options/{name}"], json!(3), "{stats}");

    // A connection still held when the proxy is dropped does not keep it.
    let held = std::net::TcpStream::connect(("127.0.0.1", proxy.port())).expect("connect");
    std::io::Write::write_all(&mut &held, b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").expect("send");
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(proxy);
    assert!(started.elapsed() < Duration::from_secs(3), "drop took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------
// Writes: the origin fails, nothing changes anywhere.
// ---------------------------------------------------------------------------

/// Every kind of write, with the request the edge sends the origin for it.
const WRITES: [(&str, &str, Option<&str>, &str); 6] = [
    ("PUT", "/v1/options/mail.host", Some(r#"{"value":"after"}"#), "PUT /options/mail.host"),
    ("DELETE", "/v1/options/mail.host", None, "DELETE /options/mail.host"),
    ("PUT", "/v1/projects/5/options/k", Some(r#"{"value":"after"}"#), "PUT /projects/5/options/k"),
    ("DELETE", "/v1/projects/5/options/k", None, "DELETE /projects/5/options/k"),
    ("PUT", "/v1/projects/5/ownership", Some(r#"{"raw":"path:src/* #after"}"#), "PUT /projects/5/ownership"),
    ("DELETE", "/v1/projects/5/ownership", None, "DELETE /projects/5/ownership"),
];

/// What the origin holds for the things `WRITES` touch, read directly.
fn origin_view(s: &ProxiedStack) -> Value {
    json!({
        "option": s.origin.call("GET", "/options/mail.host", None).body,
        "map": s.origin.call("GET", "/projects/5/options", None).body,
        "ownership": s.origin.call("GET", "/projects/5/ownership", None).body,
    })
}

/// A stack with an option, a map key and an ownership record written
/// through the edge (so cached in memory and KV); answers the origin's view.
fn seeded_stack() -> (ProxiedStack, Value) {
    // These tests count origin requests fault by fault; the breaker (which
    // would stop them after 5 failures across keys) has tests of its own.
    let s = Stack::start_behind_proxy(&[TIMEOUT, ("BREAKER_THRESHOLD", "1000")]);
    for (path, body) in [
        ("/v1/options/mail.host", r#"{"value":"before"}"#),
        ("/v1/projects/5/options/k", r#"{"value":"before"}"#),
        ("/v1/projects/5/ownership", r#"{"raw":"path:src/* #before"}"#),
    ] {
        let reply = s.worker.put(path, body);
        assert_eq!(reply.status, 200, "seeding {path}: {:?}", reply.body);
    }
    let view = origin_view(&s);
    assert_eq!(view["option"]["value"], json!("before"));
    (s, view)
}

/// With `fault` on, every kind of write answers `status`/`code` within
/// [`NO_HANG`], each reached the proxy, and afterwards the origin (read
/// directly) and the edge's caches hold exactly what they held before.
/// Answers the stack, fault still on, for more checks.
fn writes_fail_and_change_nothing(fault: Fault, status: u16, code: &str) -> ProxiedStack {
    let (s, before) = seeded_stack();
    let origin_before = origin_requests(&s);
    s.proxy.set(fault);
    for (method, path, body, line) in WRITES {
        let (reply, took, connections, lines) =
            through_proxy(&s.proxy, || s.worker.call(method, path, Some(ADMIN), body));
        let what = format!("{fault:?}: {method} {path}");
        assert_eq!((reply.status, reply.code()), (status, code), "{what}: {:?}", reply.body);
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: no message");
        assert!(took < NO_HANG, "{what}: took {took:?}");
        assert_one_request(fault, connections, &lines, line, &what);
    }
    assert_eq!(origin_requests(&s), origin_before, "{fault:?}: the proxy let no write through to the origin");
    assert_eq!(origin_view(&s), before, "{fault:?}: the origin holds exactly what it held");

    // The edge still answers the old values, and never a part of a failed
    // answer. A refusal or a 5xx is a certain failure: the caches stay
    // trusted and no origin call is needed. A 200 with garbage, or no answer
    // at all, may mean the origin applied the write: the edge then trusts its
    // copy no longer (it asks the origin, and serves the old value only as
    // stale).
    let unsure = matches!(fault, Fault::Garbage200 | Fault::Hang);
    let (reads, _, connections, _) = through_proxy(&s.proxy, || {
        let option = s.worker.get("/v1/options/mail.host");
        let map = s.worker.get("/v1/projects/5/options");
        let ownership = s.worker.get("/v1/projects/5/ownership");
        [option, map, ownership]
    });
    let [option, map, ownership] = reads;
    assert_eq!((option.status, option.body["value"].clone()), (200, json!("before")), "{fault:?}: {:?}", option.body);
    assert_eq!(map.body["values"], json!({"k": "before"}), "{fault:?}: {:?}", map.body);
    assert_eq!(ownership.body["ownership"]["raw"], json!("path:src/* #before"), "{fault:?}: {:?}", ownership.body);
    for reply in [&option, &map, &ownership] {
        let expected = if unsure {
            matches!(reply.cache.as_deref(), Some("stale"))
        } else {
            matches!(reply.cache.as_deref(), Some("local" | "kv"))
        };
        assert!(expected, "{fault:?}: {:?} {:?}", reply.cache, reply.body);
    }
    if unsure {
        assert_eq!(connections, 3, "{fault:?}: each distrusted key asked the origin once");
    } else {
        assert_eq!(connections, 0, "{fault:?}: cached reads did not need the origin");
    }
    s
}

#[test]
fn origin_refusing_connections_write_is_unavailable_and_nothing_changes() {
    let s = writes_fail_and_change_nothing(Fault::Refuse, 503, "unavailable");
    cold_reads_fail_clearly_and_are_not_cached(&s, Fault::Refuse, 9, 503, "unavailable");
}

#[test]
fn origin_answering_500_write_is_origin_error_and_nothing_changes() {
    let s = writes_fail_and_change_nothing(Fault::Status500, 502, "origin_error");
    cold_reads_fail_clearly_and_are_not_cached(&s, Fault::Status500, 9, 503, "unavailable");
}

#[test]
fn origin_hanging_write_times_out_at_the_hard_timeout() {
    // The proxy held every write: the origin never received one, so here
    // "nothing changed" is certain (the Worker's message rightly says it
    // cannot know that in general).
    writes_fail_and_change_nothing(Fault::Hang, 504, "origin_timeout");
}

/// Values written straight to the origin, never seen by the edge: cold keys
/// whose reads must reach the origin.
fn write_behind_the_edge(s: &ProxiedStack, project: u64) {
    for (path, body) in [
        ("/options/mail.from".to_string(), r#"{"value":"direct@example.com"}"#),
        (format!("/projects/{project}/options/k"), r#"{"value":"direct"}"#),
        (format!("/projects/{project}/ownership"), r#"{"raw":"path:src/* #direct"}"#),
    ] {
        let reply = s.origin.call("PUT", &path, Some(body));
        assert_eq!(reply.status, 200, "PUT {path} at the origin: {:?}", reply.body);
    }
}

/// With `fault` on, cold reads of values the origin holds (see
/// `write_behind_the_edge`) are a degraded default for the option and
/// `status`/`code` for the map and the ownership record, each having reached
/// the proxy; then with the proxy passing again every read answers the
/// origin's value: the failure was not cached as a value.
fn cold_reads_fail_clearly_and_are_not_cached(s: &ProxiedStack, fault: Fault, project: u64, status: u16, code: &str) {
    write_behind_the_edge(s, project);
    s.proxy.set(fault);
    let map_path = format!("/v1/projects/{project}/options");
    let own_path = format!("/v1/projects/{project}/ownership");

    let (option, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get("/v1/options/mail.from"));
    assert_one_request(fault, connections, &lines, "GET /options/mail.from", "option read");
    assert!(took < NO_HANG, "{fault:?}: option read took {took:?}");
    assert_eq!(option.status, 200, "an option read never fails: {:?}", option.body);
    assert_eq!(
        (option.body["value"].clone(), option.cache.as_deref(), option.body["degraded"].clone()),
        (json!("root@localhost"), Some("default"), json!(true)),
        "{fault:?}: the registered default, marked degraded: {:?}",
        option.body
    );
    let lines = [format!("GET /projects/{project}/options"), format!("GET /projects/{project}/ownership")];
    for (path, line) in [&map_path, &own_path].into_iter().zip(lines) {
        let (reply, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get(path));
        assert_one_request(fault, connections, &lines, &line, path);
        assert!(took < NO_HANG, "{fault:?}: {path} took {took:?}");
        assert_eq!((reply.status, reply.code()), (status, code), "{fault:?}: {path}: {:?}", reply.body);
        assert!(!reply.body.to_string().contains("oops"), "{fault:?}: garbage leaked into {:?}", reply.body);
    }

    s.proxy.set(Fault::Pass);
    let option = read_until(&s.worker, "/v1/options/mail.from", |r| r.cache.as_deref() == Some("origin"));
    assert_eq!(
        (option.body["value"].clone(), option.body["degraded"].clone()),
        (json!("direct@example.com"), json!(false))
    );
    let map = read_until(&s.worker, &map_path, |r| r.cache.as_deref() == Some("origin"));
    assert_eq!(map.body["values"], json!({"k": "direct"}));
    let own = read_until(&s.worker, &own_path, |r| r.cache.as_deref() == Some("origin"));
    assert_eq!(own.body["ownership"]["raw"], json!("path:src/* #direct"));
}

#[test]
fn origin_answering_garbage_with_200_is_origin_error_not_a_value() {
    let s = writes_fail_and_change_nothing(Fault::Garbage200, 502, "origin_error");
    let origin_before = origin_requests(&s);
    cold_reads_fail_clearly_and_are_not_cached(&s, Fault::Garbage200, 9, 503, "unavailable");
    assert_eq!(origin_requests(&s), origin_before + 3 + 3, "the origin saw the direct writes and the final reads only");
}

#[test]
fn origin_reset_mid_body_is_a_clear_error() {
    let (s, before) = seeded_stack();
    s.proxy.set(Fault::ResetMidBody);
    let version = before["option"]["version"].as_u64().expect("a version");

    for (method, path, body, line) in WRITES.into_iter().filter(|w| w.0 == "PUT") {
        let (reply, took, connections, lines) =
            through_proxy(&s.proxy, || s.worker.call(method, path, Some(ADMIN), body));
        assert_one_request(Fault::ResetMidBody, connections, &lines, line, path);
        assert!(took < NO_HANG, "{path}: took {took:?}");
        assert_eq!((reply.status, reply.code()), (502, "origin_error"), "{path}: {:?}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("may have been applied"), "{path}: {message}");
    }
    // The proxy forwarded each write whole and cut only the answer, so the
    // origin took them, completely: the edge cannot know, says the write may
    // have been applied, and trusts its cached copy no longer (stale at best). What must hold: the origin has each whole new value, and the
    // edge answers real values (old or new), never part of an answer.
    let after = origin_view(&s);
    assert_eq!(after["option"]["value"], json!("after"), "{after}");
    assert!(after["option"]["version"].as_u64().is_some_and(|v| v > version), "a new version: {after}");
    assert_eq!(after["map"]["values"], json!({"k": "after"}), "{after}");
    assert_eq!(after["ownership"]["raw"], json!("path:src/* #after"), "{after}");
    let edge = [
        s.worker.get("/v1/options/mail.host").body["value"].clone(),
        s.worker.get("/v1/projects/5/options").body["values"]["k"].clone(),
    ];
    for value in edge {
        assert!(value == json!("before") || value == json!("after"), "{value}");
    }
    let ownership = s.worker.get("/v1/projects/5/ownership").body["ownership"]["raw"].clone();
    assert!(ownership == json!("path:src/* #before") || ownership == json!("path:src/* #after"), "{ownership}");

    cold_reads_fail_clearly_and_are_not_cached(&s, Fault::ResetMidBody, 9, 503, "unavailable");
}

// ---------------------------------------------------------------------------
// Cold reads: nothing cached, the origin hangs.
// ---------------------------------------------------------------------------

#[test]
fn origin_hanging_cold_map_read_is_origin_timeout() {
    let s = Stack::start_behind_proxy(&[TIMEOUT]);
    let scopes = [
        ("/organizations/3/options", "/organizations/3/options/k"),
        ("/projects/3/options", "/projects/3/options/k"),
        ("/users/3/options?project=3", "/users/3/options/k?project=3"),
    ];
    for (_, key_path) in scopes {
        assert_eq!(s.origin.call("PUT", key_path, Some(r#"{"value":"direct"}"#)).status, 200, "{key_path}");
    }
    assert_eq!(s.origin.call("PUT", "/projects/3/ownership", Some(r#"{"raw":"path:* #direct"}"#)).status, 200);

    s.proxy.set(Fault::Hang);
    let reads = scopes.iter().map(|(path, _)| *path).chain(["/projects/3/ownership"]);
    for path in reads.clone() {
        let (reply, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get(&format!("/v1{path}")));
        assert_one_request(Fault::Hang, connections, &lines, &format!("GET {path}"), path);
        assert_eq!((reply.status, reply.code()), (504, "origin_timeout"), "{path}: {:?}", reply.body);
        assert!(took < NO_HANG, "{path}: took {took:?}");
    }

    // The timeouts were not cached: with the origin back, each read answers
    // what the origin holds.
    s.proxy.set(Fault::Pass);
    for path in reads {
        let reply = read_until(&s.worker, &format!("/v1{path}"), |r| r.cache.as_deref() == Some("origin"));
        let found =
            if path.ends_with("ownership") { &reply.body["ownership"]["raw"] } else { &reply.body["values"]["k"] };
        assert!(found.as_str().is_some_and(|v| v.contains("direct")), "{path}: {:?}", reply.body);
    }
}

#[test]
fn origin_hanging_cold_option_read_is_degraded_default() {
    let s = Stack::start_behind_proxy(&[TIMEOUT, ("OPTIONS_CONFIG", r#"{"mail.from":"config@example.com"}"#)]);
    for name in ["mail.host", "mail.from"] {
        assert_eq!(s.origin.call("PUT", &format!("/options/{name}"), Some(r#"{"value":"direct"}"#)).status, 200);
    }
    s.proxy.set(Fault::Hang);
    for (name, value, source) in
        [("mail.host", json!("localhost"), "default"), ("mail.from", json!("config@example.com"), "config")]
    {
        let path = format!("/v1/options/{name}");
        let (reply, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get(&path));
        assert_one_request(Fault::Hang, connections, &lines, &format!("GET /options/{name}"), name);
        assert!(took < NO_HANG, "{name}: took {took:?}");
        assert_eq!(reply.status, 200, "{name}: an option read never fails: {:?}", reply.body);
        assert_eq!(
            (
                reply.body["value"].clone(),
                reply.cache.as_deref(),
                reply.body["source"].as_str(),
                &reply.body["degraded"]
            ),
            (value, Some(source), Some(source), &json!(true)),
            "{name}: {:?}",
            reply.body
        );
    }
    s.proxy.set(Fault::Pass);
    for name in ["mail.host", "mail.from"] {
        let reply = read_until(&s.worker, &format!("/v1/options/{name}"), |r| r.cache.as_deref() == Some("origin"));
        assert_eq!((reply.body["value"].clone(), reply.body["degraded"].clone()), (json!("direct"), json!(false)));
    }
}

// ---------------------------------------------------------------------------
// Cached values while the origin fails: stale within grace, refused after.
// ---------------------------------------------------------------------------

#[test]
fn cached_map_is_served_while_origin_fails_in_every_way() {
    let s = Stack::start_behind_proxy(&[
        TIMEOUT,
        ("MAP_TTL_SECS", "1"),
        ("MAP_GRACE_SECS", "120"),
        ("OWNERSHIP_TTL_SECS", "1"),
        ("OWNERSHIP_GRACE_SECS", "120"),
    ]);
    let faults = [
        Fault::Refuse,
        Fault::Hang,
        Fault::Status500,
        Fault::Garbage200,
        Fault::ResetMidBody,
        Fault::Slow(Duration::from_secs(3)),
    ];
    // One project per fault, so no key is read twice while failing.
    let projects: Vec<u64> = (11..).take(faults.len()).collect();
    let write_all = |label: &str| {
        for p in &projects {
            let map = s.worker.put(&format!("/v1/projects/{p}/options/k"), &format!(r#"{{"value":"{label}"}}"#));
            assert_eq!(map.status, 200, "{:?}", map.body);
            let raw = format!(r#"{{"raw":"path:src/* #{label}"}}"#);
            let own = s.worker.put(&format!("/v1/projects/{p}/ownership"), &raw);
            assert_eq!(own.status, 200, "{:?}", own.body);
        }
    };

    // v1 everywhere; keep KV's copies of v1; v2 everywhere; then put KV's v1
    // copies back: KV is behind what the isolate saw (a KV write that failed
    // or has not spread yet), which only the origin can settle.
    write_all("old");
    let keys: Vec<String> = projects.iter().flat_map(|p| [format!("map:proj:{p}"), format!("own:{p}")]).collect();
    let old = kv_get(&s, &keys);
    assert!(old.as_array().is_some_and(|v| v.iter().all(Value::is_string)), "KV holds every entry: {old}");
    write_all("new");
    let written = Instant::now();
    let pairs: Vec<Value> =
        keys.iter().zip(old.as_array().into_iter().flatten()).map(|(k, v)| json!({"key": k, "value": v})).collect();
    s.wrangler_kv(&["bulk", "put"], Some(&json!(pairs)));
    // Past the 1 s ttl: memory holds a stale copy, within its grace.
    std::thread::sleep(Duration::from_millis(1300).saturating_sub(written.elapsed()));

    for (fault, p) in faults.into_iter().zip(&projects) {
        s.proxy.set(fault);
        for (path, line) in [
            (format!("/v1/projects/{p}/options"), format!("GET /projects/{p}/options")),
            (format!("/v1/projects/{p}/ownership"), format!("GET /projects/{p}/ownership")),
        ] {
            let (reply, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get(&path));
            let what = format!("{fault:?}: {path}");
            assert_reached(fault, connections, &lines, &line, &what);
            assert!(took < NO_HANG, "{what}: took {took:?}");
            assert_eq!(reply.status, 200, "{what}: {:?}", reply.body);
            assert_eq!((reply.cache.as_deref(), &reply.body["source"]), (Some("stale"), &json!("stale")), "{what}");
            let value =
                if path.ends_with("ownership") { &reply.body["ownership"]["raw"] } else { &reply.body["values"]["k"] };
            assert!(
                value.as_str().is_some_and(|v| v.contains("new")),
                "{what}: the isolate's copy, not KV's: {:?}",
                reply.body
            );
        }
        // A successful origin read between faults (a key never read), so
        // failures never pile up in a row.
        s.proxy.set(Fault::Pass);
        settle(&s.worker);
        let fresh = s.worker.get(&format!("/v1/organizations/{p}/options"));
        assert_eq!((fresh.status, fresh.cache.as_deref()), (200, Some("origin")), "{:?}", fresh.body);
    }

    let held = s.origin.call("GET", &format!("/projects/{}/options", projects[0]), None);
    assert_eq!(held.body["values"], json!({"k": "new"}), "the origin was never changed");
    // The origin back: the map is read from it again.
    let back = read_until(&s.worker, &format!("/v1/projects/{}/options", projects[0]), |r| {
        r.cache.as_deref() == Some("origin")
    });
    assert_eq!(back.body["values"], json!({"k": "new"}));
}

#[test]
fn map_is_refused_after_grace_when_origin_down() {
    let s = Stack::start_behind_proxy(&[
        TIMEOUT,
        ("MAP_TTL_SECS", "1"),
        ("MAP_GRACE_SECS", "1"),
        ("OWNERSHIP_TTL_SECS", "1"),
        ("OWNERSHIP_GRACE_SECS", "1"),
    ]);
    assert_eq!(s.worker.put("/v1/projects/21/options/k", r#"{"value":"kept"}"#).status, 200);
    assert_eq!(s.worker.put("/v1/projects/21/ownership", r#"{"raw":"path:src/* #kept"}"#).status, 200);
    let written = Instant::now();
    // KV's copies expired (or were evicted): only memory had them.
    let keys = ["map:proj:21".to_string(), "own:21".to_string()];
    s.wrangler_kv(&["bulk", "delete", "--force"], Some(&json!(keys)));
    // Past ttl + grace (2 s): the isolate's copies are dead.
    std::thread::sleep(Duration::from_millis(2500).saturating_sub(written.elapsed()));

    for (fault, path, status, code) in [
        (Fault::Refuse, "/projects/21/options", 503, "unavailable"),
        (Fault::Hang, "/projects/21/ownership", 504, "origin_timeout"),
    ] {
        s.proxy.set(fault);
        let (reply, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get(&format!("/v1{path}")));
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{fault:?}: {path} (a 200 from kv: the KV delete did not take): {:?} {:?}",
            reply.cache,
            reply.body
        );
        assert_one_request(fault, connections, &lines, &format!("GET {path}"), path);
        assert!(took < NO_HANG, "{path}: took {took:?}");
    }

    // Nothing was lost: the origin holds both, and serves them once back.
    s.proxy.set(Fault::Pass);
    assert_eq!(s.origin.call("GET", "/projects/21/options", None).body["values"], json!({"k": "kept"}));
    let map = read_until(&s.worker, "/v1/projects/21/options", |r| r.cache.as_deref() == Some("origin"));
    assert_eq!(map.body["values"], json!({"k": "kept"}));
    let own = read_until(&s.worker, "/v1/projects/21/ownership", |r| r.cache.as_deref() == Some("origin"));
    assert_eq!(own.body["ownership"]["raw"], json!("path:src/* #kept"));
}

// ---------------------------------------------------------------------------
// Recovery and slowness.
// ---------------------------------------------------------------------------

#[test]
fn origin_recovers_and_writes_work_again() {
    let s = Stack::start_behind_proxy(&[TIMEOUT]);
    let faults = [Fault::Refuse, Fault::Status500, Fault::Garbage200, Fault::ResetMidBody, Fault::Hang];
    for (n, fault) in faults.into_iter().enumerate() {
        s.proxy.set(fault);
        let failed = s.worker.put("/v1/options/mail.host", &format!(r#"{{"value":"during-{n}"}}"#));
        assert!(matches!(failed.status, 502..=504), "{fault:?}: {} {:?}", failed.status, failed.body);

        // Straight after the fault, with nothing in between.
        s.proxy.set(Fault::Pass);
        let value = format!("after-{n}");
        let (written, _, connections, _) = through_proxy(&s.proxy, || {
            let option = s.worker.put("/v1/options/mail.host", &format!(r#"{{"value":"{value}"}}"#));
            let map = s.worker.put("/v1/projects/40/options/k", &format!(r#"{{"value":"{value}"}}"#));
            [option, map]
        });
        assert_eq!(connections, 2, "{fault:?}: both writes reached the origin");
        for reply in &written {
            assert_eq!(
                (reply.status, reply.body["cache_updated"].clone()),
                (200, json!(true)),
                "{fault:?}: {:?}",
                reply.body
            );
        }
        let option = s.worker.get("/v1/options/mail.host");
        assert_eq!((option.body["value"].clone(), option.cache.as_deref()), (json!(value), Some("local")), "{fault:?}");
        assert_eq!(s.worker.get("/v1/projects/40/options").body["values"], json!({"k": value}), "{fault:?}");
        assert_eq!(s.origin.call("GET", "/options/mail.host", None).body["value"], json!(value), "{fault:?}");
        assert_eq!(s.origin.call("GET", "/projects/40/options", None).body["values"], json!({"k": value}));
    }
}

#[test]
fn slow_origin_within_the_timeout_still_answers() {
    let delay = Duration::from_millis(300);
    let s = Stack::start_behind_proxy(&[("ORIGIN_TIMEOUT_MS", "3000")]);
    write_behind_the_edge(&s, 31);
    s.proxy.set(Fault::Slow(delay));

    let (option, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get("/v1/options/mail.from"));
    assert_one_request(Fault::Slow(delay), connections, &lines, "GET /options/mail.from", "option read");
    assert!(took >= delay && took < NO_HANG, "took {took:?}");
    assert_eq!(
        (option.body["value"].clone(), option.cache.as_deref(), option.body["degraded"].clone()),
        (json!("direct@example.com"), Some("origin"), json!(false)),
        "{:?}",
        option.body
    );

    let (map, took, connections, lines) = through_proxy(&s.proxy, || s.worker.get("/v1/projects/31/options"));
    assert_one_request(Fault::Slow(delay), connections, &lines, "GET /projects/31/options", "map read");
    assert!(took >= delay && took < NO_HANG, "took {took:?}");
    assert_eq!((map.body["values"].clone(), map.cache.as_deref()), (json!({"k": "direct"}), Some("origin")));

    let (write, took, connections, lines) =
        through_proxy(&s.proxy, || s.worker.put("/v1/projects/31/options/k", r#"{"value":"slow"}"#));
    assert_one_request(Fault::Slow(delay), connections, &lines, "PUT /projects/31/options/k", "map write");
    assert!(took >= delay && took < NO_HANG, "took {took:?}");
    assert_eq!(write.status, 200, "{:?}", write.body);
    assert_eq!(s.origin.call("GET", "/projects/31/options", None).body["values"], json!({"k": "slow"}));
    assert_eq!(s.worker.get("/v1/projects/31/options").body["values"], json!({"k": "slow"}));
}

// The failure handling beyond hard timeouts and grace has suites of its own:
// soft timeouts (the first fetch finishing in the background), per-key
// backoff and the breaker in tests/e2e_resilience.rs; coalescing in
// tests/e2e_coalescing.rs; origin 4xx answers that trip nothing in
// tests/e2e_limits.rs.
