// Small DOM and formatting helpers shared by the pages.

/** `h('button', {class: 'x', onclick: f}, 'text', child)` → an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'style') el.style.cssText = value; // CSSOM: allowed by the page's CSP
    else if (key === 'value') el.value = value;
    else if (key === 'checked') el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** A value as compact JSON (strings quoted, so "" and "25" read unambiguously). */
export function showValue(value) {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function num(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '–';
}

export function bytes(n) {
  if (typeof n !== 'number') return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A duration in ms as people say it: "45 s", "12 min", "3 h 5 min", "4 d 2 h". */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function percent(part, whole) {
  if (!whole) return '–';
  const p = (100 * part) / whole;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

const FRESH = { local: 'fresh', kv: 'fresh', origin: 'fresh', stale: 'stale', snapshot: 'stale (snapshot)' };

/** The tier badge for an `x-cache`/`source` word, with fresh / stale / degraded. */
export function tierBadge(source, { degraded = false, lookup = null } = {}) {
  if (!source) return h('span', { class: 'muted' }, '–');
  const freshness = degraded ? 'degraded' : FRESH[source] || (lookup ? `not stored (per ${lookup})` : 'not stored');
  const cls = degraded ? 'is-degraded' : source === 'stale' || source === 'snapshot' ? 'is-stale' : FRESH[source] ? 'is-fresh' : '';
  return h('span', { class: 'tier-cell', dataset: { tier: source } },
    h('span', { class: `tier tier-${source}` }, source),
    h('span', { class: `fresh ${cls}` }, freshness));
}

/** An owner as written in rules: `#team` or an email. */
export function ownerText(owner) {
  if (!owner) return '';
  return owner.type === 'team' ? `#${owner.identifier.replace(/^#/, '')}` : owner.identifier;
}

export function ownerChip(owner) {
  return h('span', { class: `owner ${owner.type}` }, ownerText(owner));
}

/** Owner chips separated by spaces (read as a list, copied as text). */
export function ownerChips(owners) {
  return (owners || []).flatMap((owner, i) => (i ? [' ', ownerChip(owner)] : [ownerChip(owner)]));
}

/** A parsed rule: `type:pattern → owners`. */
export function ruleLine(rule) {
  return h('span', { class: 'rule' },
    h('span', { class: 'matcher' }, `${rule.matcher.type}:${rule.matcher.pattern}`),
    h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→'),
    h('span', { class: 'visually-hidden' }, ' owned by '),
    ownerChips(rule.owners));
}

/**
 * Text typed by an operator as a JSON value: JSON when it parses, else the
 * text itself as a string (the edge checks the type and says what is wrong).
 */
export function parseLoose(text) {
  const trimmed = text.trim();
  if (trimmed === '') return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

/** Sets or clears an inline error next to `input` (aria-invalid + message). */
export function fieldError(input, messageEl, text) {
  messageEl.textContent = text || '';
  if (input) {
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

/** A status line: `kind` is '', 'ok' or 'error'. */
export function status(el, text, kind = '') {
  el.textContent = text || '';
  el.className = `status ${kind}`.trim();
}

export const isId = (text) => /^[0-9]+$/.test(text.trim()) && text.trim().length <= 19;
