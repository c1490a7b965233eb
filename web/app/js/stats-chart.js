// web/app/js/stats-chart.js - a horizontal bar chart drawn as SVG (no chart library): one row per
// group, the name above its bar as page text, so that long institution names wrap at 360 px
// (SVG text does not). Widths are percentages
// of the SVG, so it follows the page's width without measuring it. The SVG is decoration for
// sighted readers; its text alternative is the list beside it (read by screen readers) and the
// table above, which has every number.
import { el } from './shell.js';

const NS = 'http://www.w3.org/2000/svg';
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
  const chart = el('div', { class: 'bars-rows', 'aria-hidden': 'true' }, rows.map((r) => {
    const w = Math.max(0, Math.min(1, r.value / max)) * TRACK_PCT;
    const bar = svg('svg', { width: '100%', height: String(BAR_H_PX), focusable: 'false', class: 'bars-svg' });
    bar.append(svg('title', {}, `${r.label}: ${r.text}`));
    bar.append(svg('rect', { x: '0', y: '0', width: TRACK_PCT + '%', height: String(BAR_H_PX), class: 'bar-track', rx: '3' }));
    bar.append(svg('rect', { x: '0', y: '0', width: w.toFixed(2) + '%', height: String(BAR_H_PX), class: 'bar-fill', rx: '3' }));
    bar.append(svg('text', { x: (TRACK_PCT + 1.5) + '%', y: '14', class: 'bar-value' }, r.text));
    return el('div', { class: 'bar' }, el('div', { class: 'bar-label' }, r.label), bar);
  }));
  const alt = el('ol', { class: 'sr-only' }, rows.map((r) => el('li', {}, `${r.label}: ${r.text}`)));
  fig.append(el('figcaption', {}, caption), chart, alt);
  return fig;
}
