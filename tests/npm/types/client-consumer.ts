// A consumer Worker over a service binding (workers-types' `Fetcher`), and
// a handler that takes the in-isolate Store or the client: the line that
// builds `options` is the only difference.
import { EdgeOptionsClient, type ClientError, type ClientOptionRead, type EdgeStats } from "edge-options/client";
import { Store, EdgeOptionsClient as SameClient, type MapKeyRead, type OwnersAnswer, type StoreError } from "edge-options";

interface Env { OPTIONS: Fetcher; EDGE_URL: string; READ_TOKEN: string; CACHE: KVNamespace; ORIGIN_URL: string; ORIGIN_TOKEN: string }

/** A handler written once, for either way in. */
async function triage(options: Store | EdgeOptionsClient, event: Record<string, unknown>, ctx: ExecutionContext): Promise<Response> {
  const host = await options.getOption("mail.host", ctx);
  const theme: MapKeyRead = await options.getMapKey({ user: 7, project: 42 }, "theme", ctx);
  const who: OwnersAnswer = await options.owners(42, event, ctx);
  const written = await options.setMapKey({ project: 42 }, "theme", "dark");
  const listed = await options.listOptions();
  const ids: (string | null)[] = (await options.lastProcessed(42, [1, "2"])).eventIds;
  try {
    await options.setOption("mail.port", "twenty-five");
  } catch (e) {
    const code: string = (e as StoreError | ClientError).code;
    void code;
  }
  return Response.json({ host: host.value, theme: theme.value, who: who.owners, version: written.version, listed: listed.length, ids });
}

let store: Store | undefined;
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const event = (await request.json()) as Record<string, unknown>;
    const viaBinding = new EdgeOptionsClient(env.OPTIONS, { token: env.READ_TOKEN });
    const viaUrl = new SameClient(env.EDGE_URL, { token: env.READ_TOKEN, timeoutMs: 2000 });
    store ??= new Store({ kv: env.CACHE, origin: { url: env.ORIGIN_URL, token: env.ORIGIN_TOKEN } });
    const read: ClientOptionRead = await viaBinding.getOption("mail.password");
    const redacted: boolean | undefined = read.redacted;
    const stats: EdgeStats = await viaUrl.stats();
    const problems: string[] = stats.configProblems.concat(await viaUrl.problems());
    try {
      await viaBinding.deleteOwnership(42);
    } catch (e) {
      const error = e as ClientError;
      if (error.code === "forbidden" || error.code === "unavailable") return new Response(error.message, { status: error.status });
    }
    void redacted; void problems;
    return triage(request.method === "POST" ? viaBinding : store, event, ctx);
  },
} satisfies ExportedHandler<Env>;

declare const env: Env;
// @ts-expect-error a token is required
new EdgeOptionsClient(env.OPTIONS, {});
// @ts-expect-error the target is a binding or a URL, not a KV namespace
new EdgeOptionsClient(env.CACHE, { token: "t" });
// @ts-expect-error a user's map is within a project or an organization, not both
void new EdgeOptionsClient(env.OPTIONS, { token: "t" }).getMap({ user: 1, project: 2, organization: 3 });
// @ts-expect-error stats() is a promise here (the edge is elsewhere)
const hits: number = new EdgeOptionsClient(env.OPTIONS, { token: "t" }).stats().hitsLocal;
// @ts-expect-error the edge has no JS fast-path counter
void (async () => (await new EdgeOptionsClient(env.OPTIONS, { token: "t" }).stats()).hitsHot)();
// @ts-expect-error ownership input takes camelCase flags
void new EdgeOptionsClient(env.OPTIONS, { token: "t" }).putOwnership(1, { raw: "", auto_assignment: true });
void hits;
