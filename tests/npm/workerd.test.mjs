// The npm package inside a real Worker: a consumer Worker that imports
// "edge-options" (exports condition "workerd", no init call) runs under
// `wrangler dev` with a local KV binding, against the REAL reference origin.
// One module-global Store serves every request of the isolate.
// Run: scripts/build-npm && cargo build -p edge-options-origin && node --test tests/npm/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TOKEN, WRANGLER, startOrigin, originPut, skipUnless, installPackage, killAll, startWrangler } from "./support.mjs";

const tmp = mkdtempSync(join(tmpdir(), "edge-options-npm-workerd-"));
const children = [];
let origin;
let worker;

const WORKER_JS = `
import { Store } from "edge-options";

let store; // one per isolate, reused across requests

export default {
  async fetch(request, env, ctx) {
    store ??= new Store({
      kv: env.CACHE,
      origin: { url: env.ORIGIN_URL, token: env.ORIGIN_TOKEN, timeoutMs: 2000 },
      config: { "mail.from": "config@example.com" },
    });
    const url = new URL(request.url);
    const json = () => request.json();
    try {
      if (url.pathname === "/stats") return Response.json(store.stats());
      if (url.pathname === "/sync") return Response.json(await store.sync());
      const m = url.pathname.match(/^\\/projects\\/(\\d+)\\/(options|ownership|owners|last-processed)(?:\\/(.+))?$/);
      if (m) {
        const [, project, what, key] = m;
        if (what === "options" && request.method === "PUT")
          return Response.json(await store.setMapKey({ project }, key, (await json()).value));
        if (what === "options") return Response.json(await store.getMapKey({ project }, key, ctx));
        if (what === "ownership" && request.method === "PUT") return Response.json(await store.putOwnership(project, await json()));
        if (what === "ownership" && request.method === "DELETE") return Response.json(await store.deleteOwnership(project));
        if (what === "ownership") return Response.json(await store.getOwnership(project, ctx));
        if (what === "owners") return Response.json(await store.owners(project, await json(), ctx));
        if (request.method === "POST") {
          const { hashIds, eventId } = await json();
          return Response.json(await store.recordLastProcessed(project, hashIds, eventId));
        }
        return Response.json(await store.lastProcessed(project, url.searchParams.get("ids").split(",").map(Number)));
      }
      const name = url.pathname.replace(/^\\/options\\//, "");
      if (request.method === "PUT") return Response.json(await store.setOption(name, (await json()).value));
      if (request.method === "DELETE") return Response.json(await store.deleteOption(name));
      return Response.json(await store.getOption(name, ctx));
    } catch (e) {
      return Response.json({ error: { code: e.code, message: e.message } }, { status: e.status ?? 500 });
    }
  },
};
`;

async function startWorker(originUrl) {
  const dir = join(tmp, "consumer");
  installPackage(dir, tmp);
  writeFileSync(join(dir, "worker.js"), WORKER_JS);
  writeFileSync(
    join(dir, "wrangler.toml"),
    `name = "edge-options-npm-consumer"\nmain = "worker.js"\ncompatibility_date = "2025-04-01"\n` +
      `[[kv_namespaces]]\nbinding = "CACHE"\nid = "npm-consumer-local"\n` +
      `[vars]\nORIGIN_URL = "${originUrl}"\nORIGIN_TOKEN = "${TOKEN}"\n`,
  );
  return startWrangler({ cwd: dir, args: ["--persist-to", join(tmp, "state")], readyPath: "/stats", children, timeoutMs: 90_000 });
}

const skip = skipUnless(!existsSync(WRANGLER), "wrangler is not installed (npm ci)");

