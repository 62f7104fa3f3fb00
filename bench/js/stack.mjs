// Processes for the benchmarks, after tests/support/mod.rs: the reference
// origin and `wrangler dev` on free ports with state in temporary folders,
// each in its own process group, all killed when the run ends (normally, on
// an error or on SIGINT/SIGTERM). Plus a counting HTTP proxy in front of the
// origin that can fail on command (pass, refuse, hang).
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const READ = "dev-read-token";
export const ADMIN = "dev-admin-token";
export const ORIGIN_TOKEN = "dev-origin-token";

const children = new Set();
const dirs = new Set();

/** Kills every process group this run started, and removes its folders. */
export function cleanup() {
  for (const child of children) killGroup(child, "SIGKILL");
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Stops one started process (its whole group), waiting up to 5 s. */
export async function stop(child) {
  if (!children.has(child)) return;
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A temporary folder, removed at the end of the run. */
export function tempDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `edge-options-bench-${label}-`));
  dirs.add(dir);
  return dir;
}

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request; `{ status, body, cache, ms }` (body parsed when JSON). */
export async function call(method, url, { token, body, timeoutMs = 60_000 } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const send = () =>
    fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  let started = performance.now();
  let response;
  try {
    response = await send();
  } catch (e) {
    // A pooled keep-alive connection the server had closed (after a wrk
    // run: "other side closed", EPIPE): a GET is safe to send once more.
    if (method !== "GET" || !(e instanceof TypeError)) throw e;
    started = performance.now();
    response = await send();
  }
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed, cache: response.headers.get("x-cache"), ms };
}

