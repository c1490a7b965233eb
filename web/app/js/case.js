// web/app/js/case.js - /caso/{id}: a case as its reporter follows it (status, institution,
// the rule that chose it, due date, timeline, photos before and after) and, once it is
// resolved or closed, the rating form with the token kept on this device. /caso alone lists
// the cases this device reported and finds one by its number.
import { api } from './api.js';
import { addStrings, apply, fmtDate, lang, onLangChange, t } from './i18n.js';
import { L, makeMap, pinIcon } from './map.js';
import * as outbox from './outbox.js';
import { announce, el, start } from './shell.js';
import { myCases, tokenFor } from './store.js';

addStrings({
  es: {
    'case.title': 'Mi caso', 'case.mine': 'Casos reportados desde este teléfono', 'case.none': 'Aún no ha reportado nada desde este teléfono.',
    'case.find': 'Buscar un caso por su número', 'case.number': 'Número de caso', 'case.number.hint': 'Por ejemplo 2026-000123',
    'case.go': 'Ver caso', 'case.heading': 'Caso {id}', 'case.status': 'Estado', 'case.entity': 'Institución',
    'case.why': 'Por qué esta institución', 'case.due': 'Fecha límite', 'case.where': 'Lugar', 'case.created': 'Reportado',
    'case.closed': 'Cerrado', 'case.updated': 'Última novedad', 'case.history': 'Historial', 'case.photos': 'Fotos del reporte',
    'case.after': 'Fotos de la institución (después)', 'case.confirmations': 'Personas que confirmaron',
    'case.why.national': 'Regla nacional del tipo de problema', 'case.why.area': 'Regla para {area}',
    'case.why.municipality': 'Le corresponde al municipio del distrito', 'case.why.transfer': 'Transferido a esta institución',
    'case.kind.created': 'Reporte recibido', 'case.kind.status': 'Cambio de estado', 'case.kind.transfer': 'Transferido',
    'case.kind.confirmed': 'Otra persona confirmó el problema', 'case.kind.tow': 'Grúa', 'case.kind.update': 'Novedad',
    'case.kind.rating': 'Calificación', 'case.kind.followup': 'Seguimiento',
    'case.rate': '¿Quedó satisfecho?', 'case.score': 'Calificación (1 = nada, 5 = muy satisfecho)',
    'case.comment': 'Comentario (opcional, solo lo ve la institución)', 'case.reopen': 'El problema no está resuelto: pedir que se reabra',
    'case.reason': 'Por qué no está resuelto', 'case.rate.send': 'Enviar calificación', 'case.rated': 'Gracias por su calificación.',
    'case.rated.reopened': 'Gracias. Pedimos que el caso se reabra.', 'case.rate.notoken': 'Solo quien hizo el reporte, desde el mismo teléfono, puede calificarlo.',
    'case.overdue': 'Vencido: pasó la fecha límite', 'case.pending': 'Pendiente de envío', 'case.refresh': 'Actualizar',
    'case.star': '{n} de 5',
  },
  en: {
    'case.title': 'My case', 'case.mine': 'Cases reported from this phone', 'case.none': 'You have not reported anything from this phone yet.',
    'case.find': 'Find a case by its number', 'case.number': 'Case number', 'case.number.hint': 'For example 2026-000123',
    'case.go': 'Show case', 'case.heading': 'Case {id}', 'case.status': 'Status', 'case.entity': 'Institution',
    'case.why': 'Why this institution', 'case.due': 'Deadline', 'case.where': 'Place', 'case.created': 'Reported',
    'case.closed': 'Closed', 'case.updated': 'Latest news', 'case.history': 'History', 'case.photos': 'Photos of the report',
    'case.after': 'Photos from the institution (after)', 'case.confirmations': 'People who confirmed',
    'case.why.national': 'National rule for the kind of problem', 'case.why.area': 'Rule for {area}',
    'case.why.municipality': 'It belongs to the district\'s municipality', 'case.why.transfer': 'Transferred to this institution',
    'case.kind.created': 'Report received', 'case.kind.status': 'Status change', 'case.kind.transfer': 'Transferred',
    'case.kind.confirmed': 'Someone else confirmed the problem', 'case.kind.tow': 'Tow', 'case.kind.update': 'Update',
    'case.kind.rating': 'Rating', 'case.kind.followup': 'Follow-up',
    'case.rate': 'Are you satisfied?', 'case.score': 'Rating (1 = not at all, 5 = very satisfied)',
    'case.comment': 'Comment (optional, only the institution sees it)', 'case.reopen': 'The problem is not solved: ask to reopen',
    'case.reason': 'Why it is not solved', 'case.rate.send': 'Send rating', 'case.rated': 'Thank you for your rating.',
    'case.rated.reopened': 'Thank you. We asked for the case to be reopened.', 'case.rate.notoken': 'Only whoever reported it, from the same phone, can rate it.',
    'case.overdue': 'Overdue: past its deadline', 'case.pending': 'Waiting to be sent', 'case.refresh': 'Refresh',
    'case.star': '{n} of 5',
  },
});

