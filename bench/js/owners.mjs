// The owners-throughput section of BENCHMARKS.md, from bench-core's JSON
// (native.json). Its own module so `bench/run --owners` can print just this
// table after running just the native core benchmark.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { f } from "./format.mjs";

const us = (s) => `${f(s.median / 1000)} (${f(s.min / 1000)}–${f(s.max / 1000)})`;

/** The section's lines (markdown), from `native` (bench-core's output). */
export function ownersSection(native) {
  const ow = native.owners;
  const out = ["## 6. Owners throughput", ""];
  if (!ow) return [...out, "Not measured in this run (native.json has no `owners`)."];
  return [
    ...out,
    `\`POST /v1/projects/{id}/owners\` against a ${f(ow.rules)}-rule file (the most a rules text may hold; the four matcher kinds`,
    `in turn, each with a glob) and an event of ${f(ow.frames)} frames (filename, abs_path, module), a URL and 10 tags:`,
    "`ProjectOwnership::owners` on an isolate-memory hit of the record, natively (`bench-core`, the shipped release profile), one",
    "core. Median of repeated rounds (min–max). An evaluation costs at most one glob match per rule per distinct text the rule",
    "looks at (rules × frames).",
    "",
    "| owners call | µs per call | calls per second |",
    "|---|---|---|",
    `| **as served: the rules parsed once per record version and kept** | ${us(ow.call_ns)} | ${f(ow.calls_per_second)} |`,
    `| re-parsing the rules on every call (before) | ${us(ow.reparsing_call_ns)} | ${f(ow.reparsing_calls_per_second)} |`,
    `| the parse alone | ${us(ow.parse_ns)} | |`,
  ];
}

// `node bench/js/owners.mjs <native.json>` prints the section.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const native = JSON.parse(readFileSync(process.argv[2], "utf8"));
  console.log(ownersSection(native).join("\n"));
}
