// web/app/js/crew-map.js - the crew page's map: the entity's open cases from the vector tiles
// (one circle per case, bigger circles with a count for clusters), the heatmap PNG tiles as an
// overlay and the hotspots as dashed circles. Every layer reads the current filters through
// params() when it asks for a tile, so refresh() after a filter or status change is enough; the
// `v` parameter changes on each refresh because tiles are cached for 30 s by the browser.
import { L, makeMap, statusColour } from './map.js';
import { vectorLayer, tileToLatLng } from './mvt.js';
import { t } from './i18n.js';

const CASE_RADIUS_PX = 8;
const SELECTED_RADIUS_PX = 15;
const HOTSPOT_MIN_RADIUS_M = 40; /* a 1-case-wide hotspot would be invisible below street zoom */
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
      const path = m.getElement();
      if (!path) return;
      path.setAttribute('data-case', p.id);
      path.setAttribute('aria-label', label);
    });
    m.bindTooltip(label, { direction: 'top', offset: [0, -CASE_RADIUS_PX] });
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
    m.bindTooltip(String(n), { permanent: true, direction: 'center', className: 'cluster-count', interactive: false });
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
        L.circle([lat, lon], {
          radius: Math.max(f.properties.radius_m || 0, HOTSPOT_MIN_RADIUS_M), interactive: false,
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
