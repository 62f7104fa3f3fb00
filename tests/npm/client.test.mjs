// EdgeOptionsClient on its own, in Node, against stand-ins of the edge: a
// fetcher object that records each request and answers what a test says
// (what the client sends for each call, how it renames answers, how it
// turns every kind of failure into an Error with a code), and a real HTTP
// server for the base-URL path. The real edge, through a service binding
// and a URL, is tests/npm/service-binding.test.mjs.
// Run: scripts/build-npm && node --test tests/npm/client.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { root, rejectsWith, freePort, memoryKv } from "./support.mjs";

const { EdgeOptionsClient } = await import(join(root, "npm", "dist", "client.js"));
const main = await import(join(root, "npm", "dist", "node.js"));

/** A service-binding stand-in: answers `reply(request, body)` ({ status, json | text }), remembers requests. */
function fetcher(reply = () => ({ json: {} })) {
  const seen = [];
  return {
    seen,
    async fetch(request) {
      const body = request.body === null ? undefined : await request.text();
      seen.push({ method: request.method, url: new URL(request.url), auth: request.headers.get("authorization"), body });
      const { status = 200, json, text } = await reply(request, body);
      return new Response(text ?? JSON.stringify(json), { status, headers: { "content-type": "application/json" } });
    },
  };
}

const client = (binding, options = {}) => new EdgeOptionsClient(binding, { token: "t0k", ...options });

test("the main entry re-exports the client class of edge-options/client", () => {
  assert.equal(main.EdgeOptionsClient, EdgeOptionsClient);
});

test("every call sends the edge API's method, path, query, token and body", async () => {
  const edge = fetcher(() => ({ json: {} }));
  const c = client(edge);
  const big = "9007199254740993"; // beyond 2^53: kept as text
  await c.getOption("mail.host");
  await c.setOption("a b/c", { x: [1] });
  await c.deleteOption("mail.host");
  await c.listOptions();
  await c.getMap({ organization: 3 });
  await c.getMapKey({ user: 7, project: 42 }, "theme/dark");
  await c.setMapKey({ user: 7, organization: big }, "k", null);
  await c.deleteMapKey({ project: 42n }, "k");
  await c.getOwnership(42);
  await c.putOwnership(42, { raw: "path:* #t", autoAssignment: true, isActive: false });
  await c.deleteOwnership(42);
  await c.owners(42, { tags: { a: "b" } });
  await c.recordLastProcessed(42, [5, big], "ev1");
  await c.lastProcessed(42, [5, 6n]);
  await c.sync();
  await c.stats();
  const sent = edge.seen.map((r) => [r.method, r.url.pathname + r.url.search, r.body]);
  assert.deepEqual(sent, [
    ["GET", "/v1/options/mail.host", undefined],
    ["PUT", "/v1/options/a%20b%2Fc", '{"value":{"x":[1]}}'],
    ["DELETE", "/v1/options/mail.host", undefined],
    ["GET", "/v1/options", undefined],
    ["GET", "/v1/organizations/3/options", undefined],
    ["GET", "/v1/users/7/options/theme%2Fdark?project=42", undefined],
    ["PUT", `/v1/users/7/options/k?organization=${big}`, '{"value":null}'],
    ["DELETE", "/v1/projects/42/options/k", undefined],
    ["GET", "/v1/projects/42/ownership", undefined],
    ["PUT", "/v1/projects/42/ownership", '{"raw":"path:* #t","auto_assignment":true,"is_active":false}'],
    ["DELETE", "/v1/projects/42/ownership", undefined],
    ["POST", "/v1/projects/42/owners", '{"tags":{"a":"b"}}'],
    ["POST", "/v1/projects/42/event-hashes/last-processed", `{"hash_ids":[5,${big}],"event_id":"ev1"}`],
    ["GET", "/v1/projects/42/event-hashes/last-processed?ids=5,6", undefined],
    ["POST", "/v1/admin/sync", undefined],
    ["GET", "/v1/stats", undefined],
  ]);
  assert.ok(edge.seen.every((r) => r.auth === "Bearer t0k"));
});

