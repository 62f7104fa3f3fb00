// The reference origin's own throughput by storage: SQLite vs PostgreSQL,
// one vs two replicas, reads and writes, same machine, same run. One JSON
// object on stdout. Run by `bench/run` (and alone by `bench/run --origin-db`,
// which starts a throwaway PostgreSQL first); by hand:
//   node bench/js/origin_db.mjs [--quick] --pg postgres://postgres@127.0.0.1:PORT/postgres --psql /usr/lib/postgresql/15/bin/psql
//   node bench/js/origin_db.mjs --render bench/target/results/origin-db.json   # prints the table
//
// Each configuration gets a fresh database (a SQLite file; a new PostgreSQL
// database), 1,000 options written first, then `wrk` (`bench/js/wrk/*.lua`)
// for reads (`GET /options/{random of the 1,000}`) and writes (`PUT
// /options/{random of 10,000}`), 16 connections in all. With two replicas
// there is one `wrk` per replica, each with half the connections, run at
// the same time; their requests per second are added, as behind a load
// balancer. Everything shares the machine's cores: the figures compare the
// storages under the same conditions, they are not a capacity claim.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ORIGIN_TOKEN, call, cleanup, root, tempDir } from "./stack.mjs";
import { f } from "./format.mjs";

/** Origins this script started: their process groups are killed on exit. */
const started = new Set();
process.on("exit", () => {
  for (const child of started) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Stops one origin (SIGTERM to its group), waiting up to 5 s. */
async function stopOrigin(child) {
  started.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => process.kill(-child.pid, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}


/** The section's lines (markdown) from this script's JSON. */
export function originDbSection(r) {
  const out = ["## 7. Reference origin by storage", ""];
  if (!r) return [...out, "Not measured in this run (no `origin-db.json`)."];
  out.push(
    `The reference origin (release build) alone, driven by \`wrk\` (${r.connections} connections in all, ${r.seconds} s a round,`,
    `best of ${r.rounds} round${r.rounds === 1 ? "" : "s"}), on this run's machine: SQLite (one process, WAL, \`synchronous=NORMAL\`) against PostgreSQL ${r.pg_version}`,
    "(`synchronous_commit=off`, the same durability window), one replica and two replicas over the one database (one `wrk`",
    "per replica, figures added). Reads: `GET /options/{name}` of 1,000 stored options; writes: `PUT /options/{name}` over",
    "10,000 names. Writes take the version counter one at a time whatever the number of replicas (see docs/design.md,",
    "\"The reference origin\"); reads do not.",
    "",
    "| storage | replicas | reads / s | writes / s | non-2xx |",
    "|---|---|---|---|---|",
  );
  for (const c of r.configs) {
    out.push(`| ${c.storage} | ${c.replicas} | ${f(c.read.rps)} | ${f(c.write.rps)} | ${c.read.non2xx + c.write.non2xx} |`);
  }
  return out;
}

// Run as a script (render.mjs imports only the section).
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

async function main() {
  if (process.argv.includes("--render")) {
    const file = process.argv[process.argv.indexOf("--render") + 1];
    console.log(originDbSection(JSON.parse(readFileSync(file, "utf8"))).join("\n"));
    return;
  }

  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const quick = process.argv.includes("--quick");
  const pgUrl = arg("--pg");
  const psql = arg("--psql");
  if (!pgUrl || !psql) throw new Error("usage: origin_db.mjs [--quick] --pg postgres://… --psql PATH (bench/run --origin-db does this)");
  const SECONDS = quick ? 2 : 5;
  const ROUNDS = quick ? 1 : 3;
  const CONNECTIONS = 16;
  const OPTIONS = 1_000;

  function sql(statement) {
    return execFileSync(psql, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", pgUrl, "-c", statement], { encoding: "utf8" }).trim();
  }

  /** The release origin over `db` (a path or a URL), on a free port. */
  async function origin(db) {
    const bin = join(root, "target", "release", "edge-options-origin");
    const child = spawn(bin, ["--listen", "127.0.0.1:0", "--db", db, "--db-pool", "16", "--token", ORIGIN_TOKEN], {
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    });
    started.add(child);
    const port = await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("the origin did not start within 20 s")), 20_000);
      let seen = "";
      child.stdout.on("data", (chunk) => {
        seen += chunk;
        const m = seen.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
        if (m) {
          clearTimeout(timer);
          ok(Number(m[1]));
        }
      });
      child.once("exit", (code) => fail(new Error(`the origin exited (${code}) before listening`)));
    });
    return { child, url: `http://127.0.0.1:${port}` };
  }

  /** `wrk` runs at once, one per URL, `CONNECTIONS` split between them; summed. */
  async function load(urls, script) {
    const runs = urls.map(
      (url) =>
        new Promise((ok, fail) => {
          const c = Math.max(1, Math.floor(CONNECTIONS / urls.length));
          const child = spawn("wrk", ["-t1", `-c${c}`, `-d${SECONDS}s`, "-s", join(root, "bench", "js", "wrk", script), url], {
            env: { ...process.env, ORIGIN_TOKEN, OPTIONS: String(OPTIONS) },
            stdio: ["ignore", "pipe", "pipe"],
          });
          let out = "";
          child.stdout.on("data", (d) => (out += d));
          child.stderr.on("data", (d) => (out += d));
          const timer = setTimeout(() => child.kill("SIGKILL"), (SECONDS + 30) * 1000);
          child.once("exit", () => {
            clearTimeout(timer);
            const rps = out.match(/Requests\/sec:\s+([\d.]+)/);
            if (!rps) return fail(new Error(`wrk gave no figure:\n${out}`));
            const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/);
            ok({ rps: Number(rps[1]), non2xx: non2xx ? Number(non2xx[1]) : 0 });
          });
        }),
    );
    const all = await Promise.all(runs);
    return { rps: all.reduce((s, x) => s + x.rps, 0), non2xx: all.reduce((s, x) => s + x.non2xx, 0) };
  }

  /** Best of `ROUNDS` (the machine is noisy; the best round is the least disturbed). */
  async function best(urls, script) {
    let top;
    for (let r = 0; r < ROUNDS; r++) {
      const round = await load(urls, script);
      if (!top || round.rps > top.rps) top = { ...round, non2xx: Math.max(round.non2xx, top?.non2xx ?? 0) };
    }
    return top;
  }

  const configs = [];
  const dir = tempDir("origin-db");
  let n = 0;
  for (const [storage, replicas] of [["SQLite", 1], ["PostgreSQL", 1], ["PostgreSQL", 2]]) {
    n += 1;
    let db = join(dir, `origin-${n}.sqlite3`);
    if (storage === "PostgreSQL") {
      sql(`CREATE DATABASE bench_${process.pid}_${n}`);
      db = pgUrl.replace(/\/[^/?]*(\?|$)/, `/bench_${process.pid}_${n}$1`);
    }
    const origins = [];
    for (let i = 0; i < replicas; i++) origins.push(await origin(db));
    const urls = origins.map((o) => o.url);
    // 1,000 options to read, written 16 at a time.
    for (let i = 0; i < OPTIONS; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, OPTIONS - i) }, (_, k) =>
          call("PUT", `${urls[(i + k) % urls.length]}/options/bench-${i + k}`, { token: ORIGIN_TOKEN, body: { value: i + k } }),
        ),
      );
    }
    await load(urls, "origin_read.lua"); // warm-up
    const read = await best(urls, "origin_read.lua");
    const write = await best(urls, "origin_write.lua");
    configs.push({ storage, replicas, read, write });
    for (const o of origins) await stopOrigin(o.child);
  }
  const pg_version = sql("SHOW server_version").split(" ")[0];
  console.log(JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, pg_version, configs }, null, 1));
  cleanup();
}