const app = document.getElementById('app');
const id = decodeURIComponent(location.pathname.replace(/^\/caso\/?/, '')).trim();
let data = null, history = null, services = {}, map = null;

function dl(rows) {
  return el('dl', { class: 'facts' }, rows.filter(Boolean).flatMap(([k, v, attrs]) => [el('dt', {}, t(k)), el('dd', attrs || {}, v)]));
}

function why(rule) {
  if (!rule) return t('case.why.transfer');
  if (rule.to_municipality) return t('case.why.municipality');
  if (rule.scope === 'national' || !rule.area) return t('case.why.national');
  return t('case.why.area', { area: rule.area_name || rule.area });
}

function place(loc) {
  return [loc.corregimiento, loc.distrito, loc.provincia].filter(Boolean).map((a) => a.name).join(', ') || '—';
}

function photoList(list) {
  return el('div', { class: 'photos' }, list.map((p, i) => el('a', { href: p.url },
    el('img', { src: p.thumbnail_url, alt: `${t(p.kind === 'after' ? 'case.after' : 'case.photos')} ${i + 1}`, width: 96, height: 96, loading: 'lazy' }))));
}

function timeline() {
  const rows = (history && history.history) || [];
  return el('ol', { class: 'timeline', id: 'timeline' }, rows.map((h) => el('li', {},
    el('strong', {}, t('case.kind.' + h.kind)), h.to && h.kind === 'status' ? [' → ', t('status.' + h.to)] : null,
    el('div', { class: 'hint' }, fmtDate(h.at), h.actor && h.actor.entity ? ` · ${h.actor.entity}` : ''),
    h.note ? el('div', {}, h.note) : null)));
}

