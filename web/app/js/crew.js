// web/app/js/crew.js - /cuadrilla: the crew of one entity (IDAAN, a municipality, ...) signs in
// with its API key (sessionStorage only), sees its open cases on the map (vector tiles, heat,
// hotspots) and in a list sorted by due date, and moves a case along its workflow with a note
// and an "after" photo. The map and the detail live in crew-map.js and crew-detail.js; the
// words in crew-strings.js. The API is the only source of truth: after every change the page
// asks again (markers, list, detail) instead of patching what it shows.
import { start, el, announce } from './shell.js';
import { api, ApiError } from './api.js';
import { t, lang, onLangChange, fmtDate, fmtNumber } from './i18n.js';
import { crewKey } from './store.js';
import { crewMap } from './crew-map.js';
import { renderDetail, loadCase } from './crew-detail.js';
import './crew-strings.js';

const OPEN = 'received,assigned,in_progress';
const LIST_LIMIT = 200;
const HOTSPOTS_SHOWN = 5;

const $ = (id) => document.getElementById(id);
const S = {
  key: null, me: null, entity: null, services: new Map(), areaNames: new Map(),
  cases: [], selected: null, view: null, listGen: 0, detailGen: 0, hot: null, fitted: false,
};

start(location.pathname);

const name = (svc) => (svc ? (lang === 'en' ? svc.name_en : svc.name_es) || svc.code : '');
const serviceName = (code) => name(S.services.get(code)) || code || '';

// The filters as query parameters for the tiles, the list or the hotspots (which take no
// status or overdue: they count closed cases too).
function params(kind) {
  const p = new URLSearchParams({ entity: S.me.entity });
  const f = $('filters');
  if (f.service.value) p.set('service', f.service.value);
  if (f.area.value) p.set('area', f.area.value);
  if (kind === 'hot') return p;
  if (f.status.value) p.set('status', f.status.value);
  else if (kind === 'list') p.set('status', OPEN);
  if (f.overdue.checked) p.set('overdue', 'true');
  return p;
}

/* ---- sign in / out ---- */

function signinError(text) {
  const e = $('signin-error');
  e.textContent = text || '';
  e.hidden = !text;
}

async function signIn(key, restoring) {
  signinError('');
  const btn = $('signin-btn');
  btn.disabled = true;
  btn.textContent = t('crew.checking');
  let me = null;
  if (restoring) $('signin').hidden = true; /* no flash of the form while the kept key is checked */
  try {
    me = await api('/api/v1/me', { key });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) crewKey.clear();
    signinError(e.text ? e.text() : String(e));
  }
  btn.disabled = false;
  btn.textContent = t('crew.enter');
  $('signin').hidden = false;
  if (!me) { if (!restoring) $('crew-key').focus(); return; }
  if (me.role !== 'staff' || !me.entity) {
    if (restoring) crewKey.clear();
    signinError(t('crew.notstaff'));
    $('crew-key').focus();
    return;
  }
  crewKey.set(key);
  S.key = key;
  S.me = me;
  $('crew-key').value = '';
  $('signin').hidden = true;
  $('work').hidden = false;
  showWho();
  $('crew-who').focus();
  await boot();
}

function showWho() {
  if (!S.me) return;
  const ent = S.entity ? `${S.entity.name} (${S.me.entity})` : S.me.entity;
  $('crew-who').textContent = t('crew.who', { name: S.me.name || '—', entity: ent });
}

function signOut() {
  crewKey.clear();
  if (S.view) S.view.destroy();
  Object.assign(S, { key: null, me: null, entity: null, cases: [], selected: null, view: null, hot: null, fitted: false });
  S.listGen++;
  S.detailGen++;
  for (const id of ['f-service', 'f-area']) { const s = $(id); s.replaceChildren(s.options[0]); }
  $('f-area-label').dataset.i18n = 'crew.f.area';
  $('f-area-label').textContent = t('crew.f.area');
  $('filters').reset();
  $('list').replaceChildren();
  $('list-count').textContent = '';
  $('hotspots').replaceChildren();
  $('detail').hidden = true;
  $('detail').replaceChildren();
  $('work').hidden = true;
  $('signin').hidden = false;
  history.replaceState(null, '', location.pathname);
  announce(t('crew.signedout'), 'ok');
  $('crew-key').focus();
}

