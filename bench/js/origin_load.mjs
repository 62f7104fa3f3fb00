// Item 3 (origin load), one JSON object on stdout. Run by bench/run; alone:
//   node bench/js/origin_load.mjs [--quick]
//
// The real Worker under `wrangler dev`, reaching the reference origin only
// through a counting proxy (stack.mjs), so origin calls are counted per key
// even while the "origin" refuses or hangs. Keys are project option maps
// (`GET /v1/projects/{id}/options`): registered options are few, and names
// under a legacy prefix have ttl 0 (they bypass isolate memory), while maps
// take MAP_TTL_SECS (default 10 s) — so 1,000 keys with ttl 10 s are 1,000
// project ids.
//
// The original design's figures are computed from its model on the very
// request trace this run sent (not simulated by a second Worker): a read
// finding no fresh local copy calls the origin, with no KV in between, no
// coalescing and no backoff; see BENCHMARKS.md.
import { startOrigin, startProxy, startWorker, tempDir, wranglerKv, summary, cleanup, sleep } from "./stack.mjs";

const quick = process.argv.includes("--quick");
const COLD_ROUNDS = quick ? 3 : 5;
const STEADY_S = quick ? 20 : 60;
const KEYS = 1_000;
const TTL_S = 10;
const CONCURRENCY = 8;
const BACKOFF = { startMs: 1_000, maxMs: 30_000 }; // the Worker's defaults (core/throttle.rs)

const dir = tempDir("origin");
const origin = await startOrigin(dir);
const proxy = await startProxy(origin.port);
const result = {};

// --- 100 concurrent cold reads of one key -------------------------------
{
  const worker = await startWorker({ dir, vars: { ORIGIN_URL: proxy.url }, label: "cold" });
  const rounds = [];
  for (let r = 0; r < COLD_ROUNDS; r++) {
    const id = 100 + r; // a key nobody read: cold in memory and in KV
    await origin.call("PUT", `/projects/${id}/options/k`, { value: `v${r}` });
    const before = proxy.state.byPath.get(`GET /projects/${id}/options`) ?? 0;
    const replies = await Promise.all(Array.from({ length: 100 }, () => worker.get(`/v1/projects/${id}/options`)));
    const calls = (proxy.state.byPath.get(`GET /projects/${id}/options`) ?? 0) - before;
    const ok = replies.filter((x) => x.status === 200 && x.body?.values?.k === `v${r}`).length;
    rounds.push({ calls, ok, ms: summary(replies.map((x) => x.ms)) });
  }
  result.cold100 = {
    rounds,
    calls: summary(rounds.map((x) => x.calls)),
    all_ok: rounds.every((x) => x.ok === 100),
    model_original_calls: 100, // no coalescing: every concurrent miss asks the origin
  };
  await worker.stop();
}

