// web/app/js/report.js - "/" Reportar: drop a pin (tap, drag, the device's position or the
// map's centre for keyboard users), see at once where it is and who will handle the chosen
// category by when (GET /api/v1/route), "a mí también" on open cases of that category nearby,
// a description and up to 5 photos downscaled on the device, then send. Every report goes
// through the device's outbox (js/outbox.js) with its own Idempotency-Key, so a report written
// offline waits "pendiente de envío" and is sent once when the network returns.
import { api, ApiError } from './api.js';
import { addStrings, apply, fmtDate, lang, onLangChange, t } from './i18n.js';
import { L, makeMap, pinIcon } from './map.js';
import * as outbox from './outbox.js';
import { announce, el, start } from './shell.js';
import { deviceId, randomId, rememberCase } from './store.js';

addStrings({
  es: {
    'rep.title': 'Reportar un problema', 'rep.where': '¿Dónde?', 'rep.what': '¿Qué pasa?',
    'rep.where.hint': 'Toque el mapa para marcar el lugar; arrastre el marcador para ajustarlo.',
    'rep.here': 'Usar mi ubicación', 'rep.center': 'Marcar el centro del mapa',
    'rep.noplace': 'Aún no ha marcado un lugar.', 'rep.category': 'Tipo de problema',
    'rep.desc': 'Descripción', 'rep.desc.hint': 'Qué ve, desde cuándo, alguna referencia del lugar.',
    'rep.photos': 'Fotos (hasta 5)', 'rep.send': 'Enviar reporte', 'rep.sending': 'Enviando…',
    'rep.place': '{corr}, {dist} ({prov})', 'rep.place.none': 'Punto marcado (sin corregimiento en el mapa)',
    'rep.locating': 'Buscando el lugar…',
    'rep.place.offline': 'Sin conexión: el punto quedó marcado; el lugar y la institución se confirmarán al enviar.', 'rep.pin.aria': 'Lugar del reporte; arrástrelo para ajustarlo',
    'rep.route': 'Lo atenderá: {entity}', 'rep.due': 'Plazo: {hours} horas, hasta el {due}',
    'rep.why.national': 'Regla nacional para este tipo de problema.',
    'rep.why.area': 'Regla de {area} para este tipo de problema.',
    'rep.why.municipality': 'Lo atiende el municipio del distrito.',
    'rep.nearby': 'Ya reportado cerca (casos abiertos)', 'rep.metoo': 'A mí también',
    'rep.metoo.done': 'Gracias: sumamos su confirmación al caso {id}.',
    'rep.metoo.aria': 'A mí también: confirmar el caso {id}', 'rep.confirmations': '{n} confirmaciones',
    'rep.need.pin': 'Marque en el mapa dónde está el problema.',
    'rep.need.service': 'Elija el tipo de problema.', 'rep.photos.max': 'Puede adjuntar hasta 5 fotos.',
    'rep.photo.remove': 'Quitar foto {n}', 'rep.photo.bad': 'No se pudo leer esa imagen. Elija otra foto.',
    'rep.done': 'Su reporte fue recibido. Número de caso:', 'rep.track': 'Seguir mi caso',
    'rep.pending': 'Pendiente de envío', 'rep.pending.note': 'Sin conexión: su reporte quedó guardado en este teléfono y se enviará solo cuando vuelva la señal.',
    'rep.queue': 'Reportes pendientes de envío', 'rep.queued.at': 'Escrito el {at}',
    'rep.sent.later': 'Su reporte pendiente fue enviado. Número de caso: {id}',
    'rep.refused': 'Un reporte pendiente no fue aceptado: {why}', 'rep.geo.denied': 'No pudimos obtener su ubicación. Marque el lugar en el mapa.',
  },
  en: {
    'rep.title': 'Report a problem', 'rep.where': 'Where?', 'rep.what': 'What is wrong?',
    'rep.where.hint': 'Tap the map to mark the place; drag the marker to adjust it.',
    'rep.here': 'Use my location', 'rep.center': 'Mark the centre of the map',
    'rep.noplace': 'You have not marked a place yet.', 'rep.category': 'Kind of problem',
    'rep.desc': 'Description', 'rep.desc.hint': 'What you see, since when, a landmark nearby.',
    'rep.photos': 'Photos (up to 5)', 'rep.send': 'Send report', 'rep.sending': 'Sending…',
    'rep.place': '{corr}, {dist} ({prov})', 'rep.place.none': 'Point marked (no corregimiento on the map)',
    'rep.locating': 'Finding the place…',
    'rep.place.offline': 'No connection: the point is marked; the place and the institution will be confirmed when it is sent.', 'rep.pin.aria': 'Place of the report; drag it to adjust',
    'rep.route': 'Handled by: {entity}', 'rep.due': 'Deadline: {hours} hours, by {due}',
    'rep.why.national': 'National rule for this kind of problem.',
    'rep.why.area': 'Rule of {area} for this kind of problem.',
    'rep.why.municipality': 'Handled by the district\'s municipality.',
    'rep.nearby': 'Already reported nearby (open cases)', 'rep.metoo': 'Me too',
    'rep.metoo.done': 'Thank you: your confirmation was added to case {id}.',
    'rep.metoo.aria': 'Me too: confirm case {id}', 'rep.confirmations': '{n} confirmations',
    'rep.need.pin': 'Mark on the map where the problem is.',
    'rep.need.service': 'Choose the kind of problem.', 'rep.photos.max': 'You can attach up to 5 photos.',
    'rep.photo.remove': 'Remove photo {n}', 'rep.photo.bad': 'That image could not be read. Choose another photo.',
    'rep.done': 'Your report was received. Case number:', 'rep.track': 'Follow my case',
    'rep.pending': 'Waiting to be sent', 'rep.pending.note': 'No connection: your report is saved on this phone and will be sent by itself when you have signal again.',
    'rep.queue': 'Reports waiting to be sent', 'rep.queued.at': 'Written {at}',
    'rep.sent.later': 'Your waiting report was sent. Case number: {id}',
    'rep.refused': 'A waiting report was not accepted: {why}', 'rep.geo.denied': 'We could not get your location. Mark the place on the map.',
  },
});