/* ---- catalogue: services and areas for the filters ---- */

async function loadCatalogue() {
  const [svc, ent, prov, dist, corr] = await Promise.all([
    api('/api/v1/services'),
    api('/api/v1/entities/' + encodeURIComponent(S.me.entity)).catch(() => null),
    api('/api/v1/areas?level=provincia'),
    api('/api/v1/areas?level=distrito'),
    api('/api/v1/areas?level=corregimiento').catch(() => ({ areas: [] })),
  ]);
  S.services = new Map((svc.services || []).map((s) => [s.code, s]));
  S.entity = ent;
  for (const a of [...prov.areas, ...dist.areas, ...(corr.areas || [])]) S.areaNames.set(a.code, a.name);
  fillServices();
  fillAreas(prov.areas, dist.areas, corr.areas || []);
  showWho();
}

function fillServices() {
  const s = $('f-service');
  const keep = s.value;
  s.replaceChildren(s.options[0], ...[...S.services.values()]
    .filter((x) => x.active !== false)
    .sort((a, b) => name(a).localeCompare(name(b), lang))
    .map((x) => el('option', { value: x.code }, name(x))));
  s.value = keep;
}

// A municipality works inside its distrito: it filters by corregimiento. Others, by distrito,
// grouped by provincia (or only the distritos of their provincia).
function fillAreas(prov, dist, corr) {
  const s = $('f-area');
  const area = S.entity && S.entity.area;
  if (area && area.length === 4) {
    $('f-area-label').dataset.i18n = 'crew.f.area.corr';
    $('f-area-label').textContent = t('crew.f.area.corr');
    s.append(...corr.filter((c) => c.parent === area).map((c) => el('option', { value: c.code }, c.name)));
    return;
  }
  for (const p of prov) {
    if (area && area.length === 2 && p.code !== area) continue;
    const ds = dist.filter((d) => d.parent === p.code);
    if (ds.length) s.append(el('optgroup', { label: p.name }, ds.map((d) => el('option', { value: d.code }, d.name))));
  }
}

/* ---- the list ---- */

const dueOf = (c) => (c.properties.due_at ? Date.parse(c.properties.due_at) : Infinity);

