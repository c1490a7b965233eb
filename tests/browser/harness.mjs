// tests/browser/harness.mjs - what every browser test step shares: a real `reporta serve` on
// 127.0.0.1 (the binary in $REPORTA_BIN, on a copy of the fixture database), API keys made with
// `reporta keys create`, Debian's chromium driven by playwright-core (from web/node_modules),
// a guard that fails the run on any request to a host other than 127.0.0.1, and screenshots.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
const require = createRequire(join(root, 'web', 'package.json'));
const { chromium } = require('playwright-core');

export { assert };

export function log(...a) { console.log('[browser]', ...a); }

export async function startServer(bin, srcDb) {
  const dir = mkdtempSync(join(tmpdir(), 'reporta-browser-'));
  const db = join(dir, 'r.db');
  copyFileSync(srcDb, db);
  if (existsSync(srcDb + '-wal')) copyFileSync(srcDb + '-wal', db + '-wal');
  const key = (role, entity, name) => {
    const args = ['keys', 'create', '--db', db, '--role', role, '--name', name];
    if (entity) args.push('--entity', entity);
    const out = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n');
    return out[out.length - 1].trim().split(/\s+/).pop();
  };
  const keys = {
    admin: key('admin', null, 'browser-admin'),
    staff: key('staff', 'IDAAN', 'cuadrilla IDAAN'),
    tow: key('tow_operator', 'ATTT', 'grúas ATTT'),
  };
  const proc = spawn(bin, ['serve', '--db', db, '--media', dir, '--port', '0', '--listen', '127.0.0.1',
    '--ip-read-rate=0', '--ip-write-rate=0', '--lookup-rate=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logText = '';
  proc.stderr.on('data', (d) => { logText += d; });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('server did not start: ' + logText)), 60000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.on('exit', (c) => reject(new Error('server exited ' + c + ': ' + logText)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base, keys, db, dir, proc, log: () => logText,
    async stop() {
      const code = await new Promise((resolve) => { proc.once('exit', (c) => resolve(c)); proc.kill('SIGTERM'); });
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

// The API from the test's side (Node's fetch), for setting up and for checking what pages show.
export function apiClient(base) {
  return async function call(path, { method = 'GET', body, key, headers = {} } = {}) {
    const h = Object.assign({}, headers);
    if (key) h.Authorization = 'Bearer ' + key;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    return { status: res.status, json, text };
  };
}

export async function launch() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

// A context whose every request must go to 127.0.0.1: anything else is aborted and recorded,
// and the run fails at its end (foreign[] non-empty).
export async function guardedContext(browser, base, opts = {}) {
  const ctx = await browser.newContext(Object.assign({ baseURL: base, locale: 'es-PA', timezoneId: 'America/Panama' }, opts));
  ctx.foreign = [];
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.hostname === '127.0.0.1') return route.fallback();
    ctx.foreign.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  ctx.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.hostname !== '127.0.0.1') ctx.foreign.push(r.url());
  });
  return ctx;
}

export const VIEWPORTS = [{ width: 360, height: 740 }, { width: 1280, height: 800 }];

// Screenshots of one page at both sizes: prepare(page) brings it to what should be shown.
// Saved in $BROWSER_ARTEFACTS and, with REPORTA_DOCS_IMG=1, in docs/img/ as web-NAME-WIDTH.png.
export async function shots(t, name, prepare) {
  for (const vp of VIEWPORTS) {
    const ctx = await guardedContext(t.browser, t.server.base, { viewport: vp });
    await t.seedDevice(ctx);
    const page = await ctx.newPage();
    t.watch(page);
    await prepare(page, vp);
    await page.waitForTimeout(400);
    const file = `web-${name}-${vp.width}.png`;
    await page.screenshot({ path: join(t.artefacts, file), fullPage: true });
    if (process.env.REPORTA_DOCS_IMG === '1') await page.screenshot({ path: join(root, 'docs', 'img', file), fullPage: true });
    t.foreign.push(...ctx.foreign);
    await ctx.close();
  }
}

export function fixture(name) { return readFileSync(join(root, 'tests', 'fixtures', name)); }
export function mkdirp(p) { mkdirSync(p, { recursive: true }); return p; }
