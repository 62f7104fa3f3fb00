// The package's .d.ts, checked with `tsc --strict` from a consumer's point
// of view: once with @types/node (exports condition "node"), once with
// @cloudflare/workers-types (condition "workerd"). The three are dev
// dependencies of this repository and `scripts/test` sets
// EDGE_OPTIONS_TSC_DIR to it; run alone without that variable, the test is
// skipped (never under scripts/test: `skipUnless`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { skipUnless } from "./support.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const tools = process.env.EDGE_OPTIONS_TSC_DIR;
const tsc = tools && join(tools, "node_modules", "typescript", "bin", "tsc");
const skip = skipUnless(!tsc || !existsSync(tsc), "set EDGE_OPTIONS_TSC_DIR (see the top of this file)");

function check(source, options) {
  const dir = mkdtempSync(join(tmpdir(), "edge-options-types-"));
  try {
    mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
    mkdirSync(join(dir, "node_modules", "@cloudflare"), { recursive: true });
    symlinkSync(join(root, "npm"), join(dir, "node_modules", "edge-options"), "dir");
    symlinkSync(join(tools, "node_modules", "@types", "node"), join(dir, "node_modules", "@types", "node"), "dir");
    symlinkSync(join(tools, "node_modules", "undici-types"), join(dir, "node_modules", "undici-types"), "dir");
    symlinkSync(
      join(tools, "node_modules", "@cloudflare", "workers-types"),
      join(dir, "node_modules", "@cloudflare", "workers-types"),
      "dir",
    );
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "types-check", private: true, type: "module" }));
    copyFileSync(join(here, "types", source), join(dir, source));
    const config = { compilerOptions: { strict: true, noEmit: true, target: "es2022", lib: ["es2022"], ...options }, files: [source] };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
    return execFileSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the .d.ts types a Node consumer (@types/node, nodenext)", { skip }, () => {
  check("node-consumer.ts", { module: "nodenext", moduleResolution: "nodenext", types: ["node"] });
});

test("the .d.ts types a Worker (@cloudflare/workers-types, condition workerd)", { skip }, () => {
  check("worker-consumer.ts", {
    module: "es2022",
    moduleResolution: "bundler",
    customConditions: ["workerd"],
    types: ["@cloudflare/workers-types"],
  });
});

test("the client's .d.ts types a Worker over a service binding, and a handler taking Store or client", { skip }, () => {
  check("client-consumer.ts", {
    module: "es2022",
    moduleResolution: "bundler",
    customConditions: ["workerd"],
    types: ["@cloudflare/workers-types"],
  });
});
