// The npm package (npm/, built by scripts/build-npm) against the REAL
// reference origin, with an in-memory stand-in for a Workers KV binding.
// Run: scripts/build-npm && cargo build -p edge-options-origin && node --test tests/npm/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, TOKEN, startOrigin as startOriginAt, memoryKv, rejectsWith, sleep } from "./support.mjs";

const { Store } = await import(join(root, "npm", "dist", "node.js"));
const tmp = mkdtempSync(join(tmpdir(), "edge-options-npm-"));
const origins = [];

/** The reference origin over its own database in this run's folder. */
async function startOrigin(name) {
  const started = await startOriginAt(join(tmp, `${name}.sqlite3`));
  origins.push(started);
  return started;
}

let origin;
before(async () => {
  origin = await startOrigin("shared");
});
after(async () => {
  await Promise.all(origins.map((o) => o.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

const storeOn = (kv, o = origin, extra = {}) => new Store({ kv, origin: { url: o.url, token: TOKEN, timeoutMs: 2000 }, ...extra });

test("an unset option answers its default, and absence is cached", async () => {
  const kv = memoryKv();
  const store = storeOn(kv);
  const first = await store.getOption("mail.host");
  assert.deepEqual(first, { name: "mail.host", value: "localhost", source: "default", degraded: false, lookup: "origin" });
  const again = await store.getOption("mail.host");
  assert.equal(again.source, "default");
  assert.equal(again.lookup, "local");
  assert.equal(kv.calls.get, 1, "the second read cost no KV read");
});

test("set, then read from local memory; a new Store on the same KV reads kv; delete", async () => {
  const kv = memoryKv();
  const store = storeOn(kv);
  const written = await store.setOption("mail.host", "smtp.example.com");
  assert.equal(written.name, "mail.host");
  assert.equal(written.value, "smtp.example.com");
  assert.equal(written.cacheUpdated, true);
  assert.ok(Number.isInteger(written.version) && written.version >= 1);
  assert.ok(kv.puts.every((p) => p.options.expirationTtl >= 60), "KV puts carry expirationTtl >= 60");

  const local = await store.getOption("mail.host");
  assert.deepEqual(local, {
    name: "mail.host",
    value: "smtp.example.com",
    source: "local",
    degraded: false,
    lookup: "local",
    version: written.version,
  });

  const other = storeOn(kv);
  const fromKv = await other.getOption("mail.host");
  assert.equal(fromKv.source, "kv");
  assert.equal(fromKv.value, "smtp.example.com");

  // Structured values come back as plain objects and arrays (not Maps).
  const hosts = await store.setOption("system.allowed-hosts", ["a.example", "b.example"]);
  assert.deepEqual(hosts.value, ["a.example", "b.example"]);
  const fresh = storeOn(memoryKv());
  const read = await fresh.getOption("system.allowed-hosts");
  assert.equal(read.source, "origin");
  assert.deepEqual(read.value, ["a.example", "b.example"]);
  assert.ok(Array.isArray(read.value));

  const gone = await store.deleteOption("mail.host");
  assert.deepEqual(Object.keys(gone).sort(), ["cacheUpdated", "name", "version"]);
  assert.equal(gone.cacheUpdated, true);
  assert.ok(gone.version > written.version);
  const after = await store.getOption("mail.host");
  assert.equal(after.source, "default");
  assert.equal(after.value, "localhost");
  const afterKv = await storeOn(kv).getOption("mail.host");
  assert.equal(afterKv.source, "default");
  assert.equal(afterKv.lookup, "kv", "KV learned the deletion");
});

test("invalid_type, immutable, nostore and unknown_option are Errors with a code", async () => {
  const store = storeOn(memoryKv());
  await rejectsWith(store.setOption("mail.port", "twenty-five"), "invalid_type");
  await rejectsWith(store.setOption("mail.port", 2.5), "invalid_type");
  await rejectsWith(store.setOption("mail.port", undefined), "invalid_type");
  await rejectsWith(store.setOption("system.allowed-hosts", "*"), "invalid_type");
  await rejectsWith(store.setOption("system.install-id", "x"), "immutable");
  await rejectsWith(store.deleteOption("system.install-id"), "immutable");
  await rejectsWith(store.setOption("system.debug", true), "nostore");
  await rejectsWith(store.setOption("no.such.option", 1), "unknown_option");
  await rejectsWith(store.getOption("no.such.option"), "unknown_option");
  // Names must be strings (wasm-bindgen's own conversion of a non-string
  // would corrupt wasm memory, so the Store checks first).
  for (const name of [42, undefined, null, {}]) {
    await rejectsWith(store.getOption(name), "invalid_body");
    await rejectsWith(store.setOption(name, 1), "invalid_body");
    await rejectsWith(store.deleteOption(name), "invalid_body");
  }
  await rejectsWith(store.setOption("mail.port", { f() {} }), "invalid_type");
  const ok = await store.setOption("mail.port", 2525);
  assert.equal(ok.value, 2525);
});

test("a bad config is an invalid_body Error thrown by the constructor", () => {
  for (const config of [undefined, {}, { kv: memoryKv() }, { kv: memoryKv(), origin: { url: "ftp://x", token: "t" } }]) {
    assert.throws(() => new Store(config), (e) => e instanceof Error && e.code === "invalid_body");
  }
});

test("config values and legacy prefixes", async () => {
  const store = storeOn(memoryKv(), origin, {
    config: { "mail.from": "robot@example.com", "mail.port": "not an int" },
    legacyPrefixes: ["legacy."],
  });
  const configured = await store.getOption("mail.from");
  assert.equal(configured.source, "config");
  assert.equal(configured.value, "robot@example.com");
  assert.equal(store.problems().length, 1, store.problems().join("; "));
  const legacy = await store.getOption("legacy.anything");
  assert.equal(legacy.value, "");
  assert.equal(legacy.source, "default");
});

test("origin stopped: a fresh value is still served, writes are rejected as unavailable", async () => {
  const own = await startOrigin("stopped");
  const kv = memoryKv();
  const store = storeOn(kv, own);
  await store.setOption("mail.host", "kept.example.com");
  await own.stop();

  const read = await store.getOption("mail.host");
  assert.equal(read.source, "local");
  assert.equal(read.value, "kept.example.com");
  await rejectsWith(store.setOption("mail.host", "new.example.com"), "unavailable");
  await rejectsWith(store.deleteOption("mail.host"), "unavailable");
  assert.equal((await store.getOption("mail.host")).value, "kept.example.com", "nothing changed");

  // Nothing cached anywhere: the default, marked degraded; never a rejection.
  const cold = storeOn(memoryKv(), own);
  const degraded = await cold.getOption("mail.port");
  assert.equal(degraded.source, "default");
  assert.equal(degraded.degraded, true);
  assert.ok(cold.stats().originErrors >= 1);
});

test("an origin that never answers: reads get the degraded default, writes origin_timeout, at the hard timeout", async () => {
  const sockets = new Set();
  const hung = createServer((socket) => sockets.add(socket)); // accepts, never answers
  await new Promise((r) => hung.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${hung.address().port}`;
  try {
    const store = new Store({ kv: memoryKv(), origin: { url, token: TOKEN, timeoutMs: 300 } });
    const started = Date.now();
    const read = await store.getOption("mail.host");
    assert.equal(read.source, "default");
    assert.equal(read.degraded, true);
    await rejectsWith(store.setOption("mail.host", "x.example.com"), "origin_timeout");
    const took = Date.now() - started;
    assert.ok(took >= 500 && took < 3000, `two hard timeouts of 300 ms took ${took} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => hung.close(r));
  }
});

test("KV failing: the origin answers, and writes still succeed with cacheUpdated false", async () => {
  const writer = storeOn(memoryKv());
  await writer.setOption("mail.from", "kv-down@example.com");

  const kv = memoryKv();
  kv.failing = true;
  const store = storeOn(kv);
  const read = await store.getOption("mail.from");
  assert.equal(read.source, "origin");
  assert.equal(read.value, "kv-down@example.com");
  assert.ok(store.stats().kvErrors >= 1);

  const written = await store.setOption("mail.from", "still@example.com");
  assert.equal(written.cacheUpdated, false);
  assert.equal((await store.getOption("mail.from")).value, "still@example.com");
});

test("50 concurrent cold reads in one Store cost one KV read (coalesced, no panic)", async () => {
  const writer = storeOn(memoryKv());
  await writer.setOption("system.rate-limit", 42);
  const kv = memoryKv();
  const store = storeOn(kv);
  const answers = await Promise.all(Array.from({ length: 50 }, () => store.getOption("system.rate-limit")));
  assert.ok(answers.every((a) => a.value === 42));
  assert.equal(kv.calls.get, 1);
  const stats = store.stats();
  assert.equal(stats.hitsOrigin, 1);
  assert.ok(stats.coalesced >= 1, JSON.stringify(stats));
  assert.equal(stats.inFlight, 0);
});

test('`import { Store } from "edge-options"` works with no init call (exports condition "node")', () => {
  const dir = join(tmp, "consumer");
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(join(root, "npm"), join(dir, "node_modules", "edge-options"), "dir");
  writeFileSync(
    join(dir, "main.mjs"),
    `import { Store } from "edge-options";
     const kv = { async get() { return null }, async put() {}, async delete() {} };
     const s = new Store({ kv, origin: { url: "http://127.0.0.1:9", token: "t" } });
     console.log(typeof Store, typeof s.getOption, s.stats().entries);`,
  );
  const out = execFileSync(process.execPath, ["main.mjs"], { cwd: dir, encoding: "utf8" });
  assert.equal(out.trim(), "function function 0");
});

test("a registry of your own replaces the built-in one; a bad one is refused by the constructor", async () => {
  const registry = {
    defaults: { ttl: 30, grace: 300 },
    options: [
      { name: "app.colour", type: "string", default: "red", description: "Theme colour." },
      { name: "app.api-key", type: "string", flags: ["credential"] },
    ],
  };
  const store = storeOn(memoryKv(), origin, { registry });
  assert.deepEqual(
    store.listOptions().map((o) => [o.name, o.ttl, o.grace]),
    [["app.api-key", 30, 300], ["app.colour", 30, 300]],
  );
  const colour = await store.getOption("app.colour");
  assert.equal(colour.value, "red");
  await rejectsWith(store.getOption("mail.host"), "unknown_option");
  await store.setOption("app.colour", "blue");
  assert.equal((await store.getOption("app.colour")).value, "blue");
  assert.equal(storeOn(memoryKv(), origin, { registry: JSON.stringify(registry) }).listOptions().length, 2, "JSON text works too");

  for (const bad of [{ options: [{ name: "x", type: "colour" }] }, "{not json", 42]) {
    assert.throws(
      () => storeOn(memoryKv(), origin, { registry: bad }),
      (e) => e instanceof Error && e.code === "invalid_body" && /registry/.test(e.message),
    );
  }
});

test("limits bound isolate memory: the least recently used entries go first", async () => {
  const store = storeOn(memoryKv(), origin, { limits: { maxEntries: 2 } });
  for (const name of ["mail.host", "mail.port", "mail.from"]) await store.getOption(name);
  const stats = store.stats();
  assert.equal(stats.maxEntries, 2);
  assert.ok(stats.entries <= 2, JSON.stringify(stats));
  assert.equal((await store.getOption("mail.from")).lookup, "local", "the most recent entry stayed");
  assert.throws(() => storeOn(memoryKv(), origin, { limits: { maxEntries: "many" } }), (e) => e.code === "invalid_body");
});

test("fresh answers are served synchronously, without crossing into wasm, until the core's ttl ends", async () => {
  const registry = {
    defaults: { ttl: 1, grace: 60 },
    options: [
      { name: "app.shade", type: "string", default: "red" },
      { name: "app.tags", type: "sequence", default: ["a"] },
      { name: "app.size", type: "int", default: 1, ttl: 0 },
    ],
  };
  const store = storeOn(memoryKv(), origin, { registry });
  assert.equal(store.peekOption("app.shade"), undefined, "nothing is known before the first read");

  const first = await store.getOption("app.shade");
  assert.equal(first.lookup, "origin");
  const peeked = store.peekOption("app.shade");
  assert.deepEqual(peeked, { ...first, lookup: "local" }, "shaped as a memory hit");
  assert.ok(Object.isFrozen(peeked));
  assert.equal(await store.getOption("app.shade"), peeked, "getOption answers it too, without wasm");
  assert.equal(store.reader().get("app.shade"), peeked);
  assert.equal(store.reader(Date.now() + 1500).get("app.shade"), undefined, "not past the core's freshness");
  assert.equal(typeof first.freshUntil, "number", "the core's deadline rides along, hidden");
  assert.deepEqual(JSON.parse(JSON.stringify(first)), { name: "app.shade", value: "red", source: "default", degraded: false, lookup: "origin" });
  const stats = store.stats();
  assert.equal(stats.hitsHot, 3);
  assert.ok(stats.hitsLocal >= 3);

  await store.setOption("app.shade", "green");
  const stored = await storeOn(memoryKv(), origin, { registry }).getOption("app.shade");
  assert.equal(stored.source, "origin");
  assert.equal(stored.value, "green");

  const tags = await store.getOption("app.tags");
  assert.throws(() => store.peekOption("app.tags").value.push("b"), TypeError, "kept values are frozen");
  tags.value.push("mine");
  assert.deepEqual(store.peekOption("app.tags").value, ["a"], "the first answer is the caller's own copy");

  await store.getOption("app.size");
  assert.equal(store.peekOption("app.size"), undefined, "ttl 0 never stays in isolate memory");

  await store.setOption("app.shade", "blue");
  assert.equal(store.peekOption("app.shade"), undefined, "a write forgets the name");
  const written = await store.getOption("app.shade");
  assert.equal(written.value, "blue");
  assert.equal(written.source, "local");
  assert.deepEqual(store.peekOption("app.shade"), written, "the new value, from memory, is kept");

  await sleep(1100);
  assert.equal(store.peekOption("app.shade"), undefined, "expired with the core's entry");
  assert.equal((await store.getOption("app.shade")).value, "blue");
});

test("degraded answers are never kept for the fast path", async () => {
  const store = new Store({ kv: memoryKv(), origin: { url: "http://127.0.0.1:9", token: TOKEN, timeoutMs: 500 } });
  const read = await store.getOption("mail.host");
  assert.equal(read.degraded, true);
  assert.equal(store.peekOption("mail.host"), undefined);
});

test("minVersion: a read passes over a copy older than the version asked for, past the fast path", async () => {
  const kv = memoryKv();
  const store = storeOn(kv);
  const first = await store.setOption("mail.from", "first@example.com");
  assert.equal((await store.getOption("mail.from")).source, "local");
  // Another writer, straight at the origin: this store's copy is older.
  const put = await fetch(`${origin.url}/options/mail.from`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ value: "second@example.com" }),
  });
  const other = await put.json();
  assert.ok(other.version > first.version, JSON.stringify(other));
  assert.equal((await store.getOption("mail.from")).value, "first@example.com", "without minVersion: the ttl rules");
  const read = await store.getOption("mail.from", undefined, { minVersion: other.version });
  assert.deepEqual([read.value, read.source, read.version], ["second@example.com", "origin", other.version]);
  assert.equal((await store.getOption("mail.from")).value, "second@example.com", "memory took the newer copy");
  await rejectsWith(store.getOption("mail.from", undefined, { minVersion: -1 }), "invalid_body");
  const deleted = await store.deleteOwnership(77);
  assert.ok(Number.isInteger(deleted.version), "an ownership delete answers its version");
});
