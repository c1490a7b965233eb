// web/app/js/stats.js - the public scorecard (/estadisticas): cases received and closed per
// institution, provincia or distrito, the share closed within the SLA, time to close and
// satisfaction, as a sortable table, a bar chart (stats-chart.js) and a choropleth of distritos
// (stats-map.js); then the open-data downloads. Every number comes from GET /api/v1/stats; the
// page only formats, sorts and colours. The grouping and dates live in the URL (?grupo=distrito
// &desde=2026-11-01&hasta=2026-11-30) so a view can be shared.
import { start, el, announce } from './shell.js';
import { addStrings, t, apply, onLangChange, fmtNumber, locale } from './i18n.js';
import { api, ApiError } from './api.js';
import { barChart } from './stats-chart.js';
import { choropleth, scale } from './stats-map.js';

addStrings({
  es: {
    'stats.title': 'Estadísticas',
    'stats.intro': 'Cómo responde cada institución a los casos de la Línea 311: cuántos recibe, cuántos cierra y cuántos a tiempo.',
    'stats.filters': 'Qué mostrar',
    'stats.group': 'Agrupar por',
    'stats.group.entity': 'Institución',
    'stats.group.provincia': 'Provincia',
    'stats.group.distrito': 'Distrito',
    'stats.from': 'Desde',
    'stats.to': 'Hasta',
    'stats.dates.hint': 'Fecha en que se creó el caso (hora de Panamá). Déjelas vacías para ver todo.',
    'stats.apply': 'Aplicar',
    'stats.loading': 'Cargando estadísticas…',
    'stats.loaded': 'Estadísticas de {n} grupos.',
    'stats.none': 'No hay casos en este período.',
    'stats.table': 'Casos por {group}',
    'stats.table.scroll': 'Tabla de estadísticas (se desplaza a los lados)',
    'stats.table.swipe': 'Deslice la tabla hacia los lados para ver todas las columnas.',
    'stats.col.name': 'Nombre',
    'stats.col.received': 'Recibidos',
    'stats.col.closed': 'Cerrados',
    'stats.col.sla': '% a tiempo',
    'stats.col.median': 'Mediana para cerrar',
    'stats.col.satisfaction': 'Satisfacción (1–5)',
    'stats.col.ratings': 'Calificaciones',
    'stats.sort': 'Ordenar por {col}',
    'stats.no_area': 'Sin área',
    'stats.no_entity': 'Sin institución',
    'stats.hours': '{n} h',
    'stats.chart': 'Porcentaje de casos cerrados dentro del plazo, por {group}',
    'stats.chart.empty': 'Todavía no hay casos cerrados en este período.',
    'stats.chart.note': 'Solo grupos con casos cerrados; el plazo (SLA) lo fija cada servicio.',
    'stats.map': 'Mapa por distrito',
    'stats.map.label': 'Mapa de distritos coloreado por la medida elegida',
    'stats.measure': 'Medida del mapa',
    'stats.legend': 'Leyenda',
    'stats.legend.none': 'Sin casos o sin datos',
    'stats.map.nodata': '{name}: sin datos',
    'stats.map.hint': 'El mapa muestra solo distritos; las cifras exactas están en la tabla (agrupe por distrito).',
    'stats.open': 'Datos abiertos',
    'stats.open.intro': 'Todos los casos públicos, sin datos personales, con la ubicación redondeada a unos 100 m.',
    'stats.open.all': 'Todos los casos',
    'stats.open.range': 'Casos del período elegido',
    'stats.open.index': 'Índice mensual (JSON)',
    'stats.open.months': 'Por mes',
    'stats.open.month': 'Mes',
    'stats.open.cases': 'Casos',
    'stats.open.files': 'Descargas',
    'stats.open.nomonths': 'Todavía no hay meses publicados.',
    'stats.licence': 'Licencia: los datos se publican bajo {licence}. Puede reutilizarlos citando «Línea 311, Panamá (reporta)».',
    'stats.licence.name': 'Creative Commons Atribución 4.0 Internacional (CC BY 4.0)',
  },
  en: {
    'stats.title': 'Statistics',
    'stats.intro': 'How each institution answers the 311 Line’s cases: how many it receives, closes, and closes on time.',
    'stats.filters': 'What to show',
    'stats.group': 'Group by',
    'stats.group.entity': 'Institution',
    'stats.group.provincia': 'Province',
    'stats.group.distrito': 'District',
    'stats.from': 'From',
    'stats.to': 'To',
    'stats.dates.hint': 'Day the case was created (Panama time). Leave them empty to see everything.',
    'stats.apply': 'Apply',
    'stats.loading': 'Loading statistics…',
    'stats.loaded': 'Statistics of {n} groups.',
    'stats.none': 'There are no cases in this period.',
    'stats.table': 'Cases by {group}',
    'stats.table.scroll': 'Statistics table (scrolls sideways)',
    'stats.table.swipe': 'Swipe the table sideways to see every column.',
    'stats.col.name': 'Name',
    'stats.col.received': 'Received',
    'stats.col.closed': 'Closed',
    'stats.col.sla': '% on time',
    'stats.col.median': 'Median time to close',
    'stats.col.satisfaction': 'Satisfaction (1–5)',
    'stats.col.ratings': 'Ratings',
    'stats.sort': 'Sort by {col}',
    'stats.no_area': 'No area',
    'stats.no_entity': 'No institution',
    'stats.hours': '{n} h',
    'stats.chart': 'Share of cases closed within the deadline, by {group}',
    'stats.chart.empty': 'No case has been closed in this period yet.',
    'stats.chart.note': 'Only groups with closed cases; each service sets its deadline (SLA).',
    'stats.map': 'Map by district',
    'stats.map.label': 'Map of districts coloured by the chosen measure',
    'stats.measure': 'Map measure',
    'stats.legend': 'Legend',
    'stats.legend.none': 'No cases or no data',
    'stats.map.nodata': '{name}: no data',
    'stats.map.hint': 'The map shows districts only; the exact figures are in the table (group by district).',
    'stats.open': 'Open data',
    'stats.open.intro': 'Every public case, without personal data, with the location rounded to about 100 m.',
    'stats.open.all': 'All cases',
    'stats.open.range': 'Cases of the chosen period',
    'stats.open.index': 'Monthly index (JSON)',
    'stats.open.months': 'By month',
    'stats.open.month': 'Month',
    'stats.open.cases': 'Cases',
    'stats.open.files': 'Downloads',
    'stats.open.nomonths': 'No month has been published yet.',
    'stats.licence': 'Licence: the data are published under {licence}. Reuse them crediting “Línea 311, Panamá (reporta)”.',
    'stats.licence.name': 'Creative Commons Attribution 4.0 International (CC BY 4.0)',
  },
});

