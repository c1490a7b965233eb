// tests/browser/run.mjs - the browser tests: node tests/browser/run.mjs REPORTA_BIN PANAMA_DB
// ARTEFACTS_DIR. One real server and one headless chromium for every step, in this order (each
// step may use what an earlier one left in t.state): report, crew, tow, stats, a11y. Fails on the
// first failed assertion, on any request to another host than 127.0.0.1, on an uncaught error
// in a page, and when the server does not stop cleanly.
import { apiClient, guardedContext, launch, log, mkdirp, startServer } from './harness.mjs';
import report from './steps/report.mjs';
import crew from './steps/crew.mjs';
import tow from './steps/tow.mjs';
import stats from './steps/stats.mjs';
import a11y from './steps/a11y.mjs';

const [bin, db, artefacts] = process.argv.slice(2);
if (!bin || !db || !artefacts) {
  console.error('usage: node run.mjs REPORTA_BIN PANAMA_DB ARTEFACTS_DIR');
  process.exit(2);
}
mkdirp(artefacts);

const only = process.env.BROWSER_STEPS ? process.env.BROWSER_STEPS.split(',') : null;
const steps = [['report', report], ['crew', crew], ['tow', tow], ['stats', stats], ['a11y', a11y]]
  .filter(([n]) => !only || only.includes(n));

const server = await startServer(bin, db);
const browser = await launch();
const t = {
  server, browser, artefacts, api: apiClient(server.base), state: {}, foreign: [], pageErrors: [],
  // every page a step opens goes through watch(): uncaught errors fail the run
  watch(page) {
    page.on('pageerror', (e) => t.pageErrors.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') log('console error', page.url(), m.text()); });
    return page;
  },
  // a fresh context (guarded), with what this "device" kept (t.state.device: localStorage)
  async context(opts = {}) {
    const ctx = await guardedContext(browser, server.base, opts);
    await t.seedDevice(ctx);
    t.contexts.push(ctx);
    return ctx;
  },
  async seedDevice(ctx) {
    if (t.state.device) await ctx.addInitScript((items) => {
      for (const [k, v] of Object.entries(items)) if (localStorage.getItem(k) === null) localStorage.setItem(k, v);
    }, t.state.device);
  },
  contexts: [],
};

let failed = 0;
try {
  for (const [name, fn] of steps) {
    const t0 = Date.now();
    log(`== ${name}`);
    await fn(t);
    log(`== ${name}: passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
} catch (e) {
  failed = 1;
  console.error('[browser] FAILED:', e && e.stack ? e.stack : e);
}
for (const c of t.contexts) { t.foreign.push(...c.foreign); await c.close().catch(() => {}); }
await browser.close();
if (t.foreign.length) {
  failed = 1;
  console.error('[browser] FAILED: requests left 127.0.0.1:', [...new Set(t.foreign)].join(' '));
}
if (t.pageErrors.length) {
  failed = 1;
  console.error('[browser] FAILED: uncaught errors in pages:\n  ' + t.pageErrors.join('\n  '));
}
const code = await server.stop();
if (code !== 0) {
  failed = 1;
  console.error('[browser] FAILED: the server exited with', code);
}
{
  const text = server.log();
  const at = text.search(/==\d+==ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|==\d+==WARNING: ThreadSanitizer/);
  if (at >= 0) {
    failed = 1;
    console.error('[browser] FAILED: sanitizer report in the server log\n', text.slice(Math.max(0, at - 500), at + 12000));
  }
}
log(failed ? 'FAILED' : 'all steps passed');
process.exit(failed);
