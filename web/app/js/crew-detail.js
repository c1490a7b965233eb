// web/app/js/crew-detail.js - one case on the crew page: what the citizen reported (with the
// contact, which the API gives only to the entity's staff), photos, history, and the form that
// moves the case along the workflow of docs/api.md, optionally with an "after" photo. The photo
// goes first: a bad file then changes nothing, and the crew fixes it and sends again.
import { api, upload } from './api.js';
import { el } from './shell.js';
import { t, fmtDate, fmtNumber } from './i18n.js';

// docs/api.md, "Workflow": the statuses a case may move to from each status.
export const NEXT = {
  received: ['assigned', 'in_progress', 'resolved', 'rejected', 'duplicate'],
  assigned: ['in_progress', 'resolved', 'rejected', 'duplicate'],
  in_progress: ['assigned', 'resolved'],
  resolved: ['closed', 'in_progress'],
  closed: [], rejected: [], duplicate: [],
};
const CASE_ID = /^\d{4}-\d{6,7}$/;

function row(label, ...value) {
  return [el('dt', {}, label), el('dd', {}, ...value)];
}

function place(loc) {
  if (!loc) return '—';
  const names = ['corregimiento', 'distrito', 'provincia'].map((l) => loc[l] && loc[l].name).filter(Boolean);
  return names.join(', ') || `${fmtNumber(loc.lat, 5)}, ${fmtNumber(loc.lon, 5)}`;
}

function historyItem(h) {
  let what;
  if (h.kind === 'status') what = t('crew.h.status', { from: t('status.' + h.from), to: t('status.' + h.to) });
  else what = t('crew.h.' + h.kind) === 'crew.h.' + h.kind ? h.kind : t('crew.h.' + h.kind);
  return el('li', {}, el('strong', {}, what), ' · ', el('time', { datetime: h.at }, fmtDate(h.at)),
    h.note ? el('div', { class: 'crew-note' }, h.note) : null);
}

function contact(r) {
  if (!r || !(r.name || r.phone || r.email)) return el('p', { class: 'hint' }, t('crew.d.noreporter'));
  return el('dl', { class: 'crew-dl' },
    r.name ? row(t('crew.d.name'), r.name) : null,
    r.phone ? row(t('crew.d.phone'), el('a', { href: 'tel:' + r.phone.replace(/[^\d+]/g, '') }, r.phone)) : null,
    r.email ? row(t('crew.d.email'), el('a', { href: 'mailto:' + r.email }, r.email)) : null);
}

function photos(list) {
  let nReport = 0, nAfter = 0;
  return el('div', { class: 'photos' }, list.map((p) => {
    const alt = p.kind === 'after' ? t('crew.d.photo.after', { n: ++nAfter }) : t('crew.d.photo', { n: ++nReport });
    return el('a', { href: p.url, target: '_blank', rel: 'noopener', class: 'crew-photo ' + p.kind },
      el('img', { src: p.thumbnail_url, alt, width: 96, height: 96 }));
  }));
}

