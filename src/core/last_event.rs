//! The last processed event per group hash (docs/design.md "Last
//! processed events"): batched record and fetch, in Workers KV only.
//!
//! Records are written with an expiry (default 90 days) and read in bulk;
//! answers are aligned with the request, `None` for unknown hashes. KV takes
//! at most one write per second per key, so a repeated record of the same
//! event for the same hash within the second costs no write (`kv_writes`).

use super::error::{Error, Reason};
use super::key::CacheKey;
use super::kv_writes::KvWrites;
use super::limits;
use super::ports::{Clock, NetworkCache};
use super::scope::Id;

/// Most hash ids one record call may carry (each is one KV write, and an
/// invocation has 1,000 KV operations), most one fetch may ask for (read
/// 100 at a time in bulk), and the longest event id: `limits`.
pub use super::limits::{MAX_EVENT_ID_BYTES, MAX_FETCH_BATCH, MAX_RECORD_BATCH};

/// Last processed events, with the memory that debounces repeated writes.
pub struct LastEvents {
    expiration_secs: u64,
    /// This isolate's last write of each hash's key: the event id.
    written: KvWrites<String>,
}

impl LastEvents {
    /// Records expire from KV after `expiration_secs`.
    pub fn new(expiration_secs: u64) -> Self {
        LastEvents { expiration_secs, written: KvWrites::default() }
    }

    /// Records `event_id` as the last processed event of every hash in
    /// `hash_ids` of `project`. Returns how many hashes are recorded.
    ///
    /// # Errors
    /// `invalid_body`/`invalid_id` for bad input (before any write);
    /// `unavailable` when KV refuses a write (records are idempotent:
    /// repeat the call).
    pub async fn record<K: NetworkCache, C: Clock>(
        &self,
        kv: &K,
        clock: &C,
        project: Id,
        hash_ids: &[i64],
        event_id: &str,
    ) -> Result<usize, Error> {
        limits::check_batch("hash_ids", hash_ids.len(), MAX_RECORD_BATCH)?;
        limits::check_event_id(event_id)?;
        let hashes = hash_ids.iter().map(|h| check_hash(*h)).collect::<Result<Vec<_>, _>>()?;
        let now = clock.now_ms();
        let event_id = event_id.to_string();
        let mut failed = 0;
        for hash in &hashes {
            let key = CacheKey::last_event(project, *hash);
            let key = key.as_str();
            if self.written.repeats(key, &event_id, now) {
                continue;
            }
            match kv.put(key, event_id.clone(), self.expiration_secs).await {
                Ok(()) => self.written.wrote(key, event_id.clone(), now),
                Err(_) => failed += 1,
            }
        }
        if failed > 0 {
            return Err(Error::Unavailable(
                format!("KV refused {failed} of {} writes; repeat the call (records are idempotent)", hashes.len())
                    .into(),
            ));
        }
        Ok(hashes.len())
    }

    /// The last processed event of each hash, aligned with `hash_ids`.
    ///
    /// # Errors
    /// `invalid_id`/`invalid_body` for bad input; `unavailable` when KV fails.
    pub async fn fetch<K: NetworkCache>(
        &self,
        kv: &K,
        project: Id,
        hash_ids: &[i64],
    ) -> Result<Vec<Option<String>>, Error> {
        limits::check_batch("ids", hash_ids.len(), MAX_FETCH_BATCH)?;
        let hashes = hash_ids.iter().map(|h| check_hash(*h)).collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<String> = hashes.iter().map(|h| CacheKey::last_event(project, *h).as_str().to_string()).collect();
        let found =
            kv.get_many(&keys).await.map_err(|e| Error::Unavailable(Reason::with_detail("KV could not be read", e)))?;
        // KV contents come from the world: anything that is not a plausible
        // event id reads as unknown rather than being passed on.
        Ok(found.into_iter().map(|v| v.filter(|id| limits::check_event_id(id).is_ok())).collect())
    }
}

/// Parses the `ids` query value (`1,2,3`) into hash ids; at most
/// [`MAX_FETCH_BATCH`] of them (refused before the rest is parsed).
///
/// # Errors
/// `invalid_id` for anything but comma-separated integers; `invalid_body`
/// for more than [`MAX_FETCH_BATCH`].
pub fn parse_ids(text: &str) -> Result<Vec<i64>, Error> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let count = text.split(',').count();
    limits::check_batch("ids", count, MAX_FETCH_BATCH)?;
    text.split(',')
        .map(|part| {
            part.trim().parse::<i64>().map_err(|_| {
                let shown: String = part.chars().take(40).collect();
                Error::InvalidId(format!("ids must be comma-separated whole numbers, got {shown:?}"))
            })
        })
        .collect()
}

