// web/app/js/tow.js - "¿Dónde está mi carro?": a driver types the plate (and, optionally, the
// ATTT boleta) and learns whether the car was towed, to which yard, what it costs so far and what
// to bring. The plate may come in the URL (/grua?placa=AB1234) so a link can be shared; the
// ticket never goes there: with it the reply carries the truck's live position.
import { start, el, announce } from './shell.js';
import { addStrings, t, apply, onLangChange, lang, fmtDate, fmtNumber, fmtMoney } from './i18n.js';
import { api, ApiError } from './api.js';
import { makeMap, pinIcon, L } from './map.js';
import { textOf } from './map.js';

addStrings({
  es: {
    'tow.title': '¿Dónde está mi carro?',
    'tow.intro': 'Si la grúa se llevó su vehículo, aquí sabrá a qué patio, cuánto va a pagar y qué documentos llevar.',
    'tow.plate': 'Placa',
    'tow.plate.hint': 'Letras y números, por ejemplo AB-1234. Los espacios y guiones no importan.',
    'tow.ticket': 'Número de boleta (opcional)',
    'tow.ticket.hint': 'Con la boleta de la ATTT también verá dónde va la grúa. No se guarda en el enlace.',
    'tow.search': 'Buscar',
    'tow.searching': 'Buscando la placa {plate}…',
    'tow.empty': 'Escriba la placa del vehículo.',
    'tow.none': 'La placa {plate} no tiene ningún remolque activo. Si su vehículo no está donde lo dejó, llame al 311.',
    'tow.found': 'La placa {plate} fue remolcada. Está en el {yard}.',
    'tow.found.towing': 'La placa {plate} fue remolcada y va en camino al {yard}.',
    'tow.result': 'Resultado para la placa {plate}',
    'tow.yard': 'Patio',
    'tow.address': 'Dirección',
    'tow.phone': 'Teléfono',
    'tow.hours': 'Horario',
    'tow.documents': 'Documentos para retirarlo',
    'tow.since': 'Remolcado desde',
    'tow.status': 'Estado',
    'tow.st.requested': 'Grúa solicitada',
    'tow.st.towing': 'En camino al patio',
    'tow.st.at_yard': 'En el patio',
    'tow.fees': 'Costo hasta hoy',
    'tow.fee.tow': 'Remolque',
    'tow.fee.storage': 'Estacionamiento: {days} × {daily}',
    'tow.fee.days.1': '1 día',
    'tow.fee.days.n': '{n} días',
    'tow.fee.total': 'Total',
    'tow.fee.note': 'El estacionamiento cuenta cada día comenzado desde que llegó al patio.',
    'tow.map': 'Mapa del patio',
    'tow.map.truck': 'Mapa: la grúa en camino al patio',
    'tow.truck': 'La grúa (en camino al patio)',
    'tow.truck.short': 'Grúa',
    'tow.truck.at': 'Última posición de la grúa en el mapa: {time}',
    'tow.truck.none': 'La grúa todavía no ha enviado su posición.',
    'tow.history': 'Historial',
    'tow.share': 'Enlace para compartir esta búsqueda (sin la boleta)',
  },
  en: {
    'tow.title': 'Where is my car?',
    'tow.intro': 'If your vehicle was towed, find out which yard has it, what it costs so far and which documents to bring.',
    'tow.plate': 'Plate',
    'tow.plate.hint': 'Letters and digits, for example AB-1234. Spaces and dashes do not matter.',
    'tow.ticket': 'Ticket number (optional)',
    'tow.ticket.hint': 'With the ATTT ticket you also see where the tow truck is. It is not kept in the link.',
    'tow.search': 'Search',
    'tow.searching': 'Looking up plate {plate}…',
    'tow.empty': 'Type the vehicle’s plate.',
    'tow.none': 'Plate {plate} has no active tow. If your vehicle is not where you left it, call 311.',
    'tow.found': 'Plate {plate} was towed. It is at {yard}.',
    'tow.found.towing': 'Plate {plate} was towed and is on its way to {yard}.',
    'tow.result': 'Result for plate {plate}',
    'tow.yard': 'Yard',
    'tow.address': 'Address',
    'tow.phone': 'Phone',
    'tow.hours': 'Opening hours',
    'tow.documents': 'Documents to collect it',
    'tow.since': 'Towed since',
    'tow.status': 'Status',
    'tow.st.requested': 'Tow truck requested',
    'tow.st.towing': 'On its way to the yard',
    'tow.st.at_yard': 'At the yard',
    'tow.fees': 'Cost so far',
    'tow.fee.tow': 'Tow',
    'tow.fee.storage': 'Storage: {days} × {daily}',
    'tow.fee.days.1': '1 day',
    'tow.fee.days.n': '{n} days',
    'tow.fee.total': 'Total',
    'tow.fee.note': 'Storage counts every day begun since it reached the yard.',
    'tow.map': 'Map of the yard',
    'tow.map.truck': 'Map: the tow truck on its way to the yard',
    'tow.truck': 'The tow truck (on its way to the yard)',
    'tow.truck.short': 'Tow truck',
    'tow.truck.at': 'The tow truck’s last position on the map: {time}',
    'tow.truck.none': 'The tow truck has not sent its position yet.',
    'tow.history': 'History',
    'tow.share': 'Link to share this search (without the ticket)',
  },
});

