// Isolate-memory hit cost in one Node process (V8, like workerd), one JSON
// object on stdout. Run by bench/run; alone:
//   node bench/js/micro.mjs [--quick] --npm npm/dist --pkg bench/core/target/pkg
//
// Every figure is ns per lookup of one hot key: the median and spread of
// repeated rounds, all rounds interleaved (round r of every case runs before
// round r + 1 of any), so a noisy moment hits every case alike.
//
// - npm API: `await store.getOption(name)` on a fresh memory hit (small
//   and large value), the package's public API.
// - baselines: `Map.get` (the floor), the same behind `await` (the floor of
//   any async API), a hand-written TTL map, and lru-cache with `ttl`.
// - pieces (bench/core's wasm module): the crossing, the name, the core
//   hit, the answer's conversion (object or JSON text), the promise.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LRUCache } from "lru-cache";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const quick = args.includes("--quick");
const npmDir = resolve(arg("--npm", "npm/dist"));
const pkgDir = resolve(arg("--pkg", "bench/core/target/pkg"));
const ROUNDS = quick ? 5 : 11;
const TARGET_MS = quick ? 40 : 120; // time per round per case, roughly

const SMALL = "mail.host";
const LARGE = "symbolicator.options";
const smallValue = "smtp.example.com";
const largeValue = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${String(i).padStart(3, "0")}`, String(i).padStart(32, "0")]));

// The origin, stubbed in-process: the first read of each option fills memory.
let originCalls = 0;
globalThis.fetch = async (url) => {
  originCalls += 1;
  const name = decodeURIComponent(String(url).split("/options/")[1]);
  const value = name === LARGE ? largeValue : smallValue;
  return new Response(JSON.stringify({ name, value, version: 1, updated_at: 0 }), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
};
const kvData = new Map();
const kv = {
  async get(key) { return kvData.get(key) ?? null; },
  async put(key, value) { kvData.set(key, value); },
  async delete(key) { kvData.delete(key); },
};

const { Store } = await import(join(npmDir, "node.js"));
// The built-in registry with a ttl longer than the run, so every timed read
// is a fresh isolate-memory hit (with the default 10 s some rounds would
// time refreshes instead).
const builtin = new Store({ kv, origin: { url: "http://127.0.0.1:9", token: "bench" } }).listOptions();
const registry = {
  options: builtin.map(({ name, type, default: d, flags }) => ({ name, type, default: d, flags, ttl: 3600, grace: 60 })),
};
const store = new Store({ kv, origin: { url: "http://127.0.0.1:9", token: "bench" }, registry });
for (const name of [SMALL, LARGE]) {
  const first = await store.getOption(name);
  if (first.source !== "origin") throw new Error(`warm-up of ${name}: source ${first.source}`);
  if (store.peekOption(name)?.source !== "local") throw new Error(`${name} is not held by the fast path`);
}
// The wasm class's own getOption: what a read costs when the fast path
// does not hold the name (the name's first read, or past its ttl).
const wasmGetOption = Object.getPrototypeOf(Store.prototype).getOption;
const again = await wasmGetOption.call(store, SMALL);
if (again.source !== "local") throw new Error(`${SMALL} is not a memory hit: ${again.source}`);
const reader = store.reader();

const bench = await import(join(pkgDir, "bench.js"));
bench.initSync({ module: readFileSync(join(pkgDir, "bench_bg.wasm")) });
bench.warm();

// Baselines, holding the same values.
const map = new Map([[SMALL, smallValue], [LARGE, largeValue]]);
const ttlMap = new Map([[SMALL, { value: smallValue, expires: Date.now() + 3_600_000 }], [LARGE, { value: largeValue, expires: Date.now() + 3_600_000 }]]);
const ttlGet = (k) => {
  const e = ttlMap.get(k);
  if (e === undefined || e.expires <= Date.now()) return undefined;
  return e.value;
};
const lru = new LRUCache({ max: 10_000, ttl: 3_600_000 });
lru.set(SMALL, smallValue);
lru.set(LARGE, largeValue);

let sink = 0;
const use = (v) => { if (v !== undefined && v !== null) sink += 1; };

const cases = {
  // the npm package's public API: the synchronous fast path, then getOption
  npm_reader_small: { fn: () => reader.get(SMALL) },
  npm_reader_large: { fn: () => reader.get(LARGE) },
  npm_peek_small: { fn: () => store.peekOption(SMALL) },
  npm_get_small: { async: true, fn: () => store.getOption(SMALL) },
  npm_get_large: { async: true, fn: () => store.getOption(LARGE) },
  // the same read through the wasm class (the fast path not holding the name)
  npm_wasm_get_small: { async: true, fn: () => wasmGetOption.call(store, SMALL) },
  npm_wasm_get_large: { async: true, fn: () => wasmGetOption.call(store, LARGE) },
  // baselines
  map_get: { fn: () => map.get(SMALL) },
  map_get_awaited: { async: true, fn: async () => map.get(SMALL) },
  ttl_map_get: { fn: () => ttlGet(SMALL) },
  lru_cache_ttl_get: { fn: () => lru.get(SMALL) },
  // pieces, in wasm (bench/core/src/wasm.rs)
  wasm_noop: { fn: () => bench.noop() },
  wasm_take_name: { fn: () => bench.take_name(SMALL) },
  wasm_read_small: { fn: () => bench.read_small(SMALL) },
  wasm_read_large: { fn: () => bench.read_large(LARGE) },
  wasm_answer_small: { fn: () => bench.answer_small(SMALL) },
  wasm_answer_large: { fn: () => bench.answer_large(LARGE) },
  wasm_answer_json_small: { fn: () => JSON.parse(bench.answer_json_small(SMALL)) },
  wasm_answer_json_large: { fn: () => JSON.parse(bench.answer_json_large(LARGE)) },
  wasm_answer_promise_small: { async: true, fn: () => bench.answer_promise_small(SMALL) },
  wasm_answer_promise_large: { async: true, fn: () => bench.answer_promise_large(LARGE) },
};

async function timeLoop(c, n) {
  const started = process.hrtime.bigint();
  if (c.async) {
    for (let i = 0; i < n; i++) use(await c.fn());
  } else {
    for (let i = 0; i < n; i++) use(c.fn());
  }
  return Number(process.hrtime.bigint() - started);
}

// Calibrate: iterations per round so one round takes about TARGET_MS.
const iters = {};
for (const [name, c] of Object.entries(cases)) {
  await timeLoop(c, 2_000); // warm-up (JIT)
  const ns = await timeLoop(c, 5_000) / 5_000;
  iters[name] = Math.max(1_000, Math.round((TARGET_MS * 1e6) / Math.max(ns, 1)));
}
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, c] of Object.entries(cases)) {
    samples[name].push(await timeLoop(c, iters[name]) / iters[name]);
  }
}

// The core's hit inside wasm, timed around a loop that never leaves wasm.
const loops = { wasm_core_hit_small: false, wasm_core_hit_large: true };
for (const [name, large] of Object.entries(loops)) {
  bench.hit_loop(large, 2_000);
  const n = quick ? 50_000 : 200_000;
  samples[name] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = process.hrtime.bigint();
    bench.hit_loop(large, large ? n / 10 : n);
    samples[name].push(Number(process.hrtime.bigint() - started) / (large ? n / 10 : n));
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], rounds: s.length };
};
const hit_ns = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, { ...stats(xs), iters: iters[k] }]));

// Ratios per round (same round, same moment), then their median and spread.
const ratio = (a, b) => stats(samples[a].map((x, i) => x / samples[b][i]));
const ratios = {
  npm_reader_small_vs_map: ratio("npm_reader_small", "map_get"),
  npm_reader_large_vs_map: ratio("npm_reader_large", "map_get"),
  npm_peek_small_vs_map: ratio("npm_peek_small", "map_get"),
  npm_wasm_small_vs_map: ratio("npm_wasm_get_small", "map_get"),
  npm_small_vs_map: ratio("npm_get_small", "map_get"),
  npm_large_vs_map: ratio("npm_get_large", "map_get"),
  npm_small_vs_map_awaited: ratio("npm_get_small", "map_get_awaited"),
  npm_small_vs_ttl_map: ratio("npm_get_small", "ttl_map_get"),
  npm_small_vs_lru_cache: ratio("npm_get_small", "lru_cache_ttl_get"),
};

if (originCalls !== 2) throw new Error(`expected 2 origin calls (the warm-ups), saw ${originCalls}`);
console.log(JSON.stringify({ runtime: `node ${process.version}`, hit_ns, ratios, sink: sink > 0 }));
