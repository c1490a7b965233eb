// tests/browser/steps/report.mjs - the citizen's side: drop a pin, see the routing preview the
// API gives for that point, attach a photo, send, get a case number; the same offline (queued,
// "pendiente de envío", sent once when the network returns) and with the server's answer lost
// on the way back (the retry carries the same Idempotency-Key: still one case); the tracking
// page; rating a resolved case; the first load's weight; screenshots.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, log, shots } from '../harness.mjs';

const CASE_RE = /^\d{4}-\d{6,7}$/;

// A real JPEG made by the browser's own encoder.
async function jpeg(page, w = 640, h = 480) {
  const url = await page.evaluate(([w, h]) => {
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const g = c.getContext('2d');
    g.fillStyle = '#3a7'; g.fillRect(0, 0, w, h);
    g.fillStyle = '#fff'; g.font = '48px sans-serif'; g.fillText('fuga', 40, 120);
    return c.toDataURL('image/jpeg', 0.9);
  }, [w, h]);
  return Buffer.from(url.split(',')[1], 'base64');
}

// Cases with exactly this description, through the public list.
async function casesWith(t, service, description) {
  const r = await t.api(`/api/v1/reports?service=${service}&limit=1000`);
  assert.equal(r.status, 200);
  return r.json.features.filter((f) => f.properties.description === description).map((f) => f.properties.id);
}

// Drops the pin at a pixel offset from the map's centre and picks the service.
async function pinAndService(page, service, dx = 0, dy = 0) {
  await page.locator(`input[name=service][value=${service}]`).check({ force: true });
  await page.locator('#map').scrollIntoViewIfNeeded();
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2 + dy);
  await page.locator('#route-entity').waitFor();
}

