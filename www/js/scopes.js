// Scopes: an organization's, project's or user's option map (a user alone,
// within a project or within an organization), with set / unset of a key.

import { api, seg } from './api.js';
import { $, $$, fieldError, h, isId, parseLoose, showValue, status, tierBadge } from './dom.js';

let session;
/** The scope on screen: {base, query, title}. */
let current = null;

const KIND_LABELS = { organizations: 'Organization', projects: 'Project', users: 'User' };

export function init(s) {
  session = s;
  $('#scope-kind').addEventListener('change', syncWithin);
  for (const radio of $$('input[name="within"]')) radio.addEventListener('change', syncWithin);
  $('#scope-form').addEventListener('submit', (event) => {
    event.preventDefault();
    lookUp();
  });
  $('#scope-set').addEventListener('submit', (event) => {
    event.preventDefault();
    setFromForm();
  });
  syncWithin();
}

export function show() {}

function syncWithin() {
  const isUser = $('#scope-kind').value === 'users';
  $('#scope-within').hidden = !isUser;
  const within = $('input[name="within"]:checked').value;
  const idInput = $('#scope-within-id');
  idInput.disabled = !isUser || !within;
  idInput.setAttribute('aria-label', within ? `Id of the ${within}` : 'Id of the project or organization');
}

/** The scope the form describes, or {error, input}. */
function readScope() {
  const kind = $('#scope-kind').value;
  const idInput = $('#scope-id');
  const id = idInput.value.trim();
  if (!isId(id)) return { error: 'The id is a positive whole number.', input: idInput };
  let query = '';
  let title = `${KIND_LABELS[kind]} ${id}`;
  if (kind === 'users') {
    const within = $('input[name="within"]:checked').value;
    if (within) {
      const withinInput = $('#scope-within-id');
      const wid = withinInput.value.trim();
      if (!isId(wid)) return { error: `The ${within} id is a positive whole number.`, input: withinInput };
      query = `?${within}=${wid}`;
      title += ` within ${within} ${wid}`;
    }
  }
  return { base: `/v1/${kind}/${seg(id)}/options`, query, title };
}

async function lookUp() {
  const errorEl = $('#scope-error');
  for (const input of [$('#scope-id'), $('#scope-within-id')]) input.removeAttribute('aria-invalid');
  const scope = readScope();
  if (scope.error) {
    fieldError(scope.input, errorEl, scope.error);
    scope.input.focus();
    return;
  }
  fieldError(null, errorEl, '');
  current = scope;
  await reload(true);
}

async function reload(moveFocus, message) {
  const scope = current;
  const res = await api('GET', `${scope.base}${scope.query}`);
  const box = $('#scope-result');
  if (!res.ok) {
    box.hidden = true;
    fieldError(null, $('#scope-error'), `${res.error.code}: ${res.error.message}`);
    return;
  }
  box.hidden = false;
  $('#scope-result-title').textContent = `${scope.title} options`;
  $('#scope-tier').replaceChildren(tierBadge(res.cache || res.data.source), res.data.version !== undefined ? h('span', { class: 'small muted' }, ` v${res.data.version}`) : '');
  renderMap(res.data.values || {});
  const count = Object.keys(res.data.values || {}).length;
  status($('#scope-status'), message || `${count} key${count === 1 ? '' : 's'} set in this scope.`, message ? 'ok' : '');
  fieldError($('#scope-set-value'), $('#scope-set-error'), '');
  if (moveFocus) $('#scope-result-title').focus();
}

function keyPath(key) {
  return `${current.base}/${seg(key)}${current.query}`;
}

