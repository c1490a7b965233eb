// web/app/js/store.js - what the device keeps: the reporter's cases and tokens (localStorage,
// so a citizen can follow and rate them later), a device id for "me too", and the crew's key
// (sessionStorage only: gone when the tab closes).
const CASES = 'reporta.cases';

export function myCases() {
  try { return JSON.parse(localStorage.getItem(CASES) || '[]'); } catch (e) { return []; }
}
export function rememberCase(id, token, service) {
  const list = myCases().filter((c) => c.id !== id);
  list.unshift({ id, token, service, at: new Date().toISOString() });
  localStorage.setItem(CASES, JSON.stringify(list.slice(0, 50)));
}
export function tokenFor(id) {
  const c = myCases().find((x) => x.id === id);
  return c ? c.token : null;
}
export function deviceId() {
  let d = localStorage.getItem('reporta.device');
  if (!d) {
    d = randomId();
    localStorage.setItem('reporta.device', d);
  }
  return d;
}
export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
export const crewKey = {
  get: () => sessionStorage.getItem('reporta.crew.key'),
  set: (k) => sessionStorage.setItem('reporta.crew.key', k),
  clear: () => sessionStorage.removeItem('reporta.crew.key'),
};
