//! The package's TypeScript types: written by hand (wasm-bindgen alone
//! would give `any` everywhere) and attached to the methods of `Store`
//! through the opaque extern types below.
//!
//! Answers follow one rule: top-level keys are camelCase, nested data
//! (option values, map values, the ownership `schema`, matched `rules`)
//! is exactly as the edge API (openapi/edge.yaml) shows it.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** The methods of a Workers KV binding this package uses. */
export interface KvLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** How to build a `Store`. */
export interface StoreConfig {
  /** A Workers KV namespace binding (`env.CACHE`), or an object with the same methods. */
  kv: KvLike;
  /** The origin API: base URL (no trailing slash needed), bearer token, hard timeout (default 5000 ms). */
  origin: { url: string; token: string; timeoutMs?: number };
  /**
   * Your own registry instead of the built-in one: a document in the format
   * of the repository's `registry.json`, or its JSON text. An invalid one
   * makes the constructor throw `invalid_body` naming the option at fault.
   */
  registry?: RegistryDocument | string;
  /** Config-tier values by option name (the Worker's `OPTIONS_CONFIG`), or its JSON text. */
  config?: Record<string, unknown> | string;
  /** Name prefixes accepted as untyped options with default "" (the Worker's `LEGACY_PREFIXES`). */
  legacyPrefixes?: string[] | string;
  /** Bounds of isolate memory (least recently used entries are evicted first). */
  limits?: { maxEntries?: number; maxBytes?: number };
  /**
   * Other Worker settings by var name (README "Settings"), e.g.
   * `{ ORIGIN_SOFT_TIMEOUT_MS: 250, KV_EXPIRATION_SECS: 3600, KV_RETENTION_SECS: 2592000, MEMORY_MAX_ENTRIES: 10000, MAP_TTL_SECS: 10 }`.
   */
  settings?: Record<string, string | number>;
}

/** A registry document (the format of `registry.json`). */
export interface RegistryDocument {
  /** Default ttl and grace, seconds (10 and 60 when absent). */
  defaults?: { ttl?: number; grace?: number };
  options: Array<{
    name: string;
    type: Exclude<ValueType, "any">;
    default?: unknown;
    flags?: OptionFlag[];
    ttl?: number;
    grace?: number;
    stale_while_revalidate?: boolean;
    description?: string;
  }>;
}

/** Which tier answered. */
export type Source = "local" | "kv" | "origin" | "stale" | "snapshot" | "config" | "default";

/**
 * Set on an answer past its freshness (`source` or `lookup` `"stale"` or
 * `"snapshot"`: the origin could not be reached): `stale: true`, and how
 * long ago the origin gave the value, when known.
 */
export interface Staleness { stale?: true; ageMs?: number }

/** Anything with `waitUntil` (a Worker's `ctx`), for background refreshes. */
export interface WaitUntil { waitUntil(promise: Promise<unknown>): void }

/** The answer to `getOption`. */
export interface OptionRead extends Staleness {
  name: string;
  value: unknown;
  source: Source;
  /** The stores could not be asked: `value` is the config/default and may not be current. */
  degraded: boolean;
  /** Which tier answered the store lookup, when one did. */
  lookup?: Source;
  /** The origin version of a stored value. */
  version?: number;
}

/** The answer to `setOption`. */
export interface OptionSet { name: string; value: unknown; version: number; cacheUpdated: boolean }

/** The answer to `deleteOption`. */
export interface OptionDelete { name: string; version: number; cacheUpdated: boolean }

/** The type of a registered option ("any": a legacy-prefixed name, untyped). */
export type ValueType = "string" | "int" | "float" | "bool" | "sequence" | "mapping" | "any";

/** A flag of a registered option. */
export type OptionFlag = "immutable" | "nostore" | "storeonly" | "credential";

/** One registered option, as `listOptions` gives it (credential defaults included: the caller is trusted code). */
export interface OptionInfo {
  name: string;
  type: ValueType;
  default: unknown;
  flags: OptionFlag[];
  /** Seconds a value stays fresh in isolate memory. */
  ttl: number;
  /** Seconds past `ttl` a value may still be served when the stores fail. */
  grace: number;
  staleWhileRevalidate: boolean;
  description: string;
}

/** A positive integer id; a decimal string for ids beyond `Number.MAX_SAFE_INTEGER`. */
export type Id = number | string;

/** Which option map: an organization's, a project's, or a user's (alone, in a project, or in an organization). */
export type Scope =
  | { organization: Id; project?: never; user?: never }
  | { project: Id; organization?: never; user?: never }
  | { user: Id; project?: Id; organization?: never }
  | { user: Id; organization: Id; project?: never };

/** The answer to `getMap`: every key set in the scope. */
export interface MapRead extends Staleness { values: Record<string, unknown>; source: Source; version: number; degraded?: true }

/** The answer to `getMapKey` (`value: null` when the key is unset). */
export interface MapKeyRead extends Staleness { key: string; value: unknown; source: Source; version: number; degraded?: true }

