// web/app/js/stats-map.js - the choropleth of distritos: the server's area vector tiles (layer
// `distrito`), each tile's polygons clipped to the tile (tiles carry a 64/4096 buffer, and
// overlapping translucent fills would show seams) and filled by the colour of their distrito's
// value; outlines are drawn apart, without the edges the clipping made along tile borders.
// setData() recolours what is drawn, so a new measure or date range fetches no tile.
import { L, makeMap } from './map.js';
import { vectorLayer, tileToLatLng } from './mvt.js';
import { textOf } from './map.js';

export const RAMP = ['#edf8b1', '#a1dab4', '#41b6c4', '#2c7fb8', '#253494']; /* ColorBrewer YlGnBu 5 */
export const NO_DATA = '#b8bfc6';
const PANAMA = [[7.15, -83.05], [9.65, -77.15]];
const DISTRITO_MIN_ZOOM = 6; /* the areas tiles carry distritos from z6 (docs/api.md, Maps) */

// Classes of a measure: fixed for bounded ones (a percentage, a 1-5 rating), from 0 to the
// largest value otherwise, in RAMP.length equal steps (whole numbers for counts and hours).
export function scale(values, { min = 0, max = null, whole = false } = {}) {
  let hi = max;
  if (hi === null) {
    hi = Math.max(0, ...values.filter((v) => v !== null && v !== undefined));
    if (hi <= min) hi = min + RAMP.length;
  }
  let step = (hi - min) / RAMP.length;
  if (whole) { step = Math.max(1, Math.ceil(step)); hi = min + step * RAMP.length; }
  const classes = RAMP.map((colour, i) => ({ from: min + i * step, to: min + (i + 1) * step, colour }));
  const colour = (v) => {
    if (v === null || v === undefined || !Number.isFinite(v)) return NO_DATA;
    const i = Math.min(RAMP.length - 1, Math.max(0, Math.floor((v - min) / step)));
    return RAMP[i];
  };
  return { classes, colour, step, whole };
}

// Sutherland-Hodgman against the tile's rectangle (lat/lon: Web Mercator keeps it a rectangle).
function clip(ring, b) {
  const edges = [
    [(p) => p[0] <= b.n, (p, q) => at(p, q, 0, b.n)],
    [(p) => p[0] >= b.s, (p, q) => at(p, q, 0, b.s)],
    [(p) => p[1] >= b.w, (p, q) => at(p, q, 1, b.w)],
    [(p) => p[1] <= b.e, (p, q) => at(p, q, 1, b.e)],
  ];
  let out = ring;
  for (const [inside, cut] of edges) {
    const input = out;
    out = [];
    for (let i = 0; i < input.length; i++) {
      const p = input[i];
      const q = input[(i + input.length - 1) % input.length];
      if (inside(p)) {
        if (!inside(q)) out.push(cut(q, p));
        out.push(p);
      } else if (inside(q)) {
        out.push(cut(q, p));
      }
    }
    if (!out.length) break;
  }
  return out;
}

function at(p, q, axis, v) {
  const f = (v - p[axis]) / (q[axis] - p[axis]);
  const r = [p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f];
  r[axis] = v; /* exactly on the border, so outline() recognises it */
  return r;
}

// The ring's edges minus those lying on the tile's border, as polylines.
function outline(ring, b) {
  const on = (p, q) => (p[0] === b.n && q[0] === b.n) || (p[0] === b.s && q[0] === b.s) ||
    (p[1] === b.w && q[1] === b.w) || (p[1] === b.e && q[1] === b.e);
  const lines = [];
  let cur = [];
  for (let i = 0; i < ring.length; i++) {
    const p = ring[i];
    const q = ring[(i + 1) % ring.length];
    if (on(p, q)) {
      if (cur.length > 1) lines.push(cur);
      cur = [];
      continue;
    }
    if (!cur.length) cur.push(p);
    cur.push(q);
  }
  if (cur.length > 1) lines.push(cur);
  return lines;
}

// choropleth(element, {label, tooltip(code, name) -> text}) -> {map, setData(colourOf), layer}
export function choropleth(element, { label, tooltip }) {
  const map = makeMap(element, { label, minZoom: DISTRITO_MIN_ZOOM, zoom: 7, center: [8.55, -80.1] });
  map.fitBounds(PANAMA);
  const drawn = new Set();
  let colourOf = () => NO_DATA;
  const style = (code) => {
    const c = colourOf(code);
    return { fillColor: c, fillOpacity: c === NO_DATA ? 0.45 : 0.85 };
  };
  const layer = vectorLayer((c) => `/tiles/areas/${c.z}/${c.x}/${c.y}.mvt`, 'distrito', (features, c) => {
    const nw = tileToLatLng(c.z, c.x, c.y, 0, 0, 1);
    const se = tileToLatLng(c.z, c.x, c.y, 1, 1, 1);
    const b = { n: nw[0], w: nw[1], s: se[0], e: se[1] };
    const made = [];
    for (const f of features) {
      if (f.type !== 3) continue;
      const code = String(f.properties.code);
      const name = String(f.properties.name || code);
      const rings = f.rings.map((r) => clip(r, b)).filter((r) => r.length >= 3);
      if (!rings.length) continue;
      const poly = L.polygon(rings, Object.assign({ stroke: false, className: `choro area-${code}` }, style(code)));
      poly.areaCode = code;
      poly.bindTooltip(() => textOf(tooltip(code, name)), { sticky: true });
      drawn.add(poly);
      made.push(poly);
      const lines = rings.flatMap((r) => outline(r, b));
      if (lines.length) made.push(L.polyline(lines, { color: '#ffffff', weight: 1, opacity: 0.9, interactive: false }));
    }
    return made;
  });
  layer.addTo(map);
  return {
    map,
    layer,
    setData(fn) {
      colourOf = fn;
      for (const p of [...drawn]) {
        if (!p._map) { drawn.delete(p); continue; } /* its tile left the view */
        p.setStyle(style(p.areaCode));
      }
    },
  };
}
