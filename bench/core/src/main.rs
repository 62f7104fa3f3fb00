//! `bench-core [--quick]`: native micro-benchmarks of the core, one JSON
//! object on stdout (bench/run collects it).
//!
//! - `hit_ns`: ns per `Options::get` on a fresh isolate-memory hit, small
//!   and large value, and the `HashMap` get + clone floor, as the median and
//!   spread (min, max) of repeated rounds.
//! - `memory`: heap bytes per cached small option (counting allocator), and
//!   what 100,000 keys leave in isolate memory under the default bounds.
//! - `owners`: µs per `POST …/owners` evaluation against a 1,000-rule file
//!   (cached record, parse kept), what the same call cost when it re-parsed
//!   the rules every time, and the parse alone; calls per second of one core.
//! - `snapshot`: the last-known-good snapshot of 1,000 and 10,000 options:
//!   its bytes in KV, and ns from a new isolate's first read during an
//!   outage to its answer from the snapshot (read from KV and parsed).

use std::time::Instant;

use edge_options::core::memory::Limits;
use edge_options_bench::snapshot::SnapshotBench;
use edge_options_bench::{fill, FloorBench, HitBench, OwnersBench, Size, OWNERS_FRAMES, OWNERS_RULES};
use serde_json::{json, Value};

/// Median, min and max of `rounds` timings of `run(iters)`, in ns per iteration.
fn rounds(rounds: usize, iters: u64, mut run: impl FnMut(u64) -> u64) -> Value {
    run(iters / 10 + 1); // warm-up
    let mut ns: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(run(iters));
            started.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    json!({ "median": ns[ns.len() / 2], "min": ns[0], "max": ns[ns.len() - 1], "rounds": rounds, "iters": iters })
}

/// The owners benchmark: ns per call (cached parse, re-parsing, parse alone).
fn owners(quick: bool) -> Value {
    let (n_rounds, iters) = if quick { (5, 20) } else { (11, 100) };
    let bench = OwnersBench::new(OWNERS_RULES, OWNERS_FRAMES);
    let cached = rounds(n_rounds, iters, |n| bench.run(n));
    let reparsing = rounds(n_rounds, iters, |n| bench.run_reparsing(n));
    let parse = rounds(n_rounds, iters, |n| bench.run_parse_only(n));
    let per_second = |s: &Value| s["median"].as_f64().map(|ns| 1e9 / ns).unwrap_or(0.0);
    json!({
        "rules": OWNERS_RULES,
        "frames": OWNERS_FRAMES,
        "call_ns": cached,
        "reparsing_call_ns": reparsing,
        "parse_ns": parse,
        "calls_per_second": per_second(&cached),
        "reparsing_calls_per_second": per_second(&reparsing),
    })
}

/// The snapshot benchmark: its size in KV and a new isolate's first answer
/// from it (ns), for 1,000 and 10,000 options.
fn snapshot(quick: bool) -> Value {
    let n_rounds = if quick { 5 } else { 11 };
    let sizes: Vec<Value> = [1_000, 10_000]
        .into_iter()
        .map(|options| {
            let bench = SnapshotBench::new(options);
            let first = rounds(n_rounds, 1, |n| (0..n).map(|_| bench.first_answer() as u64).sum());
            json!({ "options": options, "bytes": bench.bytes, "parts": bench.parts, "first_answer_ns": first })
        })
        .collect();
    Value::Array(sizes)
}

/// Heap per cached entry (`fill`), with no bound and at the default bounds.
fn memory() -> Value {
    let unbounded = Limits { max_entries: usize::MAX, max_bytes: usize::MAX };
    let per_entry = fill(100_000, unbounded, 0);
    let bounded = fill(100_000, Limits::default(), 1);
    let describe = |f: edge_options_bench::Filled| {
        json!({
            "keys": f.keys,
            "entries": f.entries,
            "accounted_bytes": f.accounted_bytes,
            "heap_bytes": f.heap_bytes,
            "heap_bytes_per_entry": f.heap_bytes as f64 / f.entries.max(1) as f64,
            "accounted_bytes_per_entry": f.accounted_bytes as f64 / f.entries.max(1) as f64,
        })
    };
    json!({
        "unbounded_same_ms": describe(per_entry),
        "default_limits": describe(bounded),
        "default_max_entries": Limits::default().max_entries,
        "default_max_bytes": Limits::default().max_bytes,
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // --memory: only the memory per entry (bench/run --lean).
    if std::env::args().any(|a| a == "--memory") {
        println!("{}", json!({ "runtime": "native", "memory": memory() }));
        return;
    }
    let (n_rounds, iters) = if quick { (5, 200_000) } else { (11, 1_000_000) };
    let mut hit = serde_json::Map::new();
    for (label, size, iters) in [("small", Size::Small, iters), ("large", Size::Large, iters / 10)] {
        let bench = HitBench::new(size);
        hit.insert(format!("core_{label}"), rounds(n_rounds, iters, |n| bench.run(n)));
        let floor = FloorBench::new(size);
        hit.insert(format!("hashmap_clone_{label}"), rounds(n_rounds, iters, |n| floor.run(n)));
    }

    let owners = owners(quick);
    let snapshot = snapshot(quick);
    let out = json!({
        "runtime": "native",
        "hit_ns": hit,
        "owners": owners,
        "snapshot": snapshot,
        "memory": memory(),
    });
    println!("{out}");
}
