//! A tiny round-robin HTTP load balancer for end-to-end tests: the Worker's
//! `ORIGIN_URL` points at it, and it spreads requests over several origin
//! replicas on 127.0.0.1, as a load balancer in front of replicas would.
//!
//! - One request per connection, as in [`super::fault_proxy`]: it reads the
//!   request (head, then a body framed by `content-length` or chunked),
//!   sends it upstream with `connection: close` and relays the answer with
//!   `connection: close`, so a keep-alive pool on the Worker's side can
//!   never pin every request to one replica.
//! - Each request goes to the next replica in turn. A replica that refuses
//!   the connection (stopped, killed) is skipped for the next, as a load
//!   balancer does: nothing was sent, so trying another is safe. When none
//!   accepts it answers 502. A replica that dies with the request in flight
//!   makes the connection end without (or with half) an answer.
//! - Upstreams are ports of 127.0.0.1 only; every wait is bounded and checks
//!   the stop flag; dropping it stops and joins its threads.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(20);
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const UPSTREAM_DEADLINE: Duration = Duration::from_secs(30);
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

struct Shared {
    upstreams: Vec<u16>,
    next: AtomicUsize,
    stop: AtomicBool,
    served: Vec<AtomicU64>,
    connections: Mutex<Vec<JoinHandle<()>>>,
}

/// A running round-robin balancer over `127.0.0.1:<port>` upstreams.
pub struct RoundRobin {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl RoundRobin {
    /// Starts it on a free port of 127.0.0.1 in front of `upstreams`.
    pub fn start(upstreams: &[u16]) -> RoundRobin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the balancer");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().expect("balancer address").port();
        let shared = Arc::new(Shared {
            upstreams: upstreams.to_vec(),
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            served: upstreams.iter().map(|_| AtomicU64::new(0)).collect(),
            connections: Mutex::new(Vec::new()),
        });
        let for_loop = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name(format!("round-robin-{port}"))
            .spawn(move || accept_loop(&listener, &for_loop))
            .expect("start the balancer thread");
        RoundRobin { port, shared, acceptor: Some(acceptor) }
    }

    /// Base URL: give it to the Worker as `ORIGIN_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests went to upstream `i` (in the order given to `start`).
    pub fn served(&self, i: usize) -> u64 {
        self.shared.served.get(i).map_or(0, |n| n.load(Ordering::SeqCst))
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let connections = std::mem::take(&mut *self.shared.connections.lock().unwrap_or_else(PoisonError::into_inner));
        for connection in connections {
            let _ = connection.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let end = Instant::now() + MAX_LIFETIME;
    while !shared.stop.load(Ordering::SeqCst) && Instant::now() < end {
        match listener.accept() {
            Ok((stream, _)) => {
                let for_thread = Arc::clone(shared);
                if let Ok(handle) = std::thread::Builder::new()
                    .name("round-robin-conn".into())
                    .spawn(move || serve(&for_thread, stream))
                {
                    let mut connections = shared.connections.lock().unwrap_or_else(PoisonError::into_inner);
                    connections.retain(|h| !h.is_finished());
                    connections.push(handle);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// Reads until `done(buffer)` says the message is whole, the deadline
/// passes or the balancer stops; `None` unless whole.
fn read_until(
    stream: &mut TcpStream,
    shared: &Shared,
    mut buf: Vec<u8>,
    done: impl Fn(&[u8]) -> bool,
) -> Option<Vec<u8>> {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let mut chunk = [0u8; 16 * 1024];
    while !done(&buf) {
        if shared.stop.load(Ordering::SeqCst)
            || Instant::now() > deadline
            || buf.len() > MAX_HEAD_BYTES + MAX_BODY_BYTES
        {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(chunk.get(..n)?),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => return None,
        }
    }
    Some(buf)
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The request head with `connection: close` in place of any `connection`
/// header, and how its body is framed.
fn rewrite_head(head: &str) -> (String, Option<usize>, bool) {
    let mut out = String::new();
    let (mut length, mut chunked) = (None, false);
    for (i, line) in head.split("\r\n").filter(|l| !l.is_empty()).enumerate() {
        let lower = line.to_ascii_lowercase();
        if i > 0 && lower.starts_with("connection:") {
            continue;
        }
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("connection: close\r\n\r\n");
    (out, length, chunked)
}

fn serve(shared: &Shared, mut client: TcpStream) {
    let _ = client.set_read_timeout(Some(POLL));
    let Some(buf) = read_until(&mut client, shared, Vec::new(), |b| head_end(b).is_some()) else { return };
    let Some(end) = head_end(&buf) else { return };
    let (head, rest) = buf.split_at(end);
    let (head, length, chunked) = rewrite_head(&String::from_utf8_lossy(head));
    let body = if chunked {
        read_until(&mut client, shared, rest.to_vec(), |b| b.ends_with(b"0\r\n\r\n"))
    } else {
        let want = length.unwrap_or(0).min(MAX_BODY_BYTES);
        read_until(&mut client, shared, rest.to_vec(), |b| b.len() >= want)
    };
    let Some(body) = body else { return };

    let n = shared.upstreams.len();
    let first = shared.next.fetch_add(1, Ordering::SeqCst);
    let upstream = (0..n).find_map(|k| {
        let i = (first + k) % n;
        let port = *shared.upstreams.get(i)?;
        let stream = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), CONNECT_TIMEOUT).ok()?;
        Some((i, stream))
    });
    let Some((i, mut upstream)) = upstream else {
        let body = r#"{"error":{"code":"no_upstream","message":"round robin: no replica accepts connections"}}"#;
        let answer = format!(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = client.write_all(answer.as_bytes());
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    if let Some(count) = shared.served.get(i) {
        count.fetch_add(1, Ordering::SeqCst);
    }
    if upstream.write_all(head.as_bytes()).and_then(|()| upstream.write_all(&body)).is_err() {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    // Relay the answer until the replica closes (it was asked to), the
    // deadline passes or the balancer stops.
    let _ = upstream.set_read_timeout(Some(POLL));
    let deadline = Instant::now() + UPSTREAM_DEADLINE;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if shared.stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            break;
        }
        match upstream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let Some(bytes) = chunk.get(..n) else { break };
                if client.write_all(bytes).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => break,
        }
    }
    let _ = client.shutdown(Shutdown::Both);
}
