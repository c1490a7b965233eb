// web/app/js/api.js - calls to reporta's API on this origin. Every failure becomes an ApiError
// whose .text() is a sentence a citizen understands (never raw JSON); .offline tells a request
// that never reached the server (no network) from one the server refused.
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, offline = false, fromServer = false) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.offline = offline;
    this.fromServer = fromServer; // reporta's own {"error": {code, message}}, not a proxy's page
  }
  text() {
    if (this.offline) return t('err.offline');
    const key = 'err.' + this.code;
    const known = t(key);
    if (known !== key) return known;
    if (this.status >= 500) return t('err.server');
    return t('err.generic');
  }
}

function fail(status, body) {
  const e = body && body.error ? body.error : {};
  return new ApiError(status, e.code || 'http_' + status, e.message || '', false, !!e.code);
}

// fetch JSON: opts {method, body (object: sent as JSON), headers, key (Bearer), signal}
export async function api(path, opts = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
  let body = opts.body;
  if (body && !(body instanceof FormData) && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (opts.key) headers.Authorization = 'Bearer ' + opts.key;
  let res;
  try {
    res = await fetch(path, { method: opts.method || 'GET', headers, body, signal: opts.signal, cache: 'no-store' });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'offline', String(e), true);
  }
  let json = null;
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { json = await res.json(); } catch (e) { json = null; }
  }
  if (!res.ok) throw fail(res.status, json);
  return json;
}

// A multipart POST with upload progress (fetch has none): onprogress(fraction 0..1).
// Resolves {status, json}; rejects with ApiError.
export function upload(path, form, headers = {}, onprogress = null) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.setRequestHeader('Accept', 'application/json');
    x.responseType = 'text';
    x.timeout = 120000; // a stalled upload fails (as offline) instead of holding the queue
    if (onprogress) x.upload.onprogress = (e) => { if (e.lengthComputable) onprogress(e.loaded / e.total); };
    x.onerror = () => reject(new ApiError(0, 'offline', 'network error', true));
    x.ontimeout = x.onerror;
    x.onload = () => {
      let json = null;
      try { json = JSON.parse(x.responseText); } catch (e) { json = null; }
      if (x.status >= 200 && x.status < 300) resolve({ status: x.status, json });
      else reject(fail(x.status, json));
    };
    x.send(form);
  });
}
