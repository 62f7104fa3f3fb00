// The npm package beyond single options: option maps per scope, project
// ownership (negative cache, rules errors, owners of events), last processed
// events, sync, the registry listing, and the stale paths (grace, soft
// timeout) — against the REAL reference origin, with an in-memory KV.
// Run: scripts/build-npm && cargo build -p edge-options-origin && node --test tests/npm/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, TOKEN, startOrigin, startProxy, memoryKv, rejectsWith, originStats, originPut, sleep } from "./support.mjs";

const { Store } = await import(join(root, "npm", "dist", "node.js"));
const tmp = mkdtempSync(join(tmpdir(), "edge-options-npm-scopes-"));
const stops = [];
let origin;

before(async () => {
  origin = await startOrigin(join(tmp, "shared.sqlite3"));
  stops.push(origin.stop);
});
after(async () => {
  await Promise.all(stops.map((stop) => stop()));
  rmSync(tmp, { recursive: true, force: true });
});

const storeOn = (kv, url = origin.url, settings = {}) =>
  new Store({ kv, origin: { url, token: TOKEN, timeoutMs: 2000 }, settings });

test("option maps: set, read from memory and KV, unset; scopes never share values", async () => {
  const kv = memoryKv();
  const store = storeOn(kv);
  const empty = await store.getMap({ organization: 101 });
  assert.deepEqual(empty.values, {});
  assert.equal(empty.source, "origin");

  const set = await store.setMapKey({ organization: 101 }, "sampling", { rate: 0.5 });
  assert.deepEqual(Object.keys(set).sort(), ["cacheUpdated", "key", "value", "version"]);
  assert.equal(set.cacheUpdated, true);
  assert.deepEqual(set.value, { rate: 0.5 });

  const local = await store.getMapKey({ organization: 101 }, "sampling");
  assert.deepEqual(local, { key: "sampling", value: { rate: 0.5 }, source: "local", version: set.version });
  const unset = await store.getMapKey({ organization: 101 }, "nothing-here");
  assert.equal(unset.value, null);

  const fromKv = await storeOn(kv).getMap({ organization: 101 });
  assert.equal(fromKv.source, "kv");
  assert.deepEqual(fromKv.values, { sampling: { rate: 0.5 } });

  // Same id, other scopes: nothing shared, in memory, in KV or at the origin.
  await store.setMapKey({ user: 101 }, "theme", "dark");
  await store.setMapKey({ user: 101, project: 7 }, "theme", "light");
  for (const scope of [{ project: 101 }, { user: 101, organization: 101 }]) {
    assert.deepEqual((await store.getMap(scope)).values, {}, JSON.stringify(scope));
  }
  assert.equal((await store.getMapKey({ user: 101 }, "theme")).value, "dark");
  assert.equal((await store.getMapKey({ user: 101, project: 7 }, "theme")).value, "light");
  assert.equal((await store.getMapKey({ user: "101", project: 7n }, "theme")).value, "light", "ids as strings and bigints");

  const gone = await store.deleteMapKey({ organization: 101 }, "sampling");
  assert.ok(gone.version > set.version);
  assert.deepEqual((await store.getMap({ organization: 101 })).values, {});
  assert.deepEqual((await storeOn(kv).getMap({ organization: 101 })).values, {}, "KV learned the unset");
});

test("bad scopes, ids and map values are Errors with the HTTP API's codes", async () => {
  const store = storeOn(memoryKv());
  await rejectsWith(store.getMap({ user: 1, project: 2, organization: 3 }), "invalid_scope");
  await rejectsWith(store.getMap({ project: 2, organization: 3 }), "invalid_scope");
  await rejectsWith(store.getMap({}), "invalid_scope");
  await rejectsWith(store.getMap(null), "invalid_scope");
  await rejectsWith(store.getMap("organization 1"), "invalid_scope");
  for (const bad of [0, -1, 1.5, 2 ** 53, "12abc", "", "99999999999999999999", NaN, {}]) {
    await rejectsWith(store.getMap({ organization: bad }), "invalid_id");
    await rejectsWith(store.getOwnership(bad), "invalid_id");
  }
  await rejectsWith(store.setMapKey({ project: 1 }, "k", null), "invalid_type");
  await rejectsWith(store.setMapKey({ project: 1 }, "k", undefined), "invalid_type");
  await rejectsWith(store.setMapKey({ project: 1 }, 42, "v"), "invalid_body");
  await rejectsWith(store.setMapKey({ project: 1 }, "", "v"), "invalid_body");
  // The largest id the origin stores, as a string: accepted.
  const big = await store.getMap({ project: "9223372036854775807" });
  assert.deepEqual(big.values, {});
});

