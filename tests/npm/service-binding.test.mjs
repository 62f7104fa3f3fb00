// EdgeOptionsClient from a JavaScript consumer Worker, against the REAL
// edge-options Worker under `wrangler dev` and the REAL reference origin:
// through a service binding (`[[services]] binding = "OPTIONS", service =
// "edge-options"`, two `wrangler dev` processes sharing a local dev
// registry) and over plain HTTP to the edge's URL. The consumer runs one
// handler sequence against the in-isolate `Store` and against the client
// (the line that builds `options` is the only difference) and the answers
// are compared; the client's own errors (forbidden, unauthorized, an edge
// that cannot be reached or does not answer) are checked from inside workerd.
//
// The dev registry is a folder of its own (WRANGLER_REGISTRY_PATH), so
// other stacks running beside this one (every e2e test starts a Worker
// named "edge-options") cannot answer for this one's binding.
// Run: scripts/build-worker && scripts/build-npm && cargo build -p edge-options-origin && node --test tests/npm/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, TOKEN, WRANGLER, startOrigin, startProxy, freePort, installPackage, killAll, startWrangler as startSupportedWrangler } from "./support.mjs";

const READ = "dev-read-token";
const ADMIN = "dev-admin-token";
const tmp = mkdtempSync(join(tmpdir(), "edge-options-npm-binding-"));
const registry = join(tmp, "dev-registry");
const children = [];
let origin;
let edge;
let consumer;
let hang;

