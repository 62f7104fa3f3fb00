//! Adapters: the core's ports (`crate::core::ports`) over real I/O.
//!
//! The core states what it needs (`NetworkCache`, `DurableStore`, `Clock`)
//! and this module provides it for a Worker: Workers KV (`kv`), the origin
//! over `fetch` (`origin`), `Date.now()` (`clock`), the version beacon's
//! Durable Object stub (`beacon`), the requests both send (`request`), behind the `worker` feature. The origin contract (verbs, paths, answer parsing) lives once,
//! in `origin_api` and `origin_wire`, and one exchange with a hard timeout
//! and abort in `exchange`: the Worker's client and the npm package's
//! (`crate::js`) only move bytes. Everything here depends on the core;
//! nothing in the core depends on this module.
//!
//! The port types are re-exported here, at the paths they had before the
//! core owned them.

pub mod exchange;
pub mod origin_api;
pub mod origin_wire;

/// The exchanges one request has under way: the core's
/// `coalesce::pending`, at its old path.
pub mod pending {
    pub use crate::core::coalesce::PendingReads;
}

#[cfg(feature = "worker")]
pub mod beacon;
#[cfg(feature = "worker")]
pub mod clock;
#[cfg(feature = "worker")]
pub mod kv;
#[cfg(feature = "worker")]
pub mod origin;
#[cfg(feature = "worker")]
pub mod request;

pub use crate::core::ports::{
    Change, ChangePage, Changed, Clock, DurableStore, Io, NetworkCache, TierError, KV_BULK_KEYS,
};