const form = { plate: null, ticket: null };
let last = null; // {plate, reply} of the last lookup, re-rendered on a language change
let map = null;
let marks = null;
const plateError = el('p', { class: 'field-error', id: 'plate-error', hidden: true });
const result = el('section', { id: 'tow-result', class: 'tow-result', 'aria-live': 'off', hidden: true });

function days(n) {
  return n === 1 ? t('tow.fee.days.1') : t('tow.fee.days.n', { n: fmtNumber(n) });
}

function local(pair) {
  if (!pair) return '';
  return pair[lang] || pair.es || pair.en || '';
}

function fact(label, ...value) {
  return [el('dt', {}, label), el('dd', {}, ...value)];
}

function feesTable(f) {
  const storage = (f.daily_cents || 0) * (f.storage_days || 0);
  return el('table', { class: 'tow-fees' },
    el('caption', { class: 'sr-only' }, t('tow.fees')),
    el('tbody', {},
      el('tr', {}, el('th', { scope: 'row' }, t('tow.fee.tow')), el('td', { class: 'num', 'data-fee': 'tow' }, fmtMoney(f.tow_cents))),
      el('tr', {}, el('th', { scope: 'row' }, t('tow.fee.storage', { days: days(f.storage_days || 0), daily: fmtMoney(f.daily_cents) })),
        el('td', { class: 'num', 'data-fee': 'storage' }, fmtMoney(storage))),
      el('tr', { class: 'total' }, el('th', { scope: 'row' }, t('tow.fee.total')),
        el('td', { class: 'num', 'data-fee': 'total' }, fmtMoney(f.total_cents)))));
}

function truckPosition(r) {
  const p = r.truck && r.truck.position;
  return r.status === 'towing' && p && Number.isFinite(p.lat) && Number.isFinite(p.lon) ? p : null;
}

function render() {
  if (!last) return;
  const { plate, reply: r } = last;
  const kids = [];
  if (!r.active) { // the sentence is in the notice; nothing else to show
    result.replaceChildren();
    result.hidden = true;
    if (map) { map.remove(); map = null; }
    return;
  }
  const y = r.yard || {};
  const truck = truckPosition(r);
  kids.push(el('h2', {}, t('tow.result', { plate: r.plate })));
  if (r.status) {
    kids.push(el('p', { class: 'row' }, el('span', {}, t('tow.status') + ':'),
      el('span', { class: 'badge tow-status status-' + r.status }, t('tow.st.' + r.status))));
  }
  const yardCard = el('div', { class: 'card tow-yard' },
    el('h3', { class: 'tow-yard-name' }, y.name || y.code),
    el('dl', { class: 'facts' },
      fact(t('tow.since'), fmtDate(r.since)),
      fact(t('tow.address'), y.address || '—'),
      y.phone ? fact(t('tow.phone'), el('a', { href: 'tel:' + y.phone.replace(/[^\d+]/g, '') }, y.phone)) : [],
      fact(t('tow.hours'), el('span', { class: 'tow-hours' }, local(y.hours) || '—')),
      fact(t('tow.documents'), el('span', { class: 'tow-documents' }, local(y.documents) || '—'))));
  const feeCard = el('div', { class: 'card' }, el('h3', {}, t('tow.fees')), feesTable(r.fees || {}),
    el('p', { class: 'hint' }, t('tow.fee.note')));
  const mapEl = el('div', { id: 'tow-map', class: 'map tow-map' });
  const side = [yardCard, feeCard];
  if (r.status === 'towing') {
    side.unshift(el('p', { class: 'notice warn tow-truck' },
      truck ? t('tow.truck.at', { time: fmtDate(truck.at) }) : t('tow.truck.none')));
  }
  if (Array.isArray(r.history) && r.history.length) {
    side.push(el('div', { class: 'card' }, el('h3', {}, t('tow.history')),
      el('ol', { class: 'timeline' }, r.history.map((h) => el('li', {},
        el('strong', {}, t('tow.st.' + h.to) !== 'tow.st.' + h.to ? t('tow.st.' + h.to) : h.to), ' — ', fmtDate(h.at),
        h.note ? el('div', { class: 'hint' }, h.note) : null)))));
  }
  /* the DOM (and so the reading and focus order) is the phone's: where, the yard, the map, the
   * fees; a wide screen puts the map in a left column (tow.css) */
  side.splice(side.indexOf(yardCard) + 1, 0, el('div', { class: 'tow-where' }, mapEl));
  kids.push(el('div', { class: 'grid2 tow-grid' }, side));
  result.replaceChildren(...kids);
  result.hidden = false;
  drawMap(mapEl, y, truck);
}

