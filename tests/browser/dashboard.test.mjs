// The dashboard in headless Chromium (Debian's, driven by playwright-core)
// against the real Worker under `wrangler dev` and the real origin.
// Screenshots of each page go to test-artifacts/browser/.
//
//   node --test tests/browser/          (scripts/test runs it after the cargo tests)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, READ, artifact, startBrowser, startStack } from './harness.mjs';

let stack;
let browser;
let page;
const consoleErrors = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it answers something truthy (default 10 s). */
async function until(what, check, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

const text = (selector) => page.locator(selector).first().innerText();
const visible = (selector) => page.locator(selector).first().isVisible();

async function shot(name) {
  await page.screenshot({ path: artifact(`${name}.png`), fullPage: true });
}

/** Every visible form control has an accessible name (label or aria). */
async function assertLabelled(where) {
  const unlabelled = await page.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea, button'))
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !((el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
      || (el.tagName === 'BUTTON' && el.textContent.trim())))
    .map((el) => el.outerHTML.slice(0, 120)));
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${where}`);
}

async function signIn(token) {
  await page.locator('#token-input').fill(token);
  await page.keyboard.press('Enter');
  await page.locator('#access-badge').waitFor({ state: 'visible' });
}

const row = (name) => page.locator(`#options-table tr[data-option="${name}"]`);

before(async () => {
  stack = await startStack();
  browser = await startBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('dashboard', () => {
  test('served by the Worker as static assets; the API still reaches the Worker', async () => {
    const home = await fetch(`${stack.url}/`);
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-type'), /text\/html/);
    assert.match(await home.text(), /edge-options dashboard/);
    const js = await fetch(`${stack.url}/js/app.js`);
    assert.match(js.headers.get('content-type'), /javascript/);
    const who = await stack.call('GET', '/v1/whoami', { token: READ });
    assert.deepEqual(who.json, { access: 'read' });
    // A path that is no file still reaches the Worker (its JSON error, not an asset 404).
    const missing = await fetch(`${stack.url}/no-such-file`);
    assert.match(missing.headers.get('content-type'), /application\/json/);
    assert.equal(typeof (await missing.json()).error.code, 'string');
  });

  test('nothing works without a token; a wrong one is refused; the read token is shown as read-only', async () => {
    await page.goto(stack.url);
    await page.locator('#token-input').waitFor();
    assert.equal(await visible('#nav'), false, 'no navigation before a token');
    assert.equal(await visible('#page-overview'), false);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'token-input', 'the token field has focus');
    await assertLabelled('sign-in');
    // Keyboard: Tab reaches the button, and focus is visibly outlined.
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => ({ id: document.activeElement.id, outline: getComputedStyle(document.activeElement).outlineStyle }));
    assert.deepEqual(focus, { id: 'token-submit', outline: 'solid' });
    await page.keyboard.press('Shift+Tab');
    await shot('01-sign-in');

    await page.locator('#token-input').fill('not-a-token');
    await page.keyboard.press('Enter');
    await until('the refusal', async () => /refused/.test(await text('#token-status')));
    assert.equal(await page.locator('#token-input').getAttribute('aria-invalid'), 'true');
    assert.equal(await visible('#nav'), false);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');

    await signIn(READ);
    assert.equal(await text('#access-badge'), 'read-only');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('edge-options.token')), READ);
    await page.click('a[data-nav="options"]');
    await until('option values', async () => /localhost/.test(await row('mail.host').locator('[data-col="value"]').innerText()));
    await until('all values read', async () => /Read the current value of \d+ options\./.test(await text('#options-status')));
    assert.equal(await visible('#options-readonly'), true, 'the read-only notice');
    assert.equal(await page.locator('#options-table button', { hasText: 'Edit' }).count(), 0, 'no edit buttons for the read token');
    const password = await row('mail.password').locator('[data-col="value"]').innerText();
    assert.match(password, /hidden/, 'credential value masked for the read token');
    assert.doesNotMatch(await row('mail.password').locator('[data-col="default"]').innerText(), /""/);
    await shot('02-options-read-token');

    await Promise.all([page.waitForEvent('load'), page.click('#sign-out')]);
    await page.locator('#token-input').waitFor();
    assert.match(await text('#token-status'), /Token forgotten/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('edge-options.token')), null, 'forgotten');
    assert.equal(await visible('#nav'), false);
  });

  test('overview: the admin token, live stats per tier and a chart of hit sources', async () => {
    await signIn(ADMIN);
    assert.equal(await text('#access-badge'), 'admin');
    // A reload keeps the token (sessionStorage lives as long as the tab).
    await page.reload({ waitUntil: 'load' });
    await page.locator('#access-badge').waitFor({ state: 'visible' });
    assert.equal(await text('#access-badge'), 'admin');
    await page.click('a[data-nav="overview"]');
    await page.locator('#ratio-table td[data-stat="hits_local"]').waitFor();

    // Traffic the dashboard did not make: a miss (origin), then local hits.
    for (let i = 0; i < 6; i += 1) await stack.call('GET', '/v1/options/mail.from');
    await page.click('#stats-refresh');
    await until('local hits counted', async () => Number((await text('#ratio-table td[data-stat="hits_local"]')).replace(/,/g, '')) >= 5);
    const stats = (await stack.call('GET', '/v1/stats')).json;
    assert.ok(stats.hits_local >= 5);
    assert.match(await text('#health-stats [data-stat="breaker_open"]'), /closed/);
    assert.match(await text('#memory-stats [data-stat="entries"]'), /\/ 10,000/);
    assert.match(await text('#health-stats [data-stat="origin_down_since"]'), /answering/);
    assert.equal(await text('#health-stats [data-stat="oldest_stale_age_ms"]'), '—');
    // The isolate's view of the version beacon: its known version and last check.
    assert.ok(stats.beacon.enabled, JSON.stringify(stats.beacon));
    assert.match(await text('#beacon-stats [data-stat="beacon_known_version"]'), /^[0-9][0-9,]*$/);
    assert.match(await text('#beacon-stats [data-stat="beacon_last_check"]'), /ms ago/);
    for (const key of ['origin_errors', 'kv_errors', 'stale_served']) {
      assert.equal(await page.locator(`#health-stats [data-stat="${key}"]`).count(), 1, key);
    }
    for (const key of ['negative_hits', 'coalesced', 'throttled', 'misses']) {
      assert.equal(await page.locator(`#flow-stats [data-stat="${key}"]`).count(), 1, key);
    }
    // The live refresh (every 3 s) draws one stacked bar per interval: three
    // intervals of local hits plus origin reads of project maps nobody read yet.
    for (let round = 0; round < 3; round += 1) {
      const before = await text('#stats-updated');
      for (let i = 0; i < 4 + 3 * round; i += 1) await stack.call('GET', '/v1/options/mail.from');
      for (let i = 0; i < 2; i += 1) await stack.call('GET', `/v1/projects/${1000 + 10 * round + i}/options`);
      await until('a live refresh', async () => (await text('#stats-updated')) !== before, 6000);
    }
    assert.ok(await page.locator('#hit-chart rect.sw-local').count() >= 3, 'local bars');
    assert.ok(await page.locator('#hit-chart rect.sw-origin').count() >= 1, 'origin bars');
    assert.match(await page.locator('#chart-svg-desc').textContent(), /local/);
    assert.match(await text('#stats-updated'), /updated/);
    await assertLabelled('overview');
    await shot('03-overview');
  });

  test('options: search, edit a value and see it with its tier, a type error and a refusal inline', async () => {
    await page.click('a[data-nav="options"]');
    await until('values loaded', async () => /Read the current value/.test(await text('#options-status')));
    await page.fill('#option-search', 'mail');
    await until('filtered', async () => /^\d+ of \d+ options$/.test(await text('#option-count')));
    assert.equal(await row('mail.host').isVisible(), true);
    assert.equal(await row('system.debug').isVisible(), false, 'search hides non-matching options');
    assert.match(await row('mail.port').locator('[data-col="type"]').innerText(), /int/);

    // Edit mail.host.
    await row('mail.host').getByRole('button', { name: 'Edit mail.host' }).click();
    const hostInput = page.locator('#opt-mail_host-value');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'opt-mail_host-value', 'focus moves into the editor');
    await hostInput.fill('smtp.example.com');
    await hostInput.press('Enter');
    await until('the new value in the row', async () => /smtp\.example\.com/.test(await row('mail.host').locator('[data-col="value"]').innerText()));
    const tier = row('mail.host').locator('[data-col="tier"] .tier-cell');
    assert.equal(await tier.getAttribute('data-tier'), 'local', 'right after a write isolate memory answers');
    assert.match(await tier.innerText(), /fresh/);
    assert.match(await text('#options-status'), /Saved mail\.host = "smtp\.example\.com" \(version \d+\)\. Now answered by local\./);
    const stored = await stack.call('GET', '/v1/options/mail.host');
    assert.equal(stored.json.value, 'smtp.example.com', 'the edge has it');

    // A type error, shown next to the field.
    await row('mail.port').getByRole('button', { name: 'Edit mail.port' }).click();
    const portInput = page.locator('#opt-mail_port-value');
    await portInput.fill('twenty-five');
    await portInput.press('Enter');
    const portError = page.locator('#opt-mail_port-error');
    await until('the type error', async () => (await portError.getAttribute('data-code')) === 'invalid_type');
    assert.match(await portError.innerText(), /Type error: expected int, got string/);
    assert.equal(await portInput.getAttribute('aria-invalid'), 'true');
    assert.match(await portInput.getAttribute('aria-describedby'), /opt-mail_port-error/);
    await assertLabelled('options editor');
    await shot('04-options-type-error');
    // A good value then goes through.
    await portInput.fill('587');
    await portInput.press('Enter');
    await until('port saved', async () => /587/.test(await row('mail.port').locator('[data-col="value"]').innerText()));

    // Refusals: immutable and nostore.
    await page.fill('#option-search', 'system');
    for (const [name, code] of [['system.install-id', 'immutable'], ['system.debug', 'nostore']]) {
      await row(name).getByRole('button', { name: `Edit ${name}` }).click();
      const id = `opt-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const input = page.locator(`#${id}-value`);
      if (await input.evaluate((el) => el.tagName) === 'SELECT') await input.selectOption('true');
      else await input.fill('abc');
      await page.locator(`#${id}-editor`).getByRole('button', { name: 'Save' }).click();
      await until(`the ${code} refusal`, async () => (await page.locator(`#${id}-error`).getAttribute('data-code')) === code);
      assert.match(await page.locator(`#${id}-error`).innerText(), new RegExp(`Refused \\(${code}\\)`));
    }
    await shot('05-options-refused');
    // Escape closes the editor and gives focus back to its Edit button.
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Edit system.debug');

    // Delete goes back to the default.
    await page.fill('#option-search', 'mail.host');
    await row('mail.host').getByRole('button', { name: 'Edit mail.host' }).click();
    await page.locator('#opt-mail_host-editor').getByRole('button', { name: 'Delete stored value' }).click();
    await page.locator('#opt-mail_host-editor .confirm').getByRole('button', { name: 'Delete', exact: true }).click();
    await until('back to the default', async () => /"localhost"/.test(await row('mail.host').locator('[data-col="value"]').innerText()));
    assert.equal(await row('mail.host').locator('[data-col="tier"] .tier-cell').getAttribute('data-tier'), 'default');

    // The admin may reveal a credential; it starts masked.
    await page.fill('#option-search', 'credential');
    const pw = row('mail.password').locator('[data-col="value"]');
    assert.match(await pw.innerText(), /••••••/);
    await pw.getByRole('button', { name: 'Show the value of mail.password' }).click();
    assert.match(await pw.innerText(), /""/);
    await page.fill('#option-search', '');
  });

  test('scopes: look up a project map and a user within a project, set and edit a key', async () => {
    await page.click('a[data-nav="scopes"]');
    await page.selectOption('#scope-kind', 'projects');
    await page.fill('#scope-id', '42');
    await page.keyboard.press('Enter');
    await until('the empty map', async () => /No keys set/.test(await text('#scope-table')));
    assert.match(await text('#scope-result-title'), /Project 42 options/);
    await page.fill('#scope-set-key', 'feature.checkout-v2');
    await page.fill('#scope-set-value', 'true');
    await page.locator('#scope-set').getByRole('button', { name: 'Set' }).click();
    const key = page.locator('#scope-table tr[data-key="feature.checkout-v2"]');
    await until('the key in the map', async () => /true/.test(await key.innerText()));
    assert.equal((await stack.call('GET', '/v1/projects/42/options/feature.checkout-v2')).json.value, true);
    await key.getByRole('button', { name: 'Edit feature.checkout-v2' }).click();
    await page.locator('#scope-edit-0').fill('{"rollout": 0.25}');
    await page.locator('#scope-edit-0').press('Enter');
    await until('the edited value', async () => /"rollout":0\.25/.test(await key.innerText()));

    // A user within that project is a different map.
    await page.selectOption('#scope-kind', 'users');
    await page.fill('#scope-id', '9');
    await page.check('input[name="within"][value="project"]');
    await page.fill('#scope-within-id', '42');
    await page.locator('#scope-form').getByRole('button', { name: 'Look up' }).click();
    await until('the user map', async () => /User 9 within project 42 options/.test(await text('#scope-result-title')));
    await page.fill('#scope-set-key', 'language');
    await page.fill('#scope-set-value', 'de');
    await page.locator('#scope-set').getByRole('button', { name: 'Set' }).click();
    await until('the user key', async () => /"de"/.test(await text('#scope-table')));
    assert.equal((await stack.call('GET', '/v1/users/9/options?project=42')).json.values.language, 'de');
    // A bad id is caught at the field.
    await page.fill('#scope-id', 'abc');
    await page.locator('#scope-form').getByRole('button', { name: 'Look up' }).click();
    assert.match(await text('#scope-error'), /positive whole number/);
    await page.fill('#scope-id', '9');
    await page.locator('#scope-form').getByRole('button', { name: 'Look up' }).click();
    await until('the user map again', async () => /"de"/.test(await text('#scope-table')));
    await assertLabelled('scopes');
    await shot('06-scopes');
  });

  test('ownership: a grammar error at its line, then rules saved and an event tested', async () => {
    await page.click('a[data-nav="ownership"]');
    await page.fill('#own-project', '7');
    await page.keyboard.press('Enter');
    await page.locator('#own-body').waitFor({ state: 'visible' });
    assert.match(await text('#own-record'), /No rules stored/);

    // Line 3's owner `bad@` (column 22) is malformed: marked from the error's line and column fields.
    const rules = '# checkout and the app\npath:src/app/* #backend alice@example.com\nmodule:app.billing.* bad@\nurl:https://example.com/checkout/* #web\n';
    await page.fill('#own-rules', rules);
    await page.check('#own-auto');
    await page.locator('#own-form').getByRole('button', { name: 'Save rules' }).click();
    await until('the grammar error', async () => (await page.locator('#own-rules-error').getAttribute('data-line')) === '3');
    assert.equal(await page.locator('#own-rules-error').getAttribute('data-column'), '22');
    assert.match(await text('#own-rules-error'), /line 3, column 22: malformed owner "bad@"/);
    assert.equal(await page.locator('#own-gutter span.err').count(), 1);
    assert.equal(await page.locator('#own-gutter span.err').innerText(), '3', 'the gutter marks line 3');
    assert.equal(await page.locator('#own-rules').getAttribute('aria-invalid'), 'true');
    const selected = await page.locator('#own-rules').evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
    assert.equal(selected, 'bad@', 'the offending token is selected');
    assert.equal((await stack.call('GET', '/v1/projects/7/ownership')).json.ownership, null, 'nothing stored');
    await assertLabelled('ownership');
    await shot('07-ownership-grammar-error');

    await page.fill('#own-rules', rules.replace('bad@', '#billing'));
    assert.equal(await page.locator('#own-gutter span.err').count(), 0, 'editing clears the marker');
    await page.locator('#own-form').getByRole('button', { name: 'Save rules' }).click();
    await until('saved', async () => /Saved 3 rules for project 7/.test(await text('#own-status')));
    assert.equal(await page.locator('#own-parsed li').count(), 3);
    assert.match(await text('#own-parsed'), /path:src\/app\/\*\s*→?\s*owned by\s*#backend/);

    await page.fill('#tester-path', 'src/app/views.py');
    await page.fill('#tester-url', 'https://example.com/checkout/cart');
    await page.locator('#tester').getByRole('button', { name: 'Find owners' }).click();
    await page.locator('#owners-result').waitFor();
    assert.equal((await text('#owners-list')).replace(/\s+/g, ' ').trim(), '#backend alice@example.com #web');
    assert.equal(await page.locator('#owners-rules li').count(), 2);
    assert.equal((await text('#owners-auto')).trim(), '#web', 'the first owner of the last matching rule');
    assert.match(await page.locator('#owners-result pre.event').textContent(), /"filename": "src\/app\/views.py"/);
    await until('the announcement', async () => /Owners: backend, alice@example.com, web/.test(await page.locator('#announce').textContent()));
    await page.locator('#owners-result details summary').click();
    await shot('08-ownership-tested');

    // Pasted event JSON.
    await page.check('input[name="tester-mode"][value="json"]');
    await page.fill('#tester-json', '{"exception":{"values":[{"stacktrace":{"frames":[{"module":"app.billing.invoice"}]}}]}}');
    await page.locator('#tester').getByRole('button', { name: 'Find owners' }).click();
    await until('billing owns it', async () => (await text('#owners-list')).trim() === '#billing');
    await page.fill('#tester-json', '{"nope"');
    await page.locator('#tester').getByRole('button', { name: 'Find owners' }).click();
    assert.match(await text('#tester-error'), /Not valid JSON/);
  });

  test('no script errors in the page', () => {
    assert.deepEqual(consoleErrors.filter((e) => !/status of 40[0-9]/.test(e)), []);
  });

  // Last: it stops the origin.
  test('overview during an outage: since when the origin is unreachable', async () => {
    await stack.stopOrigin();
    const unseen = await stack.call('GET', '/v1/projects/4242/options');
    assert.notEqual(unseen.json?.source, 'origin', unseen.text);
    await page.click('a[data-nav="overview"]');
    await page.click('#stats-refresh');
    await until('the outage shown', async () => /unreachable since .*\(\d+ s\)/.test(await text('#health-stats [data-stat="origin_down_since"]')));
    assert.equal((await stack.call('GET', '/v1/stats')).json.origin_down_since > 0, true);
    await assertLabelled('overview');
    await shot('09-overview-outage');
  });
});
