//! edge-options: option and ownership lookups at the edge, in isolate memory,
//! Workers KV and an origin API, that keep answering when caches and origin
//! fail (TTL + grace).
//!
//! - [`core`] decides everything and does no I/O (tested natively).
//! - [`tiers`] holds the I/O traits and, with the `worker` feature, their
//!   Workers KV and origin-over-`fetch` implementations.
//! - `http` (feature `worker`) is the Cloudflare Worker: routes, auth, errors.

pub mod core;
pub mod http;
#[cfg(feature = "js")]
pub mod js;
pub mod tiers;
