// The lean-isolate part of the report (sections 4 "Size and start" and 5
// "Memory", and their rows of the targets table), from the JSON files
// bench/run leaves: sizes.json, start.json, memory.json (wasm) and
// native-memory.json or native.json (native). Used by render.mjs; alone
// (bench/run --lean) it prints those rows and sections:
//   node bench/js/lean.mjs [results dir]
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { f, kb, met, ratio, spread } from "./format.mjs";


/** Targets of the lean isolate. */
export const TARGETS = { firstVsConst: 1.3, wasmGzipKb: 250, unboundedBytes: 200, churnBytes: 250 };

/** Loads the lean results of `dir`: `{ sizes, start, memory, native }`. */
export function loadLean(dir) {
  const load = (name) => JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"));
  const nativeFile = existsSync(join(dir, "native-memory.json")) ? "native-memory" : "native";
  return { sizes: load("sizes"), start: load("start"), memory: load("memory").memory, native: load(nativeFile).memory };
}

/** Rows of the targets table (`| # | figure | measured | target | |`). */
export function leanTargets({ sizes, start, memory }) {
  const first = start.ratios["edge-noassets_vs_const_first"];
  const withAssets = start.ratios["edge-options_vs_const_first"];
  const assets = start.assets_first_ms;
  const unbounded = memory.unbounded.heap_bytes_per_entry;
  const churn = memory.default_limits.heap_bytes_per_entry;
  const t = TARGETS;
  return [
    `| 4 | first answer of a new isolate vs constant Rust Worker, without \`[assets]\` (median of ${start.settings.starts} starts each; with \`[assets]\`: ${ratio(withAssets)}, the assets router adding ${spread(assets, 0)} ms) | ${ratio(first)} | ≤ ${t.firstVsConst}× | ${met(first.median <= t.firstVsConst)} |`,
    `| 4 | Worker wasm, gzip | ${kb(sizes.worker.gzip)} | ≤ ${t.wasmGzipKb} KB | ${met(sizes.worker.gzip <= t.wasmGzipKb * 1024)} |`,
    `| 5 | isolate memory per small cached option (wasm heap): unbounded fill / default bounds under churn | ${f(unbounded, 0)} / ${f(churn, 0)} bytes | ≤ ${t.unboundedBytes} / ≤ ${t.churnBytes} bytes | ${met(unbounded <= t.unboundedBytes && churn <= t.churnBytes)} |`,
  ];
}

const label = {
  "const-rust": "constant Rust Worker (the ceiling)",
  "kv-js": "JS Worker, KV read on every request",
  "edge-options": "**edge-options**",
  "edge-noassets": "edge-options without `[assets]` in wrangler.toml",
  "npm-js": "JS Worker + npm package `getOption`",
};

/** Sections 4 and 5 of the report, as lines. */
export function leanSections({ sizes, start, memory, native }) {
  const out = [];
  const p = (line = "") => out.push(line);
  p("## 4. Size and start");
  p();
  p("| wasm | raw | gzip -9 |");
  p("|---|---|---|");
  p(`| **Worker** (\`build/index_bg.wasm\`, worker-build + wasm-opt) | ${kb(sizes.worker.raw)} | ${kb(sizes.worker.gzip)} |`);
  if (sizes.beacon_worker) p(`| beacon Worker (\`build-beacon/index_bg.wasm\`: the version beacon's Durable Object only, loaded by the one isolate hosting it) | ${kb(sizes.beacon_worker.raw)} | ${kb(sizes.beacon_worker.gzip)} |`);
  p(`| constant Rust Worker (workers-rs alone) | ${kb(sizes.const_worker.raw)} | ${kb(sizes.const_worker.gzip)} |`);
  if (sizes.npm) p(`| npm package (\`npm/dist/edge_options_bg.wasm\`, no workers-rs) | ${kb(sizes.npm.raw)} | ${kb(sizes.npm.gzip)} |`);
  p();
  if (!sizes.npm) {
    p("(The npm package is not built by `bench/run --lean`: its size is in a full run.)");
    p();
  }
  p(`Start (\`bench/js/start.mjs\`): ${start.settings.starts} starts of each Worker under \`wrangler dev\`, interleaved. Each waits for`);
  p("wrangler's \"Ready on\" (its runtime has loaded the Worker; wrangler's own start excluded), then times the Worker's first");
  p("answer — for edge-options `/healthz`, which builds the isolate's whole state (settings, registry, config, caches) and");
  p("answers without I/O — then one more request: for edge-options the hot path's first read (`/v1/options/mail.host`, KV or");
  p("origin I/O, as any first read of a key). Ratios are per start round against the constant Worker's start of that round.");
  p();
  p("| Worker | first request | spawn → ready, ms | first answer, ms | vs constant | then | then, ms |");
  p("|---|---|---|---|---|---|---|");
  for (const [name, x] of Object.entries(start.workers)) {
    const vs = name === "const-rust" ? "1×" : ratio(start.ratios[`${name}_vs_const_first`]);
    p(`| ${label[name] ?? name} | \`${x.first}\` | ${spread(x.ready_ms, 0)} | ${spread(x.first_ms, 1)} | ${vs} | \`${x.then}\` | ${spread(x.then_ms, 1)} |`);
  }
  p();
  p(`\`[assets]\` (the dashboard's static assets, routed before the Worker) adds ${spread(start.assets_first_ms, 1)} ms to the first answer`);
  p("(edge-options minus the same build without it, per round).");
  p();
  p("## 5. Memory");
  p();
  p("Heap bytes kept per cached small option (a 12-byte string value, a ~23-byte key) after reading 100,000 distinct keys through");
  p("the tiered cache's read path, measured by a counting global allocator (requested bytes; the allocator's own headers not");
  p("counted), next to the core's own estimate that the byte bound uses (`stats().bytes`). The default limits hold 10,000");
  p("entries, so that row has gone through 90,000 evictions (churn).");
  p();
  p("| runtime | limits | entries held | heap | heap per entry | core's estimate per entry |");
  p("|---|---|---|---|---|---|");
  const mem = (rt, lim, m) =>
    p(`| ${rt} | ${lim} | ${f(m.entries)} | ${kb(m.heap_bytes)} | **${f(m.heap_bytes / m.entries, 0)} bytes** | ${f(m.accounted_bytes / m.entries, 0)} bytes |`);
  const limits = `default (${f(native.default_max_entries)} entries / ${f(native.default_max_bytes / 1048576)} MiB)`;
  mem("wasm (32-bit, as in a Worker)", "unbounded", memory.unbounded);
  mem("wasm (32-bit, as in a Worker)", limits, memory.default_limits);
  mem("native (64-bit)", "unbounded", native.unbounded_same_ms);
  mem("native (64-bit)", "default", native.default_limits);
  p();
  p("With 100,000 keys and the default limits the entry bound holds: isolate memory keeps the most recent");
  p(`${f(memory.default_limits.entries)} entries, ${kb(memory.default_limits.heap_bytes)} of heap in wasm — far inside an isolate's 128 MB.`);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lean = loadLean(process.argv[2] ?? "bench/target/results");
  console.log(["| # | figure | measured | target | |", "|---|---|---|---|---|", ...leanTargets(lean), "", ...leanSections(lean)].join("\n"));
}
