//! The beacon as the core sees it: "changes after V", and being told of a
//! write (the Worker's `BEACON` Durable Object; the npm package has none).

use super::TierError;
use crate::core::propagation::BeaconAnswer;

/// The version beacon (docs/design.md "Propagation").
#[allow(async_fn_in_trait)]
pub trait Beacon {
    /// The changes after `after` (or "too far behind").
    async fn changes_after(&self, after: u64) -> Result<BeaconAnswer, TierError>;
    /// Tells the beacon of writes the origin accepted: `(version, cache key)`.
    async fn announce(&self, changes: &[(u64, String)]) -> Result<(), TierError>;
}