fn check_hash(hash: i64) -> Result<Id, Error> {
    Ok(limits::check_signed_id("hash ids", hash)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ports::fake::{FakeKv, ManualClock, Mode};
    use futures::executor::block_on;

    fn setup() -> (LastEvents, FakeKv, ManualClock) {
        (LastEvents::new(90 * 86_400), FakeKv::default(), ManualClock::at(1_000_000))
    }

    #[test]
    fn fetched_answers_are_aligned_with_nulls_for_unknown_hashes() {
        let (events, kv, clock) = setup();
        assert_eq!(block_on(events.record(&kv, &clock, 1, &[10, 30], "ev-a")), Ok(2));
        let got = block_on(events.fetch(&kv, 1, &[30, 20, 10, 30])).expect("fetch");
        assert_eq!(got, vec![Some("ev-a".into()), None, Some("ev-a".into()), Some("ev-a".into())]);
        assert_eq!(block_on(events.fetch(&kv, 2, &[10])), Ok(vec![None]), "projects do not share hashes");
        assert_eq!(kv.last_expiration.get(), 90 * 86_400);
    }

    #[test]
    fn repeated_record_in_the_same_second_costs_no_write() {
        let (events, kv, clock) = setup();
        block_on(events.record(&kv, &clock, 1, &[1, 2], "ev")).expect("record");
        assert_eq!(kv.puts.get(), 2);
        block_on(events.record(&kv, &clock, 1, &[1, 2], "ev")).expect("record");
        assert_eq!(kv.puts.get(), 2, "same value, same second: no write");
        block_on(events.record(&kv, &clock, 1, &[1], "ev-2")).expect("record");
        assert_eq!(kv.puts.get(), 3, "a new value is written");
        clock.advance_secs(1);
        block_on(events.record(&kv, &clock, 1, &[2], "ev")).expect("record");
        assert_eq!(kv.puts.get(), 4, "the next second writes again");
    }

    #[test]
    fn later_record_replaces_the_last_event() {
        let (events, kv, clock) = setup();
        block_on(events.record(&kv, &clock, 1, &[5], "first")).expect("record");
        clock.advance_secs(2);
        block_on(events.record(&kv, &clock, 1, &[5], "second")).expect("record");
        assert_eq!(block_on(events.fetch(&kv, 1, &[5])), Ok(vec![Some("second".into())]));
    }

    #[test]
    fn kv_failures_are_unavailable_not_silent() {
        let (events, kv, clock) = setup();
        kv.set_mode(Mode::Down);
        assert_eq!(block_on(events.record(&kv, &clock, 1, &[1], "ev")).map_err(|e| e.code()), Err("unavailable"));
        assert_eq!(block_on(events.fetch(&kv, 1, &[1])).map_err(|e| e.code()), Err("unavailable"));
    }

    #[test]
    fn bad_input_is_refused_before_any_write() {
        let (events, kv, clock) = setup();
        for (ids, event) in [(vec![0], "ev"), (vec![-1], "ev"), (vec![1], ""), (vec![1], "a\nb")] {
            assert!(block_on(events.record(&kv, &clock, 1, &ids, event)).is_err(), "{ids:?} {event:?}");
        }
        let long = "e".repeat(300);
        assert!(block_on(events.record(&kv, &clock, 1, &[1], &long)).is_err());
        let many: Vec<i64> = (1..=501).collect();
        assert_eq!(block_on(events.record(&kv, &clock, 1, &many, "ev")).map_err(|e| e.code()), Err("invalid_body"));
        assert_eq!(kv.puts.get(), 0);
    }

    #[test]
    fn garbage_in_kv_reads_as_unknown() {
        let (events, kv, _) = setup();
        kv.data.borrow_mut().insert("evt:1:1".into(), "x\u{0}y".into());
        assert_eq!(block_on(events.fetch(&kv, 1, &[1])), Ok(vec![None]));
    }

    #[test]
    fn ids_query_parses_comma_separated_integers() {
        assert_eq!(parse_ids("1,2, 3"), Ok(vec![1, 2, 3]));
        assert_eq!(parse_ids(""), Ok(vec![]));
        assert_eq!(parse_ids("1,,2").map_err(|e| e.code()), Err("invalid_id"));
        assert_eq!(parse_ids("1,x").map_err(|e| e.code()), Err("invalid_id"));
        assert_eq!(parse_ids("99999999999999999999").map_err(|e| e.code()), Err("invalid_id"));
    }

    #[test]
    fn ids_query_holds_at_most_the_fetch_batch() {
        let most = vec!["1"; MAX_FETCH_BATCH].join(",");
        assert_eq!(parse_ids(&most).map(|ids| ids.len()), Ok(MAX_FETCH_BATCH));
        let over = vec!["1"; MAX_FETCH_BATCH + 1].join(",");
        assert_eq!(parse_ids(&over).map_err(|e| e.code()), Err("invalid_body"));
    }
}
