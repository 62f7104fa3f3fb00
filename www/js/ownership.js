// Ownership: a project's rules (`GET/PUT/DELETE /v1/projects/{id}/ownership`)
// with grammar errors shown at their line, and a tester for
// `POST /v1/projects/{id}/owners`.

import { api, seg } from './api.js';
import { $, $$, fieldError, h, isId, ownerChip, ownerChips, ruleLine, status, tierBadge } from './dom.js';

const LINE_PX = 20; // --code-line in style.css
const PAD_PX = 8; // the textarea's top padding

let session;
let project = null;
let rulesError = null;

export function init(s) {
  session = s;
  const text = $('#own-rules');
  text.addEventListener('input', () => {
    clearRulesError();
    updateGutter();
  });
  text.addEventListener('scroll', syncScroll);
  $('#own-load').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  $('#own-form').addEventListener('submit', (event) => {
    event.preventDefault();
    save();
  });
  $('#own-delete').addEventListener('click', confirmDelete);
  for (const radio of $$('input[name="tester-mode"]')) radio.addEventListener('change', syncTesterMode);
  $('#tester').addEventListener('submit', (event) => {
    event.preventDefault();
    testEvent();
  });
  for (const box of ['#own-fallthrough', '#own-auto', '#own-active']) $(box).disabled = !session.canWrite;
  $('#own-rules').readOnly = !session.canWrite;
  updateGutter();
}

export function show() {}

// Rules editor -------------------------------------------------------------

function updateGutter() {
  const lines = Math.max(10, $('#own-rules').value.split('\n').length);
  const gutter = $('#own-gutter');
  gutter.replaceChildren(...Array.from({ length: lines }, (_, i) => {
    const n = i + 1;
    return h('span', { dataset: { line: String(n) }, class: rulesError && rulesError.line === n ? 'err' : null }, String(n));
  }));
  syncScroll();
}

function syncScroll() {
  const text = $('#own-rules');
  $('#own-gutter').scrollTop = text.scrollTop;
  const band = $('#own-err-band');
  if (rulesError) {
    band.hidden = false;
    band.style.top = `${PAD_PX + (rulesError.line - 1) * LINE_PX - text.scrollTop}px`;
  } else {
    band.hidden = true;
  }
}

function clearRulesError() {
  if (!rulesError) return;
  rulesError = null;
  fieldError($('#own-rules'), $('#own-rules-error'), '');
  for (const span of $$('#own-gutter span.err')) span.classList.remove('err');
  syncScroll();
}

/** Selects the offending token at `line`, `column` (both 1-based). */
function goTo(line, column) {
  const text = $('#own-rules');
  const lines = text.value.split('\n');
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) offset += lines[i].length + 1;
  const lineText = lines[line - 1] ?? '';
  const from = offset + Math.min(Math.max(column - 1, 0), lineText.length);
  const rest = lineText.slice(from - offset);
  const token = rest.match(/^\S*/)[0];
  text.focus();
  text.setSelectionRange(from, from + token.length);
  text.scrollTop = Math.max(0, (line - 3) * LINE_PX);
  syncScroll();
}

/**
 * Shows an `invalid_rules` error at its place: the edge gives the offending
 * token's `line` and `column` (1-based) as fields of the error, beside a
 * message that says it in words. Without them (the origin refused the rules)
 * the message is shown at the field.
 */
function showRulesError(error) {
  const { line, column, message } = error;
  const errorEl = $('#own-rules-error');
  if (!Number.isInteger(line) || !Number.isInteger(column)) {
    rulesError = null;
    fieldError($('#own-rules'), errorEl, message);
    return;
  }
  rulesError = { line, column, message };
  $('#own-rules').setAttribute('aria-invalid', 'true');
  errorEl.dataset.line = String(line);
  errorEl.dataset.column = String(column);
  errorEl.replaceChildren(
    h('span', {}, message), ' ',
    h('button', { type: 'button', class: 'button small', onclick: () => goTo(line, column) }, `Go to line ${line}`));
  updateGutter();
  goTo(line, column);
}

function readProject() {
  const input = $('#own-project');
  const id = input.value.trim();
  if (!isId(id)) {
    fieldError(input, $('#own-load-error'), 'The project id is a positive whole number.');
    input.focus();
    return null;
  }
  fieldError(input, $('#own-load-error'), '');
  return id;
}

function showRecord(record, source) {
  const text = $('#own-rules');
  text.value = record ? record.raw : '';
  $('#own-fallthrough').checked = record ? record.fallthrough : true;
  $('#own-auto').checked = record ? record.auto_assignment : false;
  $('#own-active').checked = record ? record.is_active : true;
  clearRulesError();
  updateGutter();
  const when = record && record.updated_at ? `, updated ${new Date(record.updated_at * 1000).toLocaleString('en-GB')}` : '';
  $('#own-record').textContent = record
    ? `Stored record, version ${record.version ?? '?'}${when}.`
    : 'No rules stored: owners are "everyone" (fallthrough) until rules are saved.';
  // The tier of the last read; a write answers no tier, so none is shown then.
  $('#own-tier').replaceChildren(source ? tierBadge(source) : '');
  const parsed = $('#own-parsed');
  const rules = record?.schema?.rules || [];
  if (record?.schema_error) {
    parsed.replaceChildren(h('li', { class: 'field-error empty' }, `The stored rules do not parse: ${record.schema_error}`));
  } else if (!rules.length) {
    parsed.replaceChildren(h('li', { class: 'muted empty' }, 'No rules.'));
  } else {
    parsed.replaceChildren(...rules.map((rule) => h('li', {}, ruleLine(rule))));
  }
}