const ICONS = {
  fuga_agua: '💧', sin_agua: '🚱', alcantarillado: '🚧', basura: '🗑️', hueco: '🕳️', alumbrado: '💡',
  semaforo: '🚦', vehiculo_obstruccion: '🚗', arbol_caido: '🌳', criadero_mosquitos: '🦟', ruido: '🔊',
  contaminacion: '🏭',
};
const MAX_PHOTOS = 5, LONG_SIDE = 1600;

const $ = (id) => document.getElementById(id);
let map, marker = null, pin = null, services = [], photos = [], preview = 0;

function service() {
  const r = document.querySelector('input[name=service]:checked');
  return r ? r.value : null;
}
const serviceName = (s) => (lang === 'en' ? s.name_en || s.name_es : s.name_es);

function renderServices() {
  const fs = $('services');
  const chosen = service();
  fs.replaceChildren(el('legend', { 'data-i18n': 'rep.category' }, t('rep.category')),
    ...services.filter((s) => s.active).map((s) => el('label', {},
      el('input', { type: 'radio', name: 'service', value: s.code, checked: s.code === chosen, onchange: () => refresh() }),
      el('span', { class: 'icon', 'aria-hidden': 'true' }, ICONS[s.code] || '📍'),
      el('span', {}, serviceName(s)))));
}

function placeText(loc) {
  if (!loc.corregimiento) return t('rep.place.none');
  return t('rep.place', { corr: loc.corregimiento.name, dist: loc.distrito ? loc.distrito.name : '—', prov: loc.provincia ? loc.provincia.name : '—' });
}

function whyText(rule) {
  if (!rule || rule.scope === 'national') return t('rep.why.national');
  if (rule.to_municipality) return t('rep.why.municipality');
  return t('rep.why.area', { area: rule.area && rule.area.name ? rule.area.name : rule.area || '' });
}

// The place, the routing preview and the nearby open cases, for the pin and the category now.
async function refresh() {
  if (!pin) return;
  const n = ++preview, code = service();
  const place = $('place'), routing = $('routing');
  place.textContent = t('rep.locating');
  place.dataset.lat = pin.lat.toFixed(6);
  place.dataset.lon = pin.lng.toFixed(6);
  try {
    if (!code) {
      const loc = await api(`/api/v1/locate?lat=${pin.lat.toFixed(6)}&lon=${pin.lng.toFixed(6)}`);
      if (n !== preview) return;
      place.textContent = placeText(loc);
      routing.hidden = true;
      $('nearby').replaceChildren();
      return;
    }
    const r = await api(`/api/v1/route?service_code=${encodeURIComponent(code)}&lat=${pin.lat.toFixed(6)}&lon=${pin.lng.toFixed(6)}`);
    if (n !== preview) return;
    place.textContent = placeText(r.location);
    routing.hidden = false;
    routing.replaceChildren(
      el('p', { id: 'route-entity' }, el('strong', {}, t('rep.route', { entity: r.routing.entity.name }))),
      el('p', { id: 'route-due' }, t('rep.due', { hours: r.sla_hours, due: fmtDate(r.due_at) })),
      el('p', { class: 'hint' }, whyText(r.routing.rule)));
    nearby(code, n);
  } catch (e) {
    if (n !== preview) return;
    place.textContent = e.offline ? t('rep.place.offline') : e instanceof ApiError ? e.text() : String(e);
    routing.hidden = true;
  }
}

