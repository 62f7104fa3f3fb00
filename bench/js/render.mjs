// Writes BENCHMARKS.md (stdout) from the JSON files bench/run leaves in
// <results dir>. Every number comes from those files; the prose explains
// mechanisms (profiles and reasons found while building the benchmark),
// and every "met?" is computed here from the measured figure.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { f, fx, met, ratio, spread } from "./format.mjs";
import { ownersSection } from "./owners.mjs";
import { snapshotSection } from "./snapshot.mjs";
import { propagationSection } from "./propagation.mjs";
import { originDbSection } from "./origin_db.mjs";
import { leanSections, leanTargets, loadLean } from "./lean.mjs";

const dir = process.argv[2] ?? "bench/target/results";
const load = (name) => JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"));
const meta = load("meta");
const native = load("native");
const micro = load("micro");
const tp = load("throughput");
const origin = load("origin");
const lean = loadLean(dir);

const ns = (s) => spread(s, s.median >= 100 ? 0 : 1);

const h = micro.hit_ns;
const r = micro.ratios;
const w = tp.workers;
const tr = tp.ratios;
const out = [];
const p = (line = "") => out.push(line);

p("# Benchmarks");
p();
p("Written by `bench/run` (bench/README.md). Figures are **ratios to a baseline measured in the same run**: these machines are");
p("shared and noisy, so every figure is the **median of repeated rounds**, with the spread (min–max) in parentheses;");
p("a ratio is computed per round (both sides measured back to back) and then summarised the same way.");
p();
p(`- command: \`${meta.command}\``);
p(`- date: ${meta.date}; commit ${meta.commit}`);
p(`- machine: ${meta.cpu}, ${meta.cores} cores, ${meta.memory}, ${meta.kernel}`);
p(`- ${meta.rustc}; Node ${meta.node}; wrangler ${meta.wrangler}; ${meta.wrk}`);
p("- `wrangler dev` is a **local simulation** (workerd behind wrangler's Node proxy, KV on disk, everything on the same 2 cores");
p("  as the load generator): its absolute numbers say nothing about Cloudflare's network; only the ratios between Workers run the");
p("  same way are meaningful.");
p();

// ---------------------------------------------------------------- summary
const npmRatio = r.npm_reader_small_vs_map;
const thr = tr["edge-options_vs_const_rps"];
const cold = origin.cold100.calls;
const down = origin.down.calls_per_key_per_window;
const stale = origin.stale;
p("## Targets");
p();
p("| # | figure | measured | target | |");
p("|---|---|---|---|---|");
p(`| 1 | npm memory hit (\`store.reader().get\`) vs JS \`Map.get\` | ${ratio(npmRatio)} | ≤ 2× | ${met(npmRatio.median <= 2)} |`);
p(`| 2 | hot option read (\`wrangler dev\`, wrk) vs constant Rust Worker, req/s | ${ratio(thr)} | ≥ 0.9× | ${met(thr.median >= 0.9)} |`);
p(`| 3 | origin calls, 100 concurrent cold reads of one key | ${spread(cold, 0)} | = 1 | ${met(cold.max === 1 && origin.cold100.all_ok)} |`);
p(`| 3 | origin calls per key per backoff window, origin down | max ${fx(down.max)}, mean ${fx(down.mean)} | ≤ 1 | ${met(down.max <= 1)} |`);
p(`| 3 | stale answer latency, origin hanging (soft timeout ${stale.soft_timeout_ms} ms) | ${spread(stale.ms, 0)} ms | ≤ ${stale.soft_timeout_ms + 20} ms | ${met(stale.all_stale && stale.ms.median <= stale.soft_timeout_ms + 20)} |`);
for (const row of leanTargets(lean)) p(row);
p();