async function loadList() {
  const gen = ++S.listGen;
  const list = $('list');
  list.setAttribute('aria-busy', 'true');
  try {
    const p = params('list');
    p.set('limit', String(LIST_LIMIT));
    const fc = await api('/api/v1/reports?' + p.toString(), { key: S.key });
    if (gen !== S.listGen) return;
    S.cases = (fc.features || []).slice().sort((a, b) => dueOf(a) - dueOf(b) || a.properties.id.localeCompare(b.properties.id));
    S.more = Boolean(fc.next);
    renderList();
    showRow(S.selected);
    if (!S.fitted && S.view) {
      S.fitted = true;
      if (!S.selected && S.cases.length) S.view.fit(S.cases.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
    }
  } catch (e) {
    if (gen !== S.listGen) return;
    announce(t('crew.loadfail', { why: e.text ? e.text() : String(e) }), 'error');
  } finally {
    if (gen === S.listGen) list.setAttribute('aria-busy', 'false');
  }
}

function renderList() {
  const list = $('list');
  $('list-count').textContent = t('crew.list.count', { n: fmtNumber(S.cases.length) });
  if (!S.cases.length) {
    list.replaceChildren(el('p', { class: 'hint' }, t('crew.list.none')));
    return;
  }
  const now = Date.now();
  const items = S.cases.map((f) => {
    const p = f.properties;
    const where = S.areaNames.get(p.corregimiento) || S.areaNames.get(p.distrito) || '';
    const due = p.due_at ? t(Date.parse(p.due_at) < now ? 'crew.due.past' : 'crew.due', { date: fmtDate(p.due_at) }) : '';
    return el('li', {}, el('button', {
      type: 'button', class: 'crew-case', dataset: { caseRow: p.id },
      'aria-current': p.id === S.selected ? 'true' : null,
      onclick: () => select(p.id, { pan: true, focus: true }),
    },
    el('span', { class: 'crew-case-top' }, el('strong', {}, p.id), ' ', el('span', {}, serviceName(p.service_code))),
    el('span', { class: 'crew-case-meta' },
      el('span', { class: `badge status-${p.status}` }, t('status.' + p.status)),
      p.overdue ? el('span', { class: 'badge overdue' }, t('overdue')) : null,
      el('span', { class: 'crew-due' }, due)),
    where ? el('span', { class: 'crew-case-where' }, where) : null));
  });
  list.replaceChildren(el('ul', { class: 'crew-cases' }, items));
  if (S.more) list.append(el('p', { class: 'hint' }, t('crew.list.more', { n: LIST_LIMIT })));
}

// Scroll the list (not the page) so the selected row shows.
function showRow(id) {
  const box = $('list');
  const b = id && box.querySelector(`button[data-case-row="${CSS.escape(id)}"]`);
  if (!b) return;
  const top = b.offsetTop, bottom = top + b.offsetHeight;
  if (top < box.scrollTop) box.scrollTop = top - 6;
  else if (bottom > box.scrollTop + box.clientHeight) box.scrollTop = bottom - box.clientHeight + 6;
}

/* ---- hotspots ---- */

async function loadHotspots() {
  const box = $('hotspots');
  try {
    const fc = await api('/api/v1/hotspots?' + params('hot').toString());
    S.hot = fc;
    if (S.view) S.view.hotspots(fc);
    renderHotspots();
  } catch (e) {
    box.replaceChildren(el('p', { class: 'hint' }, e.text ? e.text() : String(e)));
  }
}

function renderHotspots() {
  const box = $('hotspots');
  const fs = (S.hot && S.hot.features) || [];
  if (!fs.length) { box.replaceChildren(el('p', { class: 'hint' }, t('crew.hot.none'))); return; }
  box.replaceChildren(el('ul', { class: 'crew-hot-list' }, fs.slice(0, HOTSPOTS_SHOWN).map((f) => {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    const vars = { count: fmtNumber(p.count), open: fmtNumber(p.open) };
    return el('li', {}, el('button', {
      type: 'button', class: 'secondary crew-hot-btn', 'aria-label': t('crew.hot.show', vars) + (p.corregimiento ? ', ' + t('crew.hot.where', { place: p.corregimiento.name }) : ''),
      onclick: () => { $('l-hot').checked = true; S.view.show('hot', true); S.view.map.setView([lat, lon], 17); },
    }, el('strong', {}, t('crew.hot.item', vars)), p.corregimiento ? ' ' + t('crew.hot.where', { place: p.corregimiento.name }) : ''));
  })));
}

/* ---- selection and detail ---- */

async function select(id, { pan = false, focus = false } = {}) {
  S.selected = id;
  history.replaceState(null, '', '#' + id);
  for (const b of $('list').querySelectorAll('button[data-case-row]')) {
    if (b.dataset.caseRow === id) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  showRow(id);
  const inList = S.cases.find((f) => f.properties.id === id);
  if (inList && S.view) S.view.select([inList.geometry.coordinates[1], inList.geometry.coordinates[0]], pan);
  await showDetail(id, { pan: pan && !inList, focus });
}

async function showDetail(id, { pan = false, focus = false } = {}) {
  const gen = ++S.detailGen;
  const section = $('detail');
  section.setAttribute('aria-busy', 'true');
  try {
    const { c, history: h } = await loadCase(id, S.key);
    if (gen !== S.detailGen) return;
    renderDetail(section, c, h, { key: S.key, serviceName, onDone, onClose: closeDetail });
    S.detailCase = c;
    S.detailHistory = h;
    if (S.view && c.location) S.view.select([c.location.lat, c.location.lon], pan);
    if (focus) $('detail-h').focus();
  } catch (e) {
    if (gen !== S.detailGen) return;
    announce(e.text ? e.text() : String(e), 'error');
  } finally {
    section.setAttribute('aria-busy', 'false');
  }
}

function closeDetail() {
  const id = S.selected;
  S.selected = null;
  S.detailGen++;
  S.detailCase = null;
  $('detail').hidden = true;
  $('detail').replaceChildren();
  if (S.view) S.view.select(null);
  history.replaceState(null, '', location.pathname);
  const b = id && $('list').querySelector(`button[data-case-row="${CSS.escape(id)}"]`);
  if (b) { b.removeAttribute('aria-current'); b.focus(); }
}

async function onDone(c, status, withPhoto) {
  const done = t(withPhoto ? 'crew.done.photo' : 'crew.done', { id: c.id, status: t('status.' + status) });
  announce(done, 'ok');
  S.view.refresh();
  await Promise.all([loadList(), showDetail(c.id, { focus: true }), loadHotspots()]);
  if (!S.cases.some((f) => f.properties.id === c.id)) announce(done + ' ' + t('crew.gone', { id: c.id }), 'ok');
}

/* ---- boot ---- */

function refreshAll() {
  if (!S.view) return;
  S.view.refresh();
  loadList();
  loadHotspots();
}

async function boot() {
  try {
    await loadCatalogue(); /* first: markers and rows name the services */
  } catch (e) {
    announce(t('crew.loadfail', { why: e.text ? e.text() : String(e) }), 'error');
  }
  if (!S.me) return; /* signed out meanwhile */
  S.view = crewMap({ el: $('map'), params, serviceName, onSelect: (id) => select(id, { focus: true }) });
  for (const [box, layer] of [['l-cases', 'cases'], ['l-heat', 'heat'], ['l-hot', 'hot']]) S.view.show(layer, $(box).checked);
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (/^\d{4}-\d{6,7}$/.test(wanted)) { S.fitted = true; S.selected = wanted; }
  else if (S.entity && S.entity.area) {
    S.fitted = true;
    api(`/api/v1/areas/${encodeURIComponent(S.entity.area)}?simplify=200`).then((f) => S.view && S.view.fitArea(f)).catch(() => {});
  }
  await Promise.all([loadList(), loadHotspots(), S.selected ? showDetail(S.selected, { pan: true }) : null]);
}

$('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const key = $('crew-key').value.trim();
  if (!key) { signinError(t('crew.key.empty')); $('crew-key').focus(); return; }
  signIn(key, false);
});
$('signin-form').hidden = false; /* shown only once this script handles it: a key never goes into a URL */
$('signout').addEventListener('click', signOut);
$('filters').addEventListener('submit', (ev) => ev.preventDefault());
$('filters').addEventListener('change', refreshAll);
for (const [box, layer] of [['l-cases', 'cases'], ['l-heat', 'heat'], ['l-hot', 'hot']]) {
  $(box).addEventListener('change', () => S.view && S.view.show(layer, $(box).checked));
}

onLangChange(() => {
  if (!S.me) return;
  showWho();
  fillServices();
  if (S.view) S.view.refresh();
  renderList();
  renderHotspots();
  if (S.detailCase) renderDetail($('detail'), S.detailCase, S.detailHistory, { key: S.key, serviceName, onDone, onClose: closeDetail });
});

const saved = crewKey.get();
if (saved) signIn(saved, true);