before(async () => {
  if (skip) return;
  origin = await startOrigin(join(tmp, "o.sqlite3"));
  worker = await startWorker(origin.url);
});
after(async () => {
  killAll(children);
  await origin?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function call(method, path, body) {
  const r = await fetch(`${worker.base}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { "content-type": "application/json" },
  });
  return { status: r.status, body: await r.json() };
}

test("the package works inside workerd: module-global Store, KV binding, origin over fetch", { skip }, async () => {
  const unset = await call("GET", "/options/mail.host");
  assert.equal(unset.status, 200, JSON.stringify(unset.body) + worker.output().slice(-2000));
  assert.equal(unset.body.source, "default");
  assert.equal(unset.body.value, "localhost");

  const cfg = await call("GET", "/options/mail.from");
  assert.equal(cfg.body.source, "config");

  const set = await call("PUT", "/options/mail.host", { value: "smtp.example.com" });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.cacheUpdated, true);

  const local = await call("GET", "/options/mail.host");
  assert.equal(local.body.source, "local", "the Store outlived the request that built it");
  assert.equal(local.body.value, "smtp.example.com");

  const bad = await call("PUT", "/options/mail.port", { value: "twenty-five" });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "invalid_type");
  const immutable = await call("PUT", "/options/system.install-id", { value: "x" });
  assert.equal(immutable.body.error.code, "immutable");

  const del = await call("DELETE", "/options/mail.host");
  assert.equal(del.status, 200);
  assert.equal((await call("GET", "/options/mail.host")).body.value, "localhost");
});

test("30 concurrent cold reads from separate requests: one origin call, every request answered", { skip }, async () => {
  // Written behind the edge (straight to the origin): not in isolate memory, not in KV.
  await originPut(origin.url, "/options/system.rate-limit", { value: 7 });
  const before = (await call("GET", "/stats")).body;
  const answers = await Promise.all(Array.from({ length: 30 }, () => call("GET", "/options/system.rate-limit")));
  for (const a of answers) {
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.body.value, 7);
  }
  const stats = (await call("GET", "/stats")).body;
  const delta = (k) => stats[k] - before[k];
  assert.equal(delta("hitsOrigin"), 1, JSON.stringify(stats));
  assert.equal(delta("hitsOrigin") + delta("hitsKv") + delta("hitsLocal") + delta("coalesced") >= 30, true, JSON.stringify(stats));
  assert.equal(stats.inFlight, 0);
});

test("maps, ownership and last processed events from a Worker: writes, hit tiers, owners", { skip }, async () => {
  const set = await call("PUT", "/projects/42/options/retention", { value: 30 });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.cacheUpdated, true);
  const read = await call("GET", "/projects/42/options/retention");
  assert.deepEqual(read.body, { key: "retention", value: 30, source: "local", version: set.body.version });

  const none = await call("GET", "/projects/42/ownership");
  assert.deepEqual(none.body, { ownership: null, source: "origin" });
  assert.deepEqual((await call("GET", "/projects/42/ownership")).body, { ownership: null, source: "local" }, "absence cached");

  const bad = await call("PUT", "/projects/42/ownership", { raw: "path:*.py" });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "invalid_rules");
  const put = await call("PUT", "/projects/42/ownership", { raw: "path:src/api/* #backend\nurl:*/admin/* ops@example.com", autoAssignment: true });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.schema.rules.length, 2);
  const owners = await call("POST", "/projects/42/owners", {
    stacktrace: { frames: [{ filename: "src/api/views.py" }] },
    request: { url: "https://example.com/admin/users" },
  });
  assert.equal(owners.status, 200, JSON.stringify(owners.body));
  assert.deepEqual(owners.body.owners, [
    { type: "team", identifier: "backend" },
    { type: "user", identifier: "ops@example.com" },
  ]);
  assert.deepEqual(owners.body.autoAssign, { type: "user", identifier: "ops@example.com" });
  assert.equal(owners.body.source, "local");

  const recorded = await call("POST", "/projects/42/last-processed", { hashIds: [5, 6], eventId: "abc123" });
  assert.deepEqual(recorded.body, { recorded: 2 });
  const found = await call("GET", "/projects/42/last-processed?ids=6,7,5");
  assert.deepEqual(found.body, { eventIds: ["abc123", null, "abc123"] });

  const stats = (await call("GET", "/stats")).body;
  assert.ok(stats.hitsLocal >= 3 && stats.negativeHits >= 1, JSON.stringify(stats));
});

test("sync inside workerd reads the page's keys with the KV binding's bulk get", { skip }, async () => {
  for (const [name, value] of [["mail.subject-prefix", "[w] "], ["mail.from", "w@example.com"], ["mail.port", 2626]]) {
    await originPut(origin.url, `/options/${name}`, { value });
  }
  const sync = await call("POST", "/sync");
  assert.equal(sync.status, 200, JSON.stringify(sync.body));
  const report = sync.body;
  assert.ok(report.synced >= 3 && report.failed === 0 && !report.more, JSON.stringify(report));
  // The cursor's read and save, ONE read for the page's keys, one write per
  // change: reading key by key would cost one more operation per key. And
  // the last-known-good snapshot: its head read (none yet), then a new
  // snapshot's one part and its head written.
  assert.equal(report.kvOps, report.synced + 3 + 3, JSON.stringify(report));
  assert.equal(report.originCalls, 1);
  const again = (await call("POST", "/sync")).body;
  // Nothing new: the cursor and the snapshot (head and part) read, the head rewritten.
  assert.deepEqual([again.synced, again.kvOps, again.more], [0, 4, false], JSON.stringify(again));
});
