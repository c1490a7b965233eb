// web/app/js/i18n.js - Spanish first (es-PA), English on request; the choice is kept on the
// device. Pages add their own strings with addStrings({es: {...}, en: {...}}); elements say
// what they show with data-i18n (text), data-i18n-placeholder, data-i18n-label (aria-label)
// and data-i18n-title, and apply() fills them in.
const dict = {
  es: {
    'nav.report': 'Reportar', 'nav.mine': 'Mis casos', 'nav.crew': 'Cuadrilla', 'nav.tow': 'Grúa',
    'nav.stats': 'Estadísticas', 'nav.skip': 'Saltar al contenido', 'nav.lang': 'English',
    'nav.lang.label': 'Switch to English', 'nav.menu': 'Secciones', 'brand': '311 Panamá',
    'err.offline': 'No hay conexión a internet. Inténtelo de nuevo cuando tenga señal.',
    'err.server': 'El servicio tiene un problema en este momento. Inténtelo de nuevo en unos minutos.',
    'err.generic': 'No se pudo completar la solicitud. Revise los datos e inténtelo de nuevo.',
    'err.invalid_coordinates': 'La ubicación no es válida. Marque el lugar en el mapa.',
    'err.outside_service_area': 'Ese punto está fuera de Panamá. Marque un lugar dentro del país.',
    'err.invalid_argument': 'Algún dato no es válido. Revise el formulario.',
    'err.invalid_json': 'Algún dato no es válido. Revise el formulario.',
    'err.invalid_plate': 'La placa no es válida: use letras y números, por ejemplo AB1234.',
    'err.not_found': 'No lo encontramos. Revise el número.',
    'err.unauthorized': 'La clave no es válida o ya no está activa.',
    'err.forbidden': 'No tiene permiso para hacer esto.',
    'err.conflict': 'Esto ya se hizo o cambió mientras tanto. Recargue la página.',
    'err.invalid_transition': 'El caso no puede pasar a ese estado ahora.',
    'err.payload_too_large': 'Las fotos son demasiado grandes. Use menos fotos o más pequeñas.',
    'err.unsupported_media_type': 'Ese archivo no es una foto (JPEG o PNG).',
    'err.invalid_image': 'Una foto está dañada. Elija otra.',
    'err.invalid_data': 'Algún dato no es válido. Revise el formulario.',
    'err.rate_limited': 'Demasiados intentos seguidos. Espere un momento e inténtelo de nuevo.',
    'err.unavailable': 'El servicio está ocupado. Inténtelo de nuevo en unos segundos.',
    'err.insufficient_storage': 'El servicio no puede guardar datos ahora. Inténtelo más tarde.',
    'status.received': 'Recibido', 'status.assigned': 'Asignado', 'status.in_progress': 'En proceso',
    'status.resolved': 'Resuelto', 'status.closed': 'Cerrado', 'status.rejected': 'Rechazado',
    'status.duplicate': 'Duplicado', 'loading': 'Cargando…', 'map.label': 'Mapa',
    'overdue': 'Vencido',
  },
  en: {
    'nav.report': 'Report', 'nav.mine': 'My cases', 'nav.crew': 'Crew', 'nav.tow': 'Towed car',
    'nav.stats': 'Statistics', 'nav.skip': 'Skip to content', 'nav.lang': 'Español',
    'nav.lang.label': 'Cambiar a español', 'nav.menu': 'Sections', 'brand': '311 Panama',
    'err.offline': 'No internet connection. Try again when you have signal.',
    'err.server': 'The service has a problem right now. Try again in a few minutes.',
    'err.generic': 'The request could not be completed. Check the details and try again.',
    'err.invalid_coordinates': 'The location is not valid. Mark the place on the map.',
    'err.outside_service_area': 'That point is outside Panama. Mark a place inside the country.',
    'err.invalid_argument': 'Some detail is not valid. Check the form.',
    'err.invalid_json': 'Some detail is not valid. Check the form.',
    'err.invalid_plate': 'The plate is not valid: use letters and digits, for example AB1234.',
    'err.not_found': 'We could not find it. Check the number.',
    'err.unauthorized': 'The key is not valid or no longer active.',
    'err.forbidden': 'You are not allowed to do this.',
    'err.conflict': 'This was done already or changed meanwhile. Reload the page.',
    'err.invalid_transition': 'The case cannot move to that status now.',
    'err.payload_too_large': 'The photos are too large. Use fewer or smaller photos.',
    'err.unsupported_media_type': 'That file is not a photo (JPEG or PNG).',
    'err.invalid_image': 'A photo is damaged. Choose another.',
    'err.invalid_data': 'Some detail is not valid. Check the form.',
    'err.rate_limited': 'Too many tries in a row. Wait a moment and try again.',
    'err.unavailable': 'The service is busy. Try again in a few seconds.',
    'err.insufficient_storage': 'The service cannot store data right now. Try later.',
    'status.received': 'Received', 'status.assigned': 'Assigned', 'status.in_progress': 'In progress',
    'status.resolved': 'Resolved', 'status.closed': 'Closed', 'status.rejected': 'Rejected',
    'status.duplicate': 'Duplicate', 'loading': 'Loading…', 'map.label': 'Map',
    'overdue': 'Overdue',
  },
};

export let lang = localStorage.getItem('reporta.lang') === 'en' ? 'en' : 'es';

export function addStrings(more) {
  for (const l of ['es', 'en']) Object.assign(dict[l], more[l] || {});
}

// t('key', {n: 3}) -> the string with {n} filled in; the key itself when unknown.
export function t(key, vars) {
  let s = dict[lang][key] ?? dict.es[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

export function apply(root = document) {
  document.documentElement.lang = lang === 'en' ? 'en' : 'es-PA';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

const listeners = [];
export function onLangChange(fn) { listeners.push(fn); }
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'es';
  localStorage.setItem('reporta.lang', lang);
  apply();
  for (const fn of listeners) fn(lang);
}

export const locale = () => (lang === 'en' ? 'en-US' : 'es-PA');
export function fmtDate(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(locale(), { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'America/Panama' });
}
export function fmtNumber(n, digits = 0) {
  if (n === null || n === undefined) return '—';
  return Number(n).toLocaleString(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
export function fmtMoney(cents) {
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'PAB' }).format(cents / 100);
}
