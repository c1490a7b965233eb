// tests/browser/steps/stats.mjs - the public scorecard (/estadisticas): a few cases made through
// the API (two distritos, one closed), then every entity row of the page's table must show the
// numbers GET /api/v1/stats?group=entity gives, formatted; sorting a column reorders the rows
// and says so in aria-sort; grouped by distrito a row matches too and the name replaces the
// code; the choropleth draws distrito polygons coloured by their data; the bar chart has a bar
// per group with closed cases; the open-data links follow GET /api/v1/export/months.
import { assert, log, shots } from '../harness.mjs';

const CASES = [
  { service_code: 'fuga_agua', lat: 8.983, lon: -79.52, description: 'Tubo roto en la acera' },
  { service_code: 'basura', lat: 8.99, lon: -79.53, description: 'Bolsas sin recoger' },
  { service_code: 'hueco', lat: 8.975, lon: -79.51, description: 'Hueco grande' },
  { service_code: 'basura', lat: 9.03, lon: -79.50, description: 'Basura en la parada' }, /* San Miguelito */
];

// The page's formatting (i18n.js fmtNumber in es-PA), done by the browser on the API's numbers.
function formatter(page) {
  return (v, kind) => page.evaluate(([x, k]) => {
    if (x === null || x === undefined) return '—';
    const n = (d) => Number(x).toLocaleString('es-PA', { minimumFractionDigits: d, maximumFractionDigits: d });
    if (k === 'pct') return n(1) + '\u00a0%';
    if (k === 'hours') return n(0) + ' h';
    if (k === 'rating') return n(2);
    return n(0);
  }, [v, kind]);
}

const COLS = [
  ['received', 'int'], ['closed', 'int'], ['closed_within_sla_pct', 'pct'],
  ['median_hours_to_close', 'hours'], ['satisfaction', 'rating'], ['ratings', 'int'],
];

async function rowMatches(page, fmt, key, g, what) {
  const row = page.locator(`#stats-table tbody tr[data-key="${key}"]`);
  assert.equal(await row.count(), 1, `${what}: one row for ${key}`);
  for (const [col, kind] of COLS) {
    const shown = (await row.locator(`td[data-col="${col}"]`).textContent()).trim();
    assert.equal(shown, await fmt(g[col], kind), `${what} ${key} ${col}`);
  }
  return row;
}

async function cellNumbers(page, col) {
  return page.$$eval(`#stats-table tbody td[data-col="${col}"]`, (tds) => tds.map((td) => Number(td.textContent.replace(/[^\d.]/g, ''))));
}