// ---------------------------------------------------------------- item 1
p("## 1. Isolate-memory hit cost");
p();
p(`One hot key, one ${micro.runtime} process (V8, as in workerd). ns per lookup, median of ${h.map_get.rounds} interleaved rounds (min–max).`);
p("Small value: `mail.host` = a 16-byte string; large: `symbolicator.options` = a mapping of 100 strings (~4.5 KB of JSON).");
p();
p("| lookup | ns | vs `Map.get` |");
p("|---|---|---|");
const vsMap = (k) => fx(h[k].median / h.map_get.median) + "×";
p(`| \`Map.get\` (the floor) | ${ns(h.map_get)} | 1× |`);
p(`| \`await\` of an async function returning \`Map.get\` (floor of any async API) | ${ns(h.map_get_awaited)} | ${vsMap("map_get_awaited")} |`);
p(`| hand-written TTL map (\`{value, expires}\` + \`Date.now()\`) | ${ns(h.ttl_map_get)} | ${vsMap("ttl_map_get")} |`);
p(`| lru-cache 11 with \`ttl\` | ${ns(h.lru_cache_ttl_get)} | ${vsMap("lru_cache_ttl_get")} |`);
p(`| **npm \`reader.get\` (fast path, one clock read per reader), small** | ${ns(h.npm_reader_small)} | ${ratio(r.npm_reader_small_vs_map)} |`);
p(`| **npm \`reader.get\`, large** | ${ns(h.npm_reader_large)} | ${ratio(r.npm_reader_large_vs_map)} |`);
p(`| **npm \`store.peekOption\` (fast path, \`Date.now()\` per call), small** | ${ns(h.npm_peek_small)} | ${ratio(r.npm_peek_small_vs_map)} |`);
p(`| **npm \`await store.getOption\` (fast path behind a promise), small** | ${ns(h.npm_get_small)} | ${ratio(r.npm_small_vs_map)} |`);
p(`| **npm \`await store.getOption\`, large** | ${ns(h.npm_get_large)} | ${ratio(r.npm_large_vs_map)} |`);
p(`| npm \`getOption\` through wasm (a name the fast path does not hold), small | ${ns(h.npm_wasm_get_small)} | ${ratio(r.npm_wasm_small_vs_map)} |`);
p(`| npm \`getOption\` through wasm, large | ${ns(h.npm_wasm_get_large)} | ${vsMap("npm_wasm_get_large")} |`);
p();
p(`npm \`getOption\` (small) against the other baselines, per round: ${ratio(r.npm_small_vs_map_awaited)} the awaited \`Map\`,`);
p(`${ratio(r.npm_small_vs_ttl_map)} the TTL map, ${ratio(r.npm_small_vs_lru_cache)} lru-cache.`);
p();
p("Where the time goes — the pieces of a `getOption` call, each a wasm export of `bench/core` (same core, same");
p("profile as the shipped builds) timed from JS:");
p();
p("| piece | small ns | large ns |");
p("|---|---|---|");
p(`| JS → wasm → JS crossing (\`noop\`) | ${ns(h.wasm_noop)} | |`);
p(`| + pass the name (a JS string read into Rust) | ${ns(h.wasm_take_name)} | |`);
p(`| + \`Options::get\` memory hit, no conversion | ${ns(h.wasm_read_small)} | ${ns(h.wasm_read_large)} |`);
p(`| + answer as a JS object (serde-wasm-bindgen, as \`src/js\`) | ${ns(h.wasm_answer_small)} | ${ns(h.wasm_answer_large)} |`);
p(`| … or as JSON text + \`JSON.parse\` in JS | ${ns(h.wasm_answer_json_small)} | ${ns(h.wasm_answer_json_large)} |`);
p(`| + behind \`future_to_promise\`, awaited (what \`getOption\` is) | ${ns(h.wasm_answer_promise_small)} | ${ns(h.wasm_answer_promise_large)} |`);
p(`| the core's hit alone, looped inside wasm (no crossing) | ${ns(h.wasm_core_hit_small)} | ${ns(h.wasm_core_hit_large)} |`);
p();
p("Inside the Rust Worker — the same `Options::get` memory hit, natively (`bench-core`, same release profile, opt-level z),");
p("against a `HashMap<String, Value>` get + clone of the same value (the least a lookup that hands out an owned value does):");
p();
p("| native | ns | floor ns | ratio |");
p("|---|---|---|---|");
for (const size of ["small", "large"]) {
  const c = native.hit_ns[`core_${size}`];
  const fl = native.hit_ns[`hashmap_clone_${size}`];
  p(`| \`Options::get\` hit, ${size} | ${ns(c)} | ${ns(fl)} | ${fx(c.median / fl.median)}× |`);
}
p();

// ---------------------------------------------------------------- item 2
p("## 2. Hot-path throughput under `wrangler dev`");
p();
const s = tp.settings;
p(`\`wrk -t${s.threads} -c${s.connections} -d${s.seconds}s --latency\`, ${s.rounds} rounds, the Workers loaded one at a time in turn`);
p("(A B C D E, A B C D E, …). Ratios are per round against the constant Worker's run of the same round.");
p();
p("| Worker | req/s | p50 ms | p99 ms | req/s vs constant | p50 vs constant |");
p("|---|---|---|---|---|---|");
const label = {
  "const-rust": "constant Rust Worker (the ceiling)",
  "kv-js": "JS Worker, KV read on every request",
  "edge-options": "**edge-options**, `GET /v1/options/mail.host` (memory hit)",
  "edge-noassets": "edge-options without `[assets]` in wrangler.toml",
  "npm-js": "JS Worker + npm package `getOption`",
};
for (const [name, x] of Object.entries(w)) {
  const vs = name === "const-rust" ? ["1×", "1×"] : [ratio(tr[`${name}_vs_const_rps`]), ratio(tr[`${name}_vs_const_p50`])];
  p(`| ${label[name] ?? name} | ${spread(x.rps, 0)} | ${spread(x.p50_ms, 1)} | ${spread(x.p99_ms, 1)} | ${vs[0]} | ${vs[1]} |`);
}
const errs = Object.entries(w).filter(([, x]) => x.non2xx > 0 || x.socketErrors.length).map(([n]) => n);
p();
p(errs.length ? `Errors seen: ${errs.join(", ")} (non-2xx or socket errors; see bench/target/results/throughput.json).` : "No non-2xx answers or socket errors in any run.");
p(`edge-options served the load from memory: ${f(tp.edgeStats.hits_local)} local hits, ${f(tp.edgeStats.hits_kv)} KV, ${f(tp.edgeStats.hits_origin)} origin.`);
p();