// The status form. ctx: {key, onDone(case, status, withPhoto)}
function statusForm(c, ctx) {
  const next = NEXT[c.status] || [];
  if (!next.length) return el('p', { class: 'hint' }, t('crew.form.final'));
  const err = el('p', { class: 'notice error', role: 'alert', id: 'status-error', hidden: true });
  const select = el('select', { id: 'status-to', name: 'status', required: true },
    el('option', { value: '' }, t('crew.form.choose')),
    next.map((s) => el('option', { value: s }, t('status.' + s))));
  const dupWrap = el('div', { hidden: true },
    el('label', { for: 'status-dup' }, t('crew.form.dup')),
    el('input', { type: 'text', id: 'status-dup', name: 'duplicate_of', inputmode: 'numeric', autocomplete: 'off',
      pattern: '\\d{4}-\\d{6,7}', 'aria-describedby': 'status-dup-hint' }),
    el('p', { class: 'hint', id: 'status-dup-hint' }, t('crew.form.dup.hint')));
  const note = el('textarea', { id: 'status-note', name: 'note', maxlength: 2000, 'aria-describedby': 'status-note-hint' });
  const file = el('input', { type: 'file', id: 'status-photo', name: 'photo', accept: 'image/jpeg,image/png' });
  const progress = el('progress', { id: 'status-progress', max: 1, value: 0, hidden: true });
  const send = el('button', { type: 'submit', id: 'status-send' }, t('crew.form.send'));
  select.addEventListener('change', () => { dupWrap.hidden = select.value !== 'duplicate'; });

  const form = el('form', { id: 'status-form', novalidate: true, 'aria-labelledby': 'status-h' },
    el('h3', { id: 'status-h' }, t('crew.form')),
    el('label', { for: 'status-to' }, t('crew.form.to')), select, dupWrap,
    el('label', { for: 'status-note' }, t('crew.form.note')), note,
    el('p', { class: 'hint', id: 'status-note-hint' }, t('crew.form.note.hint')),
    el('label', { for: 'status-photo' }, t('crew.form.photo')), file, progress, err,
    el('p', {}, send));

  const fail = (text, focus) => { err.textContent = text; err.hidden = false; if (focus) focus.focus(); };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const status = select.value;
    const dup = dupWrap.querySelector('input').value.trim();
    if (!status) return fail(t('crew.form.nostatus'), select);
    if (status === 'duplicate' && !CASE_ID.test(dup)) return fail(t('crew.form.nodup'), dupWrap.querySelector('input'));
    send.disabled = true;
    send.textContent = t('crew.form.sending');
    const photo = file.files && file.files[0];
    try {
      if (photo) {
        const fd = new FormData();
        fd.append('photo', photo, photo.name || 'foto.jpg');
        progress.hidden = false;
        try {
          await upload(`/api/v1/reports/${encodeURIComponent(c.id)}/photos`, fd, { Authorization: 'Bearer ' + ctx.key },
            (f) => { progress.value = f; });
        } catch (e) {
          if (e && e.text) throw Object.assign(new Error('photo'), { shown: t('crew.photo.failed', { why: e.text() }) });
          throw e;
        }
      }
      const body = { status, note: note.value.trim() };
      if (status === 'duplicate') body.duplicate_of = dup;
      const updated = await api(`/api/v1/reports/${encodeURIComponent(c.id)}/status`, { method: 'POST', body, key: ctx.key });
      await ctx.onDone(updated, status, Boolean(photo));
    } catch (e) {
      send.disabled = false;
      send.textContent = t('crew.form.send');
      progress.hidden = true;
      fail(e.shown || (e.text ? e.text() : String(e)), null);
      err.focus();
    }
  });
  err.tabIndex = -1;
  return form;
}

// Fills section#detail with the case c (GET /api/v1/reports/{id} with the key) and its history.
export function renderDetail(section, c, history, ctx) {
  const loc = c.location || {};
  section.replaceChildren(...[
    el('div', { class: 'row crew-detail-head' },
      el('h2', { id: 'detail-h', tabindex: '-1' }, t('crew.detail', { id: c.id })),
      el('button', { type: 'button', class: 'secondary', id: 'detail-close', onclick: ctx.onClose }, t('crew.d.close'))),
    el('p', { class: 'row' },
      el('span', { class: `badge status-${c.status}`, id: 'detail-status' }, t('status.' + c.status)),
      c.overdue ? el('span', { class: 'badge overdue' }, t('overdue')) : null,
      el('span', {}, ctx.serviceName(c.service_code))),
    el('dl', { class: 'crew-dl' },
      row(t('crew.d.place'), place(loc)),
      c.address ? row(t('crew.d.address'), c.address) : null,
      c.description ? row(c.private ? t('crew.d.private') : t('crew.d.desc'), c.description) : null,
      row(t('crew.d.created'), el('time', { datetime: c.created_at }, fmtDate(c.created_at))),
      row(t('crew.d.due'), el('time', { datetime: c.due_at }, fmtDate(c.due_at))),
      row(t('crew.d.confirm'), fmtNumber(c.confirmations || 0))),
    el('h3', {}, t('crew.d.reporter')), contact(c.reporter),
    c.photos && c.photos.length ? [el('h3', {}, t('crew.d.photos')), photos(c.photos)] : null,
    statusForm(c, ctx),
    history && history.length ? [el('h3', {}, t('crew.d.history')), el('ol', { class: 'timeline' }, history.slice().reverse().map(historyItem))] : null,
    el('p', {}, el('a', { href: '/caso/' + encodeURIComponent(c.id) }, t('crew.d.public'))),
  ].flat().filter(Boolean));
  section.hidden = false;
}

export async function loadCase(id, key) {
  const enc = encodeURIComponent(id);
  const [c, h] = await Promise.all([
    api(`/api/v1/reports/${enc}`, { key }),
    api(`/api/v1/reports/${enc}/history`, { key }).catch(() => null),
  ]);
  return { c, history: h && h.history ? h.history : [] };
}
