//! The Worker's clock: the JS `Date.now()`.
//!
//! Inside a Worker, time only advances across I/O (a Spectre mitigation), so
//! two readings with no I/O between them are equal; the lifecycle only needs
//! time at I/O boundaries, which is exactly when it moves.

use crate::core::lifecycle::Millis;
use crate::core::ports::Clock;

/// `Date.now()` as a `Clock`.
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> Millis {
        worker::Date::now().as_millis()
    }

    async fn sleep(&self, ms: Millis) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
}
