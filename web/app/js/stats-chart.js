// web/app/js/stats-chart.js - a horizontal bar chart drawn as SVG (no chart library): one row per
// group, the name above its bar so long institution names fit at 360 px. Widths are percentages
// of the SVG, so it follows the page's width without measuring it. The SVG is decoration for
// sighted readers; its text alternative is the list beside it (read by screen readers) and the
// table above, which has every number.
import { el } from './shell.js';

const NS = 'http://www.w3.org/2000/svg';
const ROW_PX = 42;     /* name line (16 px) + bar (18 px) + gap */
const BAR_Y_PX = 20;
const BAR_H_PX = 18;
const TRACK_PCT = 74;  /* the share of the width that 100 % fills; the rest holds the value */

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// barChart({rows: [{label, value (0..max), text}], max, caption, empty}) -> <figure>
export function barChart({ rows, max = 100, caption, empty, id }) {
  const fig = el('figure', { class: 'bars', id });
  if (!rows.length) {
    fig.append(el('figcaption', {}, caption), el('p', { class: 'hint' }, empty));
    return fig;
  }
  const height = rows.length * ROW_PX;
  const chart = svg('svg', { width: '100%', height: String(height), 'aria-hidden': 'true', focusable: 'false', class: 'bars-svg' });
  rows.forEach((r, i) => {
    const y = i * ROW_PX;
    const w = Math.max(0, Math.min(1, r.value / max)) * TRACK_PCT;
    const g = svg('g', { class: 'bar' });
    g.append(svg('title', {}, `${r.label}: ${r.text}`));
    g.append(svg('text', { x: '0', y: String(y + 14), class: 'bar-label' }, r.label));
    g.append(svg('rect', { x: '0', y: String(y + BAR_Y_PX), width: TRACK_PCT + '%', height: String(BAR_H_PX), class: 'bar-track', rx: '3' }));
    g.append(svg('rect', { x: '0', y: String(y + BAR_Y_PX), width: w.toFixed(2) + '%', height: String(BAR_H_PX), class: 'bar-fill', rx: '3' }));
    g.append(svg('text', { x: (TRACK_PCT + 1.5) + '%', y: String(y + BAR_Y_PX + 14), class: 'bar-value' }, r.text));
    chart.append(g);
  });
  const alt = el('ol', { class: 'sr-only' }, rows.map((r) => el('li', {}, `${r.label}: ${r.text}`)));
  fig.append(el('figcaption', {}, caption), chart, alt);
  return fig;
}