// ---------------------------------------------------------------- item 3
p("## 3. Origin load");
p();
p("The real Worker under `wrangler dev`, reaching the reference origin only through a counting proxy (`bench/js/stack.mjs`),");
p("so calls are counted per key even while the \"origin\" refuses or hangs. Keys are project option maps");
p("(`/v1/projects/{id}/options`, ttl `MAP_TTL_SECS` = 10 s): names under a legacy prefix have ttl 0 (they bypass isolate memory");
p("by design), so 1,000 keys with ttl 10 s are 1,000 project ids. **The original design's figures are computed from its model**");
p("on the exact request trace of this run — a read finding no fresh local copy calls the origin (no KV tier in between, no");
p("coalescing, no backoff), the call refilling the local copy when the origin is up — not measured on a second implementation.");
p();
const c = origin.cold100;
const st = origin.steady;
const dn = origin.down;
p("| scenario | edge-options | original design (model) | target |");
p("|---|---|---|---|");
p(`| 100 concurrent cold reads of one key, origin calls (${c.rounds.length} rounds, all answers 200 with the value: ${c.all_ok}) | ${spread(c.calls, 0)} | ${c.model_original_calls} | = 1 |`);
p(`| steady load ${st.seconds} s, ${f(st.keys)} keys, ttl ${st.ttl_s} s: ${f(st.reads)} reads, origin calls | ${f(st.origin_calls)} (${fx(st.origin_calls_per_key)} per key) | ${f(st.model_original_calls)} (${fx(st.model_original_calls_per_key)} per key) | |`);
p(`| the same, origin down (refusing), cold KV: ${f(dn.reads)} reads over ${dn.backoff_windows} backoff windows (1 s doubling to 30 s) — origin calls per key per window | max ${fx(dn.calls_per_key_per_window.max)}, mean ${fx(dn.calls_per_key_per_window.mean)} (${f(dn.origin_calls)} calls in all) | max ${fx(dn.model_original_calls_per_key_per_window.max)}, mean ${fx(dn.model_original_calls_per_key_per_window.mean)} (${f(dn.model_original_calls)} calls) | ≤ 1 |`);
p(`| stale answer latency while the origin hangs (${stale.sources.length} keys, KV copies deleted, soft timeout ${stale.soft_timeout_ms} ms) | ${spread(stale.ms, 0)} ms, all stale: ${stale.all_stale} | waits for the hard timeout | ≤ ${stale.soft_timeout_ms + 20} ms |`);
p();
p(`Steady load answers by tier: ${Object.entries(st.statuses).map(([k, v]) => `${k}: ${f(v)}`).join(", ")} (read latency ${spread(st.read_ms, 1)} ms).`);
p(`While down: ${Object.entries(dn.statuses).map(([k, v]) => `${k}: ${f(v)}`).join(", ")}; ${f(dn.throttled)} reads throttled, breaker open at the end: ${dn.breaker_open}.`);
p();

// ---------------------------------------------------------------- items 4 and 5
for (const line of leanSections(lean)) p(line);
p();

// ---------------------------------------------------------------- owners
for (const line of ownersSection(native)) p(line);
p();

// ---------------------------------------------------------------- origin by storage
const originDb = existsSync(join(dir, "origin-db.json")) ? load("origin-db") : null;
for (const line of originDbSection(originDb)) p(line);
p();

// ---------------------------------------------------------------- snapshot
for (const line of snapshotSection(native)) p(line);
p();

// ---------------------------------------------------------------- propagation
// `bench/run --propagation` leaves propagation.json (a run of its own: a full run does
// not make one); rendered when present, saying so.
if (existsSync(join(dir, "propagation.json"))) {
  const prop = load("propagation");
  for (const line of propagationSection(prop)) p(line);
  p();
  p(`This table comes from its own run (\`bench/run --propagation${prop.quick ? " --quick" : ""}\`), not from the full run above.`);
  p();
}

p("## Findings");
p();
p(readFileSync(new URL("./findings.md", import.meta.url), "utf8").trim());
p();
console.log(out.join("\n"));