async function nearby(code, n) {
  const d = 0.0012; // ~130 m around the pin
  const bbox = [pin.lng - d, pin.lat - d, pin.lng + d, pin.lat + d].map((v) => v.toFixed(6)).join(',');
  const box = $('nearby');
  try {
    const fc = await api(`/api/v1/reports?bbox=${bbox}&service=${encodeURIComponent(code)}&status=received,assigned,in_progress&limit=5`);
    if (n !== preview) return;
    const feats = fc.features || [];
    if (!feats.length) { box.replaceChildren(); return; }
    box.replaceChildren(el('div', { class: 'card' }, el('h3', {}, t('rep.nearby')),
      el('ul', {}, feats.map((f) => {
        const p = f.properties;
        return el('li', { class: 'row' },
          el('a', { href: `/caso/${p.id}` }, p.id), ' ', el('span', { class: 'badge' }, t('status.' + p.status)), ' ',
          el('span', { class: 'hint' }, fmtDate(p.created_at), ' · ', t('rep.confirmations', { n: p.confirmations })),
          el('button', { type: 'button', class: 'secondary metoo', 'aria-label': t('rep.metoo.aria', { id: p.id }), onclick: (ev) => metoo(p.id, ev.target) }, t('rep.metoo')));
      }))));
  } catch (e) { box.replaceChildren(); }
}

async function metoo(id, button) {
  button.disabled = true;
  try {
    await api(`/api/v1/reports/${id}/confirm`, { method: 'POST', body: { device_id: deviceId() } });
    announce(t('rep.metoo.done', { id }), 'ok');
  } catch (e) {
    button.disabled = false;
    announce(e.text ? e.text() : String(e), 'error');
  }
}

function setPin(latlng) {
  pin = L.latLng(latlng);
  if (!marker) {
    marker = L.marker(pin, { draggable: true, autoPan: true, icon: pinIcon(), keyboard: true, title: t('rep.pin.aria'), alt: t('rep.pin.aria') }).addTo(map);
    marker.on('dragend', () => { pin = marker.getLatLng(); refresh(); });
  } else {
    marker.setLatLng(pin);
  }
  refresh();
}

// Downscaled on the device (long side 1600 px, JPEG), upright: less to send on a mobile link.
async function shrink(file) {
  const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const k = Math.min(1, LONG_SIDE / Math.max(bmp.width, bmp.height));
  const c = document.createElement('canvas');
  c.width = Math.round(bmp.width * k);
  c.height = Math.round(bmp.height * k);
  c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
  bmp.close();
  return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('encode'))), 'image/jpeg', 0.85));
}

function renderPhotos() {
  $('previews').replaceChildren(...photos.map((p, i) => el('figure', { class: 'card' },
    el('img', { src: p.url, alt: `${t('rep.photos')} ${i + 1}` }),
    el('button', { type: 'button', class: 'secondary', onclick: () => { URL.revokeObjectURL(p.url); photos.splice(i, 1); renderPhotos(); } }, t('rep.photo.remove', { n: i + 1 })))));
}

async function addPhotos(files) {
  for (const f of files) {
    if (photos.length >= MAX_PHOTOS) { announce(t('rep.photos.max'), 'warn'); break; }
    try {
      const blob = await shrink(f);
      photos.push({ blob, url: URL.createObjectURL(blob) });
    } catch (e) {
      announce(t('rep.photo.bad'), 'error');
    }
  }
  $('photos').value = '';
  renderPhotos();
}

function showDone(c) {
  $('result').replaceChildren(el('div', { class: 'notice ok', id: 'done' },
    el('p', {}, t('rep.done'), ' ', el('strong', { id: 'case-id' }, c.id)),
    el('p', {}, el('a', { class: 'button', href: `/caso/${c.id}` }, t('rep.track')))));
  $('result').querySelector('a').focus();
}