const GROUPS = ['entity', 'provincia', 'distrito'];
const CC_BY = 'https://creativecommons.org/licenses/by/4.0/';
const STATS_RETRIES = 3;      /* the server runs 2 statistics queries at once: 503 + Retry-After */
const STATS_RETRY_MS = 2000;

const pct = (v) => (v === null || v === undefined ? '—' : fmtNumber(v, 1) + '\u00a0%');
const hours = (v) => (v === null || v === undefined ? '—' : t('stats.hours', { n: fmtNumber(v) }));

// The table's columns: key in a group, how it is shown, and its cell's class.
const COLUMNS = [
  { id: 'name', label: 'stats.col.name', text: true },
  { id: 'received', label: 'stats.col.received', fmt: (v) => fmtNumber(v) },
  { id: 'closed', label: 'stats.col.closed', fmt: (v) => fmtNumber(v) },
  { id: 'closed_within_sla_pct', label: 'stats.col.sla', fmt: pct },
  { id: 'median_hours_to_close', label: 'stats.col.median', fmt: hours },
  { id: 'satisfaction', label: 'stats.col.satisfaction', fmt: (v) => fmtNumber(v, 2) },
  { id: 'ratings', label: 'stats.col.ratings', fmt: (v) => fmtNumber(v) },
];

