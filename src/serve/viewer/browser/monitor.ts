/**
 * The monitoring page's script (bundled to /monitor.js by scripts/build-viewer.ts): draws GET api/monitor
 * (../monitor-wire.ts) as SVG — one bar per view for its freshness lag with the SLO as a tick, and per
 * feature a histogram of the current values with the reference's outline over it and the drift scores.
 */
import type { MonitorFeature, MonitorResponse, MonitorView } from '../monitor-wire.js';
import { api } from './api.js';
import { SVGNS, byId, el, errorText } from './dom.js';

const CURRENT = '#2f6fec';
const REFERENCE = '#f08a24';
const OK = '#2a9d59';
const BAD = '#d62b3a';
const NEUTRAL = '#8a93a6';

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** `42s`, `15m`, `3.2h`, `4.1d`. */
export function duration(ms: number | null): string {
  if (ms === null) return 'never';
  const s = Math.abs(ms) / 1000;
  const sign = ms < 0 ? '-' : '';
  if (s < 60) return `${sign}${s.toFixed(s < 10 ? 1 : 0)}s`;
  if (s < 3600) return `${sign}${(s / 60).toFixed(s < 600 ? 1 : 0)}m`;
  if (s < 86400) return `${sign}${(s / 3600).toFixed(1)}h`;
  return `${sign}${(s / 86400).toFixed(1)}d`;
}

