//! One exchange with the origin, as both origin clients make it: a read
//! joins the same request's read of the same path already under way (the
//! core's `coalesce::pending`: how an abandoned read is finished), and every
//! exchange is cut off at the hard timeout, its fetch aborted.
//!
//! The clients (the Worker's over workers-rs `Fetch`, `origin`; the npm
//! package's over the global `fetch`, `js::origin`) only start an exchange
//! and say how to await and abort it ([`UnderWay`]), so the rule lives here
//! once and is tested natively. Only reads are shared: a write always sends
//! its own (two writes are two intentions).

use std::future::Future;

use super::origin_api::Verb;
use crate::core::coalesce::PendingReads;
use crate::core::ports::TierError;
use crate::core::race::{race, First};

/// An exchange under way: it runs on its own (a JS promise), whether or not
/// anyone keeps waiting for it.
#[allow(async_fn_in_trait)]
pub trait UnderWay: Clone {
    /// Resolves when the exchange ends: the status and the whole body text,
    /// or how it failed.
    async fn answer(&self) -> Result<(u16, String), TierError>;
    /// Cuts the exchange off (aborts its fetch); a second call does nothing.
    fn abort(&self);
}

/// Sends `verb path` through `start`, or joins the read of `path` under way
/// in `pending`, and waits for its answer until `timer` fires: then the
/// exchange is aborted and the call fails with [`TierError::Timeout`].
///
/// # Errors
/// What `start` fails with, what the exchange fails with, or `Timeout`.
pub async fn exchange<U: UnderWay>(
    pending: &PendingReads<U>,
    verb: Verb,
    path: &str,
    timer: impl Future<Output = ()>,
    start: impl FnOnce() -> Result<U, TierError>,
) -> Result<(u16, String), TierError> {
    let shared = verb == Verb::Get;
    let under_way = if shared { pending.join_or_start(path, start)? } else { start()? };
    let settled = race(under_way.answer(), timer).await;
    if shared {
        pending.settled(path);
    }
    match settled {
        First::Left(answer) => answer,
        First::Right(()) => {
            under_way.abort();
            Err(TierError::Timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use futures::executor::block_on;

    use super::*;
    use crate::core::ports::fake::stall;

    /// An exchange that answers after `polls` polls; counts its aborts.
    #[derive(Clone)]
    struct Slow {
        id: u32,
        polls: u32,
        aborted: Rc<Cell<u32>>,
    }

    impl UnderWay for Slow {
        async fn answer(&self) -> Result<(u16, String), TierError> {
            stall(self.polls).await;
            Ok((200, format!("exchange {}", self.id)))
        }

        fn abort(&self) {
            self.aborted.set(self.aborted.get() + 1);
        }
    }

    fn slow(id: u32, polls: u32) -> Slow {
        Slow { id, polls, aborted: Rc::default() }
    }

    #[test]
    fn a_read_joins_the_read_of_its_path_under_way_and_a_write_sends_its_own() {
        let pending = PendingReads::default();
        let abandoned = slow(1, 0);
        pending.join_or_start::<()>("/options/a", || Ok(abandoned.clone())).expect("started");
        let read = block_on(exchange(&pending, Verb::Get, "/options/a", stall(10), || Ok(slow(2, 0))));
        assert_eq!(read, Ok((200, "exchange 1".into())), "joined the abandoned read");
        let again = block_on(exchange(&pending, Verb::Get, "/options/a", stall(10), || Ok(slow(3, 0))));
        assert_eq!(again, Ok((200, "exchange 3".into())), "seen through once: the next read is new");
        pending.join_or_start::<()>("/options/a", || Ok(slow(4, 0))).expect("started");
        let write = block_on(exchange(&pending, Verb::Put, "/options/a", stall(10), || Ok(slow(5, 0))));
        assert_eq!(write, Ok((200, "exchange 5".into())), "a write is never shared");
    }

    #[test]
    fn past_the_timer_the_exchange_is_aborted_and_the_call_times_out() {
        let pending = PendingReads::default();
        let hanging = slow(1, 1_000);
        let aborted = Rc::clone(&hanging.aborted);
        let got = block_on(exchange(&pending, Verb::Get, "/options/a", stall(3), || Ok(hanging)));
        assert_eq!((got, aborted.get()), (Err(TierError::Timeout), 1));
        let fresh = block_on(exchange(&pending, Verb::Get, "/options/a", stall(3), || Ok(slow(2, 0))));
        assert_eq!(fresh, Ok((200, "exchange 2".into())), "the timed-out read was forgotten");
    }

    #[test]
    fn a_start_that_fails_is_the_calls_failure() {
        let pending: PendingReads<Slow> = PendingReads::default();
        let got =
            block_on(exchange(&pending, Verb::Get, "/x", stall(3), || Err(TierError::Unreachable("no token".into()))));
        assert_eq!(got, Err(TierError::Unreachable("no token".into())));
    }
}