function ratingForm() {
  if (!['resolved', 'closed'].includes(data.status)) return null;
  const token = tokenFor(data.id);
  if (!token) return el('p', { class: 'hint' }, t('case.rate.notoken'));
  const stars = el('fieldset', { class: 'stars' }, el('legend', {}, t('case.score')),
    [1, 2, 3, 4, 5].map((n) => el('label', {}, el('input', { type: 'radio', name: 'score', value: n, required: n === 1 }), ' ', String(n),
      el('span', { class: 'sr-only' }, ' — ' + t('case.star', { n })))));
  const reopen = el('input', { type: 'checkbox', id: 'reopen' });
  const reasonBox = el('div', { hidden: true }, el('label', { for: 'reason' }, t('case.reason')), el('textarea', { id: 'reason', maxlength: 2000 }));
  reopen.addEventListener('change', () => { reasonBox.hidden = !reopen.checked; });
  const form = el('form', { id: 'rate', class: 'card' }, el('h2', {}, t('case.rate')), stars,
    el('label', { for: 'comment' }, t('case.comment')), el('textarea', { id: 'comment', maxlength: 2000 }),
    el('label', { class: 'row' }, reopen, t('case.reopen')), reasonBox,
    el('p', {}, el('button', { type: 'submit' }, t('case.rate.send'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = form.querySelector('input[name=score]:checked');
    if (!s) { announce(t('case.score'), 'error'); return; }
    const body = { score: Number(s.value) };
    const c = form.querySelector('#comment').value.trim();
    if (c) body.comment = c;
    if (reopen.checked) { body.reopen = true; body.reason = form.querySelector('#reason').value.trim() || undefined; }
    try {
      const r = await api(`/api/v1/reports/${data.id}/rating`, { method: 'POST', body, headers: { 'X-Report-Token': token } });
      announce(t(r.reopened ? 'case.rated.reopened' : 'case.rated'), 'ok');
      form.replaceWith(el('p', { class: 'notice ok' }, t(r.reopened ? 'case.rated.reopened' : 'case.rated')));
      load();
    } catch (e) { announce(e.text(), 'error'); }
  });
  return form;
}

function render() {
  const svc = services[data.service_code];
  const mine = (data.photos || []).filter((p) => p.kind !== 'after'), after = (data.photos || []).filter((p) => p.kind === 'after');
  document.title = `${t('case.heading', { id: data.id })} — 311`;
  const loc = data.location || {};
  app.replaceChildren(el('div', { class: 'grid2' },
    el('section', {},
      el('h2', { id: 'case-heading' }, t('case.heading', { id: data.id }), ' — ', svc ? (lang === 'en' ? svc.name_en : svc.name_es) : data.service_code),
      el('p', {}, el('span', { class: 'badge', id: 'case-status' }, t('status.' + data.status)), ' ',
        data.overdue ? el('span', { class: 'badge overdue' }, t('case.overdue')) : null),
      dl([
        ['case.entity', data.routing && data.routing.entity ? data.routing.entity.name : '—', { id: 'case-entity' }],
        ['case.why', why(data.routing && data.routing.rule)],
        ['case.due', fmtDate(data.due_at)],
        ['case.where', place(loc)],
        ['case.created', fmtDate(data.created_at)],
        data.closed_at ? ['case.closed', fmtDate(data.closed_at)] : null,
        ['case.confirmations', String(data.confirmations || 0)],
      ]),
      data.description ? el('p', { class: 'card' }, data.description) : null,
      mine.length ? [el('h2', {}, t('case.photos')), photoList(mine)] : null,
      after.length ? [el('h2', {}, t('case.after')), photoList(after)] : null,
      ratingForm(),
      el('h2', {}, t('case.history')), timeline(),
      el('p', {}, el('button', { type: 'button', class: 'secondary', onclick: () => load() }, t('case.refresh')))),
    el('section', {}, el('div', { id: 'case-map', class: 'map' }))));
  map = makeMap(document.getElementById('case-map'), { center: [loc.lat, loc.lon], zoom: 16 });
  L.marker([loc.lat, loc.lon], { icon: pinIcon(), alt: t('case.where') }).addTo(map);
}

async function load() {
  try {
    const [c, h] = await Promise.all([api(`/api/v1/reports/${encodeURIComponent(id)}`), api(`/api/v1/reports/${encodeURIComponent(id)}/history`)]);
    data = c;
    history = h;
    if (map) { map.remove(); map = null; }
    render();
  } catch (e) {
    announce(e.text(), 'error');
  }
}

async function list() {
  const mine = myCases();
  let pending = [];
  try { pending = await outbox.list(); } catch (e) { pending = []; }
  const input = el('input', { type: 'text', id: 'number', inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]{4}-[0-9]{6,7}', 'aria-describedby': 'number-hint' });
  const form = el('form', { class: 'card', id: 'find' }, el('h2', {}, t('case.find')),
    el('label', { for: 'number' }, t('case.number')), input, el('p', { class: 'hint', id: 'number-hint' }, t('case.number.hint')),
    el('p', {}, el('button', { type: 'submit' }, t('case.go'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    if (v) location.href = `/caso/${encodeURIComponent(v)}`;
  });
  app.replaceChildren(el('h2', {}, t('case.mine')),
    mine.length || pending.length ? el('ul', { id: 'my-cases' },
      pending.map((p) => el('li', {}, el('span', { class: 'badge pending' }, t('case.pending')), ' ', p.report.service_code, ' · ', fmtDate(p.created))),
      mine.map((c) => el('li', {}, el('a', { href: `/caso/${c.id}` }, c.id), ' · ', services[c.service] ? (lang === 'en' ? services[c.service].name_en : services[c.service].name_es) : c.service || '', ' · ', fmtDate(c.at))))
      : el('p', {}, t('case.none')),
    form);
}

async function main() {
  start('/caso');
  try {
    for (const s of (await api('/api/v1/services')).services || []) services[s.code] = s;
  } catch (e) { /* names fall back to codes */ }
  const show = () => (id ? (data ? render() : load()) : list());
  onLangChange(() => { if (map) { map.remove(); map = null; } show(); });
  await show();
  apply();
  // news every 30 s, but never under a rating being written
  const busy = () => { const f = document.getElementById('rate'); return f && (f.contains(document.activeElement) || [...f.elements].some((x) => (x.type === 'radio' || x.type === 'checkbox' ? x.checked : x.value))); };
  if (id) setInterval(() => { if (document.visibilityState === 'visible' && !busy()) load(); }, 30000);
}

main();
