//! The core's ports: what the core needs from the world, stated by the core.
//!
//! The core decides everything and does no I/O; what it reads, writes and
//! waits on is behind these small traits, and the shells provide them: the
//! Worker over Workers KV and `fetch` (the `tiers` adapters), the npm package over
//! JS objects (`js`), the tests with fakes that fail on command
//! (`fake`). Arrows point one way: the shells depend on the core, never
//! the reverse (the quinn-proto shape).
//!
//! The traits use `async fn` without `Send` bounds on purpose: a Worker
//! isolate is single-threaded and its JS futures are not `Send`.
//!
//! | module | holds |
//! |---|---|
//! | `failure` | `TierError`: how a call to KV or the origin failed, and what each failure means |
//! | `kv` | `NetworkCache` (Workers KV), its bulk-read size and its 60 s minimum expiry |
//! | `origin` | `DurableStore` (the origin API) and its change feed (`ChangePage`) |
//! | `beacon` | `Beacon`: the version beacon's "changes after V" and being told of writes |
//! | `clock` | `Clock`: the time, handed in, and a way to wait |
//! | `fake` | (tests) fakes of every port that fail on command and count their calls |

mod beacon;
mod clock;
mod failure;
mod kv;
mod origin;

#[cfg(test)]
pub mod fake;

pub use beacon::Beacon;
pub use clock::Clock;
pub use failure::TierError;
pub use kv::{kv_expiration, NetworkCache, KV_BULK_KEYS, KV_MIN_EXPIRATION_SECS};
pub use origin::{Change, ChangePage, Changed, DurableStore};

/// The I/O one request may use: its KV binding, its origin client, a clock.
/// Built per request by the Worker (bindings belong to a request), while the
/// caches it feeds live for the isolate.
pub struct Io<'a, K, O, C> {
    /// The network cache (Workers KV).
    pub kv: &'a K,
    /// The durable store (the origin API).
    pub origin: &'a O,
    /// The time source.
    pub clock: &'a C,
}
