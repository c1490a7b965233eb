// web/app/sw.js - the service worker: keeps the app shell (pages and the assets of this build)
// so the app opens without a network; the API, tiles and photos always go to the network (a
// report made offline waits in the page's queue, js/outbox.js, not here).
const CACHE = 'reporta-{{build}}';
const PAGES = ['/', '/caso', '/cuadrilla', '/grua', '/estadisticas'];
const ASSETS = {{shell}};

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(PAGES.concat(ASSETS))).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('reporta-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function pageFor(path) {
  if (path.startsWith('/caso')) return '/caso';
  return PAGES.includes(path) ? path : '/';
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    e.respondWith(fetch(req).catch(() => caches.open(CACHE).then((c) => c.match(pageFor(url.pathname)))
      .then((r) => r || Response.error())));
    return;
  }
  if (url.pathname.startsWith('/static/')) {
    e.respondWith(caches.open(CACHE).then((c) => c.match(req).then((hit) => hit || fetch(req))));
  }
});
