//! edge-options: option and ownership lookups at the edge, in isolate memory,
//! Workers KV and an origin API, that keep answering when caches and origin
//! fail (TTL + grace).
//!
//! - [`core`] decides everything and does no I/O (tested natively); the I/O
//!   it needs are traits it owns (`core::ports`).
//! - [`tiers`] adapts those ports to real I/O: the origin contract, one
//!   exchange with timeout and abort, and with the `worker` feature Workers
//!   KV and the origin over `fetch`.
//! - `http` is the Cloudflare Worker: routes, auth, errors (its events with
//!   the `worker-entry` feature).
//! - `embed` (feature `worker`) is the entry point for a Rust Worker of
//!   your own: `embed::EdgeOptions` over your KV binding and origin.

// A panic in a Worker poisons the isolate (and its cache): no input from the
// world may reach one. Kept true by the compiler for all non-test code.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod core;
#[cfg(feature = "worker")]
pub mod embed;
pub mod http;
#[cfg(feature = "js")]
pub mod js;
pub mod tiers;
