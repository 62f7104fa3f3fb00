//! The time, handed to the core (which never reads a clock itself), and a
//! way to wait.

use crate::core::lifecycle::Millis;

/// The time, and a way to wait: waiting is I/O too. On Workers each waiting
/// request must hold a timer of its own (a request with no pending I/O of
/// its own is cancelled as hung), which is exactly what `sleep` gives it.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
    /// Resolves after `ms` milliseconds.
    async fn sleep(&self, ms: Millis);
}
