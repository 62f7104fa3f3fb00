// The dashboard shell: token entry, read vs admin, the section router.

import { api, clearToken, describe, getToken, onUnauthorized, setNotice, setToken, takeNotice } from './api.js';
import { $, $$, fieldError, status } from './dom.js';
import * as overview from './overview.js';
import * as options from './options.js';
import * as scopes from './scopes.js';
import * as ownership from './ownership.js';

const PAGES = { overview, options, scopes, ownership };
const TITLES = { overview: 'Overview', options: 'Options', scopes: 'Scopes', ownership: 'Ownership' };

/** What every page gets: the access level and a screen-reader announcer. */
const session = {
  access: null,
  canWrite: false,
  announce(text) {
    const el = $('#announce');
    el.textContent = '';
    setTimeout(() => { el.textContent = text; }, 30);
  },
};

/**
 * What `token` allows, by `GET /v1/whoami` (no side effects). A Worker
 * without it (404/405) gets `GET /v1/stats`: the token reads, and whether it
 * may write is unknown until a write is tried.
 */
async function checkToken(token) {
  const who = await api('GET', '/v1/whoami', undefined, { token });
  if (who.ok && who.data && ['read', 'admin'].includes(who.data.access)) return { access: who.data.access };
  const refused = { error: 'The Worker refused this token (401 unauthorized).', refused: true };
  if (who.status === 401) return refused;
  if (who.status === 404 || who.status === 405) {
    const stats = await api('GET', '/v1/stats', undefined, { token });
    if (stats.ok) return { access: 'unknown' };
    if (stats.status === 401) return refused;
    return { error: `Could not check the token: ${describe(stats.error)}` };
  }
  return { error: `Could not check the token: ${describe(who.error)}` };
}

const BADGES = {
  admin: ['admin', 'Admin token: can read and change values'],
  read: ['read-only', 'Read token: can look, cannot change anything'],
  unknown: ['read (admin unknown)', 'This Worker cannot say whether the token may write; a write will tell'],
};

let started = false;

function start(access) {
  session.access = access;
  session.canWrite = access !== 'read';
  document.body.dataset.access = access;
  const [label, title] = BADGES[access];
  const badge = $('#access-badge');
  badge.dataset.access = access;
  badge.textContent = label;
  badge.title = title;
  badge.setAttribute('aria-label', `Signed in: ${title}`);
  $('#signin').hidden = true;
  $('#nav').hidden = false;
  $('#session').hidden = false;
  if (!started) {
    started = true;
    for (const page of Object.values(PAGES)) page.init(session);
    window.addEventListener('hashchange', () => route(true));
  }
  route(false);
  session.announce(`Signed in with the ${label} token.`);
}

function route(moveFocus) {
  let name = location.hash.replace(/^#/, '');
  if (!PAGES[name]) name = 'overview';
  for (const section of $$('[data-page]')) section.hidden = section.dataset.page !== name;
  for (const link of $$('[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${TITLES[name]} · edge-options dashboard`;
  PAGES[name].show(session);
  if (moveFocus) $(`#${name}-title`).focus();
}

let leaving = false;

function signOut(notice) {
  // Calls still in flight may answer 401 after the token is gone: the first
  // reason given is the one shown.
  if (leaving) return;
  leaving = true;
  clearToken();
  if (notice) setNotice(notice);
  history.replaceState(null, '', location.pathname);
  location.reload();
}

async function submitToken(event) {
  event.preventDefault();
  const input = $('#token-input');
  const out = $('#token-status');
  const button = $('#token-submit');
  const token = input.value.trim();
  if (!token) {
    fieldError(input, out, 'Enter a token.');
    out.className = 'status error';
    input.focus();
    return;
  }
  button.disabled = true;
  status(out, 'Checking the token…');
  const result = await checkToken(token);
  button.disabled = false;
  if (result.error) {
    fieldError(input, out, result.error);
    out.className = 'status error';
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  input.value = '';
  status(out, '');
  setToken(token);
  start(result.access);
}

async function boot() {
  onUnauthorized(() => signOut('The Worker refused the stored token (401). Sign in again.'));
  $('#token-form').addEventListener('submit', submitToken);
  $('#sign-out').addEventListener('click', () => signOut('Token forgotten.'));
  const notice = takeNotice();
  const token = getToken();
  if (token) {
    const result = await checkToken(token);
    if (!result.error) {
      start(result.access);
      return;
    }
    // A refused token is dropped; after any other failure (the Worker
    // restarting, say) it stays for the next try.
    if (result.refused) clearToken();
    else $('#token-input').value = token;
    status($('#token-status'), result.error, 'error');
  } else if (notice) {
    status($('#token-status'), notice, notice.includes('refused') ? 'error' : '');
  }
  $('#signin').hidden = false;
  $('#token-input').focus();
}

boot();
