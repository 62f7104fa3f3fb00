// EdgeOptionsClient: the edge-options Worker's HTTP API (openapi/edge.yaml)
// from another Worker, through a service binding (`env.OPTIONS`, no public
// hop) or over plain HTTP to a base URL, with the method names, arguments,
// answer shapes and error codes of the in-isolate `Store`, so a handler
// switches between the two by changing the line that builds it.
//
// Plain JavaScript: it imports nothing, so `import { EdgeOptionsClient }
// from "edge-options/client"` ships no wasm. Every answer is the edge's,
// with its top-level snake_case keys renamed to the Store's camelCase (the
// one rule of `camel`, as the Store's `camel_case_keys`); nested data
// (values, maps, the ownership `schema`, matched `rules`) is as the HTTP API
// shows it. Arguments are checked here as the Store checks them, so a bad
// one is the same rejection either way; everything else (unknown options,
// types, rules) is the edge's verdict, passed on with its code.

/** Default time for one call, request and answer body, ms. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** The base URL of requests through a service binding (its host is never looked at). */
const BINDING_BASE = "https://edge-options.internal";
/** The status each code has at the edge, for errors made here. */
const STATUS = {
  invalid_body: 400, invalid_type: 400, invalid_scope: 400, invalid_rules: 400, invalid_id: 400,
  unknown_option: 404, origin_error: 502, unavailable: 503, origin_timeout: 504,
};

/** An `Error` with the edge's `code` and `status` (and `detail` for the operator's logs), as the Store's. */
function failure(code, message, status = STATUS[code] ?? 500, detail) {
  const error = new Error(message);
  error.code = code;
  error.status = status;
  if (detail !== undefined) error.detail = detail;
  return error;
}

/** `hits_local` → `hitsLocal` for the top-level keys of an object (nested data is left as it is). */
function camel(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) out[key.replace(/_(.)/g, (_, c) => c.toUpperCase())] = v;
  return out;
}

/** A name or key: strings only (as the Store). */
function text(value, what) {
  if (typeof value !== "string") throw failure("invalid_body", `${what} must be a string`);
  return value;
}

/**
 * `path` with the read's `minVersion` option as the edge's `min_version`
 * query parameter (read your writes), when given: a whole number ≥ 0.
 */
function atLeast(path, options) {
  const wanted = options?.minVersion;
  if (wanted === undefined || wanted === null) return path;
  const ok = (typeof wanted === "number" && Number.isSafeInteger(wanted) && wanted >= 0) ||
    (typeof wanted === "bigint" && wanted >= 0n) || (typeof wanted === "string" && /^[0-9]{1,19}$/.test(wanted));
  if (!ok) throw failure("invalid_body", "minVersion must be a whole number ≥ 0");
  return `${path}${path.includes("?") ? "&" : "?"}min_version=${String(wanted)}`;
}

/**
 * One path segment. `.` and `..` cannot travel as a segment (URLs resolve
 * them away, even percent-encoded), so they are refused here.
 */
function segment(value) {
  if (value === "." || value === "..") throw failure("invalid_body", `${JSON.stringify(value)} cannot be sent in a URL path`);
  return encodeURIComponent(value);
}

/**
 * An id as decimal text: a positive whole number, or a decimal string /
 * bigint beyond 2^53 (the edge checks the range, as the Store's core does).
 */
function id(value, what) {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 1 && value <= Number.MAX_SAFE_INTEGER) return String(value);
    throw failure("invalid_id", `${what} must be a whole number from 1 (a string beyond 2^53), got ${value}`);
  }
  if (typeof value === "bigint") return value.toString(10);
  if (typeof value === "string") return value;
  throw failure("invalid_id", `${what} must be a number, a decimal string or a bigint`);
}

