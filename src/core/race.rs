//! The first of two futures to finish, without a runtime or a crate: the
//! core races a fetch against a timer (soft timeouts) on any executor.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// Which of the two raced futures finished first.
#[derive(Debug, PartialEq, Eq)]
pub enum First<A, B> {
    /// The first future, with its output.
    Left(A),
    /// The second future, with its output.
    Right(B),
}

/// Polls `a` then `b` until one finishes; the other is dropped (cancelled).
/// Ties go to `a`.
pub async fn race<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(First::Left(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(First::Right(out));
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ports::fake::YieldOnce;
    use futures::executor::block_on;

    #[test]
    fn the_ready_future_wins_and_ties_go_left() {
        assert_eq!(block_on(race(async { 1 }, async { 2 })), First::Left(1));
        assert_eq!(
            block_on(race(
                async {
                    YieldOnce(false).await;
                    1
                },
                async { 2 }
            )),
            First::Right(2)
        );
    }
}
