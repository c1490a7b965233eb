// tests/browser/steps/crew.mjs - the crew page (/cuadrilla): a wrong key and a non-staff key are
// refused with words; IDAAN's staff key signs in (kept in sessionStorage only); the entity's
// open cases are on the map (path[data-case=ID]) and in the list sorted by due date; keyboard
// and marker clicks select a case; the status filter narrows list and markers; the case moves
// to in_progress with a note and an "after" JPEG drawn in the page, which the API then shows;
// a reload keeps the session; a refused change is shown in words; English on request; sign-out
// forgets the key; screenshots; and the public /caso/ID page shows "En proceso".
import { assert, log, shots } from '../harness.mjs';

const ES = { received: 'Recibido', assigned: 'Asignado', in_progress: 'En proceso' };
const OPEN = 'received,assigned,in_progress';
const NOTE = 'Cuadrilla en sitio: se cambió el tramo de tubo.';
const EAST_DEG = 0.0012; /* ~130 m at 9°N: both cases in view, never one cluster, at z17 */

async function createCase(t, lat, lon, extra = {}) {
  const r = await t.api('/api/v1/reports', {
    method: 'POST',
    body: Object.assign({ service_code: 'fuga_agua', lat, lon, description: 'Fuga frente al edificio (prueba de cuadrilla)' }, extra),
  });
  assert.equal(r.status, 201, 'creating a fuga_agua case: ' + r.text);
  assert.equal(r.json.routing.entity.code, 'IDAAN', 'fuga_agua routes to IDAAN');
  return r.json.id;
}

async function jpeg(page) {
  const url = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 480; c.height = 320;
    const g = c.getContext('2d');
    g.fillStyle = '#0b57d0'; g.fillRect(0, 0, 480, 320);
    g.fillStyle = '#ffffff'; g.font = 'bold 40px sans-serif'; g.fillText('Reparado', 110, 175);
    return c.toDataURL('image/jpeg', 0.85);
  });
  const buffer = Buffer.from(url.split(',')[1], 'base64');
  assert.ok(buffer[0] === 0xff && buffer[1] === 0xd8, 'the canvas gave a JPEG');
  return { name: 'despues.jpg', mimeType: 'image/jpeg', buffer };
}

async function signIn(page, key) {
  await page.fill('#crew-key', key);
  await page.click('#signin-btn');
}

