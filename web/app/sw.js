// web/app/sw.js - the service worker: keeps the app shell (pages and the assets of this build)
// so the app opens without a network; the API, tiles and photos always go to the network (a
// report made offline waits in the page's queue, js/outbox.js, not here).
const CACHE = 'reporta-{{build}}';
const PAGES = ['/', '/caso', '/cuadrilla', '/grua', '/estadisticas'];
const ASSETS = {{shell}};
// What a citizen needs to write a report and follow a case with no network is fetched when the
// worker installs; the other pages' files are kept as they are first used.
const CORE = /\/(vendor\/leaflet\.(js|css)|vendor\/images\/marker-[a-z0-9-]+\.png|css\/app\.css|js\/(config|api|i18n|map|shell|store|outbox|report|case)\.js|icons\/icon\.svg)$/;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(PAGES.concat(ASSETS.filter((u) => CORE.test(u)))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('reporta-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The app's page for a path, or null (a photo, an export, the API: no offline stand-in).
function pageFor(path) {
  if (path === '/caso' || /^\/caso\/[^/]+$/.test(path)) return '/caso';
  return PAGES.includes(path) ? path : null;
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    const page = pageFor(url.pathname);
    if (!page) return;
    e.respondWith(fetch(req).catch(() => caches.open(CACHE).then((c) => c.match(page))
      .then((r) => r || Response.error())));
    return;
  }
  if (url.pathname.startsWith('/static/')) {
    e.respondWith(caches.open(CACHE).then((c) => c.match(req).then((hit) => hit || fetch(req).then((res) => {
      if (res.ok && ASSETS.includes(url.pathname)) c.put(req, res.clone());
      return res;
    }))));
  }
});
