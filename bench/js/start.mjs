// Item 4 (start): the first answer of a new isolate, repeated for a median
// and its spread; one JSON object on stdout. Run by bench/run (and
// bench/run --lean); alone: node bench/js/start.mjs [--quick] [--no-npm]
//
// Each start spawns `wrangler dev` for one Worker, waits for wrangler's
// "Ready on" (its runtime has loaded the Worker: wrangler's own start is
// excluded), then times the Worker's first answer, then one more request.
// Starts are interleaved (A B C …, A B C …) so a noisy moment hits every
// Worker alike; a ratio is taken per round against the constant Worker's
// start of the same round.
//
// What each first request is:
//   const-rust     `/`: the constant answer (the ceiling: workers-rs alone)
//   edge-options   `/healthz`: builds the isolate's whole state (settings,
//                  registry, config, caches) and answers without I/O; then
//                  `/v1/options/mail.host`, the hot path's first read (KV or
//                  origin: I/O any first read of a key does)
//   edge-noassets  the same without `[assets]` in wrangler.toml
//   kv-js, npm-js  `/mail.host` (a KV read; the npm package's getOption)
import { startOrigin, startWorker, tempDir, summary, cleanup, ORIGIN_TOKEN } from "./stack.mjs";

const quick = process.argv.includes("--quick");
// --no-npm: skip the npm-js Worker (bench/run --lean does not build the package).
const withNpm = !process.argv.includes("--no-npm");
const STARTS = quick ? 3 : 7;

const dir = tempDir("start");
const origin = await startOrigin(dir);
await origin.call("PUT", "/options/mail.host", { value: "smtp.example.com" });
const common = { ORIGIN_URL: origin.url };

const specs = [
  { name: "const-rust", config: "bench/workers/const-rust/wrangler.toml", first: "/", then: "/" },
  { name: "edge-options", config: "wrangler.toml", first: "/healthz", then: "/v1/options/mail.host", vars: common },
  { name: "edge-noassets", config: "bench/workers/edge-noassets/wrangler.toml", first: "/healthz", then: "/v1/options/mail.host", vars: common },
  { name: "kv-js", config: "bench/workers/kv-js/wrangler.toml", first: "/mail.host", then: "/mail.host", vars: { ...common, ORIGIN_TOKEN } },
  { name: "npm-js", config: "bench/workers/npm-js/wrangler.toml", first: "/mail.host", then: "/mail.host", vars: { ...common, ORIGIN_TOKEN } },
].filter((s) => withNpm || s.name !== "npm-js");

const runs = Object.fromEntries(specs.map((s) => [s.name, []]));
for (let round = 0; round < STARTS; round++) {
  for (const spec of specs) {
    const w = await startWorker({
      config: spec.config,
      dir,
      vars: spec.vars ?? {},
      readyPath: spec.first,
      label: `${spec.name}-${round}`,
      waitReady: true,
    });
    const then = await w.get(spec.then);
    if (then.status !== 200) throw new Error(`${spec.name}: ${spec.then} answered ${then.status}: ${JSON.stringify(then.body)}`);
    runs[spec.name].push({ readyMs: w.readyMs, firstMs: w.firstMs, thenMs: then.ms, thenCache: then.cache });
    await w.stop();
  }
}

const result = { settings: { starts: STARTS }, workers: {}, ratios: {} };
for (const spec of specs) {
  const xs = runs[spec.name];
  result.workers[spec.name] = {
    first: spec.first,
    then: spec.then,
    ready_ms: summary(xs.map((x) => x.readyMs)),
    first_ms: summary(xs.map((x) => x.firstMs)),
    then_ms: summary(xs.map((x) => x.thenMs)),
    then_cache: xs.map((x) => x.thenCache),
  };
}
const perRound = (a, b, f) => summary(runs[a].map((x, i) => f(x, runs[b][i])));
for (const { name } of specs.filter((s) => s.name !== "const-rust")) {
  result.ratios[`${name}_vs_const_first`] = perRound(name, "const-rust", (x, y) => x.firstMs / y.firstMs);
}
// What `[assets]` costs the first answer: the same build with and without it.
result.assets_first_ms = perRound("edge-options", "edge-noassets", (x, y) => x.firstMs - y.firstMs);
console.log(JSON.stringify(result));
cleanup();
process.exit(0);