// The map's measures: what colours the distritos, and its scale.
const MEASURES = [
  { id: 'received', label: 'stats.col.received', fmt: (v) => fmtNumber(v), range: { min: 1, whole: true } },
  { id: 'closed_within_sla_pct', label: 'stats.col.sla', fmt: pct, range: { min: 0, max: 100 } },
  { id: 'median_hours_to_close', label: 'stats.col.median', fmt: hours, range: { whole: true } },
  { id: 'satisfaction', label: 'stats.col.satisfaction', fmt: (v) => fmtNumber(v, 2), range: { min: 1, max: 5 } },
];

const state = {
  group: 'entity', from: '', to: '', sort: { col: 'received', dir: 'descending' }, measure: 'closed_within_sla_pct',
  rows: [], distritos: [], months: null, licence: null,
};
const names = { entity: new Map(), provincia: new Map(), distrito: new Map() };
const ui = {};

function nameOf(group, code) {
  if (code === null || code === undefined) return group === 'entity' ? t('stats.no_entity') : t('stats.no_area');
  return names[group].get(code) || code;
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function stats(group) {
  const q = new URLSearchParams({ group });
  if (state.from) q.set('from', state.from);
  if (state.to) q.set('to', state.to);
  for (let i = 0; ; i++) {
    try {
      return await api('/api/v1/stats?' + q.toString());
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 503 || i >= STATS_RETRIES) throw e;
      await sleep(STATS_RETRY_MS);
    }
  }
}

async function loadNames() {
  const [ents, provs, dists] = await Promise.all([
    api('/api/v1/entities'), api('/api/v1/areas?level=provincia'), api('/api/v1/areas?level=distrito')]);
  for (const e of ents.entities || []) names.entity.set(e.code, e.name);
  for (const a of provs.areas || []) names.provincia.set(a.code, a.name);
  for (const a of dists.areas || []) names.distrito.set(a.code, a.name);
}

// ---- the table --------------------------------------------------------------------------

function sortValue(row, col) {
  return col === 'name' ? row.name : row.g[col];
}

function sorted(rows) {
  const { col, dir } = state.sort;
  const sign = dir === 'ascending' ? 1 : -1;
  const collator = new Intl.Collator(locale(), { sensitivity: 'base', numeric: true });
  return rows.slice().sort((a, b) => {
    const x = sortValue(a, col);
    const y = sortValue(b, col);
    const xn = x === null || x === undefined;
    const yn = y === null || y === undefined;
    if (xn || yn) return xn && yn ? collator.compare(a.name, b.name) : xn ? 1 : -1; /* "—" last either way */
    const c = col === 'name' ? collator.compare(x, y) : x - y;
    return c !== 0 ? sign * c : collator.compare(a.name, b.name);
  });
}

function headerRow() {
  return el('tr', {}, COLUMNS.map((c) => {
    const label = c.id === 'name' ? t('stats.group.' + state.group) : t(c.label);
    const on = state.sort.col === c.id;
    return el('th', { scope: 'col', class: c.text ? '' : 'num', 'data-col': c.id, 'aria-sort': on ? state.sort.dir : null },
      el('button', { type: 'button', class: 'sort', 'data-col': c.id, onclick: () => sortBy(c.id) },
        label, el('span', { class: 'arrow', 'aria-hidden': 'true' }, on ? (state.sort.dir === 'ascending' ? ' ▲' : ' ▼') : ' ↕')));
  }));
}

function bodyRows() {
  return sorted(state.rows).map((r) => el('tr', { 'data-key': r.code === null ? '' : r.code },
    COLUMNS.map((c) => c.id === 'name'
      ? el('th', { scope: 'row', 'data-col': 'name' }, r.name)
      : el('td', { class: 'num', 'data-col': c.id }, c.fmt(r.g[c.id])))));
}

function sortBy(col) {
  if (state.sort.col === col) state.sort.dir = state.sort.dir === 'ascending' ? 'descending' : 'ascending';
  else state.sort = { col, dir: col === 'name' ? 'ascending' : 'descending' };
  /* the header buttons stay the same elements, so keyboard focus stays on the one pressed */
  for (const th of ui.thead.querySelectorAll('th')) {
    const on = th.dataset.col === state.sort.col;
    if (on) th.setAttribute('aria-sort', state.sort.dir);
    else th.removeAttribute('aria-sort');
    th.querySelector('.arrow').textContent = on ? (state.sort.dir === 'ascending' ? ' ▲' : ' ▼') : ' ↕';
  }
  ui.tbody.replaceChildren(...bodyRows());
}

