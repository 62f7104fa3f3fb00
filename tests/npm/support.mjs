// What every npm-package test shares: the real reference origin on a free
// port, a TCP proxy in front of it that can hang on command, an in-memory
// stand-in for a KV binding that fails on command, and error assertions.
// Not a test file itself (node --test picks *.test.mjs only).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ORIGIN_BIN = process.env.EDGE_OPTIONS_ORIGIN_BIN ?? join(root, "target", "debug", "edge-options-origin");
export const WRANGLER = join(root, "node_modules", ".bin", "wrangler");
export const TOKEN = "dev-origin-token";

/**
 * Why a test cannot run here, as `node:test`'s `skip` option takes it:
 * `false` when nothing is `missing`, else `why`. Under `scripts/test`
 * (`EDGE_OPTIONS_REQUIRE_ALL=1`) nothing may be skipped quietly: a missing
 * tool throws, and the test file fails.
 */
export function skipUnless(missing, why) {
  if (!missing) return false;
  if (process.env.EDGE_OPTIONS_REQUIRE_ALL === "1") {
    throw new Error(`${why}; EDGE_OPTIONS_REQUIRE_ALL=1 (scripts/test) does not allow skipping`);
  }
  return why;
}

/**
 * Starts the reference origin on a free port over the SQLite file `db`;
 * resolves { url, stop }. `stop` kills it and waits for the exit.
 */
export function startOrigin(db) {
  const child = spawn(ORIGIN_BIN, ["--listen", "127.0.0.1:0", "--db", db, "--token", TOKEN], {
    stdio: ["ignore", "pipe", process.env.EDGE_OPTIONS_NPM_VERBOSE ? "inherit" : "ignore"],
  });
  const stop = () =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", () => done());
      child.kill("SIGKILL");
    });
  return new Promise((resolve, reject) => {
    let seen = "";
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`origin exited (${code}) before listening: ${seen}`)));
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/origin listening on (http:\/\/\S+)/);
      if (m) resolve({ url: m[1], stop });
    });
  });
}

/**
 * A TCP proxy to `target` (an http://host:port URL). While `proxy.hang` is
 * true, every request (on new or kept-alive connections) is swallowed:
 * accepted, never answered. Setting it back to false closes the hung
 * connections, so clients reconnect. `proxy.delayMs` holds each request
 * that long before passing it on (a slow origin). Resolves { url, hang,
 * delayMs, close }.
 */
export async function startProxy(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const hung = new Set();
  let hanging = false;
  const proxy = {
    delayMs: 0,
    get hang() {
      return hanging;
    },
    set hang(on) {
      hanging = on;
      if (!on) {
        for (const client of hung) client.destroy();
        hung.clear();
      }
    },
  };
  const server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    const upstream = connect(Number(port), hostname);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("data", (chunk) => {
      if (hanging || hung.has(client)) hung.add(client);
      else if (proxy.delayMs > 0) setTimeout(() => upstream.write(chunk), proxy.delayMs);
      else upstream.write(chunk);
    });
    client.on("end", () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * An in-memory KV binding: same method shapes, including workerd's bulk
 * read (`get([keys])` → a `Map`, at most 100 keys) unless `{ bulk: false }`,
 * where an array key reads as a missing key, as a binding without bulk
 * reads would; `kv.failing = true` makes every call throw.
 */
export function memoryKv({ bulk = true } = {}) {
  const data = new Map();
  const kv = {
    data,
    failing: false,
    calls: { get: 0, bulkGet: 0, put: 0, delete: 0 },
    puts: [],
    async get(key) {
      if (Array.isArray(key) && bulk) {
        kv.calls.bulkGet++;
        if (kv.failing) throw new Error("KV is down (test)");
        if (key.length > 100) throw new TypeError("KV bulk get takes at most 100 keys");
        return new Map(key.map((k) => [k, data.has(k) ? data.get(k) : null]));
      }
      kv.calls.get++;
      if (kv.failing) throw new Error("KV is down (test)");
      return data.has(key) ? data.get(key) : null;
    },
    async put(key, value, options) {
      kv.calls.put++;
      if (kv.failing) throw new Error("KV is down (test)");
      if (typeof value !== "string") throw new TypeError("KV put takes text here");
      kv.puts.push({ key, options });
      data.set(key, value);
    },
    async delete(key) {
      kv.calls.delete++;
      if (kv.failing) throw new Error("KV is down (test)");
      data.delete(key);
    },
  };
  return kv;
}

/** Asserts `promise` rejects with an Error whose `code` is `code` and whose message says something. */
export async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, `an Error, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.length > 0);
    return true;
  });
}

/** The origin's call counters (`GET /_origin/stats`). */
export async function originStats(url) {
  const r = await fetch(`${url}/_origin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  return r.json();
}

/** Writes straight to the origin at `url`, behind the edge (as another service would). */
export async function originPut(url, path, body) {
  const r = await fetch(`${url}${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.text());
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `wrangler dev` on free ports with `args` in `cwd` (its child pushed onto
 * `children`, for the caller's `after` to kill); resolves { base, output }
 * once `readyPath` answers 200, within `timeoutMs`.
 */
export async function startWrangler({ cwd, args, readyPath, env = {}, children, timeoutMs = 120_000 }) {
  const port = await freePort();
  const inspector = await freePort();
  const child = spawn(
    WRANGLER,
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), ...args],
    { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", ...env } },
  );
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    try {
      const r = await fetch(`${base}${readyPath}`);
      await r.arrayBuffer();
      if (r.ok) return { base, output: () => output };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev not ready in ${timeoutMs / 1000} s:\n${output.slice(-3000)}`);
}

/**
 * Installs the package into `dir` as a user gets it: `npm pack` (the
 * tarball in `packDir`), unpacked into node_modules, so only what `files`
 * ships is there; `dir` becomes an ES module package.
 */
export function installPackage(dir, packDir) {
  const installed = join(dir, "node_modules", "edge-options");
  mkdirSync(installed, { recursive: true });
  const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", packDir], { cwd: join(root, "npm") })
    .toString()
    .trim()
    .split("\n")
    .pop();
  execFileSync("tar", ["-xzf", join(packDir, tarball), "-C", installed, "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
}

/** Kills every process group `startWrangler` started (for a test file's `after`). */
export function killAll(children) {
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
}
