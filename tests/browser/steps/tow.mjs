// tests/browser/steps/tow.mjs - "¿Dónde está mi carro?" (/grua): a yard, a truck and two tows
// set up through the API, then the page finds the one at the yard by a plate typed another way
// (lower case, dash), shows its yard and the fee the API computes, puts the yard on the map and
// the plate (never the ticket) in the URL; with the ticket, a tow on its way shows the truck;
// a plate never towed and an invalid plate get sentences, not JSON.
import { assert, log, shots } from '../harness.mjs';

const YARD = 'PATIO-TEST';
const TRUCK = 'G-TEST';
const AT_YARD_PLATE = 'BT2468';
const TOWING_PLATE = 'CW7135';
const TICKET = 'B-2026-55501';

async function ok(t, path, opts, status) {
  const r = await t.api(path, opts);
  assert.equal(r.status, status, `${opts.method || 'GET'} ${path}: ${r.text}`);
  return r.json;
}

async function setup(t) {
  const { admin, tow } = t.server.keys;
  await ok(t, `/api/v1/yards/${YARD}`, { method: 'PUT', key: admin, body: {
    name: 'Patio de Prueba Curundú', address: 'Av. Ascanio Villalaz, Curundú', lat: 8.970, lon: -79.535, radius_m: 200,
    hours: { es: 'Lun-Sáb 7:00-19:00', en: 'Mon-Sat 7am-7pm' }, phone: '+507 511-9000',
    fees: { tow_cents: 3500, daily_cents: 1000 },
    documents: { es: 'Cédula, registro vehicular y boleta', en: 'ID, vehicle registration and ticket' },
  } }, 201);
  await ok(t, `/api/v1/trucks/${TRUCK}`, { method: 'PUT', key: admin, body: { entity: 'ATTT', plate: 'G-9001' } }, 201);
  const a = await ok(t, '/api/v1/tows', { method: 'POST', key: tow, body: {
    plate: AT_YARD_PLATE, lat: 8.9952, lon: -79.5201, reason: 'estacionado en zona prohibida', ticket: 'B-2026-55500',
    truck: TRUCK, yard: YARD } }, 201);
  await ok(t, `/api/v1/tows/${a.id}/status`, { method: 'POST', key: tow, body: { status: 'towing' } }, 200);
  await ok(t, `/api/v1/tows/${a.id}/status`, { method: 'POST', key: tow, body: { status: 'at_yard' } }, 200);
  const b = await ok(t, '/api/v1/tows', { method: 'POST', key: tow, body: {
    plate: TOWING_PLATE, lat: 8.9877, lon: -79.5124, reason: 'doble fila', ticket: TICKET, truck: TRUCK, yard: YARD } }, 201);
  await ok(t, `/api/v1/tows/${b.id}/status`, { method: 'POST', key: tow, body: { status: 'towing' } }, 200);
  /* a point 2 km from the yard: outside its 200 m fence, so the tow stays `towing` */
  const pos = await ok(t, `/api/v1/trucks/${TRUCK}/positions`, { method: 'POST', key: tow, body: {
    positions: [{ lat: 8.9860, lon: -79.5230, at: new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z') }] } }, 200);
  assert.equal(pos.accepted, 1);
  assert.equal(pos.arrived_tow, null);
}

// The page formats money with Intl in its own locale; the same call on the API's cents.
const money = (page, cents) => page.evaluate((c) => new Intl.NumberFormat(document.documentElement.lang === 'en' ? 'en-US' : 'es-PA',
  { style: 'currency', currency: 'PAB' }).format(c / 100), cents);

async function search(page, plate, ticket = '') {
  await page.fill('#plate', plate);
  await page.fill('#ticket', ticket);
  await page.click('#tow-search');
}

export default async function (t) {
  const t0 = Date.now();
  await setup(t);
  const atYard = await ok(t, `/api/v1/tows/lookup?plate=${AT_YARD_PLATE}`, {}, 200);
  assert.equal(atYard.active, true);
  assert.equal(atYard.yard.name, 'Patio de Prueba Curundú');
  assert.ok(atYard.fees.total_cents >= 3500, JSON.stringify(atYard.fees));

  const ctx = await t.context({ viewport: { width: 360, height: 740 } });
  const page = t.watch(await ctx.newPage());
  await page.goto('/grua');
  await page.waitForSelector('#plate');
  assert.equal(await page.getAttribute('#plate', 'aria-describedby'), 'plate-hint');
  assert.match(await page.textContent('label[for=plate]'), /Placa/);
  assert.match(await page.textContent('#plate-hint'), /AB-1234/);
  assert.match(await page.textContent('label[for=ticket]'), /boleta/i);

  /* the plate typed as a person would: lower case, a dash */
  await search(page, 'bt-2468');
  await page.waitForSelector('#tow-result:not([hidden]) .tow-yard-name');
  assert.equal((await page.textContent('.tow-yard-name')).trim(), atYard.yard.name);
  assert.equal((await page.textContent('[data-fee=total]')).trim(), await money(page, atYard.fees.total_cents));
  assert.equal((await page.textContent('[data-fee=tow]')).trim(), await money(page, atYard.fees.tow_cents));
  assert.equal(await page.getAttribute('.tow-yard a[href^="tel:"]', 'href'), 'tel:+5075119000');
  assert.match(await page.textContent('.tow-hours'), /Lun-Sáb/);
  assert.match(await page.textContent('#notice'), /BT2468/);
  await page.waitForSelector('#tow-map .leaflet-marker-icon');
  assert.equal(await page.locator('#tow-map .leaflet-marker-icon').count(), 1, 'one marker: the yard');
  assert.equal(await page.locator('#tow-map .tow-truck-icon').count(), 0, 'no truck without the ticket');
  assert.equal(new URL(page.url()).search, '?placa=BT2468');

  /* the language switch: the yard's hours and documents in English */
  await page.click('#top .lang');
  await page.waitForFunction(() => document.querySelector('.tow-hours')?.textContent.includes('Mon-Sat'));
  assert.match(await page.textContent('.tow-documents'), /vehicle registration/);
  assert.equal((await page.textContent('[data-fee=total]')).trim(), await money(page, atYard.fees.total_cents));
  await page.click('#top .lang');
  await page.waitForFunction(() => document.querySelector('.tow-hours')?.textContent.includes('Lun-Sáb'));

  /* with the ticket, a tow on its way: the truck on the map, and the ticket stays out of the URL */
  const towing = await ok(t, `/api/v1/tows/lookup?plate=${TOWING_PLATE}&ticket=${TICKET}`, {}, 200);
  assert.equal(towing.status, 'towing');
  assert.ok(towing.truck && towing.truck.position, JSON.stringify(towing));
  await search(page, 'cw 7135', TICKET.toLowerCase());
  await page.waitForSelector('#tow-map .tow-truck-icon');
  assert.match(await page.textContent('.tow-status'), /En camino al patio/);
  assert.match(await page.textContent('#notice'), /en camino/);
  assert.equal(new URL(page.url()).search, '?placa=CW7135');
  assert.ok(!page.url().toLowerCase().includes('55501'), 'the ticket must never be in the URL: ' + page.url());
  const truckAt = await page.evaluate(() => {
    const m = document.querySelector('#tow-map .tow-truck-icon');
    const map = document.querySelector('#tow-map').getBoundingClientRect();
    const r = m.getBoundingClientRect();
    return { r: JSON.stringify([r, map]), inside: r.left >= map.left && r.right <= map.right && r.top >= map.top && r.bottom <= map.bottom };
  });
  assert.ok(truckAt.inside, "the truck is in the map view " + truckAt.r);

  /* the same plate without the ticket: no truck, the yard only */
  await search(page, 'CW7135');
  await page.waitForFunction(() => document.querySelector('#tow-map .leaflet-marker-icon') &&
    !document.querySelector('#tow-map .tow-truck-icon'));

  /* never towed: the sentence, no result */
  await search(page, 'zz-9999');
  await page.waitForFunction(() => document.querySelector('#notice')?.textContent.includes('ZZ9999'));
  assert.match(await page.textContent('#notice'), /no tiene ningún remolque activo/);
  assert.equal(await page.isHidden('#tow-result'), true);
  assert.equal(await page.locator('#tow-map').count(), 0);

  /* invalid plate: the words for invalid_plate under the field and in the notice, never JSON */
  await search(page, '$$');
  await page.waitForSelector('#plate-error:not([hidden])');
  const said = await page.textContent('#notice');
  assert.equal(said, 'La placa no es válida: use letras y números, por ejemplo AB1234.');
  assert.equal(await page.textContent('#plate-error'), said);
  assert.equal(await page.getAttribute('#plate', 'aria-invalid'), 'true');
  assert.ok(!/[{}]|invalid_plate/.test(said), said);

  /* a shared link opens on the plate, and it takes only the keyboard to search again */
  await page.goto('/grua?placa=bt-2468');
  await page.waitForSelector('#tow-result:not([hidden]) .tow-yard-name');
  assert.equal(await page.inputValue('#plate'), 'bt-2468');
  await page.focus('#plate');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'ticket');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tow-search');
  const noScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(noScroll, 'no sideways scrolling at 360 px');

  const ready = async (p) => {
    await p.waitForSelector('#tow-result:not([hidden]) #tow-map .leaflet-marker-icon');
    await p.waitForFunction(() => [...document.querySelectorAll('#tow-map .leaflet-tile')].every((i) => i.complete));
  };
  await shots(t, 'tow', async (p) => {
    await p.goto('/grua?placa=BT2468');
    await ready(p);
  });
  await shots(t, 'tow-truck', async (p) => {
    await p.goto('/grua');
    await p.fill('#plate', TOWING_PLATE);
    await p.fill('#ticket', TICKET);
    await p.click('#tow-search');
    await p.waitForSelector('#tow-map .tow-truck-icon');
    await ready(p);
  });
  log(`tow: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
