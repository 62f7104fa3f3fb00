// Item 5 (memory): heap bytes per cached small option inside wasm (32-bit
// pointers, as in a Worker), one JSON object on stdout. Run by bench/run
// (and bench/run --lean); alone:
//   node bench/js/memory.mjs --pkg bench/core/target/pkg
//
// bench/core's `fill_heap` reads 100,000 distinct small options once each
// through the tiered cache's read path and reports what a counting global
// allocator saw kept: with no bound (what one entry costs), and at the
// default bounds (10,000 entries: 90,000 evictions of churn).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const i = args.indexOf("--pkg");
const pkgDir = resolve(i >= 0 ? args[i + 1] : "bench/core/target/pkg");
const bench = await import(join(pkgDir, "bench.js"));
bench.initSync({ module: readFileSync(join(pkgDir, "bench_bg.wasm")) });

const KEYS = 100_000;
const memory = {};
for (const [label, bounded] of [["unbounded", false], ["default_limits", true]]) {
  const [entries, heap, accounted] = bench.fill_heap(KEYS, bounded);
  memory[label] = { keys: KEYS, entries, heap_bytes: heap, heap_bytes_per_entry: heap / entries, accounted_bytes: accounted };
}
console.log(JSON.stringify({ runtime: `node ${process.version}`, memory }));
