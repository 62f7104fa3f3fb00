//! How a waiter waits for the leader of its key (see the module docs of
//! `coalesce`): on this request's own timer, never on the leader's fetch.
//!
//! A waiter sleeps in short steps (2 ms, doubling to 25 ms: a leader that
//! answers from KV in a few milliseconds is seen at once, a slow origin
//! costs a few dozen wake-ups) and looks at isolate memory after each.

use crate::core::key::CacheKey;
use crate::core::lifecycle::Millis;
use crate::core::ports::Clock;

use super::InFlight;

/// First sleep of a waiter, ms.
const FIRST_STEP_MS: Millis = 2;
/// Longest sleep of a waiter, ms.
const MAX_STEP_MS: Millis = 25;

/// How a wait for the leader ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited<T> {
    /// The leader filled memory: what it holds now.
    Filled(T),
    /// The soft deadline passed first: answer the stale copy in hand.
    SoftTimeout,
    /// The lead ended without filling memory, or its lease ran out: fetch
    /// for yourself.
    LeaderGone,
}

/// Waits (on `clock`, this request's own timer) while another request
/// fetches `key`, until the lease's end `until`. After each sleep `filled`
/// looks at memory (at the time given) and answers what the leader left
/// there, if anything. With a stale copy in hand the caller gives a
/// `soft_deadline`, past which the wait ends so the stale copy answers.
pub async fn wait_for_leader<C: Clock, T>(
    inflight: &InFlight,
    key: &CacheKey,
    until: Millis,
    soft_deadline: Option<Millis>,
    clock: &C,
    mut filled: impl FnMut(Millis) -> Option<T>,
) -> Waited<T> {
    let mut step = FIRST_STEP_MS;
    loop {
        let now = clock.now_ms();
        if now >= until {
            return Waited::LeaderGone;
        }
        if soft_deadline.is_some_and(|deadline| now >= deadline) {
            return Waited::SoftTimeout;
        }
        clock.sleep(step.min(until.saturating_sub(now))).await;
        step = step.saturating_mul(2).min(MAX_STEP_MS);
        let now = clock.now_ms();
        if let Some(found) = filled(now) {
            return Waited::Filled(found);
        }
        if !inflight.is_fetching(key, now) {
            return Waited::LeaderGone;
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::core::coalesce::Role;
    use crate::core::ports::fake::ManualClock;

    fn key() -> CacheKey {
        CacheKey::option("k")
    }

    #[test]
    fn a_waiter_answers_what_the_leader_left_in_memory() {
        let (f, clock) = (InFlight::default(), ManualClock::at(1_000));
        let _lead = f.join(&key(), 1_000, 5_000);
        let waited = block_on(wait_for_leader(&f, &key(), 6_000, None, &clock, |now| (now >= 1_040).then_some(7)));
        assert_eq!(waited, Waited::Filled(7));
        assert!(clock.now_ms() < 1_100, "short steps: seen soon after it was filled ({})", clock.now_ms());
    }

    #[test]
    fn a_waiter_with_a_stale_copy_stops_at_the_soft_deadline() {
        let (f, clock) = (InFlight::default(), ManualClock::at(1_000));
        let _lead = f.join(&key(), 1_000, 5_000);
        let waited = block_on(wait_for_leader(&f, &key(), 6_000, Some(1_250), &clock, |_| None::<()>));
        assert_eq!(waited, Waited::SoftTimeout);
        assert!((1_250..1_300).contains(&clock.now_ms()), "{}", clock.now_ms());
    }

    #[test]
    fn a_waiter_fetches_for_itself_when_the_lead_ends_empty_or_its_lease_runs_out() {
        let (f, clock) = (InFlight::default(), ManualClock::at(1_000));
        let Role::Leader(lead) = f.join(&key(), 1_000, 5_000) else { panic!("lead") };
        f.finish(lead);
        let waited = block_on(wait_for_leader(&f, &key(), 6_000, None, &clock, |_| None::<()>));
        assert_eq!(waited, Waited::LeaderGone, "the lead ended without filling memory");
        assert!(clock.now_ms() < 1_010);

        let _never_finished = f.join(&key(), 2_000, 300);
        clock.0.set(2_000);
        let waited = block_on(wait_for_leader(&f, &key(), 2_300, None, &clock, |_| None::<()>));
        assert_eq!(waited, Waited::LeaderGone);
        assert_eq!(clock.now_ms(), 2_300, "waited exactly until the lease ran out");
    }
}