test("a read's minVersion travels as the edge's min_version query parameter; a bad one is refused unsent", async () => {
  const edge = fetcher(() => ({ json: {} }));
  const c = client(edge);
  await c.getOption("mail.host", undefined, { minVersion: 12 });
  await c.getMapKey({ user: 7, project: 42 }, "k", undefined, { minVersion: "13" });
  await c.getOwnership(42, undefined, { minVersion: 14n });
  await c.owners(42, {}, undefined, { minVersion: 15 });
  await c.getMap({ organization: 3 }, undefined, {});
  const sent = edge.seen.map((r) => r.url.pathname + r.url.search);
  assert.deepEqual(sent, [
    "/v1/options/mail.host?min_version=12",
    "/v1/users/7/options/k?project=42&min_version=13",
    "/v1/projects/42/ownership?min_version=14",
    "/v1/projects/42/owners?min_version=15",
    "/v1/organizations/3/options",
  ]);
  for (const bad of [-1, 1.5, "x", Number.MAX_SAFE_INTEGER + 2]) {
    await rejectsWith(c.getOption("mail.host", undefined, { minVersion: bad }), "invalid_body");
  }
  assert.equal(edge.seen.length, 5, "nothing sent for a bad minVersion");
});

test("answers take the Store's camelCase top-level keys; nested data stays as the edge sends it", async () => {
  const answers = {
    "/v1/options/o": { name: "o", value: { snake_key: 1 }, source: "kv", degraded: false, lookup: "kv", version: 3 },
    "/v1/options": [{ name: "o", type: "int", default: 1, flags: [], ttl: 10, grace: 60, stale_while_revalidate: true, description: "" }],
    "/v1/projects/1/ownership": {
      ownership: { raw: "", schema: { $version: 1, rules: [] }, fallthrough: true, auto_assignment: false, is_active: true, version: 2, updated_at: 5 },
      source: "origin",
    },
    "/v1/projects/1/owners": { owners: "everyone", rules: [], auto_assign: null, source: "local" },
    "/v1/projects/1/event-hashes/last-processed": { event_ids: [null] },
    "/v1/stats": { hits_local: 1, breaker_open: false, config_problems: ["x"] },
    "/v1/projects/1/options/k": { key: "k", value: { inner_key: true }, version: 2, cache_updated: false },
  };
  const c = client(fetcher((request) => ({ json: answers[new URL(request.url).pathname] })));
  assert.deepEqual(await c.getOption("o"), answers["/v1/options/o"]);
  assert.deepEqual(await c.listOptions(), [
    { name: "o", type: "int", default: 1, flags: [], ttl: 10, grace: 60, staleWhileRevalidate: true, description: "" },
  ]);
  assert.deepEqual(await c.getOwnership(1), {
    ownership: { raw: "", schema: { $version: 1, rules: [] }, fallthrough: true, autoAssignment: false, isActive: true, version: 2, updatedAt: 5 },
    source: "origin",
  });
  assert.deepEqual(await c.owners(1, {}), { owners: "everyone", rules: [], autoAssign: null, source: "local" });
  assert.deepEqual(await c.lastProcessed(1, [1]), { eventIds: [null] });
  assert.deepEqual(await c.stats(), { hitsLocal: 1, breakerOpen: false, configProblems: ["x"] });
  assert.deepEqual(await c.problems(), ["x"]);
  assert.deepEqual(await c.setMapKey({ project: 1 }, "k", 1), { key: "k", value: { inner_key: true }, version: 2, cacheUpdated: false });
  assert.equal(c.peekOption("o"), undefined, "the client keeps nothing");
  assert.equal(c.reader().get("o"), undefined);
});

test("the edge's errors keep their code, status and message", async () => {
  const c = client(fetcher(() => ({ status: 403, json: { error: { code: "forbidden", message: "the read token cannot write" } } })));
  await assert.rejects(c.setOption("mail.host", "x"), (e) => {
    assert.ok(e instanceof Error);
    assert.deepEqual([e.code, e.status, e.message], ["forbidden", 403, "the read token cannot write"]);
    return true;
  });
});