function renderTable() {
  ui.caption.textContent = t('stats.table', { group: t('stats.group.' + state.group).toLowerCase() });
  ui.thead.replaceChildren(headerRow());
  ui.tbody.replaceChildren(...bodyRows());
  ui.empty.hidden = state.rows.length > 0;
}

// ---- the chart ---------------------------------------------------------------------------

function renderChart() {
  const rows = state.rows.filter((r) => r.g.closed_within_sla_pct !== null && r.g.closed_within_sla_pct !== undefined)
    .sort((a, b) => b.g.closed_within_sla_pct - a.g.closed_within_sla_pct || b.g.closed - a.g.closed)
    .map((r) => ({ label: r.name, value: r.g.closed_within_sla_pct, text: pct(r.g.closed_within_sla_pct) }));
  const fig = barChart({
    id: 'sla-chart', rows, max: 100,
    caption: t('stats.chart', { group: t('stats.group.' + state.group).toLowerCase() }), empty: t('stats.chart.empty'),
  });
  ui.chart.replaceChildren(fig, el('p', { class: 'hint' }, t('stats.chart.note')));
}

// ---- the map -----------------------------------------------------------------------------

function measure() { return MEASURES.find((m) => m.id === state.measure) || MEASURES[0]; }

function renderMap() {
  const m = measure();
  const byCode = new Map(state.distritos.filter((g) => g.distrito).map((g) => [g.distrito, g[m.id]]));
  const s = scale([...byCode.values()], m.range);
  ui.scale = { byCode, m };
  if (ui.choro) ui.choro.setData((code) => s.colour(byCode.get(code)));
  const fmtEdge = (v) => (m.id === 'satisfaction' ? fmtNumber(v, 1) : fmtNumber(v));
  const unit = m.id === 'closed_within_sla_pct' ? '\u00a0%' : m.id === 'median_hours_to_close' ? ' h' : '';
  ui.legend.replaceChildren(
    el('h3', { id: 'legend-title' }, t('stats.legend') + ': ' + t(m.label)),
    el('ul', { 'aria-labelledby': 'legend-title' },
      s.classes.map((c) => el('li', {}, swatch(c.colour),
        (s.whole ? (s.step === 1 ? fmtEdge(c.from) : `${fmtEdge(c.from)} – ${fmtEdge(c.to - 1)}`)
          : `${fmtEdge(c.from)} – ${fmtEdge(c.to)}`) + unit)),
      el('li', {}, el('span', { class: 'swatch nodata' }), t('stats.legend.none'))));
}

// a colour sample (the page's CSP forbids style attributes; CSSOM properties are allowed)
function swatch(colour) {
  const s = el('span', { class: 'swatch' });
  s.style.backgroundColor = colour;
  return s;
}

function tooltip(code, name) {
  const sc = ui.scale;
  const v = sc ? sc.byCode.get(code) : undefined;
  const label = names.distrito.get(code) || name;
  if (v === null || v === undefined) return t('stats.map.nodata', { name: label });
  return `${label}: ${sc.m.fmt(v)} (${t(sc.m.label).toLowerCase()})`;
}

// ---- open data ---------------------------------------------------------------------------