/** The answer to `setMapKey`. */
export interface MapKeySet { key: string; value: unknown; version: number; cacheUpdated: boolean }

/** The answer to `deleteMapKey`. */
export interface MapKeyDelete { key: string; version: number; cacheUpdated: boolean }

/** An owner: a team (`#slug`, identifier without `#`) or a user (email). */
export interface Owner { type: "team" | "user"; identifier: string }

/** One parsed rule, as in the API's ownership schema. */
export interface OwnershipRule {
  matcher: { type: "path" | "url" | "module" | `tags.${string}`; pattern: string };
  owners: Owner[];
}

/** A project's ownership record. */
export interface OwnershipRecord {
  /** The rules text as written. */
  raw: string;
  /** The parsed rules; `null` when the stored text does not parse (see `schemaError`). */
  schema: { $version: number; rules: OwnershipRule[] } | null;
  schemaError?: string;
  fallthrough: boolean;
  autoAssignment: boolean;
  isActive: boolean;
  version: number;
  /** Unix seconds of the last write, as the origin reports it. */
  updatedAt: number | null;
}

/** What `putOwnership` takes (the flags default to fallthrough on, auto-assignment off, active). */
export interface OwnershipInput { raw: string; fallthrough?: boolean; autoAssignment?: boolean; isActive?: boolean }

/** The answer to `getOwnership` (`ownership: null`: the project has none). */
export interface OwnershipRead extends Staleness { ownership: OwnershipRecord | null; source: Source; degraded?: true }

/** The answer to `putOwnership`. */
export interface OwnershipWrite extends OwnershipRecord { cacheUpdated: boolean }

/** The answer to `owners`: who owns an event under the project's rules. */
export interface OwnersAnswer extends Staleness {
  /** Owners of every matching rule in rule order, deduplicated; `"everyone"` when nothing matched and fallthrough is on. */
  owners: Owner[] | "everyone";
  /** The matching rules, in rule order. */
  rules: OwnershipRule[];
  /** The first owner of the last matching rule, when auto-assignment is on. */
  autoAssign: Owner | null;
  /** The tier that answered for the rules. */
  source: Source;
}

/** The answer to `lastProcessed`: event ids aligned with the hash ids asked for, `null` for unknown. */
export interface LastProcessed { eventIds: (string | null)[] }

/**
 * The answer to `sync`: one run of the sync job. It continues after the
 * cursor the last run saved in KV and stops within the store's limits
 * (`SYNC_MAX_KV_OPS`, `SYNC_MAX_ORIGIN_CALLS`); call it again while `more`.
 */
export interface SyncReport {
  /** Entries written into KV in all (`options + maps + ownership`). */
  synced: number; options: number; maps: number; ownership: number;
  /** Writes KV refused; the cursor stays before the first, so the next run retries them. */
  failed: number;
  /** Changes not written on purpose: KV already held them at that version or newer, or the option is not stored. */
  skipped: number;
  /** Changes nobody could read (rows the origin reported, entries off the contract), passed over. */
  unreadable: number;
  /** KV operations this run made (a bulk read counts once), at most `SYNC_MAX_KV_OPS`. */
  kvOps: number;
  /** Origin calls this run made, at most `SYNC_MAX_ORIGIN_CALLS`. */
  originCalls: number;
  /** The origin version the next run continues after. */
  cursor: number;
  /** Whether changes are left for the next run. */
  more: boolean;
  /** What went wrong without failing the run. */
  problems: string[];
}

/**
 * Options of a read. `minVersion`: read your writes - answer at least this
 * origin version (the `version` a write answered) while the origin can be
 * reached, else the best copy held with `degraded: true`.
 */
export interface ReadOptions { minVersion?: number }

/** Synchronous option reads at one moment (see `Store.reader`). */
export interface OptionReader {
  /** The answer if isolate memory holds `name` fresh at the reader's moment, else `undefined` (then `await getOption`). */
  get(name: string): Readonly<OptionRead> | undefined;
}

/** The synchronous fast path, added by the package's entry over the wasm class. */
export interface Store {
  /**
   * The answer for `name` if this store's isolate memory holds it fresh now,
   * without crossing into wasm (a frozen object, the same for every caller);
   * `undefined` otherwise: then `await getOption(name)`, which asks the tiers.
   */
  peekOption(name: string): Readonly<OptionRead> | undefined;
  /**
   * A reader for one moment (default: now), e.g. one per request: its `get`
   * is `peekOption` without reading the clock on every call.
   */
  reader(now?: number): OptionReader;
}

