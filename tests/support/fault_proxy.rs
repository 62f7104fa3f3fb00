//! A fault-injecting HTTP proxy for end-to-end tests: it sits between the
//! Worker and the reference origin, on 127.0.0.1, and is switched at run time
//! between forwarding and failing in one of the ways origins fail ([`Fault`]).
//!
//! - It listens on `127.0.0.1:0` and only ever connects to
//!   `127.0.0.1:<origin port>`: the upstream is a port, not an address, so no
//!   traffic can leave the machine.
//! - One request per connection. It reads the request (head, then a body
//!   framed by `content-length` or chunked), sends it upstream with
//!   `connection: close` and answers with `connection: close`, so a client's
//!   keep-alive pool never carries a second request past the fault switch.
//!   Apart from that hop-by-hop header, bytes pass unchanged.
//! - The fault is read once per connection, when it is accepted.
//! - [`FaultProxy::requests`] counts accepted connections (each carries at
//!   most one request), including refused ones; [`FaultProxy::seen`] lists the
//!   request lines it read (every fault but `Refuse`, which reads nothing).
//! - Every loop and wait is bounded (see the constants below) and checks the
//!   stop flag; dropping the proxy stops and joins all of its threads.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the proxy does with the connections it accepts from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward the request to the origin and its answer back.
    Pass,
    /// Accept, then close at once without reading or sending a byte: as close
    /// to "connection refused" as a listener that stays bound can get (the
    /// proxy keeps listening, so its port can never be taken by another
    /// process in the meantime). The client sees a reset or an early EOF.
    Refuse,
    /// Read the request and never answer; the connection is held until the
    /// client gives up, the fault changes (then it is closed, still without
    /// an answer, and the request never reaches the origin) or the proxy is
    /// dropped — at most [`MAX_HOLD`].
    Hang,
    /// Wait this long (at most [`MAX_SLOW`]), then forward as `Pass`, even if
    /// the client gave up meanwhile (the origin then applies a late write).
    Slow(Duration),
    /// Answer `500` with [`STATUS_500_BODY`] without contacting the origin.
    Status500,
    /// Answer `400` with [`STATUS_400_BODY`] without contacting the origin:
    /// an origin refusing the request as the caller's fault.
    Status400,
    /// Answer `200`, `content-type: application/json`, with
    /// [`GARBAGE_BODY`] (not JSON) without contacting the origin.
    Garbage200,
    /// Forward the request (the origin applies it), then send the origin's
    /// status line and headers (its `content-length` promising the whole
    /// body) and only the first half of the body, then close.
    ResetMidBody,
}

/// The body of a [`Fault::Status500`] answer.
pub const STATUS_500_BODY: &str = r#"{"error":{"code":"injected","message":"fault proxy: injected 500"}}"#;

/// The body of a [`Fault::Status400`] answer.
pub const STATUS_400_BODY: &str = r#"{"error":{"code":"invalid_id","message":"fault proxy: injected 400"}}"#;

/// The body of a [`Fault::Garbage200`] answer.
pub const GARBAGE_BODY: &str = "<html>oops";