test("bad arguments are rejections with the Store's codes, and nothing is sent", async () => {
  const edge = fetcher();
  const c = client(edge);
  const cases = [
    [() => c.getOption(5), "invalid_body"],
    [() => c.getOption(""), "unknown_option"],
    [() => c.setOption("mail.host", undefined), "invalid_type"],
    [() => c.setOption("mail.host", 5n), "invalid_type"],
    [() => c.setOption("mail.host", () => 1), "invalid_type"],
    [() => c.getMap(null), "invalid_scope"],
    [() => c.getMap({}), "invalid_scope"],
    [() => c.getMap({ project: 1, organization: 2 }), "invalid_scope"],
    [() => c.getMap({ user: 1, project: 1, organization: 2 }), "invalid_scope"],
    [() => c.getMap({ project: 0 }), "invalid_id"],
    [() => c.getMap({ project: 1.5 }), "invalid_id"],
    [() => c.getMap({ project: true }), "invalid_id"],
    [() => c.getMapKey({ project: 1 }, ""), "invalid_body"],
    [() => c.getMapKey({ project: 1 }, ".."), "invalid_body"],
    [() => c.getMapKey({ project: 1 }, 7), "invalid_body"],
    [() => c.putOwnership(1, { raw: 1 }), "invalid_body"],
    [() => c.putOwnership(1, { raw: "", fallthrough: "yes" }), "invalid_body"],
    [() => c.owners(1, undefined), "invalid_body"],
    [() => c.recordLastProcessed(1, "1,2", "e"), "invalid_body"],
    [() => c.recordLastProcessed(1, [1.5], "e"), "invalid_id"],
    [() => c.recordLastProcessed(1, [1], 5), "invalid_body"],
    [() => c.lastProcessed(-1, [1]), "invalid_id"],
  ];
  for (const [call, code] of cases) {
    let promise;
    assert.doesNotThrow(() => (promise = call()), `${call}: a rejection, never a synchronous throw`);
    await rejectsWith(promise, code);
  }
  assert.equal(edge.seen.length, 0, "nothing reached the edge");
});

test("an unreachable edge is unavailable, a silent one origin_timeout, a foreign answer origin_error", async () => {
  const refused = client({ fetch: async () => { throw new TypeError("fetch failed"); } });
  await assert.rejects(refused.getOption("mail.host"), (e) => {
    assert.deepEqual([e instanceof Error, e.code, e.status], [true, "unavailable", 503]);
    assert.match(e.detail, /fetch failed/);
    return true;
  });
  const silent = client({ fetch: (request) => new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason))) }, { timeoutMs: 50 });
  await rejectsWith(silent.getOption("mail.host"), "origin_timeout");
  await assert.rejects(silent.setOption("mail.host", "x"), /may have been applied/);
  const html = client(fetcher(() => ({ status: 502, text: "<html>Bad gateway</html>" })));
  await assert.rejects(html.getOption("mail.host"), (e) => e.code === "origin_error" && e.status === 502 && e.detail.includes("Bad gateway"));
  const notJson = client(fetcher(() => ({ status: 200, text: "ok" })));
  await rejectsWith(notJson.sync(), "origin_error");
});

test("the constructor refuses what is neither a binding nor a URL, and a missing token", () => {
  for (const [target, options] of [
    [undefined, { token: "t" }],
    [{}, { token: "t" }],
    ["ftp://x", { token: "t" }],
    ["https://edge.example.com", {}],
    ["https://edge.example.com", { token: "  " }],
    ["https://edge.example.com", { token: "t", timeoutMs: 0 }],
  ]) {
    assert.throws(() => new EdgeOptionsClient(target, options), (e) => e instanceof Error && e.code === "invalid_body", JSON.stringify([target, options]));
  }
});

test("over a base URL: the global fetch to the edge's address, with a trailing slash tolerated", async () => {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push([req.method, req.url, req.headers.authorization]);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ name: "mail.host", value: "x", source: "local", degraded: false, lookup: "local" }));
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  try {
    const answer = await new EdgeOptionsClient(`http://127.0.0.1:${port}/`, { token: "t0k" }).getOption("mail.host");
    assert.equal(answer.source, "local");
    assert.deepEqual(seen, [["GET", "/v1/options/mail.host", "Bearer t0k"]]);
  } finally {
    server.close();
  }
});

test("the client's scope messages are the Store's (the core's), word for word", async () => {
  // The plain-JS client checks scopes without wasm, so it carries its own copy of the
  // core's messages (src/core/scope.rs): this keeps the two from drifting apart.
  const edge = fetcher();
  const c = client(edge);
  const kv = memoryKv();
  const store = new main.Store({ kv, origin: { url: "http://127.0.0.1:9", token: "t0k", timeoutMs: 100 } });
  const reason = async (promise) => {
    try {
      await promise;
    } catch (e) {
      return { code: e.code, message: e.message };
    }
    assert.fail("expected a rejection");
  };
  const bad = [null, {}, { project: 1, organization: 2 }, { user: 1, project: 1, organization: 2 }];
  for (const scope of bad) {
    const fromStore = await reason(store.getMap(scope));
    const fromClient = await reason(c.getMap(scope));
    assert.equal(fromStore.code, "invalid_scope", JSON.stringify(scope));
    assert.deepEqual(fromClient, fromStore, `scope ${JSON.stringify(scope)}`);
  }
  assert.equal(edge.seen.length, 0, "nothing reached the edge");
  assert.deepEqual(kv.calls, { get: 0, bulkGet: 0, put: 0, delete: 0 }, "nor KV");
});