// The consumer Worker. `optionsFor` is the one place that picks the way in.
const WORKER_JS = `
import { Store, EdgeOptionsClient } from "edge-options";

let store; // one per isolate, as the README says

function optionsFor(via, env) {
  if (via === "store")
    return (store ??= new Store({ kv: env.CACHE, origin: { url: env.ORIGIN_URL, token: env.ORIGIN_TOKEN } }));
  if (via === "binding") return new EdgeOptionsClient(env.OPTIONS, { token: env.ADMIN_TOKEN });
  return new EdgeOptionsClient(env.EDGE_URL, { token: env.ADMIN_TOKEN });
}

// One handler's calls, the same whatever \`options\` is. \`o\`: a string
// option of this run's own, \`c\`: a credential option of its own, \`p\`: a
// project id of its own (so no run finds what another left in a cache).
async function sequence(options, o, c, p, ctx) {
  const steps = [];
  const step = async (name, call) => {
    try {
      steps.push({ name, answer: await call() });
    } catch (e) {
      const error = { isError: e instanceof Error, code: e.code, status: e.status, message: typeof e.message };
      if (e.line !== undefined) Object.assign(error, { line: e.line, column: e.column });
      steps.push({ name, error });
    }
  };
  const event = { stacktrace: { frames: [{ filename: "src/api/views.py" }] }, request: { url: "https://example.com/admin/users" } };
  await step("getOption unset", () => options.getOption(o, ctx));
  await step("setOption", () => options.setOption(o, "value-" + p));
  await step("getOption after set", () => options.getOption(o, ctx));
  await step("getOption again", () => options.getOption(o, ctx));
  await step("deleteOption", () => options.deleteOption(o));
  await step("getOption credential", () => options.getOption(c, ctx));
  await step("unknown option", () => options.getOption("no.such.option", ctx));
  await step("wrong type", () => options.setOption("mail.port", "twenty-five"));
  await step("immutable", () => options.setOption("system.install-id", "x"));
  await step("nostore", () => options.setOption("system.debug", true));
  await step("undefined value", () => options.setOption("mail.host", undefined));
  await step("non-string name", () => options.getOption(42, ctx));
  await step("getMap empty", () => options.getMap({ project: p }, ctx));
  await step("setMapKey", () => options.setMapKey({ project: p }, "theme", { dark: true }));
  await step("getMapKey", () => options.getMapKey({ project: p }, "theme", ctx));
  await step("getMap", () => options.getMap({ project: p }, ctx));
  await step("user in project key", () => options.getMapKey({ user: p, project: p }, "theme", ctx));
  await step("user in organization map", () => options.getMap({ user: p, organization: p }, ctx));
  await step("organization map", () => options.getMap({ organization: String(p) }, ctx));
  await step("deleteMapKey", () => options.deleteMapKey({ project: p }, "theme"));
  await step("empty map key", () => options.setMapKey({ project: p }, "", 1));
  await step("no scope", () => options.getMap({}, ctx));
  await step("two scopes", () => options.getMap({ user: 1, project: 2, organization: 3 }, ctx));
  await step("bad id", () => options.getOwnership("abc", ctx));
  await step("zero id", () => options.getOwnership(0, ctx));
  await step("getOwnership none", () => options.getOwnership(p, ctx));
  await step("getOwnership none cached", () => options.getOwnership(p, ctx));
  await step("bad rules", () => options.putOwnership(p, { raw: "path:*.py" }));
  await step("bad ownership input", () => options.putOwnership(p, { raw: 5 }));
  await step("putOwnership", () =>
    options.putOwnership(p, { raw: "path:src/api/* #backend\\nurl:*/admin/* ops@example.com", autoAssignment: true }));
  await step("getOwnership", () => options.getOwnership(p, ctx));
  await step("owners", () => options.owners(p, event, ctx));
  await step("owners of nothing matched", () => options.owners(p, { tags: { level: "info" } }, ctx));
  await step("owners of a non-object", () => options.owners(p, 5, ctx));
  await step("deleteOwnership", () => options.deleteOwnership(p));
  await step("recordLastProcessed", () => options.recordLastProcessed(p, [5, 6], "abc123"));
  await step("lastProcessed", () => options.lastProcessed(p, [6, 7, 5]));
  await step("bad hash ids", () => options.lastProcessed(p, "5,6"));
  await step("listOptions", async () => await options.listOptions());
  await step("sync", () => options.sync());
  await step("peekOption", async () => ({ peeked: options.peekOption("no.such.option") ?? null }));
  const stats = await options.stats();
  return { steps, statsKeys: Object.keys(stats).sort() };
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const q = (name) => url.searchParams.get(name);
    const fail = (e) => ({ isError: e instanceof Error, code: e.code, status: e.status, message: e.message });
    try {
      if (url.pathname === "/ready") return Response.json({ ok: true });
      if (url.pathname === "/sequence")
        return Response.json(await sequence(optionsFor(q("via"), env), q("option"), q("credential"), Number(q("project")), ctx));
      if (url.pathname === "/read-token") {
        const client = new EdgeOptionsClient(q("via") === "url" ? env.EDGE_URL : env.OPTIONS, { token: env.READ_TOKEN });
        const read = await client.getOption("mail.host");
        const credential = await client.getOption("mail.password");
        const write = await client.setOption("mail.host", "nope.example.com").catch(fail);
        return Response.json({ read, credential, write });
      }
      if (url.pathname === "/wrong-token") {
        const client = new EdgeOptionsClient(env.OPTIONS, { token: "not-a-token" });
        return Response.json({ error: await client.getOption("mail.host").catch(fail) });
      }
      if (url.pathname === "/unreachable") {
        const client = new EdgeOptionsClient(q("url"), { token: env.ADMIN_TOKEN });
        return Response.json({ error: await client.getOption("mail.host").catch(fail) });
      }
      if (url.pathname === "/hanging") {
        const client = new EdgeOptionsClient(q("url"), { token: env.ADMIN_TOKEN, timeoutMs: 500 });
        return Response.json({ read: await client.getOption("mail.host").catch(fail), write: await client.setOption("mail.host", "x").catch(fail) });
      }
      return Response.json({ error: { code: "not_found" } }, { status: 404 });
    } catch (e) {
      return Response.json({ uncaught: fail(e) }, { status: 500 });
    }
  },
};
`;

// A consumer importing only the client: its bundle must carry no wasm.
const CLIENT_ONLY_JS = `
import { EdgeOptionsClient } from "edge-options/client";
export default {
  async fetch(request, env) {
    return Response.json(await new EdgeOptionsClient(env.OPTIONS, { token: env.READ_TOKEN }).getOption("mail.host"));
  },
};
`;

/** `wrangler dev` with `args` in `cwd`, in this file's wrangler registry; resolves { base, output } once `readyPath` answers 200. */
function startWrangler(cwd, args, readyPath, extraEnv = {}) {
  return startSupportedWrangler({ cwd, args, readyPath, env: { WRANGLER_REGISTRY_PATH: registry, ...extraEnv }, children });
}

function consumerConfig(name, main, edgeUrl) {
  return (
    `name = "${name}"\nmain = "${main}"\ncompatibility_date = "2025-04-01"\n` +
    `[[services]]\nbinding = "OPTIONS"\nservice = "edge-options"\n` +
    `[[kv_namespaces]]\nbinding = "CACHE"\nid = "binding-consumer-local"\n` +
    `[vars]\nORIGIN_URL = "${origin.url}"\nORIGIN_TOKEN = "${TOKEN}"\nEDGE_URL = "${edgeUrl}"\n` +
    `READ_TOKEN = "${READ}"\nADMIN_TOKEN = "${ADMIN}"\n`
  );
}

