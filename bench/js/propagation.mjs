// Propagation (issue 13): how long a write takes to reach four isolates,
// one JSON object on stdout; `--render <file>` prints its table. Run by
// `bench/run --propagation`; alone:
//   node bench/js/propagation.mjs [--quick]
//
// Four `wrangler dev` processes of the same build (each its own isolate,
// one shared --persist-to folder, so one local KV), the first running the
// beacon Worker beside it (it defines the version beacon, BEACON), all four
// binding it with `script_name`, the other three through a private local
// dev registry (WRANGLER_REGISTRY_PATH), plus the
// reference origin. Each round primes all four isolates on an option (it is
// fresh in each isolate's memory), writes it — through isolate 1, or
// straight at the origin — and reads all four every 25 ms until each
// answers the new version: the time from the write's answer to the last
// isolate answering it. The same stack with the beacon off
// (BEACON_CHECK_MS=0: today's behaviour, the 10 s memory ttl, and for
// origin-side writes KV's copy until the sync job) is the baseline, its
// waits capped. Then beacon requests per isolate-second under read load,
// from the object's own counters (GET /v1/admin/beacon).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN, READ, call, cleanup, root, sleep, startOrigin, startWorker, stop, tempDir } from "./stack.mjs";
import { f } from "./format.mjs";


/** p-th percentile (nearest rank) of `xs`. */
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** The repository's wrangler.toml for an isolate that reaches the beacon Worker run beside the first (its binding names it). */
function bindingConfig(dir, n) {
  let section = "";
  const lines = [];
  for (const line of readFileSync(join(root, "wrangler.toml"), "utf8").split("\n")) {
    if (line.startsWith("[")) section = line.trim();
    if (section === "[build]") continue;
    const t = line.trim();
    if (section === "" && t.startsWith("name = ")) lines.push(`name = "edge-options-isolate-${n}"`);
    else if (t === 'main = "build/index.js"') lines.push(`main = ${JSON.stringify(join(root, "build/index.js"))}`);
    else if (t === 'directory = "www"') lines.push(`directory = ${JSON.stringify(join(root, "www"))}`);
    else lines.push(line);
  }
  const path = join(dir, `wrangler-isolate-${n}.toml`);
  writeFileSync(path, lines.join("\n"));
  return path;
}

async function fourIsolates(dir, originUrl, vars, label) {
  const env = { WRANGLER_REGISTRY_PATH: join(dir, `registry-${label}`) };
  const common = { dir, vars: { ORIGIN_URL: originUrl, ...vars }, state: label, env };
  const isolates = [await startWorker({ ...common, label: `${label}-1` })];
  for (let n = 2; n <= 4; n++) isolates.push(await startWorker({ ...common, config: bindingConfig(dir, n), label: `${label}-${n}` }));
  return isolates;
}

const versionOf = async (isolate, name) => (await isolate.get(`/v1/options/${name}`)).body?.version ?? 0;

/** Ms from now until every isolate answers `version` of `name` (or `capMs`, marked capped). */
async function timeToAll(isolates, name, version, capMs) {
  const started = performance.now();
  let pending = isolates;
  while (pending.length > 0) {
    const seen = await Promise.all(pending.map((i) => versionOf(i, name)));
    pending = pending.filter((_, k) => seen[k] < version);
    const ms = performance.now() - started;
    if (pending.length > 0 && ms > capMs) return { ms: capMs, capped: true };
    if (pending.length > 0) await sleep(25);
  }
  return { ms: performance.now() - started, capped: false };
}

async function rounds(isolates, origin, n, capMs) {
  const out = { edge: [], origin: [] };
  const names = ["mail.host", "mail.from"];
  for (let r = 0; r < n; r++) {
    for (const kind of ["edge", "origin"]) {
      const name = names[kind === "edge" ? 0 : 1];
      for (const i of isolates) await i.get(`/v1/options/${name}`);
      const value = `${kind}-${r}-${Date.now()}`;
      const wrote = kind === "edge"
        ? await isolates[0].put(`/v1/options/${name}`, { value })
        : await origin.call("PUT", `/options/${name}`, { value });
      if (wrote.status !== 200) throw new Error(`${kind} write: ${wrote.status} ${JSON.stringify(wrote.body)}`);
      out[kind].push(await timeToAll(isolates, name, wrote.body.version, capMs));
    }
  }
  return out;
}