function drawMap(mapEl, y, truck) {
  if (map) { map.remove(); map = null; }
  const label = truck ? t('tow.map.truck') : t('tow.map');
  const yardAt = [y.lat, y.lon];
  map = makeMap(mapEl, { center: yardAt, zoom: 15, label });
  marks = L.layerGroup().addTo(map);
  const yardMarker = L.marker(yardAt, { icon: pinIcon(), title: y.name, alt: y.name, keyboard: true })
    .bindTooltip(textOf(y.name), { direction: 'top', offset: [0, -36] });
  yardMarker.addTo(marks);
  if (truck) {
    const at = [truck.lat, truck.lon];
    L.marker(at, {
      icon: L.divIcon({ className: 'tow-truck-icon', html: '<span aria-hidden="true">🚚</span>', iconSize: [36, 36], iconAnchor: [18, 18] }),
      title: t('tow.truck'), alt: t('tow.truck'), keyboard: true,
    }).bindTooltip(textOf(t('tow.truck.short')), { direction: 'top', offset: [0, -16], permanent: true }).addTo(marks);
    map.fitBounds(L.latLngBounds([at, yardAt]), { padding: [48, 48], maxZoom: 16, animate: false });
  }
  yardMarker.openTooltip();
}

function shareLink(plate) {
  const u = new URL(location.href);
  u.search = '';
  u.searchParams.set('placa', plate);
  history.replaceState(null, '', u.pathname + u.search);
}

let said = null; // the last announcement, said again in the new language
function say(key, vars, kind) {
  said = () => announce(t(key, vars), kind);
  said();
}

// The plate's own error under the field (and in its description), or none.
let plateText = null;
function fieldError(text) {
  plateText = text;
  plateError.hidden = !text;
  plateError.textContent = text ? text() : '';
  if (text) {
    form.plate.setAttribute('aria-invalid', 'true');
    form.plate.setAttribute('aria-describedby', 'plate-error plate-hint');
    form.plate.focus();
  } else {
    form.plate.removeAttribute('aria-invalid');
    form.plate.setAttribute('aria-describedby', 'plate-hint');
  }
}

let seq = 0;
async function lookup(e) {
  if (e) e.preventDefault();
  const plate = form.plate.value.trim();
  const ticket = form.ticket.value.trim();
  if (!plate) {
    say('tow.empty', null, 'error');
    fieldError(() => t('tow.empty'));
    return;
  }
  fieldError(null);
  const mine = ++seq;
  say('tow.searching', { plate }, 'info');
  const q = new URLSearchParams({ plate });
  if (ticket) q.set('ticket', ticket);
  try {
    const reply = await api('/api/v1/tows/lookup?' + q.toString());
    if (mine !== seq) return;
    last = { plate, reply };
    shareLink(reply.plate || plate);
    render();
    if (!reply.active) say('tow.none', { plate: reply.plate || plate }, 'info');
    else say(reply.status === 'towing' ? 'tow.found.towing' : 'tow.found',
      { plate: reply.plate, yard: reply.yard ? reply.yard.name : '' }, 'ok');
  } catch (err) {
    if (mine !== seq) return;
    last = null;
    result.hidden = true;
    result.replaceChildren();
    if (map) { map.remove(); map = null; }
    said = () => announce(err instanceof ApiError ? err.text() : t('err.generic'), 'error');
    said();
    if (err instanceof ApiError && err.code === 'invalid_plate') fieldError(() => err.text());
  }
}

function build() {
  const app = document.getElementById('app');
  form.plate = el('input', { type: 'text', id: 'plate', name: 'placa', autocomplete: 'off', autocapitalize: 'characters',
    spellcheck: 'false', maxlength: '20', inputmode: 'text', 'aria-describedby': 'plate-hint', class: 'plate' });
  form.ticket = el('input', { type: 'text', id: 'ticket', name: 'boleta', autocomplete: 'off', autocapitalize: 'characters',
    spellcheck: 'false', maxlength: '40', 'aria-describedby': 'ticket-hint' });
  const f = el('form', { class: 'card tow-form', id: 'tow-form', novalidate: true, onsubmit: lookup, role: 'search' },
    el('div', { class: 'tow-fields' },
      el('div', {},
        el('label', { for: 'plate', 'data-i18n': 'tow.plate' }),
        form.plate,
        plateError,
        el('p', { class: 'hint', id: 'plate-hint', 'data-i18n': 'tow.plate.hint' })),
      el('div', {},
        el('label', { for: 'ticket', 'data-i18n': 'tow.ticket' }),
        form.ticket,
        el('p', { class: 'hint', id: 'ticket-hint', 'data-i18n': 'tow.ticket.hint' }))),
    el('button', { type: 'submit', id: 'tow-search', 'data-i18n': 'tow.search' }));
  app.replaceChildren(el('p', { class: 'intro', 'data-i18n': 'tow.intro' }), f, result);
  apply(app);
  const plate = new URLSearchParams(location.search).get('placa');
  if (plate) {
    form.plate.value = plate;
    lookup();
  }
}

start(location.pathname);
const retitle = () => { document.title = `${t('tow.title')} — ${t('brand')}`; };
retitle();
build();
onLangChange(() => {
  retitle();
  render();
  if (said) said();
  if (plateText) plateError.textContent = plateText();
});
