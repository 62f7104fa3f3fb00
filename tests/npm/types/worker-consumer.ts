import { Store } from "edge-options";
interface Env { CACHE: KVNamespace; ORIGIN_URL: string; ORIGIN_TOKEN: string }
let store: Store | undefined;
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    store ??= new Store({ kv: env.CACHE, origin: { url: env.ORIGIN_URL, token: env.ORIGIN_TOKEN } });
    const name = new URL(request.url).pathname.slice(1);
    return Response.json(await store.getOption(name, ctx));
  },
} satisfies ExportedHandler<Env>;
