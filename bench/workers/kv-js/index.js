// The hand-written baseline (bench/run, item 2): a Worker that reads KV on
// every request, and on a miss asks the origin and writes KV — what people
// write when they have no isolate-memory cache.
export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.split("/").pop() || "mail.host";
    const key = `opt:${name}`;
    let text = await env.CACHE.get(key);
    let source = "kv";
    if (text === null) {
      const answer = await fetch(`${env.ORIGIN_URL}/options/${encodeURIComponent(name)}`, {
        headers: { authorization: `Bearer ${env.ORIGIN_TOKEN}` },
      });
      if (!answer.ok) return Response.json({ error: { code: "unavailable" } }, { status: 503 });
      text = await answer.text();
      await env.CACHE.put(key, text, { expirationTtl: 3600 });
      source = "origin";
    }
    const record = JSON.parse(text);
    return Response.json({ name, value: record.value, source });
  },
};