function monthName(ym) {
  const [y, m] = ym.split('-').map(Number);
  if (!y || !m) return ym;
  return new Date(Date.UTC(y, m - 1, 15)).toLocaleDateString(locale(), { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function renderOpen() {
  const range = new URLSearchParams();
  if (state.from) range.set('from', state.from);
  if (state.to) range.set('to', state.to);
  const links = [
    el('li', {}, t('stats.open.all') + ': ',
      el('a', { href: '/api/v1/export.csv', type: 'text/csv', download: true, id: 'export-csv' }, 'CSV'), ' · ',
      el('a', { href: '/api/v1/export.geojson', type: 'application/geo+json', download: true, id: 'export-geojson' }, 'GeoJSON')),
  ];
  if (range.toString()) {
    links.push(el('li', {}, t('stats.open.range') + ': ',
      el('a', { href: '/api/v1/export.csv?' + range, type: 'text/csv', download: true }, 'CSV'), ' · ',
      el('a', { href: '/api/v1/export.geojson?' + range, type: 'application/geo+json', download: true }, 'GeoJSON')));
  }
  links.push(el('li', {}, el('a', { href: '/api/v1/export/months', type: 'application/json', id: 'export-months' }, t('stats.open.index'))));
  const months = state.months || [];
  const table = months.length
    ? el('div', { class: 'table-wrap' }, el('table', { class: 'months', id: 'months' },
      el('caption', { class: 'sr-only' }, t('stats.open.months')),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('stats.open.month')),
        el('th', { scope: 'col', class: 'num' }, t('stats.open.cases')), el('th', { scope: 'col' }, t('stats.open.files')))),
      el('tbody', {}, months.slice().reverse().map((m) => el('tr', { 'data-month': m.month },
        el('th', { scope: 'row' }, monthName(m.month)),
        el('td', { class: 'num' }, fmtNumber(m.cases)),
        el('td', {}, el('a', { href: m.csv, download: true, 'aria-label': `CSV ${monthName(m.month)}` }, 'CSV'), ' · ',
          el('a', { href: m.geojson, download: true, 'aria-label': `GeoJSON ${monthName(m.month)}` }, 'GeoJSON')))))))
    : el('p', { class: 'hint' }, state.months ? t('stats.open.nomonths') : t('loading'));
  const href = (state.licence && (state.licence.match(/https?:\/\/\S+/) || [])[0]) || CC_BY;
  const [before, after] = t('stats.licence').split('{licence}');
  ui.open.replaceChildren(
    el('h2', { id: 'open-title' }, t('stats.open')),
    el('p', {}, t('stats.open.intro')),
    el('ul', { class: 'downloads' }, links),
    el('h3', {}, t('stats.open.months')),
    table,
    el('p', { class: 'licence', id: 'licence' }, before, el('a', { href, rel: 'license' }, t('stats.licence.name')), after || ''));
}

// ---- loading -----------------------------------------------------------------------------

function toRows(reply, group) {
  return (reply.groups || []).map((g) => ({ code: g[group] ?? null, name: nameOf(group, g[group] ?? null), g }));
}

function renderAll() {
  for (const r of state.rows) r.name = nameOf(state.group, r.code);
  renderTable();
  renderChart();
  renderMap();
  renderOpen();
}

let seq = 0;
async function load() {
  const mine = ++seq;
  ui.app.setAttribute('aria-busy', 'true');
  announce(t('stats.loading'), 'info');
  try {
    const [main, dist] = await Promise.all([
      stats(state.group), state.group === 'distrito' ? null : stats('distrito')]);
    if (mine !== seq) return;
    state.rows = toRows(main, state.group);
    state.distritos = (dist || main).groups || [];
    /* the map's tiles are many requests: made after the numbers, so they never wait behind them */
    if (!ui.choro) ui.choro = choropleth(ui.mapEl, { label: t('stats.map.label'), tooltip });
    renderAll();
    announce(state.rows.length ? t('stats.loaded', { n: fmtNumber(state.rows.length) }) : t('stats.none'), 'ok');
  } catch (e) {
    if (mine !== seq) return;
    announce(e instanceof ApiError ? e.text() : t('err.generic'), 'error');
  } finally {
    if (mine === seq) ui.app.removeAttribute('aria-busy');
  }
}

async function loadMonths() {
  try {
    const idx = await api('/api/v1/export/months');
    state.months = idx.months || [];
    state.licence = idx.licence || null;
  } catch (e) {
    state.months = [];
  }
  renderOpen();
}