test("ownership: absence is cached (one origin call), then put, owners, delete", async () => {
  const kv = memoryKv();
  const store = storeOn(kv);
  const route = "GET /projects/{id}/ownership";
  const calls = async () => (await originStats(origin.url)).by_route[route] ?? 0;

  const before = await calls();
  const none = await store.getOwnership(501);
  assert.deepEqual(none, { ownership: null, source: "origin" });
  const again = await store.getOwnership(501);
  assert.deepEqual(again, { ownership: null, source: "local" });
  const viaOwners = await store.owners(501, { stacktrace: { frames: [{ filename: "src/app.py" }] } });
  assert.equal(viaOwners.owners, "everyone", "no rules and fallthrough: everyone");
  assert.equal(viaOwners.source, "local");
  assert.equal(await calls(), before + 1, "a project without ownership cost the origin one call");

  const raw = "# routing\npath:src/billing/* #billing alice@example.com\nurl:*/checkout/* #payments\ntags.service:api* bob@example.com #billing";
  const put = await store.putOwnership(501, { raw, autoAssignment: true });
  assert.equal(put.raw, raw);
  assert.equal(put.fallthrough, true);
  assert.equal(put.autoAssignment, true);
  assert.equal(put.isActive, true);
  assert.equal(put.cacheUpdated, true);
  assert.equal(put.schema.rules.length, 3);
  assert.deepEqual(put.schema.rules[0].matcher, { type: "path", pattern: "src/billing/*" });

  const event = {
    exception: { values: [{ stacktrace: { frames: [{ filename: "SRC/Billing/invoice.py" }] } }] },
    request: { url: "https://shop.example.com/checkout/pay" },
    tags: [["service", "api-gateway"]],
  };
  const owners = await store.owners(501, event);
  assert.equal(owners.source, "local");
  assert.deepEqual(owners.owners, [
    { type: "team", identifier: "billing" },
    { type: "user", identifier: "alice@example.com" },
    { type: "team", identifier: "payments" },
    { type: "user", identifier: "bob@example.com" },
  ]);
  assert.equal(owners.rules.length, 3);
  assert.deepEqual(owners.autoAssign, { type: "user", identifier: "bob@example.com" }, "first owner of the last matching rule");
  const nobody = await store.owners(501, { tags: { service: "web" } });
  assert.equal(nobody.owners, "everyone");
  assert.equal(nobody.autoAssign, null);

  const read = await storeOn(kv).getOwnership(501);
  assert.equal(read.source, "kv");
  assert.equal(read.ownership.raw, raw);
  assert.equal(read.ownership.autoAssignment, true);

  const deleted = await store.deleteOwnership(501);
  assert.ok(Number.isInteger(deleted.version) && deleted.version > 0, JSON.stringify(deleted));
  assert.deepEqual(deleted, { version: deleted.version, cacheUpdated: true });
  assert.deepEqual(await store.getOwnership(501), { ownership: null, source: "local" });
  assert.equal((await storeOn(kv).getOwnership(501)).ownership, null, "KV caches the absence");
});

test("ownership: grammar errors name the line and column; nothing reaches the origin", async () => {
  const store = storeOn(memoryKv());
  await store.putOwnership(502, { raw: "path:*.py #python" });
  const bad = store.putOwnership(502, { raw: "path:*.py #python\nnot-a-matcher:x #team" });
  await assert.rejects(bad, (e) => {
    assert.equal(e.code, "invalid_rules");
    assert.match(e.message, /line 2, column 1:/);
    assert.deepEqual([e.line, e.column], [2, 1], "where, as fields");
    return true;
  });
  assert.equal((await store.getOwnership(502)).ownership.raw, "path:*.py #python", "the old rules stand");
  await rejectsWith(store.putOwnership(502, { raw: 42 }), "invalid_body");
  await rejectsWith(store.putOwnership(502, { raw: "", fallthrough: "yes" }), "invalid_body");
  await rejectsWith(store.putOwnership(502, null), "invalid_body");
  await rejectsWith(store.owners(502, undefined), "invalid_body");
});

