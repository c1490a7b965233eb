// web/app/js/map.js - a Leaflet map on the configured base map (OpenStreetMap in production;
// without one, this server's own /tiles/areas layer, so the app works in a closed network).
import { config } from './config.js';
import { t } from './i18n.js';

export const L = window.L;
export const PANAMA_CITY = [8.983, -79.52];

export function makeMap(el, opts = {}) {
  const map = L.map(el, Object.assign({ center: PANAMA_CITY, zoom: 13, zoomControl: true }, opts));
  const bm = config.basemap || {};
  L.tileLayer(bm.url || '/tiles/areas/{z}/{x}/{y}.png', {
    maxZoom: bm.own ? 18 : 19,
    attribution: bm.attribution || (bm.own ? 'Límites: INEC / reporta' : ''),
    crossOrigin: bm.own ? undefined : true,
  }).addTo(map);
  el.setAttribute('role', 'region');
  el.setAttribute('aria-label', opts.label || t('map.label'));
  return map;
}

// Leaflet's default marker images live under the vendor prefix.
export function pinIcon() {
  const base = config.static + '/vendor/images/';
  return L.icon({
    iconUrl: base + 'marker-icon.png', iconRetinaUrl: base + 'marker-icon-2x.png', shadowUrl: base + 'marker-shadow.png',
    iconSize: [25, 41], iconAnchor: [12, 41], popupAnchor: [1, -34], shadowSize: [41, 41],
  });
}

// Leaflet takes a tooltip or popup string as HTML: API text goes in as a text node instead.
export function textOf(s) {
  const span = document.createElement('span');
  span.textContent = s;
  return span;
}

export const statusColour = { received: '#b3261e', assigned: '#8a4b00', in_progress: '#0b57d0', resolved: '#146c2e', closed: '#146c2e' };