async function beaconLoad(isolates, seconds) {
  const stats = async () => (await call("GET", `${isolates[0].url}/v1/admin/beacon`, { token: ADMIN })).body;
  const before = await stats();
  const until = performance.now() + seconds * 1000;
  let reads = 0;
  await Promise.all(isolates.map(async (i) => {
    while (performance.now() < until) {
      await i.get("/v1/options/mail.host", READ);
      reads++;
    }
  }));
  const after = await stats();
  const checks = after.requests.changes - before.requests.changes;
  // How long a check takes (each isolate's last): what a request awaiting one would wait.
  const check_ms = [];
  for (const i of isolates) check_ms.push((await i.get("/v1/stats")).body?.beacon?.last_check_ms);
  return { seconds, reads, checks, per_isolate_second: checks / (isolates.length * seconds), check_ms };
}

async function measure(quick) {
  const dir = tempDir("propagation");
  const origin = await startOrigin(dir);
  const result = { quick, rounds: quick ? 3 : 10, cap_ms: quick ? 12_000 : 15_000 };
  const on = await fourIsolates(dir, origin.url, {}, "on");
  result.on = await rounds(on, origin, result.rounds, result.cap_ms);
  result.load = await beaconLoad(on, quick ? 3 : 10);
  for (const i of on) await stop(i.child);
  const off = await fourIsolates(dir, origin.url, { BEACON_CHECK_MS: "0" }, "off");
  result.off = await rounds(off, origin, quick ? 2 : 3, result.cap_ms);
  for (const i of off) await stop(i.child);
  return result;
}

/** The section's lines (markdown). */
export function propagationSection(r) {
  const cell = (xs) => {
    const ms = xs.map((x) => x.ms);
    const capped = xs.filter((x) => x.capped).length;
    const c = capped ? ` (${capped} of ${xs.length} not within ${f(r.cap_ms / 1000)} s)` : "";
    return `${f(pct(ms, 50))} | ${f(pct(ms, 99))}${c}`;
  };
  return [
    "## 9. Propagation: write to all four isolates",
    "",
    "Four `wrangler dev` isolates of one build sharing local KV, the version beacon in the first, the reference origin.",
    "Each round primes the option in every isolate's memory, writes it, then reads all four every 25 ms: ms from the",
    `write's answer until the last isolate answers the new version (p50 | p99 over ${r.on.edge.length} rounds with the beacon,`,
    `${r.off.edge.length} without; waits capped at ${f(r.cap_ms / 1000)} s). Without the beacon (\`BEACON_CHECK_MS=0\`) an isolate waits for its`,
    "memory ttl (10 s), then KV; a write straight at the origin reaches KV only through the sync job (every 10 minutes).",
    "",
    "| write | beacon on: p50 ms | p99 ms | beacon off: p50 ms | p99 ms |",
    "|---|---|---|---|---|",
    `| through isolate 1 | ${cell(r.on.edge)} | ${cell(r.off.edge)} |`,
    `| straight at the origin | ${cell(r.on.origin)} | ${cell(r.off.origin)} |`,
    "",
    `Beacon load: ${f(r.load.reads)} reads in ${f(r.load.seconds)} s over four isolates made ${f(r.load.checks)} beacon checks:`,
    `**${f(r.load.per_isolate_second, 2)} beacon requests per isolate-second** (at most 2 at \`BEACON_CHECK_MS=500\`), none on a read's path.`,
    ...(r.load.check_ms ? ["", `One check (each isolate's last, under that load) took ${r.load.check_ms.map((ms) => f(ms)).join(", ")} ms from start to answer.`] : []),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--render");
  if (at > 0) {
    console.log(propagationSection(JSON.parse(readFileSync(process.argv[at + 1], "utf8"))).join("\n"));
  } else {
    try {
      console.log(JSON.stringify(await measure(process.argv.includes("--quick"))));
    } finally {
      cleanup();
    }
  }
}