/** A scope object → its path (before `/options`) and query, checked as the Store checks it. */
function scopePath(scope) {
  if (scope === null || typeof scope !== "object") {
    throw failure("invalid_scope", "a scope is { organization: id } | { project: id } | { user: id, project?: id | organization?: id }");
  }
  const field = (name) => (scope[name] === undefined || scope[name] === null ? undefined : id(scope[name], name));
  const [organization, project, user] = [field("organization"), field("project"), field("user")];
  const at = (kind, value) => `/v1/${kind}/${encodeURIComponent(value)}/options`;
  if (user !== undefined) {
    if (project !== undefined && organization !== undefined) {
      throw failure("invalid_scope", "a user's options are either within a project or within an organization, not both");
    }
    if (project !== undefined) return { path: at("users", user), query: `?project=${encodeURIComponent(project)}` };
    if (organization !== undefined) return { path: at("users", user), query: `?organization=${encodeURIComponent(organization)}` };
    return { path: at("users", user), query: "" };
  }
  if (project !== undefined && organization !== undefined) {
    throw failure("invalid_scope", "a scope is one organization or one project (or a user within either), not both");
  }
  if (project !== undefined) return { path: at("projects", project), query: "" };
  if (organization !== undefined) return { path: at("organizations", organization), query: "" };
  throw failure("invalid_scope", "a scope names an organization, a project or a user");
}

/** Group hash ids → decimal texts (numbers, decimal strings or bigints), as the Store takes them. */
function hashIds(value) {
  if (!Array.isArray(value)) throw failure("invalid_body", "hash ids must be an array of integers");
  return value.map((item) => {
    if (typeof item === "number" && Number.isInteger(item) && Math.abs(item) <= Number.MAX_SAFE_INTEGER) return String(item);
    if (typeof item === "bigint") return item.toString(10);
    if (typeof item === "string" && /^-?[0-9]{1,19}$/.test(item)) return item;
    throw failure("invalid_id", "hash ids must be whole numbers (decimal strings or bigints beyond 2^53)");
  });
}

/** A value as JSON text; `undefined` and what JSON cannot hold are `invalid_type` (as the Store). */
function valueJson(value) {
  if (value === undefined) throw failure("invalid_type", "a value is required (undefined given)");
  try {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`${typeof value} is not JSON`);
    return json;
  } catch (e) {
    throw failure("invalid_type", `the value is not JSON: ${e.message}`);
  }
}

/** `{ raw, fallthrough?, autoAssignment?, isActive? }` → the edge's body. */
function ownershipBody(input) {
  const shape = "ownership is { raw: string, fallthrough?: boolean, autoAssignment?: boolean, isActive?: boolean }";
  if (input === null || typeof input !== "object" || typeof input.raw !== "string") throw failure("invalid_body", shape);
  const body = { raw: input.raw };
  for (const [field, wire] of [["fallthrough", "fallthrough"], ["autoAssignment", "auto_assignment"], ["isActive", "is_active"]]) {
    const v = input[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== "boolean") throw failure("invalid_body", `\`${field}\` must be a boolean`);
    body[wire] = v;
  }
  return JSON.stringify(body);
}

/**
 * The edge-options API from another Worker or any JavaScript runtime with
 * `fetch`. `target` is a service binding (`env.OPTIONS`: anything with
 * `fetch(request)`) or the edge's base URL; `token` is the edge's read or
 * admin token (writes need the admin token: `forbidden` otherwise).
 */
export class EdgeOptionsClient {
  #send;
  #base;
  #token;
  #timeoutMs;

