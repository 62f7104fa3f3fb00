//! `cargo run --release --example hit_profile`: only the small hit loop,
//! for `valgrind --tool=callgrind` / `perf record`.
fn main() {
    let bench = edge_options_bench::HitBench::new(edge_options_bench::Size::Small);
    std::hint::black_box(bench.run(200_000));
}
