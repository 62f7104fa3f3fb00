// Options: the registry (`GET /v1/options`) as a searchable table with the
// current value of each (`GET /v1/options/{name}`, the tier from x-cache), and
// inline edit / delete with the admin token (`PUT` / `DELETE`).

import { api, seg } from './api.js';
import { $, $$, fieldError, h, num, parseLoose, showValue, status, tierBadge } from './dom.js';

let session;
let registry = [];
const values = new Map();
let loading = null;

/** How an error code reads next to the field. */
const ERROR_LABELS = {
  invalid_type: 'Type error',
  invalid_body: 'Not accepted',
  immutable: 'Refused (immutable)',
  nostore: 'Refused (nostore)',
  forbidden: 'Refused (this token may not write)',
  unknown_option: 'Unknown option',
  too_large: 'Too large',
  origin_error: 'The origin refused the write',
  unavailable: 'The origin is unavailable; nothing changed',
  origin_timeout: 'The origin timed out; nothing changed',
  network: 'Network error',
};

const FLAG_HINTS = {
  immutable: 'immutable: the edge refuses runtime changes (403 immutable).',
  nostore: 'nostore: answered from config or the default only; the edge refuses writes (403 nostore).',
  storeonly: 'storeonly: config values are ignored; the stored value or the default answers.',
  credential: 'credential: hidden from the read token.',
};

const TYPE_HINTS = {
  string: 'Text, stored exactly as typed.',
  int: 'A whole number, e.g. 25.',
  float: 'A number, e.g. 0.5.',
  bool: 'true or false.',
  sequence: 'A JSON array, e.g. ["a", "b"].',
  mapping: 'A JSON object, e.g. {"url": "http://…"}.',
};

export function init(s) {
  session = s;
  $('#option-search').addEventListener('input', applyFilter);
  $('#options-reload').addEventListener('click', () => load(true));
}

export function show(s) {
  $('#options-readonly').hidden = s.canWrite;
  if (!registry.length && !loading) load(false);
}

async function load(again) {
  const out = $('#options-status');
  status(out, again ? 'Reading the values again…' : 'Loading the registry…');
  if (!registry.length || again) {
    const res = await api('GET', '/v1/options');
    if (!res.ok) {
      status(out, `The registry could not be read: ${res.error.code}: ${res.error.message}`, 'error');
      return;
    }
    registry = [...res.data].sort((a, b) => a.name.localeCompare(b.name));
    renderTable();
  }
  loading = loadValues();
  await loading;
  loading = null;
  const failed = registry.filter((o) => values.get(o.name)?.error).length;
  status(out, `Read the current value of ${registry.length} options${failed ? `; ${failed} could not be read` : ''}.`, failed ? 'error' : '');
}

async function loadValues() {
  const queue = registry.map((o) => o.name);
  const worker = async () => {
    while (queue.length) await refreshValue(queue.shift());
  };
  await Promise.all(Array.from({ length: 6 }, worker));
}

/** Reads one option's current value and redraws its row; answers the value. */
async function refreshValue(name) {
  const res = await api('GET', `/v1/options/${seg(name)}`);
  const entry = res.ok ? { ...res.data, cache: res.cache } : { error: res.error };
  values.set(name, entry);
  updateRow(name);
  return entry;
}