async function renderQueue() {
  let items = [];
  try { items = await outbox.list(); } catch (e) { items = []; }
  const q = $('queue');
  if (!items.length) { q.replaceChildren(); return; }
  q.replaceChildren(el('div', { class: 'card pending' }, el('h2', {}, t('rep.queue')),
    el('ul', {}, items.map((it) => el('li', { class: 'queued' },
      el('span', { class: 'badge pending' }, t('rep.pending')), ' ',
      (services.find((s) => s.code === it.report.service_code) || { name_es: it.report.service_code }).name_es, ' — ',
      t('rep.queued.at', { at: fmtDate(it.created) }))))));
}

const hooks = {
  sent(item, c) { announce(t('rep.sent.later', { id: c.id }), 'ok'); showDone(c); renderQueue(); },
  failed(item, e) { announce(t('rep.refused', { why: e.text() }), 'error'); renderQueue(); },
};
function flushSoon(force = false) { outbox.flush(hooks, force).then(renderQueue); }

function clearForm() {
  $('form').reset();
  for (const p of photos) URL.revokeObjectURL(p.url);
  photos = [];
  renderPhotos();
}

async function submit(ev) {
  ev.preventDefault();
  const code = service();
  if (!pin) { announce(t('rep.need.pin'), 'error'); $('center').focus(); return; }
  if (!code) { announce(t('rep.need.service'), 'error'); document.querySelector('input[name=service]')?.focus(); return; }
  const item = {
    key: randomId(), created: new Date().toISOString(),
    report: { service_code: code, lat: Number(pin.lat.toFixed(6)), lon: Number(pin.lng.toFixed(6)), description: $('desc').value.trim() || undefined, device_id: deviceId() },
    photos: photos.map((p) => p.blob),
  };
  const send = $('send'), bar = $('progress');
  send.disabled = true;
  send.textContent = t('rep.sending');
  bar.hidden = !item.photos.length;
  bar.value = 0;
  let queued = false;
  try {
    try {
      await outbox.put(item); // kept on the device before the first try
      queued = true;
    } catch (e) { /* no IndexedDB (private mode, quota): send it without a queue */ }
    const c = await outbox.send(item, (f) => { bar.value = f; });
    if (queued) await outbox.remove(item.key);
    if (!queued) rememberCase(c.id, c.token, code);
    showDone(c);
    announce('', 'ok');
    clearForm();
  } catch (e) {
    if (queued && outbox.retryable(e)) {
      announce(t('rep.pending.note'), 'warn');
      clearForm(); // it is in the queue: a second press must not make a second report
    } else {
      if (queued) await outbox.remove(item.key);
      announce(e.text ? e.text() : String(e), 'error');
    }
  } finally {
    send.disabled = false;
    send.textContent = t('rep.send');
    bar.hidden = true;
    renderQueue();
  }
}

async function main() {
  start('/', { ownOutbox: true });
  map = makeMap($('map'), { label: t('rep.where') });
  map.on('click', (e) => setPin(e.latlng));
  $('center').addEventListener('click', () => setPin(map.getCenter()));
  $('here').addEventListener('click', () => {
    if (!navigator.geolocation) { announce(t('rep.geo.denied'), 'warn'); return; }
    navigator.geolocation.getCurrentPosition((p) => {
      const ll = [p.coords.latitude, p.coords.longitude];
      map.setView(ll, 17);
      setPin(ll);
    }, () => announce(t('rep.geo.denied'), 'warn'), { enableHighAccuracy: true, timeout: 10000 });
  });
  // Open on the device's position when the citizen has already allowed it; never ask unprompted.
  if (navigator.permissions && navigator.geolocation) {
    navigator.permissions.query({ name: 'geolocation' }).then((s) => {
      if (s.state === 'granted') navigator.geolocation.getCurrentPosition((p) => map.setView([p.coords.latitude, p.coords.longitude], 16), () => {}, { timeout: 8000 });
    }).catch(() => {});
  }
  $('photos').addEventListener('change', (e) => addPhotos([...e.target.files]));
  $('form').addEventListener('submit', submit);
  onLangChange(() => { renderServices(); refresh(); renderQueue(); });
  // the catalogue as last seen, so that a report can be written with no network at all
  try {
    services = (await api('/api/v1/services')).services || [];
    localStorage.setItem('reporta.services', JSON.stringify(services));
  } catch (e) {
    try { services = JSON.parse(localStorage.getItem('reporta.services') || '[]'); } catch (x) { services = []; }
    if (!services.length) announce(e.text(), 'error');
  }
  renderServices();
  apply();
  renderQueue();
  window.addEventListener('online', () => flushSoon(true));
  setInterval(async () => { if ((await outbox.list()).length) flushSoon(); }, 5000);
  flushSoon();
}

main();
