import { Store, type OptionRead, type StoreError, type KvLike } from "edge-options";

declare const kv: KvLike;
const store = new Store({ kv, origin: { url: "http://127.0.0.1:8788", token: "t", timeoutMs: 1000 }, config: { "mail.from": "a@b" }, legacyPrefixes: ["x."] });
async function main(): Promise<number> {
  const read: OptionRead = await store.getOption("mail.host");
  const s: string = read.source;
  const v: number | undefined = read.version;
  const w = await store.setOption("mail.port", 25);
  const ok: boolean = w.cacheUpdated;
  const d = await store.deleteOption("mail.port");
  const n: number = d.version + store.stats().hitsLocal;
  try { await store.getOption("nope"); } catch (e) { const code = (e as StoreError).code; if (code === "unknown_option") return 1; }
  void s; void v; void ok;
  return n;
}
void main;
