// web/app/js/shell.js - what every page shares: the header with the sections and the language
// switch, the service worker (the app shell works offline), a polite live region for news
// ("enviado", "pendiente de envío") and a small DOM helper.
import { apply, lang, setLang, t } from './i18n.js';

// el('button', {class: 'x', onclick: fn, 'aria-label': '...'}, 'text', child, ...)
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

const sections = [
  ['/', 'nav.report'],
  ['/caso', 'nav.mine'],
  ['/grua', 'nav.tow'],
  ['/estadisticas', 'nav.stats'],
  ['/cuadrilla', 'nav.crew'],
];

export function header(current) {
  const top = document.getElementById('top');
  if (!top) return;
  const nav = el('nav', { 'data-i18n-label': 'nav.menu' },
    el('ul', {}, sections.map(([href, key]) => el('li', {},
      el('a', { href, 'data-i18n': key, 'aria-current': href === current ? 'page' : null })))));
  const sw = el('button', { type: 'button', class: 'lang', 'data-i18n': 'nav.lang', 'data-i18n-label': 'nav.lang.label',
    onclick: () => setLang(lang === 'en' ? 'es' : 'en') });
  top.replaceChildren(el('a', { class: 'brand', href: '/', 'data-i18n': 'brand' }), nav, sw);
}

// announce(text, kind): shown in the page's #notice and read by screen readers.
export function announce(text, kind = 'info') {
  const n = document.getElementById('notice');
  if (!n) return;
  n.textContent = text;
  n.className = 'notice ' + kind;
  n.hidden = !text;
}

// opts.ownOutbox: the page sends waiting reports itself (the report page, which shows them);
// every other page sends them quietly, so a report queued offline leaves on any page.
export function start(current, opts = {}) {
  header(current);
  apply();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
  }
  if (!opts.ownOutbox && 'indexedDB' in window) {
    import('./outbox.js').then((o) => {
      o.flush();
      window.addEventListener('online', () => o.flush({}, true));
      setInterval(() => o.flush(), 15000);
    }).catch(() => {});
  }
}

export { t };
