//! The snapshot as an isolate holds it: read from KV the first time a read
//! needs it (memory, KV's per-key copy and the origin all failed), kept for
//! [`RELOAD_MS`] so an outage costs one snapshot read a minute, not one a
//! request, and dropped as soon as the origin answers again (an isolate
//! with a reachable origin holds no snapshot at all). One read at a time:
//! reads that need it while it is being read wait for that read on timers
//! of their own, so an isolate that starts during an outage under load
//! reads and parses the snapshot once, not once per request (a 10,000-option
//! snapshot is about a megabyte of JSON).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::{decode_head, decode_part, Snapshot};
use crate::core::key::CacheKey;
use crate::core::lifecycle::Millis;
use crate::core::ports::{Clock, NetworkCache};

/// How long an isolate keeps a snapshot it read (or the fact that there
/// was none to read) before reading KV again.
pub const RELOAD_MS: Millis = 60_000;

/// How long a read waits for another request's read of the snapshot
/// before it goes without (checking every [`WAIT_STEP_MS`]).
const WAIT_MS: Millis = 5_000;
const WAIT_STEP_MS: Millis = 10;

/// What the isolate last read of the snapshot, and when.
#[derive(Debug, Default)]
pub struct HeldSnapshot {
    state: RefCell<Option<(Option<Rc<Snapshot>>, Millis)>>,
    /// A read of the snapshot is under way.
    loading: Cell<bool>,
}

/// Marks a read under way; cleared however the read ends (a request's
/// future dropped mid-read included).
struct Loading<'a>(&'a Cell<bool>);

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl HeldSnapshot {
    /// The snapshot, read from `kv` unless one read within [`RELOAD_MS`]
    /// is held (or being read: then wait for it); `None` when KV holds
    /// none or it could not be read.
    pub async fn get<K: NetworkCache, C: Clock>(&self, kv: &K, clock: &C) -> Option<Rc<Snapshot>> {
        let started = clock.now_ms();
        loop {
            let now = clock.now_ms();
            if let Some((held, at)) = self.state.borrow().as_ref() {
                if now.saturating_sub(*at) < RELOAD_MS {
                    return held.clone();
                }
            }
            if !self.loading.get() {
                break;
            }
            if now.saturating_sub(started) >= WAIT_MS {
                return None;
            }
            clock.sleep(WAIT_STEP_MS).await;
        }
        self.loading.set(true);
        let _loading = Loading(&self.loading);
        let read = read(kv).await.map(Rc::new);
        *self.state.borrow_mut() = Some((read.clone(), clock.now_ms()));
        read
    }

    /// The origin answered: the snapshot is not needed any more.
    pub fn drop_held(&self) {
        if self.state.borrow().is_some() {
            self.state.replace(None);
        }
    }

    /// Whether a snapshot is held (for the stats).
    pub fn is_held(&self) -> bool {
        matches!(self.state.borrow().as_ref(), Some((Some(_), _)))
    }
}

/// Reads the head, then every part it names. Anything missing or
/// unreadable means no snapshot: half of one could answer "absent" for a
/// key whose part was not read.
pub async fn read<K: NetworkCache>(kv: &K) -> Option<Snapshot> {
    let head = decode_head(&kv.get(CacheKey::snapshot_head().as_str()).await.ok()??).ok()?;
    let keys: Vec<String> =
        (0..head.parts).map(|i| CacheKey::snapshot_part(head.parts, i).as_str().to_string()).collect();
    let texts = kv.get_many(&keys).await.ok()?;
    let mut snapshot =
        Snapshot { version: head.version, since: head.since, complete: head.complete, ..Snapshot::default() };
    for text in texts {
        decode_part(&text?, &mut snapshot).ok()?;
    }
    Some(snapshot)
}
