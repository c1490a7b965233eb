// web/app/js/config.js - what the server filled into the page: the build, the assets' prefix
// and the base map ({url, attribution, own}).
const el = document.getElementById('config');
export const config = el ? JSON.parse(el.textContent) : { build: 'dev', static: '', basemap: { url: '/tiles/areas/{z}/{x}/{y}.png', attribution: '', own: true } };
