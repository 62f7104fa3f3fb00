// The last-known-good snapshot section of BENCHMARKS.md, from bench-core's
// JSON (native.json). Its own module so `bench/run --snapshot` can print
// just this table after running just the native core benchmark.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { f } from "./format.mjs";

const ms = (s) => `${f(s.median / 1e6, 2)} (${f(s.min / 1e6, 2)}–${f(s.max / 1e6, 2)})`;

/** The section's lines (markdown), from `native` (bench-core's output). */
export function snapshotSection(native) {
  const out = ["## 8. The last-known-good snapshot", ""];
  if (!Array.isArray(native.snapshot)) return [...out, "Not measured in this run (native.json has no `snapshot`)."];
  return [
    ...out,
    "The snapshot the sync job keeps in KV for isolates that start during an origin outage (docs/design.md \"Outage",
    "survival\"), for N small options (a 20-byte string each): its bytes in KV (head and parts), and the time from a new",
    "isolate's first read — KV holding no per-key copy, the origin down — to its answer from the snapshot: the KV miss, the",
    "origin's failure, the snapshot read from KV and parsed, the answer. Natively (`bench-core`, the shipped release profile),",
    "KV an in-process map (no network); median of repeated rounds (min–max). An isolate pays this once a minute, only during",
    "an outage.",
    "",
    "| options | snapshot in KV | parts | first answer from it, ms |",
    "|---|---|---|---|",
    ...native.snapshot.map((s) => `| ${f(s.options)} | ${f(s.bytes / 1024, 1)} KB | ${f(s.parts)} | ${ms(s.first_answer_ns)} |`),
  ];
}

// `node bench/js/snapshot.mjs <native.json>` prints the section.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const native = JSON.parse(readFileSync(process.argv[2], "utf8"));
  console.log(snapshotSection(native).join("\n"));
}
