// The real stack for the browser tests, like tests/support/mod.rs does for
// the Rust end-to-end tests: the reference origin and the Worker under
// `wrangler dev`, on free ports with state in a temporary folder, plus
// Debian's Chromium driven by playwright-core. Every process is started in
// its own process group and the whole group is killed at the end.
//
// Prerequisites (scripts/test does them first): the origin binary
// (`cargo build -p edge-options-origin`) and the Worker (`scripts/build-worker`;
// `wrangler dev` re-runs it through [build] anyway).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const READ = 'dev-read-token';
export const ADMIN = 'dev-admin-token';
export const ORIGIN_TOKEN = 'dev-origin-token';
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'browser');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Process groups still running, ended even when the test process is
// interrupted (Ctrl-C, a timeout) before its `after` hook runs.
const groups = new Set();
function endAllGroups() {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  groups.clear();
}
process.on('exit', endAllGroups);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    endAllGroups();
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal]));
  });
}

function track(child) {
  groups.add(child.pid);
  child.once('exit', () => groups.delete(child.pid));
  return child;
}

/** SIGTERM to the whole process group of `child`, SIGKILL after 5 s. */
async function killGroup(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timer = new Promise((r) => setTimeout(() => r('timeout'), 5000));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    signal('SIGKILL');
    await exited;
  }
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Starts the reference origin on a free port; resolves with its child and URL. */
function startOrigin(dir) {
  const bin = process.env.EDGE_OPTIONS_ORIGIN_BIN || join(ROOT, 'target/debug/edge-options-origin');
  if (!existsSync(bin)) {
    throw new Error(`no origin binary at ${bin}: run \`cargo build -p edge-options-origin\` (scripts/test does)`);
  }
  const child = track(spawn(
    bin,
    ['--listen', '127.0.0.1:0', '--db', join(dir, 'o.sqlite3'), '--token', ORIGIN_TOKEN],
    { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
  ));
  return new Promise((ok, fail) => {
    let buffer = '';
    const timer = setTimeout(() => fail(new Error('the origin did not say where it listens within 20 s')), 20000);
    child.on('exit', (code) => fail(new Error(`the origin exited (${code}) before listening`)));
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = buffer.match(/origin listening on (http:\/\/[^\s]+)/);
      if (match) {
        clearTimeout(timer);
        child.stdout.resume();
        ok({ child, url: match[1].replace('0.0.0.0', '127.0.0.1') });
      }
    });
  });
}

/** Starts `wrangler dev` against `originUrl`; resolves once /healthz answers. */
async function startWorker(dir, originUrl) {
  const wrangler = join(ROOT, 'node_modules/.bin/wrangler');
  if (!existsSync(wrangler)) throw new Error(`no wrangler at ${wrangler}: run scripts/setup`);
  const port = await freePort();
  const inspector = await freePort();
  const log = join(dir, 'wrangler.log');
  const fd = openSync(log, 'w');
  // The beacon Worker beside the edge Worker in one `wrangler dev`, as scripts/dev runs them.
  const beacon = join(dir, 'beacon');
  execFileSync(join(ROOT, 'scripts/beacon-config'), [originUrl, beacon], { env: { ...process.env, ORIGIN_TOKEN } });
  const args = ['dev', '--config', 'wrangler.toml', '--config', join(beacon, 'wrangler.toml'),
    '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
    '--persist-to', join(dir, 'state'), '--var', `ORIGIN_URL:${originUrl}`,
    // The tokens of .dev.vars.example, given explicitly so that a developer's own .dev.vars
    // (which `wrangler dev` also reads) cannot change what these tests prove.
    '--var', `READ_TOKEN:${READ}`, '--var', `ADMIN_TOKEN:${ADMIN}`, '--var', `ORIGIN_TOKEN:${ORIGIN_TOKEN}`];
  const child = track(spawn(wrangler, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
  }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${tail(log)}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return { child, url, log };
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  await killGroup(child);
  throw new Error(`wrangler dev was not ready within 120 s:\n${tail(log)}`);
}

/**
 * The origin and the Worker in one temporary folder. `stack.call(method, path,
 * {token, body})` talks to the Worker; `stack.stopOrigin()` stops the origin
 * alone (an outage); `stack.stop()` ends both.
 */
export async function startStack() {
  const dir = mkdtempSync(join(tmpdir(), 'edge-options-browser-'));
  const origin = await startOrigin(dir);
  let worker;
  try {
    worker = await startWorker(dir, origin.url);
  } catch (err) {
    await killGroup(origin.child);
    throw err;
  }
  return {
    dir,
    url: worker.url,
    originUrl: origin.url,
    log: worker.log,
    async call(method, path, { token = READ, body } = {}) {
      const res = await fetch(`${worker.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async stopOrigin() {
      await killGroup(origin.child);
    },
    async stop() {
      await Promise.all([killGroup(worker.child), killGroup(origin.child)]);
      rmSync(dir, { recursive: true, force: true });
    },
    logTail: () => tail(worker.log),
  };
}

/** Chromium with a fresh profile in a temporary folder; `close()` removes it. */
export async function startBrowser() {
  const { chromium } = await import('playwright-core');
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup (apt-get install chromium)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'edge-options-chromium-'));
  // playwright passes the profile folder as --user-data-dir itself.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go (test-artifacts/ is gitignored). */
export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