/// How long one blocking read may wait before the loop around it looks at
/// the clock and the stop flag again.
const POLL: Duration = Duration::from_millis(20);
/// Longest time to read a request from the client.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Longest time to connect to the origin.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest time for the origin's whole answer.
const UPSTREAM_DEADLINE: Duration = Duration::from_secs(30);
/// Longest time one write may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a `Hang` holds a connection.
pub const MAX_HOLD: Duration = Duration::from_secs(120);
/// Longest a `Slow` waits.
pub const MAX_SLOW: Duration = Duration::from_secs(60);
/// The accept loop ends after this even if the proxy is never dropped.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Largest request or answer head, and body, the proxy reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The state the accept loop, the connection threads and the handle share.
struct Shared {
    upstream: u16,
    fault: Mutex<Fault>,
    stop: AtomicBool,
    requests: AtomicU64,
    seen: Mutex<Vec<String>>,
    connections: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn fault(&self) -> Fault {
        *lock(&self.fault)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A running fault proxy in front of `127.0.0.1:<origin port>`.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 in front of the origin
    /// listening on `127.0.0.1:origin_port`, in `Fault::Pass`.
    pub fn start(origin_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().expect("fault proxy address").port();
        let shared = Arc::new(Shared {
            upstream: origin_port,
            fault: Mutex::new(Fault::Pass),
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            seen: Mutex::new(Vec::new()),
            connections: Mutex::new(Vec::new()),
        });
        let for_loop = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name(format!("fault-proxy-{port}"))
            .spawn(move || accept_loop(&listener, &for_loop))
            .expect("start the fault proxy thread");
        FaultProxy { port, shared, acceptor: Some(acceptor) }
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Base URL of the proxy: give it to the Worker as `ORIGIN_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Switches the fault for the connections accepted from now on (a held
    /// `Hang` connection is released, unanswered, when the fault changes).
    pub fn set(&self, fault: Fault) {
        *lock(&self.shared.fault) = fault;
    }

    /// The current fault.
    pub fn fault(&self) -> Fault {
        self.shared.fault()
    }

    /// How many connections the proxy accepted so far (one request each).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The request lines read so far (`"PUT /options/mail.host"`: method and
    /// path with query, without the HTTP version), oldest first.
    pub fn seen(&self) -> Vec<String> {
        lock(&self.shared.seen).clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // The accept loop has ended, so no thread is added after this.
        let connections = std::mem::take(&mut *lock(&self.shared.connections));
        for connection in connections {
            let _ = connection.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let end = Instant::now() + MAX_LIFETIME;
    while !shared.stopped() && Instant::now() < end {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.requests.fetch_add(1, Ordering::SeqCst);
                let for_thread = Arc::clone(shared);
                let spawned = std::thread::Builder::new()
                    .name("fault-proxy-conn".into())
                    .spawn(move || serve(&for_thread, stream));
                if let Ok(handle) = spawned {
                    let mut connections = lock(&shared.connections);
                    connections.retain(|c| !c.is_finished());
                    connections.push(handle);
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Handles one accepted connection according to the fault of the moment.
fn serve(shared: &Shared, mut client: TcpStream) {
    let fault = shared.fault();
    if fault == Fault::Refuse {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    if client.set_nonblocking(false).is_err()
        || client.set_read_timeout(Some(POLL)).is_err()
        || client.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return;
    }
    let Some(request) = read_message(&mut client, false, REQUEST_DEADLINE, &shared.stop) else {
        return;
    };
    lock(&shared.seen).push(request_line(&request.head));
    match fault {
        Fault::Pass => forward(shared, &mut client, &request, false),
        Fault::Slow(delay) => {
            if pause(shared, delay) {
                forward(shared, &mut client, &request, false);
            }
        }
        Fault::ResetMidBody => forward(shared, &mut client, &request, true),
        Fault::Hang => hold(shared, &mut client),
        Fault::Status500 => {
            answer(&mut client, "500 Internal Server Error", STATUS_500_BODY);
        }
        Fault::Status400 => {
            answer(&mut client, "400 Bad Request", STATUS_400_BODY);
        }
        Fault::Garbage200 => {
            answer(&mut client, "200 OK", GARBAGE_BODY);
        }
        Fault::Refuse => {}
    }
    let _ = client.shutdown(Shutdown::Both);
}

/// An HTTP/1.1 message as read: the head (through the blank line) and the
/// body bytes exactly as framed on the wire.
struct Message {
    head: String,
    body: Vec<u8>,
}

/// How a message's body is delimited.
enum Framing {
    Length(usize),
    Chunked,
    /// Requests: no body. Answers: until the connection closes.
    None,
}

fn framing(head: &str) -> Framing {
    let mut framing = Framing::None;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else { continue };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") && value.to_ascii_lowercase().contains("chunked") {
            return Framing::Chunked;
        }
        if name.eq_ignore_ascii_case("content-length") {
            if let Ok(length) = value.parse::<usize>() {
                framing = Framing::Length(length);
            }
        }
    }
    framing
}

/// Reads one message from `stream` (whose read timeout is [`POLL`]); `None`
/// when the peer closes early, sends too much, or the deadline or the stop
/// flag comes first. An answer without framing is read until EOF.
fn read_message(stream: &mut TcpStream, is_answer: bool, within: Duration, stop: &AtomicBool) -> Option<Message> {
    let deadline = Instant::now() + within;
    let mut buf = Vec::new();
    let head_len = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > MAX_HEAD_BYTES || read_more(stream, &mut buf, deadline, stop) != More::Read {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let mut body = buf.split_off(head_len);
    match framing(&head) {
        Framing::Length(length) => {
            if length > MAX_BODY_BYTES {
                return None;
            }
            while body.len() < length {
                if read_more(stream, &mut body, deadline, stop) != More::Read {
                    return None;
                }
            }
            body.truncate(length);
        }
        Framing::Chunked => {
            // Enough for the small bodies of this API: the last chunk is the
            // first `0` size line followed by the blank line.
            while !(body.starts_with(b"0\r\n\r\n") || find(&body, b"\r\n0\r\n\r\n").is_some()) {
                if body.len() > MAX_BODY_BYTES || read_more(stream, &mut body, deadline, stop) != More::Read {
                    return None;
                }
            }
        }
        Framing::None if is_answer => loop {
            match read_more(stream, &mut body, deadline, stop) {
                More::Read => {}
                More::Eof => break,
                More::Ended => return None,
            }
            if body.len() > MAX_BODY_BYTES {
                return None;
            }
        },
        Framing::None => {}
    }
    Some(Message { head, body })
}

#[derive(Debug, PartialEq, Eq)]
enum More {
    /// Some bytes were appended.
    Read,
    /// The peer closed its side.
    Eof,
    /// An error, the deadline, or the proxy is stopping.
    Ended,
}

/// Appends what `stream` has to `buf`, waiting at most until `deadline`.
fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, deadline: Instant, stop: &AtomicBool) -> More {
    let mut chunk = [0u8; 16 * 1024];
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        match stream.read(&mut chunk) {
            Ok(0) => return More::Eof,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return More::Read;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => return More::Ended,
        }
    }
    More::Ended
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `"GET /path?query"` from a request head.
fn request_line(head: &str) -> String {
    let first = head.split("\r\n").next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    format!("{method} {target}")
}

/// The head with its hop-by-hop connection headers replaced by `connection: close`.
fn closing(head: &str) -> String {
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let mut out = String::with_capacity(head.len() + 20);
    out.push_str(lines.next().unwrap_or(""));
    out.push_str("\r\n");
    for line in lines {
        let name = line.split_once(':').map_or("", |(n, _)| n.trim());
        if ["connection", "keep-alive", "proxy-connection"].iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("connection: close\r\n\r\n");
    out
}

/// Sends `request` to the origin and relays its answer; with `cut`, only the
/// head and the first half of the body, then the connection is closed. When
/// the origin cannot be reached the client's connection is closed unanswered.
fn forward(shared: &Shared, client: &mut TcpStream, request: &Message, cut: bool) {
    let Some(answer) = exchange(shared, request) else { return };
    let body = if cut { &answer.body[..answer.body.len() / 2] } else { &answer.body[..] };
    let _ = client.write_all(closing(&answer.head).as_bytes());
    let _ = client.write_all(body);
    let _ = client.flush();
}

fn exchange(shared: &Shared, request: &Message) -> Option<Message> {
    let origin = SocketAddr::from(([127, 0, 0, 1], shared.upstream));
    let mut upstream = TcpStream::connect_timeout(&origin, CONNECT_TIMEOUT).ok()?;
    upstream.set_read_timeout(Some(POLL)).ok()?;
    upstream.set_write_timeout(Some(WRITE_TIMEOUT)).ok()?;
    upstream.write_all(closing(&request.head).as_bytes()).ok()?;
    upstream.write_all(&request.body).ok()?;
    upstream.flush().ok()?;
    let answer = read_message(&mut upstream, true, UPSTREAM_DEADLINE, &shared.stop);
    let _ = upstream.shutdown(Shutdown::Both);
    answer
}

/// A canned answer that never involves the origin.
fn answer(client: &mut TcpStream, status: &str, body: &str) {
    let text = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(text.as_bytes());
    let _ = client.flush();
}

/// Holds a `Hang` connection: until the client closes it, the fault changes,
/// the proxy stops, or [`MAX_HOLD`] passes.
fn hold(shared: &Shared, client: &mut TcpStream) {
    let end = Instant::now() + MAX_HOLD;
    let mut scratch = [0u8; 1024];
    while Instant::now() < end && !shared.stopped() && shared.fault() == Fault::Hang {
        match client.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => return,
        }
    }
}

/// Waits `delay` (at most [`MAX_SLOW`]); false when the proxy is stopping.
fn pause(shared: &Shared, delay: Duration) -> bool {
    let end = Instant::now() + delay.min(MAX_SLOW);
    while Instant::now() < end {
        if shared.stopped() {
            return false;
        }
        std::thread::sleep(POLL.min(end.saturating_duration_since(Instant::now())));
    }
    !shared.stopped()
}