const rowId = (name) => `opt-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
const rowOf = (name) => $(`tr[data-option="${CSS.escape(name)}"]`);

function flagChips(flags) {
  return (flags || []).map((f) => h('span', { class: `flag flag-${f}` }, f));
}

function renderTable() {
  const body = $('#options-table tbody');
  body.replaceChildren(...registry.map((opt) => {
    const id = rowId(opt.name);
    // Credential defaults stay masked even for the admin token (the read
    // token gets `null` with `masked: true` from the edge anyway).
    const def = opt.masked || opt.flags?.includes('credential')
      ? h('span', { class: 'masked', title: 'credential' }, '••••••', h('span', { class: 'visually-hidden' }, ' (credential, masked)'))
      : h('span', { class: 'value' }, showValue(opt.default));
    const actions = session.canWrite
      ? h('button', { type: 'button', class: 'button small', id: `${id}-edit`, 'aria-expanded': 'false',
        'aria-controls': `${id}-editor`, 'aria-label': `Edit ${opt.name}`, onclick: () => toggleEditor(opt) }, 'Edit')
      : null;
    return h('tr', { id, dataset: { option: opt.name } },
      h('th', { scope: 'row' },
        h('span', { class: 'opt-name' }, opt.name),
        opt.stale_while_revalidate ? h('span', { class: 'flag', title: 'stale-while-revalidate' }, 'swr') : null,
        opt.description ? h('span', { class: 'opt-desc' }, opt.description) : null),
      h('td', { dataset: { col: 'type' } }, opt.type),
      h('td', { dataset: { col: 'default' } }, def),
      h('td', { dataset: { col: 'flags' } }, flagChips(opt.flags)),
      h('td', { class: 'num', dataset: { col: 'ttl' } }, num(opt.ttl)),
      h('td', { class: 'num', dataset: { col: 'grace' } }, num(opt.grace)),
      h('td', { dataset: { col: 'value' } }, h('span', { class: 'muted' }, '…')),
      h('td', { dataset: { col: 'tier' } }),
      h('td', { dataset: { col: 'actions' } }, actions));
  }));
  applyFilter();
}

function valueCell(opt, entry) {
  if (!entry) return h('span', { class: 'muted' }, '…');
  if (entry.error) return h('span', { class: 'field-error', dataset: { code: entry.error.code } }, `${entry.error.code}: ${entry.error.message}`);
  if (entry.redacted) {
    return h('span', { class: 'masked', title: 'credential: hidden from the read token' }, '•••••• ',
      h('span', { class: 'small' }, 'hidden'), h('span', { class: 'visually-hidden' }, ' from the read token'));
  }
  const version = entry.version !== undefined ? h('span', { class: 'small muted' }, ` v${entry.version}`) : null;
  if (opt.flags?.includes('credential')) {
    const shown = h('span', { class: 'value', hidden: true }, showValue(entry.value));
    const dots = h('span', { class: 'masked' }, '••••••');
    const toggle = h('button', {
      type: 'button', class: 'button small', 'aria-pressed': 'false', 'aria-label': `Show the value of ${opt.name}`,
      onclick: () => {
        const on = toggle.getAttribute('aria-pressed') !== 'true';
        toggle.setAttribute('aria-pressed', String(on));
        toggle.textContent = on ? 'Hide' : 'Show';
        shown.hidden = !on;
        dots.hidden = on;
      },
    }, 'Show');
    return h('span', {}, dots, shown, ' ', toggle, version);
  }
  return h('span', {}, h('span', { class: 'value' }, showValue(entry.value)), version);
}

function updateRow(name) {
  const row = rowOf(name);
  const opt = registry.find((o) => o.name === name);
  if (!row || !opt) return;
  const entry = values.get(name);
  row.querySelector('[data-col="value"]').replaceChildren(valueCell(opt, entry));
  const tier = row.querySelector('[data-col="tier"]');
  tier.replaceChildren(entry && !entry.error ? tierBadge(entry.cache || entry.source, entry) : '');
}

function applyFilter() {
  const words = $('#option-search').value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const opt of registry) {
    const hay = [opt.name, opt.description, opt.type, ...(opt.flags || [])].join(' ').toLowerCase();
    const match = words.every((w) => hay.includes(w));
    const row = rowOf(opt.name);
    if (row) row.hidden = !match;
    const editor = document.getElementById(`${rowId(opt.name)}-editor`);
    if (editor) editor.hidden = !match;
    if (match) shown += 1;
  }
  $('#option-count').textContent = registry.length ? `${shown} of ${registry.length} options` : '';
}

function closeEditor(opt, focus) {
  const id = rowId(opt.name);
  document.getElementById(`${id}-editor`)?.remove();
  const button = document.getElementById(`${id}-edit`);
  if (button) {
    button.setAttribute('aria-expanded', 'false');
    if (focus) button.focus();
  }
}

function toggleEditor(opt) {
  const id = rowId(opt.name);
  if (document.getElementById(`${id}-editor`)) {
    closeEditor(opt, true);
    return;
  }
  // One editor at a time keeps the table readable.
  for (const other of $$('tr.editor-row')) {
    const name = other.dataset.editorFor;
    const o = registry.find((x) => x.name === name);
    if (o) closeEditor(o, false);
  }
  const row = rowOf(opt.name);
  const editorRow = h('tr', { class: 'editor-row', id: `${id}-editor`, dataset: { editorFor: opt.name } },
    h('td', { colspan: '9' }, editorForm(opt)));
  row.after(editorRow);
  document.getElementById(`${id}-edit`).setAttribute('aria-expanded', 'true');
  editorRow.querySelector('.value-input').focus();
}

function valueInput(opt, inputId, describedBy) {
  const entry = values.get(opt.name);
  const known = entry && !entry.error && !entry.redacted && !opt.flags?.includes('credential');
  const current = known ? entry.value : opt.default;
  const common = { id: inputId, class: 'value-input', 'aria-describedby': describedBy, autocomplete: 'off', spellcheck: 'false' };
  switch (opt.type) {
    case 'bool':
      return h('select', common,
        h('option', { value: 'true', selected: current === true }, 'true'),
        h('option', { value: 'false', selected: current !== true }, 'false'));
    case 'sequence':
    case 'mapping':
      return h('textarea', { ...common, rows: '4', value: current === null || current === undefined ? '' : JSON.stringify(current, null, 2) });
    case 'int':
    case 'float':
      return h('input', { ...common, inputmode: 'decimal', value: current === null || current === undefined ? '' : String(current) });
    default:
      return h('input', {
        ...common,
        type: opt.flags?.includes('credential') ? 'password' : 'text',
        placeholder: opt.flags?.includes('credential') ? 'new value' : null,
        value: opt.flags?.includes('credential') || typeof current !== 'string' ? '' : current,
      });
  }
}

/** The JSON value the operator typed, or {error} for JSON that does not parse. */
function readValue(opt, input) {
  const text = input.value;
  switch (opt.type) {
    case 'string':
      return { value: text };
    case 'bool':
      return { value: text === 'true' };
    case 'sequence':
    case 'mapping':
      try {
        return { value: JSON.parse(text) };
      } catch (err) {
        return { error: `Not valid JSON: ${err.message}` };
      }
    default:
      return { value: parseLoose(text) };
  }
}

function editorForm(opt) {
  const id = rowId(opt.name);
  const inputId = `${id}-value`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const input = valueInput(opt, inputId, `${hintId} ${errorId}`);
  const errorEl = h('p', { class: 'field-error', id: errorId, 'aria-live': 'polite' });
  const statusEl = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const hints = [TYPE_HINTS[opt.type], ...(opt.flags || []).map((f) => FLAG_HINTS[f])].filter(Boolean).join(' ');
  const confirmBox = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': `Confirm deleting ${opt.name}` });

  const showError = (error) => {
    const text = error ? `${ERROR_LABELS[error.code] || error.code}: ${error.message}` : '';
    fieldError(input, errorEl, text);
    if (error) errorEl.dataset.code = error.code;
    else delete errorEl.dataset.code;
  };

  const afterWrite = async (what) => {
    const entry = await refreshValue(opt.name);
    closeEditor(opt, true);
    const tier = entry.error ? '' : ` Now answered by ${entry.cache || entry.source}.`;
    status($('#options-status'), `${what}${tier}`, 'ok');
  };

  const save = async (event) => {
    event.preventDefault();
    const typed = readValue(opt, input);
    if (typed.error) {
      showError({ code: 'invalid_body', message: typed.error });
      input.focus();
      return;
    }
    showError(null);
    status(statusEl, 'Saving…');
    const res = await api('PUT', `/v1/options/${seg(opt.name)}`, { value: typed.value });
    if (!res.ok) {
      status(statusEl, '');
      showError(res.error);
      input.focus();
      return;
    }
    const kv = res.data.cache_updated === false ? ' KV was not updated (the sync job repairs it).' : '';
    const shown = opt.flags?.includes('credential') ? '(hidden)' : showValue(res.data.value);
    await afterWrite(`Saved ${opt.name} = ${shown} (version ${res.data.version}).${kv}`);
  };

  const remove = async () => {
    status(statusEl, 'Deleting…');
    const res = await api('DELETE', `/v1/options/${seg(opt.name)}`);
    confirmBox.hidden = true;
    if (!res.ok) {
      status(statusEl, '');
      showError(res.error);
      deleteButton.focus();
      return;
    }
    const kv = res.data.cache_updated === false ? ' KV was not updated (the sync job repairs it).' : '';
    await afterWrite(`Deleted the stored value of ${opt.name} (version ${res.data.version}).${kv}`);
  };

  const deleteButton = h('button', {
    type: 'button', class: 'button danger',
    onclick: () => {
      confirmBox.hidden = false;
      confirmBox.querySelector('button').focus();
    },
  }, 'Delete stored value');
  confirmBox.append(
    h('span', {}, `Delete the stored value of ${opt.name}? Reads then answer the config value or the default. `),
    h('button', { type: 'button', class: 'button danger small', onclick: remove }, 'Delete'), ' ',
    h('button', { type: 'button', class: 'button small', onclick: () => { confirmBox.hidden = true; deleteButton.focus(); } }, 'Keep it'));

  const form = h('form', { class: 'editor', 'aria-label': `Edit ${opt.name}`, novalidate: true, onsubmit: save },
    h('div', { class: 'field' },
      h('label', { for: inputId }, `New value of ${opt.name} `, h('span', { class: 'muted small' }, `(${opt.type})`)),
      input,
      errorEl,
      h('p', { class: 'hint', id: hintId }, hints)),
    h('div', { class: 'row tight' },
      h('button', { type: 'submit', class: 'button primary' }, 'Save'),
      deleteButton,
      h('button', { type: 'button', class: 'button', onclick: () => closeEditor(opt, true) }, 'Cancel')),
    confirmBox,
    statusEl);
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      closeEditor(opt, true);
    }
  });
  return form;
}
