// Overview: this isolate's counters (`GET /v1/stats`), refreshed live, and a
// chart of hit sources over the last minutes.

import { api, describe } from './api.js';
import { $, bytes, duration, h, num, percent } from './dom.js';
import { TIERS, HitChart } from './chart.js';

const INTERVAL_MS = 3000;

let chart;
let timer = null;
let inflight = false;
let last = null;

export function init() {
  chart = new HitChart($('#chart'), $('#chart-legend'));
  $('#stats-refresh').addEventListener('click', () => refresh());
  $('#live-toggle').addEventListener('change', schedule);
  document.addEventListener('visibilitychange', schedule);
  refresh();
}

export function show() {
  if (last) render(last);
}

function live() {
  return $('#live-toggle').checked && !document.hidden;
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  if (live()) timer = setTimeout(refresh, INTERVAL_MS);
}

async function refresh() {
  if (inflight) return;
  inflight = true;
  const res = await api('GET', '/v1/stats');
  inflight = false;
  const errorEl = $('#stats-error');
  if (res.ok && res.data) {
    errorEl.hidden = true;
    last = res.data;
    chart.add(Date.now(), res.data);
    render(res.data);
    $('#stats-updated').textContent = `updated ${new Date().toLocaleTimeString('en-GB')}`;
  } else {
    errorEl.hidden = false;
    errorEl.textContent = `Stats could not be read: ${describe(res.error)}`;
  }
  schedule();
}

/** Reads answered by each tier, as the chart counts them. */
export function answered(stats) {
  return TIERS.map((tier) => ({ ...tier, count: tier.of(stats) }));
}

function stat(dl, key, label, value, cls) {
  dl.append(h('dt', { id: `stat-${key}-label` }, label), h('dd', { dataset: { stat: key }, class: cls, 'aria-labelledby': `stat-${key}-label` }, value));
}

function meter(dl, part, whole, label) {
  const share = whole ? Math.min(100, (100 * part) / whole) : 0;
  dl.append(h('span', { class: 'meter', role: 'meter', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': share.toFixed(0) },
    h('span', { style: `width:${share}%` })));
}

function render(s) {
  // Reads by tier, with each tier's share.
  const rows = answered(s);
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  const body = $('#ratio-table tbody');
  body.replaceChildren(...rows.map((r) => h('tr', { dataset: { tier: r.key } },
    h('th', { scope: 'row', title: r.label }, h('span', { class: `swatch sw-${r.key}`, 'aria-hidden': 'true' }), r.short),
    h('td', { dataset: { stat: r.field } }, num(r.count)),
    h('td', {}, h('span', { class: 'share' },
      h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: `sw-${r.key}`, style: `width:${total ? (100 * r.count) / total : 0}%` })),
      h('span', { dataset: { share: r.key } }, percent(r.count, total)))))));
  $('#ratio-total').textContent = `${num(total)} reads answered since the isolate started; ${num(s.misses)} found nothing fresh in isolate memory.`;

  const health = $('#health-stats');
  health.replaceChildren();
  // An outage: since when the origin has failed, and how old the oldest
  // value this isolate answered meanwhile is (stale answers say their age).
  const down = Number.isFinite(s.origin_down_since) ? s.origin_down_since : null;
  stat(health, 'origin_down_since', 'Origin',
    down === null ? 'answering' : `unreachable since ${new Date(down).toLocaleString('en-GB')} (${duration(Date.now() - down)})`,
    down === null ? 'good' : 'bad');
  const oldest = Number.isFinite(s.oldest_stale_age_ms) ? s.oldest_stale_age_ms : null;
  stat(health, 'oldest_stale_age_ms', 'Oldest value served', oldest === null ? '—' : `${duration(oldest)} old`, oldest === null ? '' : 'bad');
  stat(health, 'breaker_open', 'Origin breaker', s.breaker_open ? 'OPEN — origin reads paused' : 'closed', s.breaker_open ? 'bad' : 'good');
  stat(health, 'origin_errors', 'Origin errors', num(s.origin_errors), s.origin_errors ? 'bad' : '');
  stat(health, 'kv_errors', 'KV read errors', num(s.kv_errors), s.kv_errors ? 'bad' : '');
  stat(health, 'kv_write_errors', 'KV write errors', num(s.kv_write_errors), s.kv_write_errors ? 'bad' : '');
  stat(health, 'stale_served', 'Stale served', num(s.stale_served), s.stale_served ? 'bad' : '');
  stat(health, 'degraded', 'Degraded (config/default, stores down)', num(s.degraded), s.degraded ? 'bad' : '');

  const flow = $('#flow-stats');
  flow.replaceChildren();
  stat(flow, 'misses', 'Misses (nothing fresh in memory)', num(s.misses));
  stat(flow, 'negative_hits', 'Negative hits (cached “absent”)', num(s.negative_hits));
  stat(flow, 'coalesced', 'Coalesced (waited for another fetch)', num(s.coalesced));
  stat(flow, 'throttled', 'Throttled (origin backing off)', num(s.throttled));
  stat(flow, 'soft_timeouts', 'Soft timeouts (answered stale)', num(s.soft_timeouts));
  stat(flow, 'revalidated', 'Revalidated in the background', num(s.revalidated));
  stat(flow, 'in_flight', 'Fetches in flight now', num(s.in_flight));

  const memory = $('#memory-stats');
  memory.replaceChildren();
  stat(memory, 'entries', 'Entries', `${num(s.entries)} / ${num(s.max_entries)}`);
  meter(memory, s.entries, s.max_entries, 'Entries used of the bound');
  stat(memory, 'bytes', 'Bytes', `${bytes(s.bytes)} / ${bytes(s.max_bytes)}`);
  meter(memory, s.bytes, s.max_bytes, 'Bytes used of the bound');

  // This isolate's view of the version beacon: what it knows, when it last
  // looked, how far the beacon's poll of the origin trails.
  const beacon = s.beacon || {};
  const checks = $('#beacon-stats');
  checks.replaceChildren();
  if (!beacon.enabled) {
    stat(checks, 'beacon_enabled', 'Beacon', 'not checked (no BEACON binding, BEACON_CHECK_MS=0, or no request yet)', '');
  } else {
    const age = beacon.last_check_age_ms;
    const late = age == null || age > 5000;
    stat(checks, 'beacon_known_version', 'Known origin version', num(beacon.known_version));
    stat(checks, 'beacon_last_check', 'Last check', age == null ? 'never answered' : `${num(age)} ms ago`, late ? 'bad' : 'good');
    stat(checks, 'beacon_check_ms', 'Last check took', beacon.last_check_ms == null ? '–' : `${num(beacon.last_check_ms)} ms`);
    stat(checks, 'beacon_behind', 'Behind the beacon (versions)', num(beacon.behind), beacon.behind ? 'bad' : 'good');
    stat(checks, 'beacon_check_failures', 'Failed checks', num(beacon.check_failures), beacon.check_failures ? 'bad' : '');
  }

  const problems = Array.isArray(s.config_problems) ? s.config_problems : [];
  $('#config-problems-card').hidden = problems.length === 0;
  $('#config-problems').replaceChildren(...problems.map((p) => h('li', {}, p)));

  chart.render();
}
