// A stacked bar chart of hit sources over the last minutes, in inline SVG.
// Each bar is the reads answered between two refreshes of /v1/stats.

import { h, num } from './dom.js';

export const TIERS = [
  { key: 'local', short: 'local', label: 'local (isolate memory)', field: 'hits_local', of: (s) => s.hits_local || 0 },
  { key: 'kv', short: 'KV', label: 'KV', field: 'hits_kv', of: (s) => s.hits_kv || 0 },
  { key: 'origin', short: 'origin', label: 'origin', field: 'hits_origin', of: (s) => s.hits_origin || 0 },
  { key: 'stale', short: 'stale', label: 'stale (stores failed)', field: 'stale_served', of: (s) => s.stale_served || 0 },
  { key: 'snapshot', short: 'snapshot', label: 'last-known-good snapshot (nothing else held)', field: 'snapshot_served', of: (s) => s.snapshot_served || 0 },
  { key: 'degraded', short: 'degraded', label: 'config/default (degraded)', field: 'degraded', of: (s) => s.degraded || 0 },
];

const WINDOW_MS = 5 * 60 * 1000;
const SVG = 'http://www.w3.org/2000/svg';
const H = 180;
const PAD = { left: 44, right: 8, top: 10, bottom: 22 };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

export class HitChart {
  constructor(box, legend) {
    this.box = box;
    this.samples = []; // {t, counts: {local, kv, ...}} cumulative
    this.bars = []; // {t0, t1, deltas}
    legend.replaceChildren(...TIERS.map((tier) => h('li', {},
      h('span', { class: `swatch sw-${tier.key}`, 'aria-hidden': 'true' }), tier.label)));
    this.render();
    // Drawn at the box's real width so the text keeps its size.
    if (typeof ResizeObserver === 'function') {
      let width = 0;
      new ResizeObserver(() => {
        if (this.box.clientWidth !== width) {
          width = this.box.clientWidth;
          this.render();
        }
      }).observe(this.box);
    }
  }

  /** Adds a snapshot; a counter going down means another isolate answered. */
  add(t, stats) {
    const counts = Object.fromEntries(TIERS.map((tier) => [tier.key, tier.of(stats)]));
    const prev = this.samples[this.samples.length - 1];
    if (prev) {
      const deltas = Object.fromEntries(TIERS.map((tier) => [tier.key, counts[tier.key] - prev.counts[tier.key]]));
      if (Object.values(deltas).some((d) => d < 0)) {
        this.samples = [];
        this.bars = [];
      } else {
        this.bars.push({ t0: prev.t, t1: t, deltas });
      }
    }
    this.samples.push({ t, counts });
    const cutoff = t - WINDOW_MS;
    this.samples = this.samples.filter((s) => s.t >= cutoff - 10000);
    this.bars = this.bars.filter((b) => b.t1 >= cutoff);
  }

  render() {
    const W = Math.max(320, this.box.clientWidth || 720);
    const now = Date.now();
    const start = now - WINDOW_MS;
    const plotW = W - PAD.left - PAD.right;
    const plotH = H - PAD.top - PAD.bottom;
    const totals = this.bars.map((b) => TIERS.reduce((sum, tier) => sum + b.deltas[tier.key], 0));
    const max = Math.max(1, ...totals);
    const x = (t) => PAD.left + (Math.max(0, t - start) / WINDOW_MS) * plotW;
    const y = (v) => PAD.top + plotH - (v / max) * plotH;

    const sums = Object.fromEntries(TIERS.map((tier) => [tier.key, 0]));
    for (const b of this.bars) for (const tier of TIERS) sums[tier.key] += b.deltas[tier.key];
    const minutes = this.bars.length ? Math.max(1, Math.round((now - this.bars[0].t0) / 60000)) : 0;
    const summary = this.bars.length
      ? `Over the last ${minutes} minute${minutes === 1 ? '' : 's'}: ${TIERS.map((t) => `${num(sums[t.key])} ${t.key}`).join(', ')}; at most ${num(max)} reads in one interval.`
      : 'No interval measured yet: the chart fills as the stats refresh.';

    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-labelledby': 'chart-svg-title chart-svg-desc', id: 'hit-chart' },
      svg('title', { id: 'chart-svg-title' }, 'Hit sources over the last 5 minutes'),
      svg('desc', { id: 'chart-svg-desc' }, summary));

    // Grid and axes.
    for (const v of [0, max / 2, max]) {
      const yy = y(v);
      root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy, class: 'grid-line' }));
      root.append(svg('text', { x: PAD.left - 6, y: yy + 4, 'text-anchor': 'end', class: 'axis' }, num(Math.round(v))));
    }
    for (const [label, t] of [['5 min ago', start], ['now', now]]) {
      root.append(svg('text', { x: x(t), y: H - 6, 'text-anchor': t === now ? 'end' : 'start', class: 'axis' }, label));
    }
    root.append(svg('text', { x: x(now - WINDOW_MS / 2), y: H - 6, 'text-anchor': 'middle', class: 'axis' }, '2.5 min ago'));

    // Bars, stacked local → degraded from the bottom.
    const group = svg('g', { class: 'bars' });
    for (const b of this.bars) {
      const x0 = x(b.t0);
      const width = Math.max(1.5, x(b.t1) - x0 - 1);
      let base = 0;
      for (const tier of TIERS) {
        const v = b.deltas[tier.key];
        if (v <= 0) continue;
        group.append(svg('rect', { x: x0, y: y(base + v), width, height: Math.max(0.5, y(base) - y(base + v)), class: `sw-${tier.key}` },
          svg('title', {}, `${v} ${tier.key}`)));
        base += v;
      }
    }
    root.append(group);
    if (!this.bars.length) {
      root.append(svg('text', { x: PAD.left + plotW / 2, y: PAD.top + plotH / 2, 'text-anchor': 'middle', class: 'empty' }, 'Collecting… the chart fills as the stats refresh'));
    }
    this.box.replaceChildren(root);
  }
}