function renderMap(map) {
  const keys = Object.keys(map).sort();
  const body = $('#scope-table tbody');
  if (!keys.length) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'No keys set in this scope.')));
    return;
  }
  body.replaceChildren(...keys.map((key, i) => {
    const valueCell = h('td', { dataset: { col: 'value' } }, h('span', { class: 'value' }, showValue(map[key])));
    const actions = h('td', { dataset: { col: 'actions' } });
    const row = h('tr', { dataset: { key } }, h('th', { scope: 'row', class: 'opt-name' }, key), valueCell, actions);
    if (session.canWrite) {
      const edit = h('button', { type: 'button', class: 'button small', 'aria-label': `Edit ${key}`, onclick: () => editKey(row, key, map[key], i, edit) }, 'Edit');
      const unset = h('button', { type: 'button', class: 'button small danger', 'aria-label': `Unset ${key}`, onclick: () => confirmUnset(actions, key, unset) }, 'Unset');
      actions.append(edit, ' ', unset);
    }
    return row;
  }));
}

function editKey(row, key, value, index, editButton) {
  const cell = row.querySelector('[data-col="value"]');
  const inputId = `scope-edit-${index}`;
  const errorId = `${inputId}-error`;
  const input = h('input', { id: inputId, class: 'value-input', value: typeof value === 'string' ? value : JSON.stringify(value), autocomplete: 'off', spellcheck: 'false', 'aria-describedby': errorId });
  const errorEl = h('p', { class: 'field-error', id: errorId, 'aria-live': 'polite' });
  const cancel = () => reload(false);
  const form = h('form', { class: 'editor', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const res = await api('PUT', keyPath(key), { value: parseLoose(input.value) });
    if (!res.ok) {
      fieldError(input, errorEl, `${res.error.code}: ${res.error.message}`);
      input.focus();
      return;
    }
    await reload(false, `Set ${key} = ${showValue(res.data.value ?? parseLoose(input.value))}.${res.data.cache_updated === false ? ' KV was not updated (the sync job repairs it).' : ''}`);
  } },
  h('label', { for: inputId, class: 'visually-hidden' }, `New value of ${key}`),
  h('div', { class: 'row tight' }, input,
    h('button', { type: 'submit', class: 'button primary small' }, 'Save'),
    h('button', { type: 'button', class: 'button small', onclick: cancel }, 'Cancel')),
  errorEl);
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      cancel();
    }
  });
  cell.replaceChildren(form);
  editButton.disabled = true;
  input.focus();
}

function confirmUnset(actions, key, unsetButton) {
  const box = h('div', { class: 'confirm', role: 'group', 'aria-label': `Confirm unsetting ${key}` },
    `Unset ${key}? `,
    h('button', { type: 'button', class: 'button small danger', onclick: async () => {
      const res = await api('DELETE', keyPath(key));
      if (!res.ok) {
        status($('#scope-status'), `${res.error.code}: ${res.error.message}`, 'error');
        return;
      }
      await reload(false, `Unset ${key}.`);
    } }, 'Unset'), ' ',
    h('button', { type: 'button', class: 'button small', onclick: () => { box.remove(); unsetButton.focus(); } }, 'Keep it'));
  actions.append(box);
  box.querySelector('button').focus();
}

async function setFromForm() {
  const keyInput = $('#scope-set-key');
  const valueInput = $('#scope-set-value');
  const errorEl = $('#scope-set-error');
  fieldError(keyInput, errorEl, '');
  fieldError(valueInput, errorEl, '');
  const key = keyInput.value.trim();
  if (!key) {
    fieldError(keyInput, errorEl, 'Enter a key.');
    keyInput.focus();
    return;
  }
  if (!current) return;
  const value = parseLoose(valueInput.value);
  const res = await api('PUT', keyPath(key), { value });
  if (!res.ok) {
    fieldError(valueInput, errorEl, `${res.error.code}: ${res.error.message}`);
    valueInput.focus();
    return;
  }
  keyInput.value = '';
  valueInput.value = '';
  await reload(false, `Set ${key} = ${showValue(value)}.${res.data.cache_updated === false ? ' KV was not updated (the sync job repairs it).' : ''}`);
}
