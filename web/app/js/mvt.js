// web/app/js/mvt.js - Mapbox Vector Tiles from this server, decoded by @mapbox/vector-tile and
// pbf (from npm). vectorLayer() is a Leaflet layer that, for every tile in view, fetches the
// tile and hands its features (with lat/lon for points) to draw(features, tile) which returns
// Leaflet layers; they go when the tile leaves the view.
import { VectorTile } from '../vendor/vector-tile.js';
import Pbf from '../vendor/pbf.js';
import { L } from './map.js';

export async function fetchTile(url, signal) {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new Error('tile ' + res.status);
  return new VectorTile(new Pbf(new Uint8Array(await res.arrayBuffer())));
}

// tile pixel (x, y of an extent) -> [lat, lon]
export function tileToLatLng(z, tx, ty, x, y, extent) {
  const n = 2 ** z;
  const lon = ((tx + x / extent) / n) * 360 - 180;
  const m = Math.PI - (2 * Math.PI * (ty + y / extent)) / n;
  const lat = (180 / Math.PI) * Math.atan(Math.sinh(m));
  return [lat, lon];
}

// The features of a layer: {properties, type (1 point, 2 line, 3 polygon), rings: [[ [lat,lon] ]]}.
export function features(tile, layerName, z, x, y) {
  const layer = tile.layers[layerName];
  const out = [];
  if (!layer) return out;
  for (let i = 0; i < layer.length; i++) {
    const f = layer.feature(i);
    const rings = f.loadGeometry().map((ring) => ring.map((p) => tileToLatLng(z, x, y, p.x, p.y, layer.extent)));
    out.push({ properties: f.properties, type: f.type, rings });
  }
  return out;
}

export function vectorLayer(urlFor, layerName, draw) {
  const Layer = L.GridLayer.extend({
    createTile(coords, done) {
      const div = document.createElement('div');
      const key = this._tileCoordsToKey(coords);
      const ctl = new AbortController();
      this._ctl = this._ctl || {};
      this._ctl[key] = ctl;
      fetchTile(urlFor(coords), ctl.signal)
        .then((tile) => {
          const made = draw(features(tile, layerName, coords.z, coords.x, coords.y), coords) || [];
          this._made = this._made || {};
          this._made[key] = made;
          for (const m of made) m.addTo(this._map);
          done(null, div);
        })
        .catch((e) => done(e.name === 'AbortError' ? null : e, div));
      return div;
    },
  });
  const layer = new Layer({ tileSize: 256, updateWhenIdle: true, keepBuffer: 0 });
  layer.on('tileunload', (e) => {
    const key = layer._tileCoordsToKey(e.coords);
    if (layer._ctl && layer._ctl[key]) { layer._ctl[key].abort(); delete layer._ctl[key]; }
    if (layer._made && layer._made[key]) { for (const m of layer._made[key]) m.remove(); delete layer._made[key]; }
  });
  layer.on('remove', () => {
    for (const k of Object.keys(layer._made || {})) for (const m of layer._made[k]) m.remove();
    layer._made = {};
  });
  layer.refresh = () => { layer.redraw(); };
  return layer;
}