test("last processed events: aligned answers, null for unknown, same-second repeats cost no KV write", async () => {
  const kv = memoryKv();
  const store = storeOn(kv);
  assert.deepEqual(await store.recordLastProcessed(9, [11, 12], "ev-1"), { recorded: 2 });
  const puts = kv.calls.put;
  assert.deepEqual(await store.recordLastProcessed(9, [11, 12], "ev-1"), { recorded: 2 });
  assert.equal(kv.calls.put, puts, "the same record in the same second is not written again");
  assert.ok(kv.puts.at(-1).options.expirationTtl >= 60, "records expire");

  const found = await store.lastProcessed(9, [12, 13, 11, "12"]);
  assert.deepEqual(found, { eventIds: ["ev-1", null, "ev-1", "ev-1"] });
  assert.deepEqual(await store.lastProcessed(10, [11]), { eventIds: [null] }, "projects do not share hashes");

  await rejectsWith(store.lastProcessed(9, "11,12"), "invalid_body");
  await rejectsWith(store.lastProcessed(9, [0]), "invalid_id");
  await rejectsWith(store.lastProcessed(9, [1.5]), "invalid_id");
  await rejectsWith(store.recordLastProcessed(9, [1], 42), "invalid_body");
  kv.failing = true;
  await rejectsWith(store.recordLastProcessed(9, [14], "ev-2"), "unavailable");
  await rejectsWith(store.lastProcessed(9, [11]), "unavailable");
});

test("sync re-writes into KV what was written behind the edge", async () => {
  await originPut(origin.url, "/options/mail.subject-prefix", { value: "[synced] " });
  await originPut(origin.url, "/projects/601/options/retention", { value: 30 });
  const kv = memoryKv();
  const report = await storeOn(kv).sync();
  assert.ok(report.options >= 1 && report.maps >= 1, JSON.stringify(report));
  assert.equal(report.failed, 0);
  assert.equal(report.synced, report.options + report.maps + report.ownership);
  assert.deepEqual(
    Object.keys(report).sort(),
    ["cursor", "failed", "kvOps", "maps", "more", "options", "originCalls", "ownership", "problems", "skipped", "synced", "unreadable"],
  );

  // A new store on that KV finds both in KV, without asking the origin.
  const reader = storeOn(kv);
  const option = await reader.getOption("mail.subject-prefix");
  assert.equal(option.source, "kv");
  assert.equal(option.value, "[synced] ");
  assert.deepEqual((await reader.getMap({ project: 601 })).values, { retention: 30 });
});

/** Runs `store.sync()` until it says nothing is left; answers every report. */
async function syncToTheEnd(store) {
  const reports = [];
  for (;;) {
    const report = await store.sync();
    reports.push(report);
    if (!report.more) return reports;
    assert.ok(reports.length < 50, "the sync never ends");
  }
}

for (const bulk of [true, false]) {
  test(`sync stays within SYNC_MAX_KV_OPS and resumes from its cursor in KV (${bulk ? "bulk get" : "no bulk get"})`, async () => {
    const own = await startOrigin(join(tmp, `budget-${bulk}.sqlite3`));
    stops.push(own.stop);
    for (let i = 0; i < 12; i++) await originPut(own.url, `/options/npm.sync.${i}`, { value: i });
    const kv = memoryKv({ bulk });
    const settings = { LEGACY_PREFIXES: "npm.", SYNC_MAX_KV_OPS: 6, SYNC_MAX_ORIGIN_CALLS: 2 };
    const store = storeOn(kv, own.url, settings);
    const counted = () => kv.calls.get + kv.calls.bulkGet + kv.calls.put + kv.calls.delete;

    const reports = [];
    for (;;) {
      const before = counted();
      const report = await store.sync();
      assert.equal(report.kvOps, counted() - before, "the report counts every KV call the binding saw");
      assert.ok(report.kvOps <= 6 && report.originCalls <= 2, JSON.stringify(report));
      reports.push(report);
      if (!report.more) break;
      assert.ok(reports.length < 30, "the sync never ends");
    }
    assert.ok(reports.length >= 3, `12 changes cannot fit in fewer runs of 6 operations: ${reports.length}`);
    assert.equal(reports.reduce((n, r) => n + r.synced, 0), 12, "each change written once");
    assert.equal(reports.at(-1).cursor, 12);
    assert.ok(kv.data.has("sync:cursor"), "the cursor lives in KV");
    if (bulk) assert.ok(kv.calls.bulkGet >= reports.length, "the binding's bulk get was used");
    else assert.equal(kv.calls.bulkGet, 0);

    const reader = storeOn(kv, own.url, { LEGACY_PREFIXES: "npm." });
    for (let i = 0; i < 12; i++) {
      const read = await reader.getOption(`npm.sync.${i}`);
      assert.deepEqual([read.value, read.source], [i, "kv"]);
    }

    // A second full pass (the cursor lost) writes nothing new.
    kv.data.set("sync:cursor", "garbage");
    const puts = kv.calls.put;
    const again = await syncToTheEnd(storeOn(kv, own.url, settings));
    assert.equal(again.reduce((n, r) => n + r.synced, 0), 0);
    assert.equal(again.reduce((n, r) => n + r.skipped, 0), 12);
    assert.ok(again[0].problems.some((p) => p.includes("cursor")), JSON.stringify(again[0]));
    assert.equal(kv.calls.put - puts, again.filter((r) => r.cursor > 0).length, "only cursors were written");
  });
}

