// Outage survival through the npm package, from Node: values set, synced,
// then the origin stops and KV loses every per-key copy (as KV does after
// their expiry); a Store started during the outage still answers every
// value it ever held, stale with its age, from the last-known-good
// snapshot the sync job keeps in KV. Then the origin comes back.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, TOKEN, startOrigin, memoryKv, sleep } from "./support.mjs";

const { Store } = await import(join(root, "npm", "dist", "node.js"));
const tmp = mkdtempSync(join(tmpdir(), "edge-options-npm-outage-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const db = join(tmp, "origin.sqlite3");
const settings = { BACKOFF_START_MS: 100, BACKOFF_MAX_MS: 200 };
const storeOn = (kv, url) => new Store({ kv, origin: { url, token: TOKEN, timeoutMs: 1000 }, settings });

test("a Store that starts during an outage answers every value from the snapshot, stale with its age", async () => {
  let origin = await startOrigin(db);
  const kv = memoryKv();
  const before = storeOn(kv, origin.url);
  await before.setOption("system.maintenance-mode", true);
  await before.setMapKey({ project: 7 }, "colour", "blue");
  await before.putOwnership(9, { raw: "path:src/* #backend" });
  const report = await before.sync();
  assert.deepEqual(report.problems, []);
  assert.ok(kv.data.has("sync:snapshot"), "the sync job wrote the snapshot's head");

  const url = origin.url;
  await origin.stop();
  for (const key of [...kv.data.keys()]) if (!key.startsWith("sync:")) kv.data.delete(key);
  await sleep(20);

  const during = storeOn(kv, url);
  const flag = await during.getOption("system.maintenance-mode");
  assert.equal(flag.value, true, "not its default (false)");
  assert.equal(flag.source, "snapshot");
  assert.equal(flag.stale, true);
  assert.ok(flag.ageMs >= 20, JSON.stringify(flag));
  const map = await during.getMap({ project: 7 });
  assert.deepEqual([map.values, map.source, map.stale], [{ colour: "blue" }, "snapshot", true]);
  const ownership = await during.getOwnership(9);
  assert.deepEqual([ownership.ownership.raw, ownership.source], ["path:src/* #backend", "snapshot"]);
  const owners = await during.owners(9, { stacktrace: { frames: [{ filename: "src/a.js" }] } });
  assert.deepEqual(owners.owners, [{ type: "team", identifier: "backend" }]);
  const stats = during.stats();
  assert.ok(stats.originDownSince > 0 && stats.oldestStaleAgeMs >= 20 && stats.snapshotHeld, JSON.stringify(stats));

  // The Store from before the outage answers the same (its memory or the snapshot).
  const old = await before.getOption("system.maintenance-mode");
  assert.equal(old.value, true);

  // The origin returns (same database, a new port): a new Store reads it fresh.
  origin = await startOrigin(db);
  try {
    const after = storeOn(kv, origin.url);
    const fresh = await after.getOption("system.maintenance-mode");
    assert.deepEqual([fresh.value, fresh.source, fresh.stale], [true, "origin", undefined]);
    await after.setOption("system.maintenance-mode", false);
    const headBefore = kv.data.get("sync:snapshot");
    await after.sync();
    assert.notEqual(kv.data.get("sync:snapshot"), headBefore, "the snapshot was refreshed");
  } finally {
    await origin.stop();
  }
});