before(async () => {
  for (const [what, path] of [["wrangler (npm ci)", WRANGLER], ["the Worker (scripts/build-worker)", join(root, "build", "index.js")], ["the npm package (scripts/build-npm)", join(root, "npm", "dist", "client.js")]]) {
    if (!existsSync(path)) throw new Error(`${what} is missing: ${path}`);
  }
  origin = await startOrigin(join(tmp, "o.sqlite3"));
  // The edge Worker first (it registers itself as "edge-options"), as built, with the
  // beacon Worker beside it in the same `wrangler dev`, as scripts/dev runs them.
  const beacon = join(tmp, "beacon");
  execFileSync(join(root, "scripts", "beacon-config"), [origin.url, beacon], { env: { ...process.env, ORIGIN_TOKEN: TOKEN } });
  edge = await startWrangler(
    root,
    ["--config", "wrangler.toml", "--config", join(beacon, "wrangler.toml"), "--persist-to", join(tmp, "edge-state"), "--var", `ORIGIN_URL:${origin.url}`,
      "--var", `READ_TOKEN:${READ}`, "--var", `ADMIN_TOKEN:${ADMIN}`, "--var", `ORIGIN_TOKEN:${TOKEN}`],
    "/healthz",
    { EDGE_OPTIONS_NO_BUILD: "1" },
  );
  const dir = join(tmp, "consumer");
  installPackage(dir, tmp);
  writeFileSync(join(dir, "worker.js"), WORKER_JS);
  writeFileSync(join(dir, "client-only.js"), CLIENT_ONLY_JS);
  writeFileSync(join(dir, "wrangler.toml"), consumerConfig("edge-options-binding-consumer", "worker.js", edge.base));
  writeFileSync(join(dir, "client-only.toml"), consumerConfig("edge-options-client-only", "client-only.js", edge.base));
  consumer = await startWrangler(dir, ["--persist-to", join(tmp, "consumer-state")], "/ready");
  // The binding resolves in this stack's own registry, not in a shared one.
  assert.ok(readdirSync(registry).includes("edge-options"), `edge-options is not in ${registry}: ${readdirSync(registry)}`);
  hang = await startProxy(edge.base);
  hang.hang = true;
});

after(async () => {
  await hang?.close();
  killAll(children);
  await origin?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function get(path) {
  const r = await fetch(`${consumer.base}${path}`);
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body) + consumer.output().slice(-2000));
  return body;
}

/**
 * What must not differ between two ways in: the shape of every answer
 * (keys and types) and the words that say what happened (`source`,
 * `lookup`, error `code` and `status`, booleans); numbers and texts that
 * depend on the run (versions, times, ids) are reduced to their type.
 */
function normalise(value, key) {
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, normalise(value[k], k)]));
  }
  if (["source", "lookup", "code", "type", "key", "identifier"].includes(key) || typeof value === "boolean") return value;
  return value === null ? null : typeof value;
}

