//! The snapshot as an isolate holds it: read from KV the first time a read
//! needs it (memory, KV's per-key copy and the origin all failed), kept for
//! [`RELOAD_MS`] so an outage costs one snapshot read a minute, not one a
//! request, and dropped as soon as the origin answers again (an isolate
//! with a reachable origin holds no snapshot at all).

use std::cell::RefCell;
use std::rc::Rc;

use super::{decode_head, decode_part, Snapshot};
use crate::core::key::CacheKey;
use crate::core::lifecycle::Millis;
use crate::core::ports::NetworkCache;

/// How long an isolate keeps a snapshot it read (or the fact that there
/// was none to read) before reading KV again.
pub const RELOAD_MS: Millis = 60_000;

/// What the isolate last read of the snapshot, and when.
#[derive(Debug, Default)]
pub struct HeldSnapshot {
    state: RefCell<Option<(Option<Rc<Snapshot>>, Millis)>>,
}

impl HeldSnapshot {
    /// The snapshot, read from `kv` unless one read within [`RELOAD_MS`]
    /// is held; `None` when KV holds none or it could not be read.
    pub async fn get<K: NetworkCache>(&self, kv: &K, now: Millis) -> Option<Rc<Snapshot>> {
        if let Some((held, at)) = self.state.borrow().as_ref() {
            if now.saturating_sub(*at) < RELOAD_MS {
                return held.clone();
            }
        }
        let read = read(kv).await.map(Rc::new);
        *self.state.borrow_mut() = Some((read.clone(), now));
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
