// Types of `EdgeOptionsClient` (edge-options/client, also re-exported by
// the package's main entry). The answer types are the Store's own, so a
// handler typed against one compiles against the other.
import type {
  ErrorCode,
  Id,
  LastProcessed,
  MapKeyDelete,
  MapKeyRead,
  MapKeySet,
  MapRead,
  OptionDelete,
  OptionInfo,
  OptionRead,
  OptionReader,
  OptionSet,
  OwnersAnswer,
  OwnershipInput,
  OwnershipRead,
  OwnershipWrite,
  ReadOptions,
  Scope,
  StoreStats,
  SyncReport,
  WaitUntil,
} from "./index.js";

/** Anything with `fetch(request)`: a service binding (`env.OPTIONS`, a `Fetcher`) or a stand-in. */
export interface FetcherLike {
  fetch(request: Request): Promise<Response>;
}

/** How to build an `EdgeOptionsClient`. */
export interface EdgeOptionsClientOptions {
  /** The edge's read or admin token (`READ_TOKEN` / `ADMIN_TOKEN`); writes need the admin token. */
  token: string;
  /** Time for one call, request and answer, before it rejects with `origin_timeout` (default 10000 ms). */
  timeoutMs?: number;
}

/** `getOption` through the edge: a credential is `value: null, redacted: true` to the read token. */
export interface ClientOptionRead extends OptionRead {
  redacted?: true;
}

/** `listOptions` through the edge: a credential's default is `null` with `masked: true` to the read token. */
export interface ClientOptionInfo extends OptionInfo {
  masked?: true;
}

/** The edge isolate's counters (`/v1/stats` in camelCase): the Store's, without `hitsHot`, with `configProblems`. */
export type EdgeStats = Omit<StoreStats, "hitsHot"> & { configProblems: string[] };

/** Codes an `EdgeOptionsClient` call can reject with: the Store's, and the edge's own about tokens and routes. */
export type ClientErrorCode = ErrorCode | "unauthorized" | "forbidden" | "not_found" | "method_not_allowed" | "not_configured";

/**
 * A rejection of `EdgeOptionsClient`: an `Error` with the edge's `code` and
 * HTTP `status`; `detail`, when present, is what the network said (for your
 * logs): `unavailable` (not reached; nothing changed), `origin_timeout` (no
 * answer in time; a write may have been applied), `origin_error` (an answer
 * that is not the edge's).
 */
export interface ClientError extends Error {
  code: ClientErrorCode;
  status: number;
  detail?: string;
  /** For `invalid_rules`: where the offending token is (1-based line and column, in characters), as the Store's. */
  line?: number;
  column?: number;
}

/**
 * The edge-options HTTP API with the `Store`'s method names, arguments,
 * answers and error codes. `ctx` arguments are accepted and unused (the
 * edge refreshes under its own `waitUntil`).
 */
export declare class EdgeOptionsClient {
  /**
   * `target`: a service binding (`env.OPTIONS`) or the edge's base URL.
   * Throws an `Error` with `code: "invalid_body"` for anything else, or a
   * missing token.
   */
  constructor(target: FetcherLike | string | URL, options: EdgeOptionsClientOptions);
  getOption(name: string, ctx?: WaitUntil, options?: ReadOptions): Promise<ClientOptionRead>;
  /** Always `undefined`: the client keeps nothing (the cache is the edge's). */
  peekOption(name: string): Readonly<OptionRead> | undefined;
  /** A reader whose `get` is always `undefined`. */
  reader(now?: number): OptionReader;
  setOption(name: string, value: unknown): Promise<OptionSet>;
  deleteOption(name: string): Promise<OptionDelete>;
  /** Asynchronous here (the Store's is synchronous; `await` works on both). */
  listOptions(): Promise<ClientOptionInfo[]>;
  getMap(scope: Scope, ctx?: WaitUntil, options?: ReadOptions): Promise<MapRead>;
  getMapKey(scope: Scope, key: string, ctx?: WaitUntil, options?: ReadOptions): Promise<MapKeyRead>;
  setMapKey(scope: Scope, key: string, value: unknown): Promise<MapKeySet>;
  deleteMapKey(scope: Scope, key: string): Promise<MapKeyDelete>;
  getOwnership(project: Id, ctx?: WaitUntil, options?: ReadOptions): Promise<OwnershipRead>;
  putOwnership(project: Id, input: OwnershipInput): Promise<OwnershipWrite>;
  deleteOwnership(project: Id): Promise<{ version: number; cacheUpdated: boolean }>;
  owners(project: Id, event: Record<string, unknown>, ctx?: WaitUntil, options?: ReadOptions): Promise<OwnersAnswer>;
  recordLastProcessed(project: Id, hashIds: Id[], eventId: string): Promise<{ recorded: number }>;
  lastProcessed(project: Id, hashIds: Id[]): Promise<LastProcessed>;
  sync(): Promise<SyncReport>;
  /** Asynchronous here: the edge isolate's counters. */
  stats(): Promise<EdgeStats>;
  /** Asynchronous here: the edge's configuration problems. */
  problems(): Promise<string[]>;
  /** Nothing to release. */
  free(): void;
}