export default async function report(t) {
  const ctx = await t.context({ viewport: { width: 1280, height: 800 } });
  const page = t.watch(await ctx.newPage());
  await page.goto('/');
  await page.locator('input[name=service][value=fuga_agua]').waitFor({ state: 'attached' });
  assert.equal(await page.locator('html').getAttribute('lang'), 'es-PA');

  // 1. pin + routing preview equal to what the API says for that point
  await pinAndService(page, 'fuga_agua', 30, -20);
  const place = page.locator('#place');
  const lat = await place.getAttribute('data-lat'), lon = await place.getAttribute('data-lon');
  const route = await t.api(`/api/v1/route?service_code=fuga_agua&lat=${lat}&lon=${lon}`);
  assert.equal(route.status, 200);
  await page.waitForFunction((name) => document.getElementById('place').textContent.includes(name), route.json.location.corregimiento.name);
  assert.match(await page.locator('#route-entity').textContent(), new RegExp(route.json.routing.entity.name));
  assert.match(await page.locator('#route-due').textContent(), new RegExp(`${route.json.sla_hours} horas`));
  log('pin at', lat, lon, '->', route.json.location.corregimiento.name, '/', route.json.routing.entity.code);

  // 2. a photo, downscaled in the page, then send
  await page.setInputFiles('#photos', { name: 'fuga.jpg', mimeType: 'image/jpeg', buffer: await jpeg(page, 2400, 1800) });
  await page.locator('#previews img').first().waitFor();
  const desc1 = `Tubo roto frente al parque (navegador ${Date.now()})`;
  await page.fill('#desc', desc1);
  await page.click('#send');
  await page.locator('#case-id').waitFor({ timeout: 30000 });
  const id1 = (await page.locator('#case-id').textContent()).trim();
  assert.match(id1, CASE_RE);
  const c1 = await t.api(`/api/v1/reports/${id1}`);
  assert.equal(c1.status, 200);
  assert.equal(c1.json.status, 'received');
  assert.equal(c1.json.description, desc1);
  assert.equal(c1.json.routing.entity.code, route.json.routing.entity.code);
  assert.equal(c1.json.photos.length, 1, 'one photo stored');
  assert.ok(c1.json.photos[0].width <= 1600 && c1.json.photos[0].width >= 1000, `downscaled photo width ${c1.json.photos[0].width}`);
  log('case', id1, 'created with a photo of', c1.json.photos[0].width, 'x', c1.json.photos[0].height);
  t.state.caseId = id1;

  // 3. offline, from the start: the page comes from the service worker's copy, the categories
  // from the device; the report is queued on the device and sent once when the network returns
  await page.evaluate(() => navigator.serviceWorker.ready);
  await ctx.setOffline(true);
  await page.reload();
  await page.locator('input[name=service][value=fuga_agua]').waitFor({ state: 'attached' });
  await page.locator('input[name=service][value=fuga_agua]').check({ force: true });
  await page.locator('#map').scrollIntoViewIfNeeded();
  {
    const box = await page.locator('#map').boundingBox();
    await page.mouse.click(box.x + box.width / 2 - 60, box.y + box.height / 2 + 40);
  }
  await page.waitForFunction(() => document.getElementById('place').textContent.startsWith('Sin conexión'));
  const desc2 = `Fuga sin señal (navegador ${Date.now()})`;
  await page.fill('#desc', desc2);
  await page.click('#send');
  await page.locator('#queue .badge.pending').waitFor({ timeout: 15000 });
  assert.match(await page.locator('#notice').textContent(), /se enviará solo cuando vuelva la señal/);
  assert.deepEqual(await casesWith(t, 'fuga_agua', desc2), [], 'nothing reached the server while offline');
  await ctx.setOffline(false);
  await page.locator('#case-id').waitFor({ timeout: 30000 });
  const id2 = (await page.locator('#case-id').textContent()).trim();
  assert.match(id2, CASE_RE);
  await page.locator('#queue .badge.pending').waitFor({ state: 'detached', timeout: 15000 });
  assert.deepEqual(await casesWith(t, 'fuga_agua', desc2), [id2], 'exactly one case after coming back online');
  log('offline report queued, then sent once as', id2);

  // 4. the answer lost on the way back: the server has the case, the page saw a failure and
  // retries later with the same Idempotency-Key
  let lost = 0, release;
  const seen = new Promise((resolve) => { release = resolve; });
  await page.route('**/api/v1/reports', async (r) => {
    if (r.request().method() !== 'POST') return r.fallback();
    if (lost === 0) {
      lost++;
      const resp = await r.fetch();
      assert.equal(resp.status(), 201);
      return r.abort('connectionreset');
    }
    await seen; // the retry waits until the test has seen the report pending
    return r.fallback();
  });
  await page.reload();
  await page.locator('input[name=service][value=basura]').waitFor({ state: 'attached' });
  await pinAndService(page, 'basura', 80, 60);
  const desc3 = `Basura acumulada (navegador ${Date.now()})`;
  await page.fill('#desc', desc3);
  await page.click('#send');
  await page.locator('#queue .badge.pending').waitFor({ timeout: 15000 });
  assert.equal((await casesWith(t, 'basura', desc3)).length, 1, 'the first try reached the server');
  release();
  await page.locator('#case-id').waitFor({ timeout: 40000 }); // the outbox's timer retries
  const id3 = (await page.locator('#case-id').textContent()).trim();
  assert.deepEqual(await casesWith(t, 'basura', desc3), [id3], 'the retry returned the same case, no second one');
  assert.equal(lost, 1);
  await page.unroute('**/api/v1/reports');
  log('lost answer: retried with the same key, still one case', id3);

  // 4b. a 2xx that is not reporta's (a Wi-Fi login page): the report stays queued, then goes
  let portal = 0;
  await page.route('**/api/v1/reports', (r) => {
    if (r.request().method() !== 'POST' || portal++ > 0) return r.fallback();
    return r.fulfill({ status: 200, contentType: 'text/html', body: '<html><body>Inicie sesión en la red Wi-Fi</body></html>' });
  });
  await page.reload();
  await page.locator('input[name=service][value=hueco]').waitFor({ state: 'attached' });
  await pinAndService(page, 'hueco', -90, -50);
  const desc4 = `Hueco, red con portal (navegador ${Date.now()})`;
  await page.fill('#desc', desc4);
  await page.click('#send');
  await page.locator('#queue .badge.pending').waitFor({ timeout: 15000 });
  assert.deepEqual(await casesWith(t, 'hueco', desc4), [], 'the portal page created nothing');
  await page.locator('#case-id').waitFor({ timeout: 40000 });
  const id4 = (await page.locator('#case-id').textContent()).trim();
  assert.deepEqual(await casesWith(t, 'hueco', desc4), [id4], 'sent once the real server answered');
  await page.unroute('**/api/v1/reports');
  log('captive portal: kept, then sent as', id4);

  // keep this device's storage (tokens) for the other pages and the screenshots
  t.state.device = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
  t.state.cases = [id1, id2, id3];

  // 5. the tracking page
  await page.goto(`/caso/${id1}`);
  await page.locator('#case-status').waitFor();
  assert.equal((await page.locator('#case-status').textContent()).trim(), 'Recibido');
  assert.match(await page.locator('#case-entity').textContent(), new RegExp(c1.json.routing.entity.name));
  assert.equal(await page.locator('.photos img').count(), 1);
  assert.ok((await page.locator('#timeline li').count()) >= 1);
  await page.goto('/caso');
  await page.locator(`#my-cases a[href="/caso/${id1}"]`).waitFor();

  // 6. rating a resolved case with the token kept on the device
  const st = await t.api(`/api/v1/reports/${id2}/status`, { method: 'POST', key: t.server.keys.staff, body: { status: 'resolved', note: 'Reparada' } });
  assert.equal(st.status, 200, st.text);
  await page.goto(`/caso/${id2}`);
  await page.locator('#rate').waitFor();
  await page.locator('#rate input[name=score][value="4"]').check();
  await page.fill('#comment', 'Rápido, gracias');
  await page.click('#rate button[type=submit]');
  await page.locator('#notice.ok').waitFor();
  const again = await t.api(`/api/v1/reports/${id2}/rating`, { method: 'POST', body: { score: 5 }, headers: { 'X-Report-Token': JSON.parse(t.state.device['reporta.cases']).find((c) => c.id === id2).token } });
  assert.equal(again.status, 409, 'the page\'s rating was recorded: a second one is refused');

  // 6b. "a mí también": the same spot and category shows case 1, and the button confirms it
  await page.goto('/');
  await page.locator('input[name=service][value=fuga_agua]').waitFor({ state: 'attached' });
  await pinAndService(page, 'fuga_agua', 30, -20);
  await page.locator(`#nearby a[href="/caso/${id1}"]`).waitFor();
  await page.locator('#nearby button.metoo').first().click();
  await page.locator('#notice.ok').waitFor();
  assert.equal((await t.api(`/api/v1/reports/${id1}`)).json.confirmations, 1, 'me too counted once');

  // 6c. with the device's position allowed, "usar mi ubicación" puts the pin there
  const geo = await t.context({ viewport: { width: 360, height: 740 }, permissions: ['geolocation'], geolocation: { latitude: 9.3547, longitude: -79.9001 } });
  const gp = t.watch(await geo.newPage());
  await gp.goto('/');
  await gp.locator('input[name=service]').first().waitFor({ state: 'attached' });
  await gp.click('#here');
  await gp.locator('#place[data-lat]').waitFor();
  assert.equal(await gp.locator('#place').getAttribute('data-lat'), '9.354700');
  await gp.waitForFunction(() => /Colón/.test(document.getElementById('place').textContent));

  // 7. English switch
  await page.goto('/');
  await page.click('#top .lang');
  await page.locator('h1', { hasText: 'Report a problem' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.click('#top .lang');
  await page.locator('h1', { hasText: 'Reportar un problema' }).waitFor();

  // 8. first load's weight, with an empty cache: every byte fetched (headers and compressed
  // bodies), by the page and by the service worker filling its offline copy of the app
  const fresh = await t.context({ viewport: { width: 360, height: 740 } });
  const reqs = [];
  fresh.on('requestfinished', (r) => reqs.push(r));
  const p2 = t.watch(await fresh.newPage());
  await p2.goto('/', { waitUntil: 'networkidle' });
  await p2.evaluate(() => navigator.serviceWorker.ready);
  await p2.waitForTimeout(1500);
  let pageBytes = 0, swBytes = 0, nPage = 0;
  const rows = [];
  for (const r of reqs) {
    const s = await r.sizes();
    const n = s.responseBodySize + s.responseHeadersSize;
    const sw = !!r.serviceWorker();
    if (sw) swBytes += n; else { pageBytes += n; nPage++; }
    rows.push(`${n}\t${sw ? 'sw  ' : 'page'}\t${new URL(r.url()).pathname}`);
  }
  const total = pageBytes + swBytes;
  writeFileSync(join(t.artefacts, 'report-page-weight.txt'), rows.join('\n') +
    `\n${pageBytes}\tpage total (${nPage} requests)\n${swBytes}\tservice worker precache\n${total}\tall\n`);
  log(`report page first load: ${(pageBytes / 1024).toFixed(1)} KB in ${nPage} requests; ` +
      `with the service worker's offline copy of the whole app ${(total / 1024).toFixed(1)} KB (limit 300 KB)`);
  assert.ok(nPage > 5, 'the page, its scripts and the map were counted');
  assert.ok(swBytes > 0, 'the service worker filled its cache');
  assert.ok(total < 300 * 1024, `first load ${total} bytes`);

  await shots(t, 'report', async (p) => {
    await p.goto('/');
    await p.locator('input[name=service][value=fuga_agua]').waitFor({ state: 'attached' });
    await pinAndService(p, 'fuga_agua', 0, 0);
  });
  await shots(t, 'case', async (p) => {
    await p.goto(`/caso/${id1}`);
    await p.locator('#case-status').waitFor();
  });
}
