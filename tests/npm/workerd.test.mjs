// The npm package inside a real Worker: a consumer Worker that imports
// "edge-options" (exports condition "workerd", no init call) runs under
// `wrangler dev` with a local KV binding, against the REAL reference origin.
// One module-global Store serves every request of the isolate.
// Run: scripts/build-npm && cargo build -p edge-options-origin && node --test tests/npm/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ORIGIN_BIN = process.env.EDGE_OPTIONS_ORIGIN_BIN ?? join(root, "target", "debug", "edge-options-origin");
const WRANGLER = join(root, "node_modules", ".bin", "wrangler");
const TOKEN = "dev-origin-token";

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
    try {
      if (url.pathname === "/stats") return Response.json(store.stats());
      const name = url.pathname.replace(/^\\/options\\//, "");
      if (request.method === "PUT") {
        const { value } = await request.json();
        return Response.json(await store.setOption(name, value));
      }
      if (request.method === "DELETE") return Response.json(await store.deleteOption(name));
      return Response.json(await store.getOption(name, ctx));
    } catch (e) {
      return Response.json({ error: { code: e.code, message: e.message } }, { status: e.status ?? 500 });
    }
  },
};
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function startOrigin() {
  const child = spawn(ORIGIN_BIN, ["--listen", "127.0.0.1:0", "--db", join(tmp, "o.sqlite3"), "--token", TOKEN], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = "";
    child.on("exit", (code) => reject(new Error(`origin exited (${code}): ${seen}`)));
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/origin listening on (http:\/\/\S+)/);
      if (m) resolve({ url: m[1] });
    });
  });
}

async function startWorker(originUrl) {
  const dir = join(tmp, "consumer");
  // Install the package as a user would get it: `npm pack`, then unpack the
  // tarball into node_modules (so only what `files` ships is there).
  const installed = join(dir, "node_modules", "edge-options");
  mkdirSync(installed, { recursive: true });
  const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", tmp], { cwd: join(root, "npm") })
    .toString()
    .trim()
    .split("\n")
    .pop();
  execFileSync("tar", ["-xzf", join(tmp, tarball), "-C", installed, "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(join(dir, "worker.js"), WORKER_JS);
  writeFileSync(
    join(dir, "wrangler.toml"),
    `name = "edge-options-npm-consumer"\nmain = "worker.js"\ncompatibility_date = "2025-04-01"\n` +
      `[[kv_namespaces]]\nbinding = "CACHE"\nid = "npm-consumer-local"\n` +
      `[vars]\nORIGIN_URL = "${originUrl}"\nORIGIN_TOKEN = "${TOKEN}"\n`,
  );
  const port = await freePort();
  const inspector = await freePort();
  const log = join(tmp, "wrangler.log");
  const child = spawn(
    WRANGLER,
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", join(tmp, "state")],
    { cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" } },
  );
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    try {
      const r = await fetch(`${base}/stats`);
      if (r.ok) return { base, output: () => output };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  writeFileSync(log, output);
  throw new Error(`wrangler dev not ready in 90 s:\n${output.slice(-3000)}`);
}

const skip = !existsSync(WRANGLER) ? "wrangler is not installed (npm ci)" : false;

before(async () => {
  if (skip) return;
  origin = await startOrigin();
  worker = await startWorker(origin.url);
});
after(() => {
  for (const child of children) {
    try {
      if (child.spawnargs[0] === WRANGLER) process.kill(-child.pid, "SIGKILL");
      else child.kill("SIGKILL");
    } catch {}
  }
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
  const put = await fetch(`${origin.url}/options/system.rate-limit`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ value: 7 }),
  });
  assert.equal(put.status, 200);
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