/** The reference origin (release build) over a new SQLite file. */
export async function startOrigin(dir) {
  const bin = process.env.EDGE_OPTIONS_ORIGIN_BIN || join(root, "target", "release", "edge-options-origin");
  const child = spawn(bin, ["--listen", "127.0.0.1:0", "--db", join(dir, "origin.sqlite3"), "--token", ORIGIN_TOKEN], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.add(child);
  const port = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("the origin did not print its port within 20 s")), 20_000);
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    child.once("exit", (code) => fail(new Error(`the origin exited (${code}) before listening`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    url,
    call: (method, path, body) => call(method, `${url}${path}`, { token: ORIGIN_TOKEN, body }),
    /** Requests counted for a route template since start or reset. */
    async count(route) {
      const stats = await call("GET", `${url}/_origin/stats`, { token: ORIGIN_TOKEN });
      return stats.body.by_route?.[route] ?? 0;
    },
    reset: () => call("POST", `${url}/_origin/stats/reset`, { token: ORIGIN_TOKEN }),
  };
}

/**
 * `wrangler dev` for the Worker of `config` (a wrangler.toml path relative to
 * the repository), with KV under `dir`, extra `--var`s, ready when `readyPath`
 * answers. Answers the started Worker and `startMs`: from spawning wrangler
 * to the first answer of `readyPath`, and `firstMs`: that first request's
 * own latency (the isolate's first request builds its state).
 *
 * `waitReady`: send nothing until wrangler logs "Ready on" (its runtime has
 * loaded the Worker), then send `readyPath` once: `firstMs` is then that
 * request alone, never a request held while wrangler was still starting;
 * `readyMs` is spawn → "Ready on".
 */
export async function startWorker({ config = "wrangler.toml", dir, vars = {}, readyPath = "/healthz", label = "worker", waitReady = false, state = label, env = {} }) {
  const port = await freePort();
  const inspector = await freePort();
  const log = join(dir, `wrangler-${label}-${port}.log`);
  const out = createWriteStream(log);
  const args = ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector)];
  // The repository's config binds the version beacon of the beacon Worker: run it in the
  // same `wrangler dev`, as scripts/dev does (scripts/beacon-config writes its config).
  if (config === "wrangler.toml") {
    const beacon = join(dir, `beacon-${label}-${port}`);
    const originUrl = vars.ORIGIN_URL ?? "http://127.0.0.1:8788";
    execFileSync(join(root, "scripts", "beacon-config"), [originUrl, beacon], { env: { ...process.env, ORIGIN_TOKEN } });
    args.push("--config", join(beacon, "wrangler.toml"));
  }
  // `state`: Workers started with the same one share their local KV and Durable Objects' storage.
  args.push("--persist-to", join(dir, `state-${state}`), "--log-level", waitReady ? "info" : "warn");
  // The Worker has no built-in tokens: give every Worker the tokens of .dev.vars.example
  // (configs outside the repository root have no .dev.vars beside them).
  const tokens = { READ_TOKEN: READ, ADMIN_TOKEN: ADMIN, ORIGIN_TOKEN };
  for (const [name, value] of Object.entries({ ...tokens, ...vars })) args.push("--var", `${name}:${value}`);
  const started = performance.now();
  const child = spawn(join(root, "node_modules", ".bin", "wrangler"), args, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", EDGE_OPTIONS_NO_BUILD: "1", ...env },
  });
  children.add(child);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  let firstMs;
  let readyMs;
  if (waitReady) {
    let seen = "";
    const watch = (chunk) => (seen = (seen + chunk).slice(-4096));
    child.stdout.on("data", watch);
    child.stderr.on("data", watch);
    while (!/Ready on/.test(seen)) {
      if (child.exitCode !== null) throw new Error(`wrangler dev (${label}) exited:\n${tail(log)}`);
      if (Date.now() > deadline) throw new Error(`wrangler dev (${label}) not ready in 120 s:\n${tail(log)}`);
      await sleep(5);
    }
    readyMs = performance.now() - started;
  }
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev (${label}) exited:\n${tail(log)}`);
    if (Date.now() > deadline) throw new Error(`wrangler dev (${label}) not ready in 120 s:\n${tail(log)}`);
    try {
      const reply = await call("GET", `${url}${readyPath}`, { token: READ, timeoutMs: 10_000 });
      if (reply.status < 500) {
        firstMs = reply.ms;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  const startMs = performance.now() - started;
  return {
    child,
    port,
    url,
    startMs,
    firstMs,
    readyMs,
    log,
    get: (path, token = READ) => call("GET", `${url}${path}`, { token }),
    put: (path, body) => call("PUT", `${url}${path}`, { token: ADMIN, body }),
    stop: () => stop(child),
  };
}

function tail(path) {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "(no log)";
  }
}

/** `wrangler kv <args> --binding CACHE --local --persist-to <dir/state-label>`. */
export async function wranglerKv(dir, label, args, config = "wrangler.toml") {
  const child = spawn(
    join(root, "node_modules", ".bin", "wrangler"),
    ["kv", ...args, "--config", config, "--binding", "CACHE", "--local", "--persist-to", join(dir, `state-${label}`)],
    { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } },
  );
  children.add(child);
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), 60_000);
  const code = await new Promise((r) => child.once("exit", r));
  clearTimeout(timer);
  children.delete(child);
  if (code !== 0) throw new Error(`wrangler kv ${args.join(" ")} failed (${code}):\n${output}`);
  return output;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of `127.0.0.1:<upstreamPort>` that
 * counts requests by `METHOD path` and can, per request: `pass`, `refuse`
 * (close the connection at once) or `hang` (never answer; connections are
 * closed when the mode changes or the proxy stops). Each request also
 * records `{ t, path }` while `record` is on.
 */
export async function startProxy(upstreamPort) {
  const state = { mode: "pass", requests: 0, byPath: new Map(), log: [], record: false };
  const held = new Set();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    state.requests += 1;
    const path = req.url.split("?")[0];
    state.byPath.set(`${req.method} ${path}`, (state.byPath.get(`${req.method} ${path}`) ?? 0) + 1);
    if (state.record) state.log.push({ t: performance.now(), path });
    if (state.mode === "refuse") {
      req.socket.destroy();
      return;
    }
    if (state.mode === "hang") {
      held.add(req.socket);
      req.socket.once("close", () => held.delete(req.socket));
      return;
    }
    const upstream = http.request(
      { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    setMode(mode) {
      state.mode = mode;
      for (const socket of held) socket.destroy();
      held.clear();
      server.closeIdleConnections?.();
    },
    close() {
      for (const socket of held) socket.destroy();
      server.closeAllConnections?.();
      agent.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

/** Median, min and max of numbers. */
export function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1], n: s.length };
}
