// Item 2 (hot-path throughput) and item 4 (time to first answer), one JSON
// object on stdout. Run by bench/run; alone: node bench/js/throughput.mjs [--quick]
//
// Four Workers under `wrangler dev`, started side by side (idle ones cost
// nothing), loaded one at a time by `wrk` with the same settings, rounds
// interleaved (A B C D, A B C D, …) so noise hits all of them alike:
//   const-rust   the ceiling: a Rust Worker answering a constant
//   kv-js        a JS Worker reading KV on every request
//   edge-options the real Worker, GET /v1/options/mail.host (memory hit)
//   edge-noassets the same Worker without the root wrangler.toml's [assets]
//   npm-js       a JS Worker calling the npm package's getOption
import { execFileSync } from "node:child_process";
import { startOrigin, startWorker, tempDir, summary, cleanup, ORIGIN_TOKEN, READ } from "./stack.mjs";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 3 : 5;
const SECONDS = quick ? 3 : 8;
const CONNECTIONS = 8;

const dir = tempDir("throughput");
const origin = await startOrigin(dir);
await origin.call("PUT", "/options/mail.host", { value: "smtp.example.com" });

const common = { ORIGIN_URL: origin.url };
const specs = [
  { name: "const-rust", config: "bench/workers/const-rust/wrangler.toml", path: "/", readyPath: "/" },
  { name: "kv-js", config: "bench/workers/kv-js/wrangler.toml", path: "/mail.host", readyPath: "/mail.host", vars: { ...common, ORIGIN_TOKEN } },
  { name: "edge-options", config: "wrangler.toml", path: "/v1/options/mail.host", readyPath: "/v1/options/mail.host", vars: common },
  { name: "edge-noassets", config: "bench/workers/edge-noassets/wrangler.toml", path: "/v1/options/mail.host", readyPath: "/v1/options/mail.host", vars: common },
  { name: "npm-js", config: "bench/workers/npm-js/wrangler.toml", path: "/mail.host", readyPath: "/mail.host", vars: { ...common, ORIGIN_TOKEN } },
];

const workers = {};
const start = {};
for (const spec of specs) {
  const w = await startWorker({ config: spec.config, dir, vars: spec.vars ?? {}, readyPath: spec.readyPath, label: spec.name });
  start[spec.name] = { startMs: w.startMs, firstMs: w.firstMs };
  const check = await w.get(spec.path);
  if (check.status !== 200) throw new Error(`${spec.name}: ${spec.path} answered ${check.status}: ${JSON.stringify(check.body)}`);
  workers[spec.name] = { spec, worker: w, first: check.body };
}
// The edge-options answer must be a memory hit with the stored value.
const hot = await workers["edge-options"].worker.get("/v1/options/mail.host");
if (hot.cache !== "local" || hot.body.value !== "smtp.example.com") throw new Error(`edge-options not hot: ${JSON.stringify(hot)}`);

function wrk(url) {
  const out = execFileSync(
    "wrk",
    ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-H", `Authorization: Bearer ${READ}`, url],
    { encoding: "utf8", timeout: (SECONDS + 30) * 1000 },
  );
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const pct = (p) => {
    const m = out.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`));
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/);
  const socket = out.match(/Socket errors: (.*)/);
  return { rps, p50: pct(50), p99: pct(99), non2xx: errors ? Number(errors[1]) : 0, socketErrors: socket ? socket[1] : null };
}

// Warm-up: one short run each (JIT, connection pools).
for (const { spec, worker } of Object.values(workers)) {
  execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, "-d1s", "-H", `Authorization: Bearer ${READ}`, worker.url + spec.path], { stdio: "ignore" });
}
const rounds = Object.fromEntries(specs.map((s) => [s.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const { spec, worker } of Object.values(workers)) rounds[spec.name].push(wrk(worker.url + spec.path));
}
const after = await workers["edge-options"].worker.get("/v1/stats");

const result = { settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, threads: 1 }, workers: {}, ratios: {} };
for (const [name, runs] of Object.entries(rounds)) {
  result.workers[name] = {
    rps: summary(runs.map((x) => x.rps)),
    p50_ms: summary(runs.map((x) => x.p50)),
    p99_ms: summary(runs.map((x) => x.p99)),
    non2xx: runs.reduce((a, x) => a + x.non2xx, 0),
    socketErrors: runs.map((x) => x.socketErrors).filter(Boolean),
    start: start[name],
  };
}
const perRound = (a, b, f) => summary(rounds[a].map((x, i) => f(x) / f(rounds[b][i])));
for (const name of ["edge-options", "edge-noassets", "kv-js", "npm-js"]) {
  result.ratios[`${name}_vs_const_rps`] = perRound(name, "const-rust", (x) => x.rps);
  result.ratios[`${name}_vs_const_p50`] = perRound(name, "const-rust", (x) => x.p50);
  result.ratios[`${name}_vs_const_p99`] = perRound(name, "const-rust", (x) => x.p99);
}
result.ratios["edge-options_vs_kv-js_rps"] = perRound("edge-options", "kv-js", (x) => x.rps);
result.edgeStats = { hits_local: after.body.hits_local, hits_kv: after.body.hits_kv, hits_origin: after.body.hits_origin, misses: after.body.misses };
console.log(JSON.stringify(result));
cleanup();
process.exit(0);