function freshnessChart(views: readonly MonitorView[]): SVGSVGElement {
  const rowH = 28;
  const labelW = 180;
  const barW = 520;
  const width = labelW + barW + 170;
  const height = Math.max(1, views.length) * rowH + 24;
  const root = svg('svg', { class: 'freshness', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  // a log scale over lags and SLOs, so seconds and days fit the same chart
  const values = views.flatMap((v) => [v.lagMs, v.sloMs]).filter((x): x is number => x !== null && x > 0);
  const lo = Math.log10(Math.max(1000, Math.min(...values, 60_000) / 2));
  const hi = Math.log10(Math.max(...values, 3_600_000) * 1.5);
  const x = (ms: number) => labelW + (barW * (Math.log10(Math.max(ms, 10 ** lo)) - lo)) / (hi - lo);
  views.forEach((v, i) => {
    const y = 12 + i * rowH;
    const g = svg('g', { class: `view ${v.status}`, 'data-view': v.view, 'data-status': v.status });
    const color = v.status === 'breached' ? BAD : v.status === 'ok' ? OK : NEUTRAL;
    g.append(svg('text', { x: labelW - 8, y: y + 14, 'text-anchor': 'end', 'font-size': 12 }, v.view));
    g.append(svg('rect', { x: labelW, y: y + 3, width: barW, height: 16, fill: '#eef0f4' }));
    if (v.lagMs !== null)
      g.append(
        svg('rect', {
          class: 'lag',
          x: labelW,
          y: y + 3,
          width: Math.max(2, x(v.lagMs) - labelW),
          height: 16,
          fill: color,
        }),
      );
    if (v.sloMs !== null)
      g.append(
        svg('line', {
          class: 'slo',
          x1: x(v.sloMs),
          x2: x(v.sloMs),
          y1: y,
          y2: y + 22,
          stroke: '#1d2330',
          'stroke-width': 2,
        }),
      );
    const note = `${duration(v.lagMs)}${v.sloMs !== null ? ` / SLO ${duration(v.sloMs)}` : ''}  ${v.status.replace('_', ' ')}`;
    g.append(svg('text', { x: labelW + barW + 8, y: y + 14, 'font-size': 12, fill: color }, note));
    const title = svg('title', {});
    title.textContent = `${v.view}: event watermark ${v.eventWatermarkMs === null ? 'none' : new Date(v.eventWatermarkMs).toISOString()}, written ${duration(v.writeAgeMs)} ago`;
    g.append(title);
    root.append(g);
  });
  return root;
}

function histogram(f: MonitorFeature): SVGSVGElement {
  const w = 300;
  const h = 140;
  const pad = { l: 6, r: 6, t: 6, b: 22 };
  const root = svg('svg', { class: 'histogram', width: '100%', viewBox: `0 0 ${w} ${h}`, role: 'img' });
  const cur = f.histogram.current;
  const ref = f.histogram.reference;
  const n = cur.length;
  const top = Math.max(...cur, ...(ref ?? []), 1e-9);
  const bw = (w - pad.l - pad.r) / Math.max(1, n);
  const y = (p: number) => h - pad.b - ((h - pad.t - pad.b) * p) / top;
  cur.forEach((p, i) => {
    root.append(
      svg('rect', {
        class: 'bar',
        x: pad.l + i * bw + 0.5,
        y: y(p),
        width: Math.max(0.5, bw - 1),
        height: h - pad.b - y(p),
        fill: CURRENT,
        'fill-opacity': 0.55,
      }),
    );
  });
  if (ref) {
    let d = `M ${pad.l} ${h - pad.b}`;
    ref.forEach((p, i) => (d += ` L ${pad.l + i * bw} ${y(p)} L ${pad.l + (i + 1) * bw} ${y(p)}`));
    d += ` L ${pad.l + n * bw} ${h - pad.b}`;
    root.append(svg('path', { class: 'reference', d, fill: 'none', stroke: REFERENCE, 'stroke-width': 2 }));
  }
  root.append(svg('line', { x1: pad.l, x2: w - pad.r, y1: h - pad.b, y2: h - pad.b, stroke: '#98a0b0' }));
  const edges = f.histogram.edges;
  const labels = f.histogram.labels;
  const fmt = (v: number) => (Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toPrecision(2) : v.toFixed(2));
  if (edges) {
    root.append(svg('text', { x: pad.l, y: h - 6, 'font-size': 10, fill: '#6b7385' }, fmt(edges[0])));
    root.append(
      svg('text', { x: w - pad.r, y: h - 6, 'font-size': 10, fill: '#6b7385', 'text-anchor': 'end' }, fmt(edges[n])),
    );
  } else if (labels)
    labels.forEach((l, i) =>
      root.append(
        svg(
          'text',
          { x: pad.l + (i + 0.5) * bw, y: h - 8, 'font-size': 9, fill: '#6b7385', 'text-anchor': 'middle' },
          l.length > 6 ? `${l.slice(0, 5)}…` : l,
        ),
      ),
    );
  return root;
}

function featureCard(f: MonitorFeature): HTMLElement {
  const card = el('div', `feature-card${f.drifted ? ' drifted' : ''}`);
  card.dataset.feature = `${f.view}:${f.feature}`;
  card.dataset.drifted = String(f.drifted);
  card.append(el('h3', '', `${f.view}:${f.feature}${f.kind === 'embedding' ? ' (norms)' : ''}`));
  card.append(histogram(f));
  const d = f.drift;
  const parts = [`n ${f.count}`];
  if (f.referenceCount !== null) parts.push(`ref ${f.referenceName ?? ''} n ${f.referenceCount}`.replace('  ', ' '));
  if (d?.psi !== null && d?.psi !== undefined) parts.push(`PSI ${d.psi.toFixed(3)} (limit ${f.thresholds.psi})`);
  if (d?.jsDivergence !== null && d?.jsDivergence !== undefined)
    parts.push(`JS ${d.jsDivergence.toFixed(3)} (limit ${f.thresholds.js})`);
  if (d?.meanCosineShift !== null && d?.meanCosineShift !== undefined)
    parts.push(`mean shift ${d.meanCosineShift.toFixed(3)} (limit ${f.thresholds.meanShift})`);
  if (d?.mmd2 !== null && d?.mmd2 !== undefined) parts.push(`MMD² ${d.mmd2.toFixed(3)} (limit ${f.thresholds.mmd2})`);
  card.append(el('div', 'scores', parts.join(' · ')));
  return card;
}

async function load(): Promise<void> {
  const status = byId('status', HTMLDivElement);
  try {
    const r = await api<MonitorResponse>('api/monitor');
    const breached = r.views.filter((v) => v.status === 'breached').length;
    const drifted = r.features.filter((f) => f.drifted).length;
    byId('monitor-meta', HTMLSpanElement).textContent =
      `${r.views.length} views, ${breached} over SLO · ${r.features.length} features, ${drifted} drifted · ${new Date(r.nowMs).toISOString()}`;
    byId('freshness', HTMLDivElement).replaceChildren(freshnessChart(r.views));
    const grid = byId('features', HTMLDivElement);
    grid.replaceChildren(...r.features.map(featureCard));
    if (r.features.length === 0) grid.append(el('p', 'scores', 'no feature statistics recorded yet'));
    status.textContent = '';
  } catch (e) {
    status.textContent = errorText(e);
  } finally {
    document.body.dataset.ready = 'true';
  }
}

void load();
