use futures::executor::block_on;
use serde_json::json;

use super::held::read;
use super::*;
use crate::core::ports::fake::{FakeKv, Mode};
use crate::core::ports::NetworkCache;
use crate::core::scope::Scope;

fn snapshot_of(n: usize, value_bytes: usize) -> Snapshot {
    let mut s = Snapshot::empty();
    for i in 0..n {
        let entry = Versioned::present(json!("x".repeat(value_bytes)), i as u64 + 1).given_at(1_000 + i as u64);
        s.merge(&CacheKey::option(&format!("o.{i}")), entry);
    }
    s.merge(&CacheKey::map(&Scope::Project(7)), Versioned::present(json!({"a": 1}), 900).given_at(5));
    s.merge(&CacheKey::ownership(3), Versioned::absent(901).given_at(6));
    s.version = 901;
    s.since = 42;
    s
}

/// Puts an encoded snapshot into `kv` as the sync job does.
fn store(kv: &FakeKv, snapshot: &Snapshot) -> Encoded {
    let encoded = encode(snapshot);
    for (i, text) in (0u32..).zip(&encoded.parts) {
        block_on(kv.put(CacheKey::snapshot_part(encoded.head.parts, i).as_str(), text.clone(), 60)).expect("put");
    }
    block_on(kv.put(CacheKey::snapshot_head().as_str(), encoded.head_text.clone(), 60)).expect("put");
    encoded
}

#[test]
fn a_snapshot_read_back_from_kv_holds_every_entry_with_its_version_and_age() {
    let kv = FakeKv::default();
    let snapshot = snapshot_of(50, 10);
    let encoded = store(&kv, &snapshot);
    assert_eq!((encoded.head.parts, encoded.head.entries), (1, 52));
    assert_eq!(block_on(read(&kv)), Some(snapshot));
}

#[test]
fn a_large_snapshot_is_split_so_no_part_passes_the_limit_and_reads_back_whole() {
    let kv = FakeKv::default();
    // About 9 MiB of values: three parts of at most 4 MiB.
    let snapshot = snapshot_of(900, 10 * 1024);
    let encoded = store(&kv, &snapshot);
    assert!(encoded.head.parts >= 3, "{} parts", encoded.head.parts);
    for part in &encoded.parts {
        assert!(part.len() <= PART_MAX_BYTES + 64 * 1024, "a part of {} bytes", part.len());
    }
    assert_eq!(block_on(read(&kv)), Some(snapshot));
}

#[test]
fn a_missing_or_unreadable_part_means_no_snapshot_rather_than_half_of_one() {
    let kv = FakeKv::default();
    let encoded = store(&kv, &snapshot_of(3, 10));
    let part = CacheKey::snapshot_part(encoded.head.parts, 0);
    kv.data.borrow_mut().insert(part.as_str().into(), "{\"v\":1,\"entries\":{\"opt:a\":{\"v\":9}}}".into());
    assert_eq!(block_on(read(&kv)), None, "an entry in an unknown format");
    kv.data.borrow_mut().remove(part.as_str());
    assert_eq!(block_on(read(&kv)), None, "a part gone");
    for garbage in ["", "[]", "{\"v\":1,\"parts\":0}", "{\"v\":2}", "\u{0}"] {
        kv.data.borrow_mut().insert(CacheKey::snapshot_head().as_str().into(), garbage.into());
        assert_eq!(block_on(read(&kv)), None, "head {garbage:?}");
    }
    kv.read_mode.set(Mode::Down);
    assert_eq!(block_on(read(&kv)), None, "KV down");
}

#[test]
fn merging_never_moves_an_entry_to_an_older_version() {
    let mut s = Snapshot::empty();
    let key = CacheKey::option("a");
    assert!(s.merge(&key, Versioned::present(json!(2), 2)));
    assert!(!s.merge(&key, Versioned::present(json!(1), 1)));
    assert!(!s.merge(&key, Versioned::present(json!(2), 2)), "the same version changes nothing");
    assert!(s.merge(&key, Versioned::absent(3)));
    assert_eq!(s.lookup(&key), Some(Versioned::absent(3)));
}

#[test]
fn a_complete_snapshot_answers_absent_for_what_it_does_not_hold_and_an_incomplete_one_nothing() {
    let mut s = snapshot_of(1, 1);
    let unknown = CacheKey::option("never.set");
    assert_eq!(s.lookup(&unknown), Some(Versioned::absent(901).given_at(42)));
    assert_eq!(s.lookup(&CacheKey::last_event(1, 2)), None, "not a thing the change feed lists");
    s.complete = false;
    assert_eq!(s.lookup(&unknown), None);
}

#[test]
fn concurrent_reads_during_an_outage_read_and_parse_the_snapshot_once() {
    use crate::core::ports::fake::ManualClock;
    let kv = FakeKv::default();
    store(&kv, &snapshot_of(20, 10));
    kv.stall.set(5); // a slow KV: the reads overlap
    let (held, clock) = (HeldSnapshot::default(), ManualClock::at(1_000));
    let reads = |kv: &FakeKv| kv.gets.get() + kv.bulk_gets.get();
    let before = reads(&kv);
    let all = block_on(futures::future::join_all((0..8).map(|_| held.get(&kv, &clock))));
    assert!(all.iter().all(|s| s.as_ref().is_some_and(|s| s.entries.len() == 22)), "every read got the snapshot");
    assert_eq!(reads(&kv) - before, 2, "one read of the head and one of its part, for all eight");
    assert!(held.is_held());
}