function keepInUrl() {
  const q = new URLSearchParams();
  if (state.group !== 'entity') q.set('grupo', state.group);
  if (state.from) q.set('desde', state.from);
  if (state.to) q.set('hasta', state.to);
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function readUrl() {
  const q = new URLSearchParams(location.search);
  const g = q.get('grupo');
  if (GROUPS.includes(g)) state.group = g;
  if (DAY.test(q.get('desde') || '')) state.from = q.get('desde');
  if (DAY.test(q.get('hasta') || '')) state.to = q.get('hasta');
}

function build() {
  const app = document.getElementById('app');
  ui.app = app;
  const radios = GROUPS.map((g) => el('label', { class: 'seg' },
    el('input', { type: 'radio', name: 'group', value: g, checked: state.group === g,
      onchange: () => { state.group = g; state.sort = { col: 'received', dir: 'descending' }; keepInUrl(); load(); } }),
    el('span', { 'data-i18n': 'stats.group.' + g })));
  ui.from = el('input', { type: 'date', id: 'from', name: 'desde', value: state.from, 'aria-describedby': 'dates-hint' });
  ui.to = el('input', { type: 'date', id: 'to', name: 'hasta', value: state.to, 'aria-describedby': 'dates-hint' });
  const filters = el('form', { class: 'card filters', id: 'filters', onsubmit: (e) => {
    e.preventDefault();
    state.from = ui.from.value;
    state.to = ui.to.value;
    keepInUrl();
    load();
  } },
  el('h2', { class: 'sr-only', 'data-i18n': 'stats.filters' }),
  el('fieldset', { class: 'segmented' }, el('legend', { 'data-i18n': 'stats.group' }), radios),
  el('div', { class: 'dates' },
    el('div', {}, el('label', { for: 'from', 'data-i18n': 'stats.from' }), ui.from),
    el('div', {}, el('label', { for: 'to', 'data-i18n': 'stats.to' }), ui.to),
    el('button', { type: 'submit', class: 'secondary', 'data-i18n': 'stats.apply' })),
  el('p', { class: 'hint', id: 'dates-hint', 'data-i18n': 'stats.dates.hint' }));

  ui.caption = el('caption');
  ui.thead = el('thead');
  ui.tbody = el('tbody');
  ui.empty = el('p', { class: 'hint', 'data-i18n': 'stats.none', hidden: true });
  const table = el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'data-i18n-label': 'stats.table.scroll' },
    el('table', { id: 'stats-table', class: 'stats-table' }, ui.caption, ui.thead, ui.tbody));
  ui.chart = el('div', { class: 'chart' });
  ui.legend = el('div', { class: 'legend', id: 'legend' });
  const mapEl = el('div', { id: 'choropleth', class: 'map choropleth' });
  ui.measure = el('select', { id: 'measure', onchange: () => { state.measure = ui.measure.value; renderMap(); } },
    MEASURES.map((m) => el('option', { value: m.id, selected: m.id === state.measure, 'data-i18n': m.label })));
  ui.open = el('section', { class: 'card open-data', 'aria-labelledby': 'open-title' });

  app.replaceChildren(
    el('p', { class: 'intro', 'data-i18n': 'stats.intro' }),
    filters,
    el('section', { class: 'table-section' }, el('p', { class: 'hint swipe', 'data-i18n': 'stats.table.swipe' }), table, ui.empty),
    el('div', { class: 'grid2 stats-grid' },
      el('section', { class: 'card', 'aria-labelledby': 'chart-title' }, el('h2', { id: 'chart-title', 'data-i18n': 'stats.col.sla' }), ui.chart),
      el('section', { class: 'card', 'aria-labelledby': 'map-title' },
        el('h2', { id: 'map-title', 'data-i18n': 'stats.map' }),
        el('label', { for: 'measure', 'data-i18n': 'stats.measure' }), ui.measure,
        mapEl, ui.legend, el('p', { class: 'hint', 'data-i18n': 'stats.map.hint' }))),
    ui.open);
  apply(app);
  ui.mapEl = mapEl;
  renderAll();
}

start(location.pathname);
const retitle = () => { document.title = `${t('stats.title')} — ${t('brand')}`; };
retitle();
readUrl();
build();
loadNames().catch(() => {}).finally(load); /* without names the codes show */
loadMonths();
onLangChange(() => {
  retitle();
  if (ui.choro) ui.choro.map.getContainer().setAttribute('aria-label', t('stats.map.label'));
  renderAll();
});
