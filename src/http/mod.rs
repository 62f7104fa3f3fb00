//! The Cloudflare Worker: a thin layer that turns HTTP into calls on the core.
//!
//! | module | holds |
//! |---|---|
//! | `route` | the route table (pure, tested natively) |
//! | `percent` | percent-decoding of paths and queries, the query cut from the URL text (pure) |
//! | `auth` | read vs admin tokens |
//! | `min_version` | a read's `min_version` (query or `x-min-version` header) |
//! | `beacon_object` | the version beacon's Durable Object (the beacon Worker) |
//! | `propagate` | the beacon check and the telling of writes, in the background |
//! | `isolate` | the state one isolate keeps between requests (also behind `embed`) |
//! | `body` | reading bodies within the size limit |
//! | `reply` | JSON answers and the one error → response mapping |
//! | `handlers` | route → the core's call, its answer sent; the answers only HTTP gives |
//! | `entry` | the `fetch` and `scheduled` events |
//! | `beacon_entry` | the beacon Worker's own `fetch` (it serves only its object) |
//!
//! `isolate` is compiled with the `worker` feature (the library);
//! everything that serves the HTTP API only with `worker-entry` (the
//! edge-options Worker), so a Rust Worker embedding the crate registers
//! its own events and carries none of ours; the beacon object only with
//! `beacon-entry` (the beacon Worker), so no API Worker carries it.

pub mod auth;
pub mod body;
pub mod min_version;
pub mod percent;
pub mod route;

#[cfg(all(feature = "worker-entry", feature = "beacon-entry"))]
compile_error!("`worker-entry` and `beacon-entry` each build a Worker of their own: enable one");

#[cfg(feature = "beacon-entry")]
mod beacon_entry;
#[cfg(feature = "beacon-entry")]
mod beacon_object;
#[cfg(feature = "worker-entry")]
mod entry;
#[cfg(feature = "worker-entry")]
mod handlers;
#[cfg(feature = "worker")]
pub(crate) mod isolate;
#[cfg(feature = "worker-entry")]
mod propagate;
#[cfg(feature = "worker-entry")]
mod reply;
