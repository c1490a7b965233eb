// web/app/js/outbox.js - reports waiting to be sent, kept on the device in IndexedDB (photos as
// Blobs), each with the Idempotency-Key it was given when the citizen pressed "Enviar": every
// retry sends the same key, so a report that reached the server on a try whose answer was lost
// comes back as the same case (200), never a second one. flush() sends what waits, one at a
// time; it runs when the page loads, when the network returns and on a timer while items wait.
import { ApiError, upload } from './api.js';
import { rememberCase } from './store.js';

const DB = 'reporta', STORE = 'outbox';
let dbp = null;

function db() {
  if (!dbp) dbp = new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'key' });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return dbp;
}

async function tx(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const x = d.transaction(STORE, mode);
    const s = x.objectStore(STORE);
    const out = fn(s);
    x.oncomplete = () => resolve(out && 'result' in out ? out.result : undefined);
    x.onerror = () => reject(x.error);
    x.onabort = () => reject(x.error);
  });
}

export const put = (item) => tx('readwrite', (s) => s.put(item));
export const remove = (key) => tx('readwrite', (s) => s.delete(key));
export const list = () => tx('readonly', (s) => s.getAll());

const inflight = new Set(); // keys being sent now: flush() leaves them to their sender

// Sends one item: resolves the server's case (201 new, 200 a replay of this key).
export function send(item, onprogress) {
  inflight.add(item.key);
  const form = new FormData();
  form.append('report', new Blob([JSON.stringify(item.report)], { type: 'application/json' }));
  (item.photos || []).forEach((p, i) => form.append('photo', p, `foto-${i + 1}.jpg`));
  return upload('/api/v1/reports', form, { 'Idempotency-Key': item.key }, onprogress)
    .then((r) => {
      // a 2xx without the case (a Wi-Fi login page, say) is not an answer: try again later
      if (!r.json || !r.json.id) throw new ApiError(r.status, 'not_reporta', 'no case in the reply', true);
      rememberCase(r.json.id, r.json.token, item.report.service_code); // before the queue forgets it
      return r.json;
    })
    .finally(() => inflight.delete(item.key));
}

// A failure worth retrying later: no network, the server busy or failing, rate limited, or an
// answer that is not reporta's own (a proxy's or a captive portal's page). Only reporta's
// refusal of the report itself (4xx with its error code) is final.
export const retryable = (e) => e && (e.offline || !e.fromServer || e.status >= 500 || e.status === 429 || e.status === 408);

// Wait before the next try of an item: 10 s, doubling per failed try, at most 5 minutes.
const due = (item) => !item.next_at || item.next_at <= Date.now();
const backoff = (tries) => Math.min(300000, 10000 * 2 ** Math.max(0, tries - 1));

let running = null;
// flush(hooks, force): hooks.sent(item, caseJson), hooks.failed(item, error) for a refusal
// that a retry cannot fix (the item leaves the queue), hooks.progress(item, fraction). Items
// wait out their backoff unless force (the network just came back).
export function flush(hooks = {}, force = false) {
  if (running) return running;
  running = (async () => {
    let items = [];
    try { items = await list(); } catch (e) { return; }
    items.sort((a, b) => a.created.localeCompare(b.created));
    for (const item of items) {
      if (inflight.has(item.key) || (!force && !due(item))) continue;
      try {
        const c = await send(item, (f) => hooks.progress && hooks.progress(item, f));
        await remove(item.key);
        if (hooks.sent) hooks.sent(item, c);
      } catch (e) {
        if (retryable(e)) {
          item.tries = (item.tries || 0) + 1;
          item.last_error = e.code;
          item.next_at = Date.now() + backoff(item.tries);
          await put(item);
          break;
        }
        await remove(item.key);
        if (hooks.failed) hooks.failed(item, e);
      }
    }
  })().finally(() => { running = null; });
  return running;
}