export default async function (t) {
  const t0 = Date.now();
  const { admin } = t.server.keys;
  const made = [];
  for (const c of CASES) {
    const r = await t.api('/api/v1/reports', { method: 'POST', body: c });
    assert.equal(r.status, 201, r.text);
    made.push(r.json);
  }
  assert.equal(made[3].location.distrito.code, '0810');
  /* one closed within its SLA, and rated by its reporter */
  const closed = made[1];
  let r = await t.api(`/api/v1/reports/${closed.id}/status`, { method: 'POST', key: admin, body: { status: 'resolved', note: 'recogido' } });
  assert.equal(r.status, 200, r.text);
  r = await t.api(`/api/v1/reports/${closed.id}/rating`, { method: 'POST', body: { score: 4 }, headers: { 'X-Report-Token': closed.token } });
  assert.equal(r.status, 201, r.text);

  const byEntity = (await t.api('/api/v1/stats?group=entity')).json.groups;
  const byDistrito = (await t.api('/api/v1/stats?group=distrito')).json.groups;
  const entities = new Map((await t.api('/api/v1/entities')).json.entities.map((e) => [e.code, e.name]));
  assert.ok(byEntity.length >= 2, JSON.stringify(byEntity));
  assert.ok(byEntity.some((g) => g.satisfaction !== null), 'a rated group');
  assert.ok(byEntity.some((g) => g.closed_within_sla_pct === null), 'a group with nothing closed');

  const ctx = await t.context({ viewport: { width: 1280, height: 800 } });
  const page = t.watch(await ctx.newPage());
  const fmt = formatter(page);
  const tLoad = Date.now();
  await page.goto('/estadisticas');
  assert.equal((await page.textContent('h1')).trim(), 'Estadísticas');
  await page.waitForFunction((n) => document.querySelectorAll('#stats-table tbody tr').length === n, byEntity.length);

  log(`stats: the table filled ${Date.now() - tLoad} ms after navigation`);
  /* every entity row, as the API counts it */
  for (const g of byEntity) {
    const row = await rowMatches(page, fmt, g.entity, g, 'entity');
    assert.equal((await row.locator('th[data-col="name"]').textContent()).trim(), entities.get(g.entity));
  }
  /* default order: most received first, and the header says so */
  assert.equal(await page.getAttribute('th[data-col="received"]', 'aria-sort'), 'descending');
  let received = await cellNumbers(page, 'received');
  assert.deepEqual(received, received.slice().sort((a, b) => b - a));

  /* sorting by keyboard: the button keeps focus, aria-sort moves, the rows reorder */
  await page.focus('th[data-col="received"] button.sort');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('th[data-col="received"]', 'aria-sort'), 'ascending');
  received = await cellNumbers(page, 'received');
  assert.deepEqual(received, received.slice().sort((a, b) => a - b));
  assert.ok(received[0] < received[received.length - 1], 'groups with different counts: ' + received);
  assert.equal(await page.evaluate(() => document.activeElement.closest('th')?.dataset.col), 'received');
  await page.click('th[data-col="name"] button.sort');
  assert.equal(await page.getAttribute('th[data-col="name"]', 'aria-sort'), 'ascending');
  assert.equal(await page.getAttribute('th[data-col="received"]', 'aria-sort'), null);
  const shownNames = await page.$$eval('#stats-table tbody th[data-col="name"]', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(shownNames, shownNames.slice().sort((a, b) => a.localeCompare(b, 'es', { sensitivity: 'base' })));

  /* the chart: a bar per group with something closed, its text alternative naming the share */
  const withClosed = byEntity.filter((g) => g.closed_within_sla_pct !== null);
  assert.equal(await page.locator('#sla-chart rect.bar-fill').count(), withClosed.length);
  const alt = await page.textContent('#sla-chart ol');
  for (const g of withClosed) assert.ok(alt.includes(`${entities.get(g.entity)}: ${await fmt(g.closed_within_sla_pct, 'pct')}`), alt);

  /* the choropleth: distrito polygons, those with cases coloured from the ramp */
  await page.waitForFunction(() => document.querySelectorAll('#choropleth path.choro').length > 10 &&
    document.querySelector('#choropleth path.area-0808') && document.querySelector('#choropleth path.area-0101'), null, { timeout: 30000 });
  assert.ok(await page.locator('#choropleth path.choro').count() > 10, 'many distritos drawn');
  const fills = async (code) => page.$$eval(`#choropleth path.area-${code}`, (ps) => ps.map((p) => p.getAttribute('fill')));
  const panama = await fills('0808');
  assert.ok(panama.length > 0, 'Panamá (0808) is drawn');
  const noData = await fills('0101'); /* Bocas del Toro: no case */
  assert.ok(noData.length > 0 && noData.every((f) => f === '#b8bfc6'), 'Bocas del Toro without data: ' + noData);
  assert.ok(panama.every((f) => f !== '#b8bfc6'), 'Panamá coloured: ' + panama);
  /* another measure recolours without refetching: received, where 0808 has the most cases */
  await page.selectOption('#measure', 'received');
  assert.match(await page.textContent('#legend h3'), /Recibidos/);
  const p2 = await fills('0808');
  const m2 = await fills('0810');
  assert.ok(p2[0] !== m2[0], `0808 (${p2[0]}) and 0810 (${m2[0]}) differ by received`);

  /* grouped by distrito: the same numbers, the names */
  await page.click('label.seg:has(input[value=distrito])');
  await page.waitForFunction((n) => document.querySelector('th[data-col="name"]')?.textContent.startsWith('Distrito') &&
    document.querySelectorAll('#stats-table tbody tr').length === n, byDistrito.length);
  const d0808 = byDistrito.find((g) => g.distrito === '0808');
  const row = await rowMatches(page, fmt, '0808', d0808, 'distrito');
  assert.equal((await row.locator('th').textContent()).trim(), 'Panamá');
  await rowMatches(page, fmt, '0810', byDistrito.find((g) => g.distrito === '0810'), 'distrito');
  assert.equal(new URL(page.url()).search, '?grupo=distrito');

  /* open data: the downloads and each month of the index */
  assert.equal(await page.getAttribute('#export-csv', 'href'), '/api/v1/export.csv');
  assert.equal(await page.getAttribute('#export-geojson', 'href'), '/api/v1/export.geojson');
  assert.equal(await page.getAttribute('#export-months', 'href'), '/api/v1/export/months');
  const months = (await t.api('/api/v1/export/months')).json.months;
  assert.ok(months.length >= 1);
  for (const m of months) {
    const tr = page.locator(`#months tr[data-month="${m.month}"]`);
    assert.equal((await tr.locator('td.num').textContent()).trim(), await fmt(m.cases, 'int'));
    assert.deepEqual(await tr.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), [m.csv, m.geojson]);
  }
  const csv = await t.api(months[months.length - 1].csv);
  assert.equal(csv.status, 200, 'the month link serves');
  assert.match(await page.textContent('#licence'), /CC BY 4\.0/);

  /* in English: the headers, the caption and the legend follow; the numbers stay */
  await page.click('#top .lang');
  await page.waitForFunction(() => document.querySelector('#stats-table caption')?.textContent === 'Cases by district');
  assert.match(await page.textContent('th[data-col="received"]'), /Received/);
  assert.match(await page.textContent('#legend h3'), /Received/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.click('#top .lang');
  await page.waitForFunction(() => document.querySelector('#stats-table caption')?.textContent === 'Casos por distrito');

  /* a date range with no case: the sentence, an empty table */
  await page.fill('#from', '2001-01-01');
  await page.fill('#to', '2001-01-31');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#notice')?.textContent.includes('No hay casos'));
  assert.equal(await page.locator('#stats-table tbody tr').count(), 0);
  assert.ok((await page.getAttribute('#export-csv', 'href')) === '/api/v1/export.csv');

  const narrow = await t.context({ viewport: { width: 360, height: 740 } });
  const small = t.watch(await narrow.newPage());
  await small.goto('/estadisticas');
  await small.waitForSelector('#stats-table tbody tr');
  const wide = await small.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth ? null
    : [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5).map((e) => e.tagName + '.' + e.className + '#' + e.id).join(' '));
  assert.equal(wide, null, 'no page-wide sideways scroll at 360 px');

  const ready = async (p) => {
    await p.waitForSelector('#stats-table tbody tr');
    await p.waitForSelector('#choropleth path.choro');
    await p.waitForSelector('#months tr');
    await p.waitForFunction(() => [...document.querySelectorAll('#choropleth img.leaflet-tile')].every((i) => i.complete));
  };
  await shots(t, 'stats', async (p) => { await p.goto('/estadisticas'); await ready(p); });
  await shots(t, 'stats-distrito', async (p) => { await p.goto('/estadisticas?grupo=distrito'); await ready(p); });
  log(`stats: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