async function load() {
  const id = readProject();
  if (!id) return;
  const res = await api('GET', `/v1/projects/${seg(id)}/ownership`);
  if (!res.ok) {
    fieldError($('#own-project'), $('#own-load-error'), `${res.error.code}: ${res.error.message}`);
    return;
  }
  project = id;
  $('#own-project-label').textContent = id;
  $('#own-body').hidden = false;
  status($('#own-status'), '');
  $('#tester-result').replaceChildren();
  showRecord(res.data.ownership, res.cache || res.data.source);
}

async function save() {
  if (!project) return;
  const body = {
    raw: $('#own-rules').value,
    fallthrough: $('#own-fallthrough').checked,
    auto_assignment: $('#own-auto').checked,
    is_active: $('#own-active').checked,
  };
  status($('#own-status'), 'Saving…');
  const res = await api('PUT', `/v1/projects/${seg(project)}/ownership`, body);
  if (!res.ok) {
    status($('#own-status'), '');
    if (res.error.code === 'invalid_rules') showRulesError(res.error);
    else status($('#own-status'), `${res.error.code}: ${res.error.message}`, 'error');
    return;
  }
  showRecord(res.data, null);
  const kv = res.data.cache_updated === false ? ' KV was not updated (the sync job repairs it).' : '';
  const count = res.data.schema?.rules?.length ?? 0;
  status($('#own-status'), `Saved ${count} rule${count === 1 ? '' : 's'} for project ${project} (version ${res.data.version ?? '?'}).${kv}`, 'ok');
}

function confirmDelete() {
  if (!project || $('#own-confirm')) return;
  const button = $('#own-delete');
  const box = h('div', { class: 'confirm', id: 'own-confirm', role: 'group', 'aria-label': 'Confirm deleting the ownership record' },
    `Delete the ownership record of project ${project}? `,
    h('button', { type: 'button', class: 'button small danger', onclick: async () => {
      const res = await api('DELETE', `/v1/projects/${seg(project)}/ownership`);
      box.remove();
      if (!res.ok) {
        status($('#own-status'), `${res.error.code}: ${res.error.message}`, 'error');
        return;
      }
      showRecord(null, null);
      status($('#own-status'), `Deleted the ownership record of project ${project}.`, 'ok');
      button.focus();
    } }, 'Delete'), ' ',
    h('button', { type: 'button', class: 'button small', onclick: () => { box.remove(); button.focus(); } }, 'Keep it'));
  button.parentElement.after(box);
  box.querySelector('button').focus();
}

// Tester -------------------------------------------------------------------

function syncTesterMode() {
  const mode = $('input[name="tester-mode"]:checked').value;
  $('#tester-build').hidden = mode !== 'build';
  $('#tester-json-box').hidden = mode !== 'json';
}

/** The event to ask about, or {error, input}. */
function readEvent() {
  const mode = $('input[name="tester-mode"]:checked').value;
  if (mode === 'json') {
    const input = $('#tester-json');
    try {
      const event = JSON.parse(input.value);
      if (!event || typeof event !== 'object' || Array.isArray(event)) return { error: 'The event is a JSON object.', input };
      return { event };
    } catch (err) {
      return { error: `Not valid JSON: ${err.message}`, input };
    }
  }
  const path = $('#tester-path').value.trim();
  const url = $('#tester-url').value.trim();
  if (!path && !url) return { error: 'Enter a file path, a URL or both.', input: $('#tester-path') };
  const event = {};
  if (path) event.stacktrace = { frames: [{ filename: path }] };
  if (url) event.request = { url };
  return { event };
}

async function testEvent() {
  const errorEl = $('#tester-error');
  for (const el of ['#tester-json', '#tester-path', '#tester-url']) $(el).removeAttribute('aria-invalid');
  fieldError(null, errorEl, '');
  const id = project || readProject();
  if (!id) return;
  const read = readEvent();
  if (read.error) {
    fieldError(read.input, errorEl, read.error);
    read.input.focus();
    return;
  }
  const res = await api('POST', `/v1/projects/${seg(id)}/owners`, read.event);
  const out = $('#tester-result');
  if (!res.ok) {
    fieldError(null, errorEl, `${res.error.code}: ${res.error.message}`);
    out.replaceChildren();
    return;
  }
  const { owners, rules, auto_assign: auto } = res.data;
  const everyone = owners === 'everyone';
  out.replaceChildren(h('div', { class: 'result-block', id: 'owners-result' },
    h('h3', {}, 'Owners'),
    h('p', { id: 'owners-list' }, everyone
      ? h('span', { class: 'owner team' }, 'everyone')
      : owners.length ? ownerChips(owners) : h('span', { class: 'muted' }, 'nobody (no rule matched and fallthrough is off)')),
    everyone ? h('p', { class: 'small muted' }, 'No rule matched and fallthrough is on (or the project has no rules).') : null,
    h('h3', {}, 'Matched rules'),
    rules.length
      ? h('ol', { class: 'rules', id: 'owners-rules' }, rules.map((rule) => h('li', {}, ruleLine(rule))))
      : h('p', { class: 'muted', id: 'owners-rules' }, 'none'),
    h('h3', {}, 'Auto-assignee'),
    h('p', { id: 'owners-auto' }, auto ? ownerChip(auto) : h('span', { class: 'muted' }, 'none (auto-assignment off, or nothing matched)')),
    h('details', {}, h('summary', {}, 'Event sent'), h('pre', { class: 'event' }, JSON.stringify(read.event, null, 2))),
    res.cache || res.data.source ? h('p', { class: 'small muted' }, 'Rules read from ', tierBadge(res.cache || res.data.source)) : null));
  session.announce(`Owners: ${everyone ? 'everyone' : owners.length ? owners.map((o) => o.identifier).join(', ') : 'nobody'}; ${rules.length} matched rules; auto-assignee ${auto ? auto.identifier : 'none'}.`);
}
