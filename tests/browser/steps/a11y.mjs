// tests/browser/steps/a11y.mjs - every page checked by axe-core (npm, test-only) against WCAG
// 2.1 A and AA (labels, names, contrast, landmarks, language), at 360 px and 1280 px, in
// Spanish and in English; and a report made with the keyboard alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, guardedContext, log, root } from '../harness.mjs';

const axeSource = readFileSync(join(root, 'web', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

async function axe(page) {
  await page.evaluate(axeSource); // evaluated by the test, not loaded by the page (CSP)
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').split('\n')[1]) }));
  });
}

export default async function a11y(t) {
  const caseId = t.state.caseId || (await t.api('/api/v1/reports', { method: 'POST', body: { service_code: 'basura', lat: 8.99, lon: -79.53 } })).json.id;
  const pages = [
    ['/', '#services input'],
    [`/caso/${caseId}`, '#case-status'],
    ['/caso', '#find'],
    ['/cuadrilla', 'main input'],
    ['/grua', 'main input'],
    ['/estadisticas', 'main table, main .card, main select'],
  ];
  const problems = [];
  for (const [vp, langs] of [[{ width: 360, height: 740 }, ['es', 'en']], [{ width: 1280, height: 800 }, ['es']]]) {
    for (const lang of langs) {
      const ctx = await guardedContext(t.browser, t.server.base, { viewport: vp });
      await t.seedDevice(ctx);
      await ctx.addInitScript((l) => localStorage.setItem('reporta.lang', l), lang);
      for (const [path, ready] of pages) {
        const page = t.watch(await ctx.newPage());
        await page.goto(path);
        await page.locator(ready).first().waitFor({ state: 'attached' });
        await page.waitForLoadState('networkidle');
        const v = await axe(page);
        for (const x of v) problems.push(`${path} ${vp.width}px ${lang}: ${x.id} (${x.impact}) ${x.help}: ${x.nodes.join(' | ')}`);
        await page.close();
      }
      t.foreign.push(...ctx.foreign);
      await ctx.close();
    }
  }
  if (problems.length) console.error(problems.join('\n'));
  assert.equal(problems.length, 0, `${problems.length} accessibility violations`);
  log(`axe-core: ${pages.length} pages at 360 px (es, en) and 1280 px (es), no WCAG 2.1 A/AA violation`);

  // a report with the keyboard alone: the centre button places the pin, arrows pick a category
  const ctx = await t.context({ viewport: { width: 360, height: 740 } });
  const page = t.watch(await ctx.newPage());
  await page.goto('/');
  await page.locator('#services input').first().waitFor({ state: 'attached' });
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip', 'the first Tab reaches "skip to content"');
  await page.focus('#center');
  await page.keyboard.press('Enter');
  await page.locator('#place[data-lat]').waitFor();
  await page.focus('#services input');
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowRight');
  const chosen = await page.evaluate(() => document.querySelector('input[name=service]:checked')?.value);
  assert.ok(chosen, 'a category is chosen with the keyboard');
  await page.locator('#route-entity').waitFor();
  await page.focus('#desc');
  await page.keyboard.type('Reportado con el teclado');
  await page.focus('#send');
  await page.keyboard.press('Enter');
  await page.locator('#case-id').waitFor({ timeout: 30000 });
  const id = (await page.locator('#case-id').textContent()).trim();
  const c = await t.api(`/api/v1/reports/${id}`);
  assert.equal(c.json.service_code, chosen);
  assert.equal(c.json.description, 'Reportado con el teclado');
  log('keyboard-only report:', id, chosen);
}