export default async function (t) {
  const staff = t.server.keys.staff;
  const t0 = Date.now();
  if (!t.state.caseId) t.state.caseId = await createCase(t, 8.983, -79.52, { reporter: { name: 'Ana Prueba', phone: '+507 6000-0001' } });
  const A = t.state.caseId;
  const a0 = await t.api('/api/v1/reports/' + A);
  assert.equal(a0.status, 200, a0.text);
  assert.equal(a0.json.routing.entity.code, 'IDAAN', `case ${A} must be IDAAN's for the crew step`);
  assert.ok(['received', 'assigned'].includes(a0.json.status), `case ${A} can move to in_progress (is ${a0.json.status})`);
  // a second case nearby, assigned, with the reporter's contact, to tell selections and filters apart
  const B = await createCase(t, a0.json.location.lat, a0.json.location.lon + EAST_DEG,
    { reporter: { name: 'Marta Prueba', phone: '+507 6111-2222' }, description: 'Segunda fuga (prueba)' });
  const bs = await t.api(`/api/v1/reports/${B}/status`, { method: 'POST', key: staff, body: { status: 'assigned', note: 'prueba' } });
  assert.equal(bs.status, 200, bs.text);

  const ctx = await t.context({ viewport: { width: 1280, height: 800 } });
  const page = t.watch(await ctx.newPage());
  page.setDefaultTimeout(15000);
  await page.goto('/cuadrilla');
  await page.locator('#crew-key').waitFor();
  assert.equal(await page.locator('#crew-key').getAttribute('type'), 'password');
  assert.equal(await page.locator('label[for="crew-key"]').count(), 1, 'the key input has a label');

  // a key that does not exist, then a key of another role: refused with a sentence, nothing shown
  await signIn(page, 'rpk_this_key_does_not_exist_at_all_0000000000');
  await page.locator('#signin-error').filter({ hasText: 'La clave no es válida' }).waitFor();
  assert.ok(await page.locator('#work').isHidden());
  await signIn(page, t.server.keys.tow);
  await page.locator('#signin-error').filter({ hasText: 'no es de una cuadrilla' }).waitFor();
  assert.ok(await page.locator('#work').isHidden());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('reporta.crew.key')), null);

  await signIn(page, staff);
  await page.locator('#crew-who').filter({ hasText: 'IDAAN' }).waitFor();
  assert.ok(await page.locator('#signin').isHidden());
  const stored = await page.evaluate((k) => ({
    session: sessionStorage.getItem('reporta.crew.key'),
    local: Object.keys(localStorage).some((n) => (localStorage.getItem(n) || '').includes(k)),
  }), staff);
  assert.equal(stored.session, staff, 'the key is in sessionStorage');
  assert.equal(stored.local, false, 'the key is never in localStorage');

  // the list: every open IDAAN case, soonest due first
  const rowA = page.locator(`button[data-case-row="${A}"]`);
  const rowB = page.locator(`button[data-case-row="${B}"]`);
  await rowA.waitFor();
  await rowB.waitFor();
  assert.ok((await rowA.textContent()).includes(ES[a0.json.status]), 'row A shows its status');
  assert.ok((await rowB.textContent()).includes('Asignado'), 'row B shows its status');
  const api = await t.api(`/api/v1/reports?entity=IDAAN&status=${OPEN}&limit=200`);
  const want = api.json.features.map((f) => f.properties)
    .sort((x, y) => Date.parse(x.due_at) - Date.parse(y.due_at) || x.id.localeCompare(y.id)).map((p) => p.id);
  const shown = await page.locator('button[data-case-row]').evaluateAll((bs) => bs.map((b) => b.dataset.caseRow));
  assert.deepEqual(shown, want, 'the list is the open cases sorted by due date');

  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('main input, main select, main textarea')]
    .filter((e) => !e.labels.length && !e.getAttribute('aria-label')).map((e) => e.id || e.name));
  assert.deepEqual(unlabelled, [], 'every input is labelled');

  // keyboard: Enter on B's row selects it and zooms to it; both markers are then on the map
  await rowB.focus();
  await page.keyboard.press('Enter');
  await page.locator('#detail-h').filter({ hasText: B }).waitFor();
  assert.equal(await rowB.getAttribute('aria-current'), 'true');
  await page.locator('#detail').filter({ hasText: 'Marta Prueba' }).waitFor();
  assert.ok((await page.locator('#detail').textContent()).includes('+507 6111-2222'), 'staff see the reporter phone');
  const markerA = page.locator(`path[data-case="${A}"]`);
  const markerB = page.locator(`path[data-case="${B}"]`);
  await markerB.waitFor();
  await markerA.waitFor();
  assert.match(await markerB.getAttribute('class'), /status-assigned/);

  // a click on A's marker selects A
  await markerA.click();
  await page.locator('#detail-h').filter({ hasText: A }).waitFor();
  assert.equal(await rowA.getAttribute('aria-current'), 'true');
  assert.equal(await rowB.getAttribute('aria-current'), null);

  // the status filter narrows the list and the markers, and widens them again
  await page.selectOption('#f-status', 'assigned');
  await rowA.waitFor({ state: 'detached' });
  await markerA.waitFor({ state: 'detached' });
  await rowB.waitFor();
  await markerB.waitFor();
  await page.selectOption('#f-status', '');
  await rowA.waitFor();
  await markerA.waitFor();

  // A moves to in_progress with a note and an "after" photo
  const allowed = await page.locator('#status-to option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(allowed.includes('in_progress') && !allowed.includes('closed'), 'the workflow offers in_progress, not closed: ' + allowed);
  await page.selectOption('#status-to', 'in_progress');
  await page.fill('#status-note', NOTE);
  await page.setInputFiles('#status-photo', await jpeg(page));
  await page.click('#status-send');
  await page.locator('#notice').filter({ hasText: 'En proceso' }).waitFor();
  await page.locator('#detail-status').filter({ hasText: 'En proceso' }).waitFor();
  // at once, not when the browser's 30 s tile cache runs out
  await page.locator(`path[data-case="${A}"].status-in_progress`).waitFor({ timeout: 20000 });
  await page.locator(`button[data-case-row="${A}"]`).filter({ hasText: 'En proceso' }).waitFor();
  await page.locator('#detail .photos img').first().waitFor();

  const a1 = await t.api('/api/v1/reports/' + A);
  assert.equal(a1.json.status, 'in_progress');
  assert.ok((a1.json.photos || []).some((p) => p.kind === 'after'), 'the case has an after photo: ' + JSON.stringify(a1.json.photos));
  const h = await t.api(`/api/v1/reports/${A}/history`);
  const last = h.json.history.filter((x) => x.kind === 'status').pop();
  assert.equal(last.to, 'in_progress');
  assert.equal(last.note, NOTE);

  // a reload keeps the session (sessionStorage) and the selected case (#ID)
  await page.reload();
  await page.locator('#detail-h').filter({ hasText: A }).waitFor();
  await page.locator('#detail-status').filter({ hasText: 'En proceso' }).waitFor();
  assert.ok(await page.locator('#signin').isHidden(), 'no second sign-in after a reload');

  // a refused change is explained in words: B moved elsewhere meanwhile, so assigned -> in_progress
  // offered by the page is now in_progress -> in_progress
  await page.locator(`button[data-case-row="${B}"]`).click();
  await page.locator('#detail-h').filter({ hasText: B }).waitFor();
  const moved = await t.api(`/api/v1/reports/${B}/status`, { method: 'POST', key: staff, body: { status: 'in_progress' } });
  assert.equal(moved.status, 200, moved.text);
  await page.selectOption('#status-to', 'in_progress');
  await page.click('#status-send');
  await page.locator('#status-error').filter({ hasText: 'no puede pasar a ese estado' }).waitFor();
  assert.ok(!(await page.locator('#status-error').textContent()).includes('{'), 'no raw JSON shown');

  // English on request, Spanish again (the public page below is read in Spanish)
  await page.click('#top button.lang');
  await page.locator('#list-h').filter({ hasText: 'Open cases' }).waitFor();
  await page.locator(`button[data-case-row="${A}"]`).filter({ hasText: 'In progress' }).waitFor();
  await page.locator('#detail-h').filter({ hasText: 'Case ' + B }).waitFor();
  await page.click('#top button.lang');
  await page.locator('#list-h').filter({ hasText: 'Casos abiertos' }).waitFor();

  // heat overlay and hotspots, filtered by the entity
  await page.check('#l-heat');
  await page.locator('img[src*="/tiles/heat/"][src*="entity=IDAAN"]').first().waitFor({ state: 'attached' });
  const hot = await t.api('/api/v1/hotspots?entity=IDAAN');
  if (hot.json.features.length) {
    const first = hot.json.features[0].properties;
    await page.locator('#hotspots button').first().filter({ hasText: `${first.count} casos` }).waitFor();
  } else {
    await page.locator('#hotspots').filter({ hasText: 'No hay focos' }).waitFor();
  }

  // sign-out forgets the key
  await page.click('#signout');
  await page.locator('#crew-key').waitFor();
  assert.ok(await page.locator('#work').isHidden());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('reporta.crew.key')), null);
  log(`crew: flow done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  await shots(t, 'crew', async (p) => {
    p.setDefaultTimeout(15000);
    await p.goto('/cuadrilla#' + A);
    await signIn(p, staff);
    await p.locator('#detail-h').filter({ hasText: A }).waitFor();
    await p.locator(`path[data-case="${A}"]`).waitFor();
    await p.locator(`button[data-case-row="${B}"]`).waitFor();
  });

  // the public case page (another page) shows the new status
  const pub = t.watch(await ctx.newPage());
  await pub.goto('/caso/' + A);
  await pub.locator('#case-status').filter({ hasText: 'En proceso' }).waitFor({ timeout: 15000 });
  await pub.close();
}
