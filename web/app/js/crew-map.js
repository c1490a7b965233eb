// web/app/js/crew-map.js - the crew page's map: the entity's open cases from the vector tiles
// (one circle per case, bigger circles with a count for clusters), the heatmap PNG tiles as an
// overlay and the hotspots as dashed rings growing with their case count. Every layer reads the
// current filters through params() when it asks for a tile, so refresh() after a filter or
// status change is enough; `v` changes on each refresh because the browser keeps tiles 30 s.
import { L, makeMap, statusColour } from './map.js';
import { vectorLayer, tileToLatLng } from './mvt.js';
import { t } from './i18n.js';
import { textOf } from './map.js';

const CASE_RADIUS_PX = 8;
const SELECTED_RADIUS_PX = 15;
const HOTSPOT_RADIUS_PX = 14; /* in pixels, not metres: a 50 m cluster is 3 px wide at z13 */
export const CASE_ZOOM = 17; /* close enough that cases 10 m apart are not clustered (8 px) */

// A point in a tile's buffer belongs to the neighbouring tile: draw it once, there.
function inTile(ll, c) {
  const [north, west] = tileToLatLng(c.z, c.x, c.y, 0, 0, 1);
  const [south, east] = tileToLatLng(c.z, c.x, c.y, 1, 1, 1);
  return ll[0] <= north && ll[0] > south && ll[1] >= west && ll[1] < east;
}

// opts: {el, params(kind) -> URLSearchParams, onSelect(id), serviceName(code)}
export function crewMap(opts) {
  const map = makeMap(opts.el, { label: t('crew.map.label') });
  let gen = 0;
  // While Leaflet swaps zoom levels it keeps the old level's tiles until the new ones load, so a
  // case would be drawn twice for a moment: the newest drawing of a case replaces the older.
  const byId = new Map();
  const qs = (kind) => { const p = opts.params(kind); p.set('v', String(gen)); return p.toString(); };

  function drawCase(p, ll) {
    const overdue = p.overdue === true || p.overdue === 1 || p.overdue === 'true';
    const m = L.circleMarker(ll, {
      radius: CASE_RADIUS_PX, weight: overdue ? 3 : 2, color: overdue ? '#1b1b1b' : '#ffffff',
      fillColor: statusColour[p.status] || '#4a4a4a', fillOpacity: 0.95,
      className: `case-marker status-${p.status}${overdue ? ' overdue' : ''}`,
    });
    const label = `${p.id} · ${opts.serviceName(p.service)} · ${t('status.' + p.status)}${overdue ? ' · ' + t('overdue') : ''}`;
    m.on('add', () => {
      const old = byId.get(p.id);
      if (old && old !== m) old.remove();
      byId.set(p.id, m);
      const path = m.getElement();
      if (!path) return;
      path.setAttribute('data-case', p.id);
      path.setAttribute('aria-label', label);
    });
    m.on('remove', () => { if (byId.get(p.id) === m) byId.delete(p.id); });
    m.bindTooltip(textOf(label), { direction: 'top', offset: [0, -CASE_RADIUS_PX] });
    m.on('click', () => opts.onSelect(p.id));
    return m;
  }

  function drawCluster(p, ll) {
    const n = Number(p.count) || 0;
    const m = L.circleMarker(ll, {
      radius: Math.min(24, 11 + 2 * Math.log2(Math.max(n, 2))), weight: 2, color: '#ffffff',
      fillColor: '#083a66', fillOpacity: 0.85, className: 'case-marker cluster',
    });
    m.on('add', () => {
      const path = m.getElement();
      if (path) path.setAttribute('aria-label', t('crew.cluster', { n }));
    });
    m.bindTooltip(textOf(String(n)), { permanent: true, direction: 'center', className: 'cluster-count', interactive: false });
    m.on('click', () => map.setView(ll, Math.min(map.getMaxZoom(), map.getZoom() + 2)));
    return m;
  }

  const cases = vectorLayer((c) => `/tiles/cases/${c.z}/${c.x}/${c.y}.mvt?${qs('tiles')}`, 'cases', (features, c) => {
    const out = [];
    for (const f of features) {
      if (f.type !== 1 || !f.rings[0] || !f.rings[0][0]) continue;
      const ll = f.rings[0][0];
      if (!inTile(ll, c)) continue;
      out.push(f.properties.cluster ? drawCluster(f.properties, ll) : drawCase(f.properties, ll));
    }
    return out;
  });
  cases.addTo(map);

  const heatUrl = () => `/tiles/heat/{z}/{x}/{y}{r}.png?${qs('tiles')}`;
  const heat = L.tileLayer(heatUrl(), { opacity: 0.75, maxZoom: 22, className: 'crew-heat', detectRetina: false });

  const hot = L.layerGroup().addTo(map);
  let selected = null;

  return {
    map,
    refresh() {
      gen++;
      cases.refresh();
      heat.setUrl(heatUrl());
    },
    show(which, on) {
      const layer = { cases, heat, hot }[which];
      if (on && !map.hasLayer(layer)) layer.addTo(map);
      if (!on && map.hasLayer(layer)) layer.remove();
    },
    hotspots(fc) {
      hot.clearLayers();
      for (const f of (fc && fc.features) || []) {
        const [lon, lat] = f.geometry.coordinates;
        L.circleMarker([lat, lon], {
          radius: HOTSPOT_RADIUS_PX + 2 * Math.sqrt(f.properties.count || 1), interactive: false,
          color: '#8a4b00', weight: 3, dashArray: '6 5', fillColor: '#ffbf47', fillOpacity: 0.25, className: 'hotspot',
        }).addTo(hot);
      }
    },
    // ring around the chosen case, and bring it into view close enough to be a single marker
    select(ll, pan) {
      if (selected) { selected.remove(); selected = null; }
      if (!ll) return;
      selected = L.circleMarker(ll, {
        radius: SELECTED_RADIUS_PX, interactive: false, weight: 4, color: '#ffbf47', fill: false, className: 'case-selected',
      }).addTo(map);
      if (pan) map.setView(ll, Math.max(map.getZoom(), Math.min(CASE_ZOOM, map.getMaxZoom())));
    },
    fit(latlngs) {
      if (!latlngs.length) return;
      map.fitBounds(L.latLngBounds(latlngs), { padding: [24, 24], maxZoom: 15 });
    },
    fitArea(feature) {
      const b = L.geoJSON(feature).getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [12, 12] });
    },
    destroy() { map.remove(); },
  };
}