test("one handler sequence answers alike through the Store, the service binding and the edge's URL", async () => {
  const store = await get("/sequence?via=store&option=mail.username&credential=mail.password&project=101");
  const binding = await get("/sequence?via=binding&option=system.admin-email&credential=system.root-api-key&project=201");
  const url = await get("/sequence?via=url&option=system.url-prefix&credential=system.secret-key&project=301");
  const byName = (run) => Object.fromEntries(run.steps.map((s) => [s.name, s]));
  const [s, b, u] = [byName(store), byName(binding), byName(url)];

  // What the client answers, checked on its own first (so a failure says what is wrong, not just "differs").
  assert.equal(b["getOption unset"].answer.source, "default", JSON.stringify(b["getOption unset"]));
  assert.equal(b["setOption"].answer.cacheUpdated, true, JSON.stringify(b["setOption"]));
  assert.equal(b["getOption after set"].answer.value, "value-201");
  assert.equal(b["getOption again"].answer.source, "local", "the edge's isolate memory answered");
  assert.equal(b["getOption credential"].answer.redacted, undefined, "the admin token sees credentials");
  for (const [name, code, status] of [
    ["unknown option", "unknown_option", 404], ["wrong type", "invalid_type", 400], ["immutable", "immutable", 403],
    ["nostore", "nostore", 403], ["undefined value", "invalid_type", 400], ["non-string name", "invalid_body", 400],
    ["empty map key", "invalid_body", 400], ["no scope", "invalid_scope", 400], ["two scopes", "invalid_scope", 400],
    ["bad id", "invalid_id", 400], ["zero id", "invalid_id", 400], ["bad rules", "invalid_rules", 400],
    ["bad ownership input", "invalid_body", 400], ["owners of a non-object", "invalid_body", 400], ["bad hash ids", "invalid_body", 400],
  ]) {
    // A rules error the edge placed says where, alike through all three.
    const at = name === "bad rules" ? { line: 1, column: 1 } : {};
    for (const [via, run] of [["store", s], ["binding", b], ["url", u]]) {
      assert.deepEqual(run[name].error, { isError: true, code, status, message: "string", ...at }, `${via}: ${name}: ${JSON.stringify(run[name])}`);
    }
  }
  assert.deepEqual(b["getMapKey"].answer.value, { dark: true });
  assert.equal(b["getMapKey"].answer.source, "local");
  assert.deepEqual(b["owners"].answer.owners, [{ type: "team", identifier: "backend" }, { type: "user", identifier: "ops@example.com" }]);
  assert.deepEqual(b["owners"].answer.autoAssign, { type: "user", identifier: "ops@example.com" });
  assert.equal(b["getOwnership"].answer.ownership.autoAssignment, true);
  assert.deepEqual(b["lastProcessed"].answer, { eventIds: ["abc123", null, "abc123"] });
  assert.deepEqual(b["peekOption"].answer, { peeked: null });

  // The comparison: every step of every run, normalised.
  assert.deepEqual(store.steps.map((x) => x.name), binding.steps.map((x) => x.name));
  for (let i = 0; i < store.steps.length; i++) {
    const name = store.steps[i].name;
    assert.deepEqual(normalise(binding.steps[i]), normalise(store.steps[i]), `binding vs Store at "${name}"`);
    assert.deepEqual(normalise(url.steps[i]), normalise(store.steps[i]), `URL vs Store at "${name}"`);
  }
  // stats(): the edge isolate's counters under the Store's names, without the
  // Store's JS fast-path counter, with the edge's config problems and its
  // isolate's view of the version beacon (the package has no beacon).
  const expected = store.statsKeys.filter((k) => k !== "hitsHot").concat("configProblems", "beacon").sort();
  assert.deepEqual(binding.statsKeys, expected);
  assert.deepEqual(url.statsKeys, expected);
});

test("the read token reads (credentials redacted) and may not write: forbidden, through the binding and the URL", async () => {
  for (const via of ["binding", "url"]) {
    const { read, credential, write } = await get(`/read-token?via=${via}`);
    assert.equal(read.name, "mail.host", via);
    assert.deepEqual([credential.value, credential.redacted], [null, true], via);
    assert.deepEqual(write, { isError: true, code: "forbidden", status: 403, message: write.message }, via);
  }
});

test("a wrong token is unauthorized; an edge that cannot be reached or does not answer fails with a code", async () => {
  const { error: wrong } = await get("/wrong-token");
  assert.equal(wrong.code, "unauthorized", JSON.stringify(wrong));
  assert.equal(wrong.status, 401);

  const closed = `http://127.0.0.1:${await freePort()}`;
  const { error: down } = await get(`/unreachable?url=${encodeURIComponent(closed)}`);
  assert.deepEqual([down.isError, down.code, down.status], [true, "unavailable", 503], JSON.stringify(down));

  const { read, write } = await get(`/hanging?url=${encodeURIComponent(hang.url)}`);
  assert.deepEqual([read.isError, read.code, read.status], [true, "origin_timeout", 504], JSON.stringify(read));
  assert.equal(write.code, "origin_timeout");
  assert.match(write.message, /may have been applied/);
});

test("a consumer importing only edge-options/client bundles no wasm", () => {
  const out = join(tmp, "client-only-bundle");
  execFileSync(WRANGLER, ["deploy", "--dry-run", "--outdir", out, "--config", "client-only.toml"], {
    cwd: join(tmp, "consumer"),
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", WRANGLER_REGISTRY_PATH: registry },
    stdio: "pipe",
  });
  const files = readdirSync(out);
  assert.ok(files.some((f) => f.endsWith(".js")), files.join(", "));
  assert.deepEqual(files.filter((f) => f.endsWith(".wasm")), [], "no wasm in the bundle");
});