/** C loops reading random keys among `ids` for `seconds`; answers the trace. */
async function steadyLoad(worker, ids, seconds) {
  const trace = [];
  const statuses = new Map();
  const until = performance.now() + seconds * 1000;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const id = ids[Math.floor(random() * ids.length)];
        const t = performance.now();
        const reply = await worker.get(`/v1/projects/${id}/options`);
        trace.push({ id, t, ms: reply.ms, cache: reply.cache });
        const key = `${reply.status} ${reply.cache}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }),
  );
  return { trace, statuses: Object.fromEntries(statuses) };
}

/** Origin calls of the original design on `trace`: per key, a read at or
 * after its last fill + ttl calls the origin; `up` = the call refills. */
function modelOriginal(trace, ttlMs, up) {
  const filled = new Map();
  let calls = 0;
  const perKey = new Map();
  for (const { id, t } of [...trace].sort((a, b) => a.t - b.t)) {
    const at = filled.get(id);
    if (at === undefined || t >= at + ttlMs) {
      calls += 1;
      perKey.set(id, (perKey.get(id) ?? 0) + 1);
      if (up) filled.set(id, t);
    }
  }
  return { calls, perKey };
}

/** Backoff windows (1 s doubling to 30 s) begun within `ms`. */
function backoffWindows(ms) {
  let windows = 0;
  let elapsed = 0;
  let delay = BACKOFF.startMs;
  while (elapsed < ms) {
    windows += 1;
    elapsed += delay;
    delay = Math.min(delay * 2, BACKOFF.maxMs);
  }
  return windows;
}

const ids = Array.from({ length: KEYS }, (_, i) => 10_000 + i);
const callsFor = (prefix) => {
  let total = 0;
  const perKey = new Map();
  for (const [path, n] of proxy.state.byPath) {
    const m = path.match(/^GET \/projects\/(\d+)\/options$/);
    if (m && Number(m[1]) >= prefix) {
      total += n;
      perKey.set(Number(m[1]), n);
    }
  }
  return { total, perKey };
};

// --- steady load, origin up ------------------------------------------------
{
  const worker = await startWorker({ dir, vars: { ORIGIN_URL: proxy.url, MAP_TTL_SECS: String(TTL_S) }, label: "steady" });
  proxy.state.byPath.clear();
  const { trace, statuses } = await steadyLoad(worker, ids, STEADY_S);
  const ours = callsFor(10_000);
  const model = modelOriginal(trace, TTL_S * 1000, true);
  const stats = (await worker.get("/v1/stats")).body;
  result.steady = {
    seconds: STEADY_S,
    keys: KEYS,
    ttl_s: TTL_S,
    reads: trace.length,
    statuses,
    origin_calls: ours.total,
    origin_calls_per_key: ours.total / KEYS,
    model_original_calls: model.calls,
    model_original_calls_per_key: model.calls / KEYS,
    read_ms: summary(trace.map((x) => x.ms)),
    tiers: { local: stats.hits_local, kv: stats.hits_kv, origin: stats.hits_origin, coalesced: stats.coalesced },
  };
  await worker.stop();
}

// --- the same load while the origin is down (refuses), cold KV --------------
{
  const worker = await startWorker({ dir, vars: { ORIGIN_URL: proxy.url, MAP_TTL_SECS: String(TTL_S) }, label: "down" });
  proxy.setMode("refuse");
  proxy.state.byPath.clear();
  const started = performance.now();
  const { trace, statuses } = await steadyLoad(worker, ids, STEADY_S);
  const elapsed = performance.now() - started;
  proxy.setMode("pass");
  const ours = callsFor(10_000);
  const windows = backoffWindows(elapsed);
  const readsPerKey = new Map();
  for (const { id } of trace) readsPerKey.set(id, (readsPerKey.get(id) ?? 0) + 1);
  const perKeyWindow = [...ids].map((id) => (ours.perKey.get(id) ?? 0) / windows);
  const modelPerKeyWindow = [...ids].map((id) => (readsPerKey.get(id) ?? 0) / windows);
  const stats = (await worker.get("/v1/stats")).body;
  result.down = {
    seconds: STEADY_S,
    keys: KEYS,
    reads: trace.length,
    statuses,
    backoff_windows: windows,
    origin_calls: ours.total,
    calls_per_key_per_window: { max: Math.max(...perKeyWindow), mean: ours.total / KEYS / windows },
    model_original_calls: trace.length, // every read of a key with nothing cached retries the origin
    model_original_calls_per_key_per_window: { max: Math.max(...modelPerKeyWindow), mean: trace.length / KEYS / windows },
    read_ms: summary(trace.map((x) => x.ms)),
    throttled: stats.throttled,
    breaker_open: stats.breaker_open,
  };
  await worker.stop();
}

// --- stale answer latency while the origin hangs ---------------------------
{
  const SOFT_MS = 250;
  const vars = { ORIGIN_URL: proxy.url, MAP_TTL_SECS: "1", MAP_GRACE_SECS: "120", ORIGIN_SOFT_TIMEOUT_MS: String(SOFT_MS), ORIGIN_TIMEOUT_MS: "10000" };
  const worker = await startWorker({ dir, vars, label: "stale" });
  const staleIds = Array.from({ length: quick ? 3 : 7 }, (_, i) => 500 + i);
  for (const id of staleIds) {
    await origin.call("PUT", `/projects/${id}/options/k`, { value: "v1" });
    const warm = await worker.get(`/v1/projects/${id}/options`);
    if (warm.status !== 200) throw new Error(`stale warm-up: ${warm.status}`);
  }
  // KV loses its copies (as after an expiry), so a stale entry must ask the origin.
  const keysFile = `${dir}/stale-keys.json`;
  const { writeFileSync } = await import("node:fs");
  writeFileSync(keysFile, JSON.stringify(staleIds.map((id) => `map:proj:${id}`)));
  await wranglerKv(dir, "stale", ["bulk", "delete", keysFile, "--force"]);
  await sleep(1_200); // past the 1 s ttl
  const hot = [];
  proxy.setMode("hang");
  const replies = [];
  for (const id of staleIds) replies.push(await worker.get(`/v1/projects/${id}/options`));
  proxy.setMode("pass");
  for (let i = 0; i < 5; i++) hot.push((await worker.get(`/v1/projects/${staleIds[0]}/options`)).ms);
  result.stale = {
    soft_timeout_ms: SOFT_MS,
    sources: replies.map((x) => x.cache),
    all_stale: replies.every((x) => x.status === 200 && x.cache === "stale"),
    ms: summary(replies.map((x) => x.ms)),
    over_soft_ms: summary(replies.map((x) => x.ms - SOFT_MS)),
    model_original: "no soft timeout: waits for the origin's hard timeout (or hangs)",
  };
  await worker.stop();
}

await proxy.close();
console.log(JSON.stringify(result));
cleanup();
process.exit(0);
