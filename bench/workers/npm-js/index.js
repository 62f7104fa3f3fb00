// The npm package inside a JS Worker (bench/run, item 2): one Store per
// isolate, `getOption` per request, the answer as JSON.
import { Store } from "edge-options";

let store;

export default {
  async fetch(request, env, ctx) {
    store ??= new Store({ kv: env.CACHE, origin: { url: env.ORIGIN_URL, token: env.ORIGIN_TOKEN } });
    const name = new URL(request.url).pathname.split("/").pop() || "mail.host";
    const answer = await store.getOption(name, ctx);
    return Response.json(answer);
  },
};