test("listOptions: the registry with types, defaults, flags, ttl and grace", () => {
  const list = storeOn(memoryKv()).listOptions();
  assert.ok(list.length >= 20);
  const port = list.find((o) => o.name === "mail.port");
  assert.equal(port.type, "int");
  assert.equal(typeof port.default, "number");
  assert.ok(port.ttl > 0 && port.grace >= 0);
  assert.equal(typeof port.staleWhileRevalidate, "boolean");
  const flags = new Set(list.flatMap((o) => o.flags));
  for (const flag of ["immutable", "nostore", "storeonly", "credential"]) assert.ok(flags.has(flag), flag);
});

test("a stale map is served within grace when KV and the origin are down, and refused after grace", async () => {
  const own = await startOrigin(join(tmp, "grace.sqlite3"));
  stops.push(own.stop);
  const kv = memoryKv();
  const store = storeOn(kv, own.url, { MAP_TTL_SECS: 1, MAP_GRACE_SECS: 2 });
  await store.setMapKey({ project: 701 }, "k", "v");
  await own.stop();
  kv.failing = true;
  assert.equal((await store.getMap({ project: 701 })).source, "local");
  await sleep(1100);
  const stale = await store.getMap({ project: 701 });
  assert.equal(stale.source, "stale");
  assert.deepEqual(stale.values, { k: "v" });
  assert.ok(store.stats().staleServed >= 1);
  await sleep(2100);
  await rejectsWith(store.getMap({ project: 701 }), "unavailable");
});

/**
 * An origin of its own behind a proxy that can hang or slow down, and a
 * Store on it whose maps go stale after 1 s and whose origin reads are
 * abandoned for the stale value after `softMs`.
 */
async function behindProxy(name, softMs) {
  const own = await startOrigin(join(tmp, `${name}.sqlite3`));
  stops.push(own.stop);
  const proxy = await startProxy(own.url);
  stops.push(proxy.close);
  const kv = memoryKv();
  const store = new Store({
    kv,
    origin: { url: proxy.url, token: TOKEN, timeoutMs: 3000 },
    settings: { MAP_TTL_SECS: 1, MAP_GRACE_SECS: 60, ORIGIN_SOFT_TIMEOUT_MS: softMs },
  });
  return { own, proxy, kv, store };
}

test("KV down and the origin hanging: the stale answer comes at the soft timeout, and the refresh fills the cache later", async () => {
  const { own, proxy, kv, store } = await behindProxy("soft", 200);
  await store.setMapKey({ organization: 801 }, "k", "old");
  await sleep(1100);
  kv.failing = true; // so the read goes past KV to the origin
  proxy.hang = true;
  const started = Date.now();
  const stale = await store.getMap({ organization: 801 });
  const took = Date.now() - started;
  assert.equal(stale.source, "stale");
  assert.deepEqual(stale.values, { k: "old" });
  assert.ok(took < 1500, `answered in ${took} ms, well before the 3000 ms hard timeout`);
  assert.ok(store.stats().softTimeouts >= 1, JSON.stringify(store.stats()));

  // The origin comes back with a newer value: the next expired read
  // refreshes (after the key's backoff), and the answer is the new value.
  proxy.hang = false;
  await originPut(own.url, "/organizations/801/options/k", { value: "new" });
  let seen;
  for (let i = 0; i < 40; i++) {
    seen = await store.getMap({ organization: 801 });
    if (seen.values.k === "new") break;
    await sleep(150);
  }
  assert.equal(seen.values.k, "new", "the cache recovered once the origin answered");
});

