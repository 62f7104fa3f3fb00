//! The Cloudflare Worker: a thin layer that turns HTTP into calls on the core.
//!
//! | module | holds |
//! |---|---|
//! | `route` | the route table (pure, tested natively) |
//! | `auth` | read vs admin tokens |
//! | `isolate` | the state one isolate keeps between requests |
//! | `body` | reading bodies within the size limit |
//! | `reply` | JSON answers and the one error → response mapping |
//! | `handlers` | one function per route |
//! | `entry` | the `fetch` and `scheduled` events |

pub mod auth;
pub mod body;
pub mod route;

#[cfg(feature = "worker")]
mod entry;
#[cfg(feature = "worker")]
mod handlers;
#[cfg(feature = "worker")]
mod isolate;
#[cfg(feature = "worker")]
mod reply;