  constructor(target, options) {
    const bad = (what) => failure("invalid_body", `EdgeOptionsClient: ${what}`);
    if (target !== null && typeof target === "object" && typeof target.fetch === "function" && !(target instanceof URL)) {
      this.#send = (request) => target.fetch(request);
      this.#base = BINDING_BASE;
    } else if (typeof target === "string" || target instanceof URL) {
      const base = String(target).trim().replace(/\/+$/, "");
      if (!/^https?:\/\/[^/]/.test(base)) throw bad("the base URL must be an http(s) URL");
      this.#send = (request) => fetch(request);
      this.#base = base;
    } else {
      throw bad("the first argument must be a service binding (an object with fetch) or the edge's base URL");
    }
    const token = options?.token;
    if (typeof token !== "string" || token.trim() === "") throw bad("`token` must be a non-empty string (the edge's read or admin token)");
    this.#token = token.trim();
    const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) throw bad("`timeoutMs` must be a positive number");
    this.#timeoutMs = timeoutMs;
  }

  /**
   * One call: `method path` with a JSON `body` text; answers the parsed
   * answer, or rejects with the edge's error (its code, status and message),
   * `unavailable` when the edge cannot be reached, `origin_timeout` when it
   * does not answer in time (a write's outcome is then unknown) and
   * `origin_error` for an answer that is not the edge's.
   */
  async #call(method, path, body) {
    const headers = { authorization: `Bearer ${this.#token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    let status;
    let answer;
    try {
      const request = new Request(this.#base + path, { method, headers, body, signal: controller.signal });
      const response = await this.#send(request);
      status = response.status;
      answer = await response.text();
    } catch (e) {
      const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      if (timedOut) {
        const unknown = method === "GET" ? "" : "; the write may have been applied";
        throw failure("origin_timeout", `edge-options did not answer within ${this.#timeoutMs} ms${unknown}`, 504, detail);
      }
      throw failure("unavailable", "edge-options could not be reached; nothing was changed", 503, detail);
    } finally {
      clearTimeout(timer);
    }
    let parsed;
    try {
      parsed = JSON.parse(answer);
    } catch {
      parsed = undefined;
    }
    const error = parsed?.error;
    if (status >= 200 && status < 300 && parsed !== undefined && error === undefined) return parsed;
    if (error !== null && typeof error === "object" && typeof error.code === "string") {
      const edge = failure(error.code, typeof error.message === "string" ? error.message : error.code, status);
      // Where in rules text, for an `invalid_rules` the edge placed (as the Store's errors).
      for (const field of ["line", "column"]) if (Number.isInteger(error[field])) edge[field] = error[field];
      throw edge;
    }
    const unknown = method === "GET" ? "" : "; the write may have been applied";
    throw failure("origin_error", `edge-options answered status ${status} without its JSON${unknown}`, 502, answer.slice(0, 500));
  }

  /** `{ name, value, source, degraded, lookup?, version?, redacted? }` (credentials: `value: null, redacted: true` to the read token). */
  async getOption(name, _ctx, options) {
    text(name, "an option name");
    if (name === "") throw failure("unknown_option", 'unknown option ""');
    return camel(await this.#call("GET", atLeast(`/v1/options/${segment(name)}`, options)));
  }

  /** Always `undefined`: the client keeps nothing (the cache is the edge's); then `await getOption(name)`. */
  peekOption(_name) {
    return undefined;
  }

  /** A reader whose `get` is always `undefined` (see `peekOption`). */
  reader(_now) {
    return { get: () => undefined };
  }

  /** `{ name, value, version, cacheUpdated }` (admin token). */
  async setOption(name, value) {
    text(name, "an option name");
    const body = `{"value":${valueJson(value)}}`;
    if (name === "") throw failure("unknown_option", 'unknown option ""');
    return camel(await this.#call("PUT", `/v1/options/${segment(name)}`, body));
  }

  /** `{ name, version, cacheUpdated }` (admin token). */
  async deleteOption(name) {
    text(name, "an option name");
    if (name === "") throw failure("unknown_option", 'unknown option ""');
    return camel(await this.#call("DELETE", `/v1/options/${segment(name)}`));
  }

  /** The registry (credential defaults `null` with `masked: true` to the read token). */
  async listOptions() {
    const list = await this.#call("GET", "/v1/options");
    return Array.isArray(list) ? list.map(camel) : list;
  }

  /** `{ values, source, version }`. */
  async getMap(scope, _ctx, options) {
    const { path, query } = scopePath(scope);
    return camel(await this.#call("GET", atLeast(path + query, options)));
  }

  /** `{ key, value, source, version }` (`value: null` when unset). */
  async getMapKey(scope, key, _ctx, options) {
    const { path, query } = scopePath(scope);
    return camel(await this.#call("GET", atLeast(`${path}/${mapKey(key)}${query}`, options)));
  }

  /** `{ key, value, version, cacheUpdated }` (admin token). */
  async setMapKey(scope, key, value) {
    const { path, query } = scopePath(scope);
    const segmentText = mapKey(key);
    return camel(await this.#call("PUT", `${path}/${segmentText}${query}`, `{"value":${valueJson(value)}}`));
  }

  /** `{ key, version, cacheUpdated }` (admin token). */
  async deleteMapKey(scope, key) {
    const { path, query } = scopePath(scope);
    return camel(await this.#call("DELETE", `${path}/${mapKey(key)}${query}`));
  }

  /** `{ ownership: { raw, schema, fallthrough, autoAssignment, isActive, version, updatedAt } | null, source }`. */
  async getOwnership(project, _ctx, options) {
    const answer = await this.#call("GET", atLeast(`${projectPath(project)}/ownership`, options));
    return { ...answer, ownership: camel(answer.ownership ?? null) };
  }

  /** The stored record plus `cacheUpdated` (admin token). */
  async putOwnership(project, input) {
    const path = `${projectPath(project)}/ownership`;
    return camel(await this.#call("PUT", path, ownershipBody(input)));
  }

  /** `{ version, cacheUpdated }` (admin token). */
  async deleteOwnership(project) {
    return camel(await this.#call("DELETE", `${projectPath(project)}/ownership`));
  }

  /** `{ owners, rules, autoAssign, source }` for event data. */
  async owners(project, event, _ctx, options) {
    const path = atLeast(`${projectPath(project)}/owners`, options);
    let body;
    try {
      body = event === undefined ? undefined : JSON.stringify(event);
    } catch (e) {
      throw failure("invalid_body", `event data: ${e.message}`);
    }
    if (body === undefined) throw failure("invalid_body", "event data: a JSON object is required");
    return camel(await this.#call("POST", path, body));
  }

  /** `{ recorded }` (admin token). */
  async recordLastProcessed(project, hashIdList, eventId) {
    const path = `${projectPath(project)}/event-hashes/last-processed`;
    const hashes = hashIds(hashIdList);
    text(eventId, "an event id");
    const body = `{"hash_ids":[${hashes.join(",")}],"event_id":${JSON.stringify(eventId)}}`;
    return camel(await this.#call("POST", path, body));
  }

  /** `{ eventIds }` aligned with `hashIds`, `null` for unknown. */
  async lastProcessed(project, hashIdList) {
    const path = `${projectPath(project)}/event-hashes/last-processed`;
    const hashes = hashIds(hashIdList);
    return camel(await this.#call("GET", `${path}?ids=${hashes.join(",")}`));
  }

  /** `{ synced, options, maps, ownership, failed }`: the edge's sync job, now (admin token). */
  async sync() {
    return camel(await this.#call("POST", "/v1/admin/sync"));
  }

  /** The edge isolate's counters (`/v1/stats` in camelCase, with `configProblems`). */
  async stats() {
    return camel(await this.#call("GET", "/v1/stats"));
  }

  /** The edge's configuration problems (`/v1/stats` `config_problems`). */
  async problems() {
    const stats = await this.#call("GET", "/v1/stats");
    return Array.isArray(stats.config_problems) ? stats.config_problems : [];
  }

  /** Nothing to release (there for code written against `Store`). */
  free() {}
}

/** `/v1/projects/{id}` for a project id. */
function projectPath(project) {
  return `/v1/projects/${encodeURIComponent(id(project, "project"))}`;
}

/** A map key as a path segment: a non-empty string (as the Store's core checks it). */
function mapKey(key) {
  text(key, "a map key");
  if (key === "") throw failure("invalid_body", "the key must not be empty");
  return segment(key);
}