test("origin slow: the stale answer comes at the soft timeout, and the same fetch fills the cache (one origin call)", async () => {
  const { own, proxy, kv, store } = await behindProxy("slow", 150);
  await store.setMapKey({ organization: 802 }, "k", "old");
  await originPut(own.url, "/organizations/802/options/k", { value: "new" });
  await sleep(1100);
  kv.failing = true; // so the read goes past KV to the origin
  proxy.delayMs = 700;
  const route = "GET /organizations/{id}/options";
  const before = (await originStats(own.url)).by_route[route] ?? 0;

  const started = Date.now();
  const stale = await store.getMap({ organization: 802 });
  const took = Date.now() - started;
  assert.equal(stale.source, "stale");
  assert.deepEqual(stale.values, { k: "old" });
  assert.ok(took < 650, `answered in ${took} ms, before the slow origin (700 ms)`);

  await sleep(1200); // the abandoned fetch lands and the refresh stores it
  proxy.delayMs = 0;
  const fresh = await store.getMap({ organization: 802 });
  assert.deepEqual(fresh.values, { k: "new" });
  assert.equal(fresh.source, "local", "the refresh filled isolate memory");
  const after = (await originStats(own.url)).by_route[route] ?? 0;
  assert.equal(after - before, 1, "the refresh finished the abandoned fetch instead of sending another");
});

test("limits: arguments over the Worker's limits are refused before any KV or origin call", async () => {
  const kv = memoryKv();
  const store = new Store({
    kv,
    origin: { url: origin.url, token: TOKEN, timeoutMs: 2000 },
    legacyPrefixes: ["legacy."],
  });
  const before = (await originStats(origin.url)).requests;
  const long = `legacy.${"n".repeat(1100)}`;
  await rejectsWith(store.getOption(long), "invalid_body");
  await rejectsWith(store.setOption(long, "v"), "invalid_body");
  await rejectsWith(store.deleteOption(long), "invalid_body");
  await rejectsWith(store.getOption(""), "invalid_body");
  const longKey = "k".repeat(1025);
  await rejectsWith(store.getMapKey({ project: 1 }, longKey), "invalid_body");
  await rejectsWith(store.setMapKey({ project: 1 }, longKey, 1), "invalid_body");
  await rejectsWith(store.deleteMapKey({ project: 1 }, longKey), "invalid_body");
  await rejectsWith(store.setOption("legacy.big", "v".repeat(1024 * 1024)), "too_large");
  await rejectsWith(store.setMapKey({ project: 1 }, "k", "v".repeat(1024 * 1024)), "too_large");
  const rules = `path:* #t\n${"# comment\n".repeat(30 * 1024)}`;
  await rejectsWith(store.putOwnership(1, { raw: rules }), "too_large");
  await rejectsWith(store.recordLastProcessed(1, Array.from({ length: 501 }, (_, i) => i + 1), "ev"), "invalid_body");
  await rejectsWith(store.lastProcessed(1, Array.from({ length: 1001 }, (_, i) => i + 1)), "invalid_body");
  await rejectsWith(store.recordLastProcessed(1, [1], "e".repeat(257)), "invalid_body");
  await rejectsWith(store.getOwnership("9223372036854775808"), "invalid_id");
  assert.equal((await originStats(origin.url)).requests, before, "no call reached the origin");
  assert.deepEqual(kv.calls, { get: 0, bulkGet: 0, put: 0, delete: 0 }, "nor KV");
  const stats = store.stats();
  assert.equal(stats.breakerOpen, false);
  assert.equal(stats.originErrors + stats.originRefusals, 0);
  // At the limit: accepted (a 1,024-byte name is asked of the origin).
  const fits = await store.getOption(`legacy.${"n".repeat(1024 - 7)}`);
  assert.equal(fits.lookup, "origin");
});
