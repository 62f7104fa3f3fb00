import {
  Store,
  type OptionRead,
  type StoreError,
  type KvLike,
  type OptionInfo,
  type OwnersAnswer,
  type Owner,
  type Scope,
} from "edge-options";

declare const kv: KvLike;
const store = new Store({ kv, origin: { url: "http://127.0.0.1:8788", token: "t", timeoutMs: 1000 }, config: { "mail.from": "a@b" }, legacyPrefixes: ["x."], settings: { MAP_TTL_SECS: 5 } });
async function main(): Promise<number> {
  const read: OptionRead = await store.getOption("mail.host");
  const s: string = read.source;
  const v: number | undefined = read.version;
  const w = await store.setOption("mail.port", 25);
  const ok: boolean = w.cacheUpdated;
  const d = await store.deleteOption("mail.port");
  const n: number = d.version + store.stats().hitsLocal;
  try { await store.getOption("nope"); } catch (e) { const code = (e as StoreError).code; if (code === "unknown_option") return 1; }

  const info: OptionInfo[] = store.listOptions();
  const ttl: number = info[0].ttl + info[0].grace;
  const scope: Scope = { user: 1, project: "2" };
  const map = await store.getMap(scope);
  const values: Record<string, unknown> = map.values;
  const key = await store.getMapKey({ organization: 3 }, "k");
  const keySet = await store.setMapKey({ project: 4 }, "k", [1, 2]);
  const keyGone = await store.deleteMapKey({ project: 4 }, "k");
  // @ts-expect-error a user's map is within a project or an organization, not both
  await store.getMap({ user: 1, project: 2, organization: 3 });
  // @ts-expect-error an organization scope takes no project
  await store.getMap({ organization: 1, project: 2 });

  const own = await store.getOwnership(5);
  const raw: string | undefined = own.ownership?.raw;
  const put = await store.putOwnership(5, { raw: "path:*.py #python", autoAssignment: true });
  const rules: number = put.schema?.rules.length ?? 0;
  const who: OwnersAnswer = await store.owners(5, { tags: { service: "api" } });
  const first: Owner | "everyone" = who.owners === "everyone" ? "everyone" : who.owners[0];
  const auto: string | undefined = who.autoAssign?.identifier;
  const gone: boolean = (await store.deleteOwnership(5)).cacheUpdated;
  const recorded: number = (await store.recordLastProcessed(5, [1, "2"], "ev")).recorded;
  const ids: (string | null)[] = (await store.lastProcessed(5, [1, 2])).eventIds;
  const report = await store.sync();
  const synced: number = report.synced;
  const budget: [number, number, number, boolean] = [report.kvOps, report.originCalls, report.cursor, report.more];
  const problems: string[] = report.problems;
  void budget; void problems;
  void s; void v; void ok; void values; void key; void keySet; void keyGone; void raw; void first; void auto; void gone; void ids;
  return n + ttl + rules + recorded + synced;
}
void main;
const custom = new Store({
  kv,
  origin: { url: "http://127.0.0.1:8788", token: "t" },
  registry: { defaults: { ttl: 5 }, options: [{ name: "app.colour", type: "string", default: "red", flags: ["credential"] }] },
  limits: { maxEntries: 1000, maxBytes: 1 << 20 },
});
void custom;
const fast: Readonly<OptionRead> | undefined = store.peekOption("mail.host") ?? store.reader(Date.now()).get("mail.port");
const hot: number = store.stats().hitsHot;
void fast; void hot;
// The client from Node (nodenext resolves the "./client" export) over a base URL.
import { EdgeOptionsClient } from "edge-options/client";
const client = new EdgeOptionsClient(new URL("https://edge.example.com"), { token: "t" });
const viaClient: Promise<OptionRead> = client.getOption("mail.host");
// @ts-expect-error scopes are objects
void client.getMap(42);
void viaClient;