/** This store's counters (the Worker's `/v1/stats`, in camelCase). */
export interface StoreStats {
  /** Memory hits, including `hitsHot`. */
  hitsLocal: number;
  /** Memory hits answered by the JS fast path (`peekOption`, `reader`, `getOption`) without crossing into wasm. */
  hitsHot: number; hitsKv: number; hitsOrigin: number; staleServed: number; misses: number;
  negativeHits: number; degraded: number; originErrors: number; originRefusals: number; kvErrors: number; kvWriteErrors: number;
  coalesced: number; throttled: number; softTimeouts: number; revalidated: number; inFlight: number;
  breakerOpen: boolean; entries: number; bytes: number; maxEntries: number; maxBytes: number;
  /** Parsed ownership rules kept (one per project and version), their bytes, and parses made. */
  parsedRules: number; parsedRulesBytes: number; rulesParses: number;
  /** KV copies read past their freshness (`KV_EXPIRATION_SECS`), and answers from the last-known-good snapshot. */
  kvExpired: number; snapshotServed: number;
  /** Since when (ms since the epoch) every origin call failed; `null` while the origin answers. */
  originDownSince: number | null;
  /** The age of the oldest stale answer since the origin last answered, ms; `null` when none. */
  oldestStaleAgeMs: number | null;
  /** Whether the store holds the snapshot now (only during an outage). */
  snapshotHeld: boolean;
}

/** Errors thrown or rejected by `Store` are `Error`s with these codes (the edge API's error codes). */
export type ErrorCode =
  | "invalid_body" | "invalid_type" | "invalid_scope" | "invalid_rules" | "invalid_id" | "too_large"
  | "immutable" | "nostore" | "unknown_option" | "not_found" | "origin_error" | "unavailable" | "origin_timeout";
/**
 * `message` is the store's own words, safe to pass on; `detail`, when present, is what the origin or KV
 * said (an origin's error text can hold anything): for your logs, not for your callers. An
 * `invalid_rules` error for rules the store parsed carries where the offending token is: `line` and
 * `column`, 1-based, counted in characters (the message says it in words too).
 */
export interface StoreError extends Error { code: ErrorCode; status: number; detail?: string; line?: number; column?: number }
"#;

#[wasm_bindgen]
extern "C" {
    /// `StoreConfig`.
    #[wasm_bindgen(typescript_type = "StoreConfig")]
    pub type StoreConfig;
    /// An optional Worker `ctx`.
    #[wasm_bindgen(typescript_type = "WaitUntil | undefined")]
    pub type MaybeWaitUntil;
    /// `Scope`.
    #[wasm_bindgen(typescript_type = "Scope")]
    pub type ScopeArg;
    /// Optional `ReadOptions` (`minVersion`).
    #[wasm_bindgen(typescript_type = "ReadOptions | undefined")]
    pub type MaybeReadOptions;
    /// `OwnershipInput`.
    #[wasm_bindgen(typescript_type = "OwnershipInput")]
    pub type OwnershipInputArg;
    /// `Promise<OptionRead>`.
    #[wasm_bindgen(typescript_type = "Promise<OptionRead>")]
    pub type OptionReadPromise;
    /// `Promise<OptionSet>`.
    #[wasm_bindgen(typescript_type = "Promise<OptionSet>")]
    pub type OptionSetPromise;
    /// `Promise<OptionDelete>`.
    #[wasm_bindgen(typescript_type = "Promise<OptionDelete>")]
    pub type OptionDeletePromise;
    /// `OptionInfo[]`.
    #[wasm_bindgen(typescript_type = "OptionInfo[]")]
    pub type OptionInfoList;
    /// `Promise<MapRead>`.
    #[wasm_bindgen(typescript_type = "Promise<MapRead>")]
    pub type MapReadPromise;
    /// `Promise<MapKeyRead>`.
    #[wasm_bindgen(typescript_type = "Promise<MapKeyRead>")]
    pub type MapKeyReadPromise;
    /// `Promise<MapKeySet>`.
    #[wasm_bindgen(typescript_type = "Promise<MapKeySet>")]
    pub type MapKeySetPromise;
    /// `Promise<MapKeyDelete>`.
    #[wasm_bindgen(typescript_type = "Promise<MapKeyDelete>")]
    pub type MapKeyDeletePromise;
    /// `Promise<OwnershipRead>`.
    #[wasm_bindgen(typescript_type = "Promise<OwnershipRead>")]
    pub type OwnershipReadPromise;
    /// `Promise<OwnershipWrite>`.
    #[wasm_bindgen(typescript_type = "Promise<OwnershipWrite>")]
    pub type OwnershipWritePromise;
    /// `Promise<{ version: number; cacheUpdated: boolean }>`.
    #[wasm_bindgen(typescript_type = "Promise<{ version: number; cacheUpdated: boolean }>")]
    pub type OwnershipDeletePromise;
    /// `Promise<OwnersAnswer>`.
    #[wasm_bindgen(typescript_type = "Promise<OwnersAnswer>")]
    pub type OwnersPromise;
    /// `Promise<{ recorded: number }>`.
    #[wasm_bindgen(typescript_type = "Promise<{ recorded: number }>")]
    pub type RecordedPromise;
    /// `Promise<LastProcessed>`.
    #[wasm_bindgen(typescript_type = "Promise<LastProcessed>")]
    pub type LastProcessedPromise;
    /// `Promise<SyncReport>`.
    #[wasm_bindgen(typescript_type = "Promise<SyncReport>")]
    pub type SyncPromise;
    /// `StoreStats`.
    #[wasm_bindgen(typescript_type = "StoreStats")]
    pub type StoreStats;
}
