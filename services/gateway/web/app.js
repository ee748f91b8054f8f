// MemorialTube for families: one ES module, no build step. It talks only to the public REST API
// (/api/v1) and the job event stream (GET /api/v1/jobs/{id}/events). All words come from messages.js.
import { LANGS, MESSAGES, stageKey } from './messages.js';

// ------------------------------------------------------------------ language
const LANG_KEY = 'mt.lang';
function pickLang() {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && LANGS.includes(saved)) return saved;
  } catch { /* storage blocked: fall through */ }
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}
let lang = pickLang();

/** A message in the current language, `{name}` filled from vars. */
function t(key, vars = {}) {
  const s = MESSAGES[lang][key] ?? MESSAGES.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
}
const plural = (n, one, many) => (n === 1 ? t(one) : t(many, { n }));

/** The script a name is written in, so it is spoken and drawn right (lang attribute). */
function scriptLang(text) {
  if (/[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/.test(text)) return 'ko';
  if (/[\u3040-\u30ff]/.test(text)) return 'ja';
  if (/[\u4e00-\u9fff]/.test(text)) return lang === 'ko' ? 'ko' : 'zh';
  if (/^[\p{Script=Latin}\p{N}\p{P}\p{Zs}]+$/u.test(text)) return 'en';
  return null;
}
const nameSpan = (text, cls) => h('span', { class: cls, lang: text ? scriptLang(text) : null, dir: 'auto' }, text ?? '');

/** "1941" or "1941-03-02" in the reader's own way of writing dates. */
function fmtLifeDate(v) {
  if (!v) return '';
  const m = /^(\d{4})(?:-(\d{2})-(\d{2}))?$/.exec(v);
  if (!m) return v;
  const d = new Date(Date.UTC(+m[1], m[2] ? +m[2] - 1 : 0, m[3] ? +m[3] : 1));
  const opts = m[2] ? { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' } : { year: 'numeric', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(lang, opts).format(d);
}
/** "born – died" with each date kept on one line. */
function fmtYears(p) {
  if (!p.born && !p.died) return '';
  const [before, mid, after] = t('m.years', { born: '\u0001', died: '\u0002' }).split(/[\u0001\u0002]/);
  return h('span', { class: 'years' }, before, h('span', { class: 'date' }, fmtLifeDate(p.born) || '?'), mid, p.died ? h('span', { class: 'date' }, fmtLifeDate(p.died)) : '', after);
}
const fmtDate = (iso) => new Intl.DateTimeFormat(lang, { dateStyle: 'long' }).format(new Date(iso));
function fmtSize(bytes) {
  const mb = bytes / 1048576;
  return mb >= 1 ? `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(mb)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
function fmtDuration(sec) {
  const s = Math.round(sec ?? 0);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// ------------------------------------------------------------------ DOM helpers
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat(Infinity)) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const $ = (sel, root = document) => root.querySelector(sel);

const live = () => $('#live');
let lastAnnounce = '';
/** Says something to screen readers (polite), without repeating itself. */
function announce(text) {
  if (!text || text === lastAnnounce) return;
  lastAnnounce = text;
  const el = live();
  el.textContent = '';
  setTimeout(() => (el.textContent = text), 50);
}

/** Rebuilds part of the page and puts the keyboard focus back where it was (by data-focus key). */
function replace(container, ...kids) {
  const key = document.activeElement?.getAttribute?.('data-focus');
  container.replaceChildren(...kids.flat());
  if (key) {
    const again = container.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (again && !again.disabled) again.focus();
  }
}

// ------------------------------------------------------------------ API
class ApiError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}
async function api(method, path, body) {
  let r;
  try {
    r = await fetch(`/api/v1${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('network', t('err.network'));
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(data?.error?.code ?? `http_${r.status}`, data?.error?.message ?? t('err.tryAgain'), data?.error?.details ?? {});
  return data;
}

/** What went wrong, in words, and what to do next. Server messages are English (marked so). */
function errorView(e) {
  if (e.code === 'network') return [t('err.network')];
  if (e.code === 'not_found') return [t('err.notFound'), ' ', h('a', { href: '#/' }, t('nav.home'))];
  if (e.code === 'project_busy') return [t('err.busy')];
  return [h('span', { lang: 'en' }, e.message), ' ', t('err.tryAgain')];
}
function showError(container, e) {
  const box = h('div', { class: 'notice notice-error', role: 'alert' }, h('p', null, errorView(e)), h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => box.remove() }, t('err.close')));
  container.replaceChildren(box);
}

/** One file in one request, so one refused file never stops the others. Upload progress from XHR. */
function uploadOne(projectId, file, onProgress, onSent) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/projects/${encodeURIComponent(projectId)}/assets`);
    xhr.responseType = 'json';
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.upload.onload = () => onSent();
    xhr.onload = () => {
      const b = xhr.response;
      if (xhr.status === 201) resolve({ ok: true, items: b.items });
      else resolve({ ok: false, reason: b?.error?.details?.reason ?? b?.error?.message ?? t('err.tryAgain') });
    };
    xhr.onerror = () => resolve({ ok: false, reason: t('err.network') });
    const form = new FormData();
    form.append('files', file, file.name);
    xhr.send(form);
  });
}

// ------------------------------------------------------------------ app shell
const main = () => $('#main');
let view = null; // the current view's cleanup
let navigated = false;

function shell() {
  document.documentElement.lang = lang;
  document.title = t('app.name');
  $('#skip').textContent = t('skip');
  $('#home').textContent = t('app.name');
  const sw = $('#lang');
  sw.textContent = t('lang.switch');
  sw.setAttribute('lang', lang === 'en' ? 'ko' : 'en');
  // The language's own name is the button's name (read in that language); the hint is a description.
  sw.setAttribute('title', t('lang.switchLabel'));
  $('#lang-hint').textContent = t('lang.switchLabel');
  $('#tagline').textContent = t('app.tagline');
}

function setTitle(...parts) {
  document.title = [...parts, t('app.name')].filter(Boolean).join(' — ');
}

/** Focus the new view's heading after a navigation, so screen readers start there. */
function focusHeading() {
  if (!navigated) return;
  const h1 = $('#main h1');
  h1?.focus();
}

function route() {
  view?.stop();
  view = null;
  shell();
  const hash = location.hash.replace(/^#/, '') || '/';
  const m = /^\/m\/([\w-]{1,64})$/.exec(hash);
  if (hash === '/new') view = createView();
  else if (m) view = memorialView(m[1]);
  else view = listView();
}

// ------------------------------------------------------------------ list of memorials
const STATUS_CLASS = { draft: 'badge', running: 'badge badge-running', completed: 'badge badge-done', failed: 'badge badge-warn', canceled: 'badge' };
const statusBadge = (s) => h('span', { class: STATUS_CLASS[s] ?? 'badge' }, t(`status.${s}`));

function listView() {
  setTitle(t('list.title'));
  const list = h('ul', { class: 'cards', role: 'list' });
  const err = h('div');
  const more = h('div', { class: 'more' });
  const empty = h('p', { class: 'empty', hidden: true }, t('list.empty'));
  main().replaceChildren(
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { tabindex: '-1' }, t('list.title')), h('p', { class: 'lead' }, t('list.intro'))),
      h('a', { class: 'btn btn-primary', href: '#/new' }, t('list.create'))),
    err,
    h('p', { class: 'muted', id: 'list-loading' }, t('loading')),
    empty,
    list,
    more,
  );
  focusHeading();
  let alive = true;
  const load = async (cursor) => {
    try {
      const r = await api('GET', `/projects?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (!alive) return;
      $('#list-loading')?.remove();
      for (const p of r.items) list.append(card(p));
      empty.hidden = list.children.length > 0;
      more.replaceChildren(r.next_cursor ? h('button', { type: 'button', class: 'btn', onclick: () => load(r.next_cursor) }, t('list.more')) : '');
    } catch (e) {
      $('#list-loading')?.remove();
      showError(err, e);
    }
  };
  load();
  return { stop: () => void (alive = false) };
}

function card(p) {
  const years = fmtYears(p);
  return h('li', { class: 'card' },
    h('a', { class: 'card-link', href: `#/m/${p.id}` },
      h('span', { class: 'card-title' }, nameSpan(p.title)),
      p.subject_name || years ? h('span', { class: 'card-sub' }, p.subject_name ? nameSpan(p.subject_name) : '', p.subject_name && years ? ' · ' : '', years) : ''),
    h('span', { class: 'card-meta' }, statusBadge(p.status), h('span', null, plural(p.photo_count, 'list.photos1', 'list.photos')), h('span', null, t('list.created', { date: fmtDate(p.created_at) }))));
}

// ------------------------------------------------------------------ create
const DATE_RE = /^\d{4}(-\d{2}-\d{2})?$/;

function radioGroup(name, legend, options, checked) {
  return h('fieldset', { class: 'choices' },
    h('legend', null, legend),
    h('div', { class: 'choice-row' },
      options.map(([value, label, hint]) => {
        const id = `${name}-${value}`;
        return h('div', { class: 'choice' },
          h('input', { type: 'radio', name, id, value, checked: value === checked, 'aria-describedby': `${id}-hint` }),
          h('label', { for: id }, h('span', { class: 'choice-label' }, label), h('span', { class: 'choice-hint', id: `${id}-hint` }, hint)));
      })));
}

function field(id, label, input, hint) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : '',
    input,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

function createView() {
  setTitle(t('create.title'));
  const err = h('div');
  const described = (id, hint) => [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  const form = h('form', { class: 'panel form', novalidate: true },
    field('f-title', t('create.fTitle'), h('input', { id: 'f-title', name: 'title', required: true, maxlength: '200', autocomplete: 'off', 'aria-describedby': described('f-title', true) }), t('create.fTitleHint')),
    field('f-name', t('create.fName'), h('input', { id: 'f-name', name: 'subject_name', maxlength: '200', autocomplete: 'off', 'aria-describedby': described('f-name', true) }), t('create.fNameHint')),
    h('div', { class: 'two' },
      field('f-born', t('create.fBorn'), h('input', { id: 'f-born', name: 'born', inputmode: 'numeric', maxlength: '10', placeholder: '1941', autocomplete: 'off', 'aria-describedby': 'f-date-hint f-born-error' })),
      field('f-died', t('create.fDied'), h('input', { id: 'f-died', name: 'died', inputmode: 'numeric', maxlength: '10', placeholder: '2026', autocomplete: 'off', 'aria-describedby': 'f-date-hint f-died-error' }))),
    h('p', { class: 'hint', id: 'f-date-hint' }, t('create.fDateHint')),
    radioGroup('transition_seconds', t('create.fLength'), [['6', t('create.len6'), t('create.len6Hint')], ['10', t('create.len10'), t('create.len10Hint')]], '6'),
    radioGroup('resolution', t('create.fResolution'), [['720p', t('create.res720'), t('create.res720Hint')], ['1080p', t('create.res1080'), t('create.res1080Hint')]], '1080p'),
    radioGroup('transition_style', t('create.fStyle'), [
      ['auto', t('create.styleAuto'), t('create.styleAutoHint')],
      ['generative', t('create.styleGenerative'), t('create.styleGenerativeHint')],
      ['classic', t('create.styleClassic'), t('create.styleClassicHint')],
    ], 'auto'),
    err,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-submit' }, t('create.submit')),
      h('a', { class: 'btn btn-quiet', href: '#/' }, t('create.cancel'))));

  const fieldError = (name, msg) => {
    const input = form.elements[name];
    const box = $(`#${input.id}-error`);
    box.textContent = msg ?? '';
    box.hidden = !msg;
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    return msg ? input : null;
  };

  // A message about a field goes away as soon as it is being corrected.
  form.addEventListener('input', (ev) => {
    if (ev.target.getAttribute('aria-invalid')) fieldError(ev.target.name, null);
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.replaceChildren();
    const v = Object.fromEntries(new FormData(form));
    const title = String(v.title ?? '').trim();
    const born = String(v.born ?? '').trim();
    const died = String(v.died ?? '').trim();
    const bad = [
      fieldError('title', title ? null : t('create.errTitle')),
      fieldError('born', !born || DATE_RE.test(born) ? null : t('create.errDate')),
      fieldError('died', !died || DATE_RE.test(died) ? null : died && born && died.slice(0, 4) < born.slice(0, 4) ? t('create.errOrder') : t('create.errDate')),
    ].filter(Boolean);
    if (!bad.length && born && died && DATE_RE.test(born) && DATE_RE.test(died) && died < born) bad.push(fieldError('died', t('create.errOrder')));
    if (bad.length) return bad[0].focus();
    const body = {
      title,
      transition_seconds: Number(v.transition_seconds),
      resolution: v.resolution,
      transition_style: v.transition_style,
      ...(String(v.subject_name ?? '').trim() ? { subject_name: String(v.subject_name).trim() } : {}),
      ...(born ? { born } : {}),
      ...(died ? { died } : {}),
    };
    const submit = $('#create-submit');
    submit.disabled = true;
    try {
      const p = await api('POST', '/projects', body);
      location.hash = `#/m/${p.id}`;
    } catch (e) {
      submit.disabled = false;
      const input = e.details?.field && form.elements[e.details.field];
      if (input && input.id) {
        fieldError(e.details.field, e.message);
        input.focus();
      } else showError(err, e);
    }
  });

  main().replaceChildren(h('div', { class: 'page-head' }, h('div', null, h('h1', { tabindex: '-1' }, t('create.title')), h('p', { class: 'lead' }, t('create.intro')))), form);
  focusHeading();
  return {
    stop: () => {},
    // A new language keeps what was typed and chosen.
    relabel: () => {
      const kept = [...new FormData(form)];
      const next = createView();
      const f = $('#main form');
      for (const [k, v] of kept) {
        const el = f.elements[k];
        if (el) el.value = v;
      }
      return next;
    },
  };
}

// ------------------------------------------------------------------ one memorial
const thumbs = new Map(); // asset id → object URL of the family's own file (kept for this visit)
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

function memorialView(id) {
  let alive = true;
  let project = null;
  let tiles = []; // { key, asset?, file?, name, state: queued|uploading|checking|done|refused, pct, reason }
  let music = null; // Asset
  let musicUp = null; // { name, state, pct, reason }
  let job = null; // { id, type, status, stage, pct, detail, first, last: {t, pct} (the first and latest progress seen), canceling }
  let outcome = null; // { kind: done|canceled|failed|info, key, reason?, next? } (keys, so a language switch re-words it)
  let stream = null;
  let uploading = 0;
  let tileSeq = 0;
  let dragKey = null;
  let lastSpokenPct = -1;

  const sec = {
    head: h('div', { class: 'page-head' }),
    err: h('div', { class: 'errors' }),
    photos: h('section', { class: 'panel', 'aria-labelledby': 'photos-h' }),
    music: h('section', { class: 'panel', 'aria-labelledby': 'music-h' }),
    make: h('section', { class: 'panel', 'aria-labelledby': 'make-h' }),
    video: h('section', { class: 'panel', 'aria-labelledby': 'video-h', hidden: true }),
  };
  main().replaceChildren(h('p', { class: 'muted' }, t('loading')));

  const photoTiles = () => tiles.filter((x) => x.state === 'done');
  const busy = () => Boolean(job && !TERMINAL.has(job.status));
  /** What a file being sent says: how far it got, then that the server is checking it. */
  const uploadStatus = (u) => (u.state === 'checking' ? t('m.checking') : t('m.uploading', { pct: Math.round(u.pct * 100) }));

  // -------- header
  function renderHead() {
    const years = fmtYears(project);
    const st = project.settings;
    const style = { auto: t('create.styleAuto'), generative: t('create.styleGenerative'), classic: t('create.styleClassic') }[st.transition_style];
    replace(sec.head,
      h('div', null,
        h('p', { class: 'crumb' }, h('a', { href: '#/' }, `← ${t('nav.home')}`)),
        h('h1', { tabindex: '-1' }, nameSpan(project.title)),
        project.subject_name || years ? h('p', { class: 'lead' }, project.subject_name ? nameSpan(project.subject_name, 'subject') : '', project.subject_name && years ? ' · ' : '', years) : '',
        h('p', { class: 'muted small' }, t('m.settings', { seconds: st.transition_seconds, resolution: st.resolution, style }))),
      h('div', null, statusBadge(project.status)));
    setTitle(project.title);
  }

  // -------- photos
  /** One tile; pos is its place among the photos (-1 while not a photo yet), count how many photos there are. */
  function tileView(tile, pos, count) {
    const name = tile.name;
    const thumb = tile.asset ? thumbs.get(tile.asset.id) : tile.url;
    const done = tile.state === 'done';
    const locked = busy() || uploading > 0;
    let status;
    if (tile.state === 'queued') status = t('m.waiting');
    else if (tile.state === 'uploading' || tile.state === 'checking') status = uploadStatus(tile);
    else if (tile.state === 'refused') status = t('m.refused');
    else status = t('m.photoN', { n: pos + 1 });
    const li = h('li', {
      class: `tile tile-${tile.state}`,
      id: `tile-${tile.key}`,
      'data-key': tile.key,
      draggable: done && !locked ? 'true' : null,
      'aria-label': done ? t('m.photoOf', { n: pos + 1, total: count, name }) : null,
    },
    h('div', { class: 'thumb' },
      thumb
        ? h('img', { src: thumb, alt: '', decoding: 'async', width: '160', height: '160', onerror: (e) => e.target.replaceWith(h('span', { class: 'thumb-empty', 'aria-hidden': 'true' })) })
        : h('span', { class: 'thumb-empty', 'aria-hidden': 'true' }),
      done ? h('span', { class: 'pos', 'aria-hidden': 'true' }, String(pos + 1)) : '',
      tile.state === 'uploading' || tile.state === 'queued' || tile.state === 'checking'
        ? h('progress', { class: 'bar', id: `prog-${tile.key}`, max: '100', value: tile.state === 'checking' ? '100' : String(Math.round(tile.pct * 100)), 'aria-label': name })
        : '',
      tile.state === 'refused' ? h('div', { class: 'refusal', tabindex: '0', role: 'group', 'aria-label': `${t('m.refused')}: ${name}` }, h('p', { lang: 'en' }, tile.reason), h('p', null, t('m.refusedWhat'))) : ''),
    h('p', { class: 'tile-name', title: name }, nameSpan(name)),
    h('p', { class: 'tile-status', id: `status-${tile.key}` }, status),
    h('div', { class: 'tile-actions' },
      done
        ? [
            h('button', { type: 'button', class: 'icon-btn', 'data-focus': `up-${tile.key}`, 'aria-label': t('m.moveUpLabel', { name }), title: t('m.moveUp'), disabled: pos === 0 || locked, onclick: () => move(tile, -1, 'up') }, h('span', { 'aria-hidden': 'true' }, '←')),
            h('button', { type: 'button', class: 'icon-btn', 'data-focus': `down-${tile.key}`, 'aria-label': t('m.moveDownLabel', { name }), title: t('m.moveDown'), disabled: pos === count - 1 || locked, onclick: () => move(tile, 1, 'down') }, h('span', { 'aria-hidden': 'true' }, '→')),
            h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'data-focus': `rm-${tile.key}`, 'aria-label': t('m.removeLabel', { name }), disabled: busy(), onclick: () => remove(tile) }, t('m.remove')),
          ]
        : tile.state === 'refused'
          ? h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'aria-label': t('m.dismissLabel', { name }), onclick: () => dismiss(tile) }, t('m.dismiss'))
          : ''));
    if (done) {
      li.addEventListener('dragstart', (e) => {
        dragKey = tile.key;
        e.dataTransfer.effectAllowed = 'move';
        e.dataTransfer.setData('text/plain', tile.key);
        li.classList.add('dragging');
      });
      li.addEventListener('dragend', () => {
        dragKey = null;
        li.classList.remove('dragging');
        sec.photos.querySelectorAll('.drop-before,.drop-after').forEach((x) => x.classList.remove('drop-before', 'drop-after'));
      });
      li.addEventListener('dragover', (e) => {
        if (!dragKey || dragKey === tile.key) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'move';
        const r = li.getBoundingClientRect();
        const after = e.clientX > r.left + r.width / 2;
        li.classList.toggle('drop-after', after);
        li.classList.toggle('drop-before', !after);
      });
      li.addEventListener('dragleave', () => li.classList.remove('drop-before', 'drop-after'));
      li.addEventListener('drop', (e) => {
        if (!dragKey || dragKey === tile.key) return;
        e.preventDefault();
        e.stopPropagation();
        const r = li.getBoundingClientRect();
        const after = e.clientX > r.left + r.width / 2;
        dropOn(dragKey, tile.key, after);
      });
    }
    return li;
  }

  function renderPhotos() {
    const photoInput = h('input', { type: 'file', id: 'photo-input', multiple: true, accept: 'image/*,.heic,.heif,.tif,.tiff', hidden: true, 'aria-label': t('m.pick'), onchange: (e) => { addFiles([...e.target.files]); e.target.value = ''; } });
    const zone = h('div', { class: 'dropzone', id: 'dropzone' },
      h('p', { class: 'drop-title' }, t('m.drop')),
      h('p', { class: 'muted' }, t('m.dropOr')),
      h('button', { type: 'button', class: 'btn', 'data-focus': 'pick', disabled: busy(), onclick: () => photoInput.click() }, t('m.pick')),
      // While files upload, the same line says why photos cannot be moved yet (no new line, nothing shifts).
      h('p', { class: 'hint', id: 'drop-hint' }, uploading > 0 ? t('m.busyReorder') : t('m.dropHint')),
      photoInput);
    for (const ev of ['dragenter', 'dragover'])
      zone.addEventListener(ev, (e) => {
        if (dragKey || !e.dataTransfer?.types?.includes('Files')) return;
        e.preventDefault();
        zone.classList.add('over');
      });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      if (dragKey) return;
      e.preventDefault();
      zone.classList.remove('over');
      if (!busy()) addFiles([...(e.dataTransfer?.files ?? [])]);
    });
    const count = photoTiles().length;
    let pos = 0; // photoTiles() keeps the order of tiles, so a running count is each photo's place
    const grid = h('ol', { class: 'grid', id: 'photo-grid', 'aria-describedby': 'photos-intro' }, tiles.map((x) => tileView(x, x.state === 'done' ? pos++ : -1, count)));
    replace(sec.photos,
      h('h2', { id: 'photos-h', tabindex: '-1' }, t('m.photos')),
      h('p', { class: 'muted', id: 'photos-intro' }, t('m.photosIntro')),
      zone,
      tiles.length ? grid : h('p', { class: 'empty' }, t('m.noPhotos')));
  }

  /** Updates one tile's progress in place (no rebuild, so nothing moves and focus stays). */
  function paintProgress(tile) {
    const li = $(`#tile-${tile.key}`);
    const bar = $(`#prog-${tile.key}`);
    const st = $(`#status-${tile.key}`);
    if (li) li.className = `tile tile-${tile.state}`;
    if (bar) bar.value = tile.state === 'checking' ? 100 : Math.round(tile.pct * 100);
    if (st) st.textContent = uploadStatus(tile);
  }

  let queue = Promise.resolve();
  function addFiles(files) {
    if (!files.length) return;
    const audio = files.filter((f) => f.type.startsWith('audio/'));
    const photos = files.filter((f) => !f.type.startsWith('audio/'));
    if (audio.length) uploadMusic(audio[audio.length - 1]);
    const fresh = photos.map((f) => ({ key: `u${++tileSeq}`, file: f, name: f.name, state: 'queued', pct: 0, url: f.type.startsWith('image/') ? URL.createObjectURL(f) : null }));
    if (!fresh.length) return;
    tiles.push(...fresh);
    uploading += fresh.length;
    renderPhotos();
    renderMake();
    let ok = 0;
    let bad = 0;
    // One request per file, one at a time: order kept, and a refused file never stops the rest.
    queue = queue.then(async () => {
      for (const tile of fresh) {
        if (!alive) return;
        tile.state = 'uploading';
        paintProgress(tile);
        const r = await uploadOne(id, tile.file, (p) => { tile.pct = p; paintProgress(tile); }, () => { tile.state = 'checking'; paintProgress(tile); });
        uploading--;
        if (r.ok) {
          ok++;
          const a = r.items[0];
          if (a.kind === 'audio') {
            music = a;
            tiles = tiles.filter((x) => x !== tile);
            renderMusic();
          } else {
            tile.asset = a;
            tile.state = 'done';
            if (tile.url) thumbs.set(a.id, tile.url);
          }
        } else {
          bad++;
          tile.state = 'refused';
          tile.reason = r.reason;
          if (tile.url) URL.revokeObjectURL(tile.url);
          tile.url = null;
        }
        renderPhotos();
      }
      announce(bad ? t('m.uploadSummary', { ok, bad }) : t('m.uploadDone', { ok }));
      await refreshProject();
      renderMake();
    });
  }

  function dismiss(tile) {
    const i = tiles.indexOf(tile);
    tiles = tiles.filter((x) => x !== tile);
    renderPhotos();
    // The tile that took its place, else the first tile with a usable button, else the heading.
    const target = (tiles[i] && $(`#tile-${tiles[i].key} button:not(:disabled)`, sec.photos)) ?? $('.tile button:not(:disabled)', sec.photos) ?? $('#photos-h');
    target.focus();
  }

  async function saveOrder(before) {
    try {
      await api('PUT', `/projects/${id}/assets/order`, { asset_ids: photoTiles().map((x) => x.asset.id) });
      return true;
    } catch (e) {
      tiles = before;
      renderPhotos();
      showError(sec.err, e);
      return false;
    }
  }

  async function move(tile, delta, dir) {
    const list = photoTiles();
    const from = list.indexOf(tile);
    const to = from + delta;
    if (to < 0 || to >= list.length) return;
    const before = [...tiles];
    const other = list[to];
    const a = tiles.indexOf(tile);
    const b = tiles.indexOf(other);
    tiles[a] = other;
    tiles[b] = tile;
    renderPhotos();
    // Keep focus on the moved photo: same button, or the other arrow when this one ran out.
    const btn = $(`[data-focus="${dir}-${tile.key}"]`);
    (btn && !btn.disabled ? btn : $(`[data-focus="${dir === 'up' ? 'down' : 'up'}-${tile.key}"]`))?.focus();
    if (await saveOrder(before)) announce(t('m.moved', { name: tile.name, n: to + 1, total: list.length }));
  }

  async function dropOn(srcKey, targetKey, after) {
    const before = [...tiles];
    const src = tiles.find((x) => x.key === srcKey);
    if (!src || src.state !== 'done' || uploading > 0 || busy()) return;
    tiles = tiles.filter((x) => x !== src);
    const ti = tiles.findIndex((x) => x.key === targetKey);
    tiles.splice(after ? ti + 1 : ti, 0, src);
    renderPhotos();
    if (await saveOrder(before)) announce(t('m.moved', { name: src.name, n: photoTiles().indexOf(src) + 1, total: photoTiles().length }));
  }

  async function remove(tile) {
    if (!confirm(t('m.removeConfirm', { name: tile.name }))) return;
    try {
      await api('DELETE', `/projects/${id}/assets/${tile.asset.id}`);
    } catch (e) {
      return showError(sec.err, e);
    }
    const i = photoTiles().indexOf(tile);
    tiles = tiles.filter((x) => x !== tile);
    renderPhotos();
    const rest = photoTiles();
    const focusTile = rest[Math.min(i, rest.length - 1)];
    (focusTile ? $(`[data-focus="rm-${focusTile.key}"]`) : $('#photos-h'))?.focus();
    announce(t('m.removed', { name: tile.name }));
    await refreshProject();
    renderMake();
  }

  // -------- music
  /** "♪ name · 2:50", the name kept in its own script (so split around it, as fmtYears does). */
  function musicName() {
    const [before, after] = t('m.musicLen', { name: '\u0001', duration: fmtDuration(music.duration_seconds) }).split('\u0001');
    return h('p', { class: 'music-name' }, h('span', { 'aria-hidden': 'true', class: 'note' }, '♪ '), before || null, nameSpan(music.filename), after || null);
  }
  function renderMusic() {
    const input = h('input', { type: 'file', id: 'music-input', accept: 'audio/*,.mp3,.m4a,.aac,.wav,.flac,.ogg,.oga', hidden: true, 'aria-label': t('m.musicPick'), onchange: (e) => { const f = e.target.files[0]; e.target.value = ''; if (f) uploadMusic(f); } });
    let row;
    if (musicUp && musicUp.state !== 'done')
      row = h('div', { class: 'music-row' },
        h('p', { class: 'music-name' }, nameSpan(musicUp.name)),
        musicUp.state === 'refused'
          ? h('div', { class: 'notice notice-error', role: 'alert' }, h('p', null, h('strong', null, t('m.refused')), ' ', h('span', { lang: 'en' }, musicUp.reason)), h('p', null, t('m.refusedWhat')))
          : [h('progress', { class: 'bar-inline', id: 'music-prog', max: '100', value: String(Math.round(musicUp.pct * 100)), 'aria-label': musicUp.name }), h('p', { class: 'tile-status', id: 'music-status' }, uploadStatus(musicUp))]);
    else
      row = h('div', { class: 'music-row' },
        music ? musicName() : h('p', { class: 'muted' }, t('m.musicNone')),
        h('p', { class: 'tile-status' }, ''));
    replace(sec.music,
      h('h2', { id: 'music-h' }, t('m.music')),
      h('p', { class: 'muted' }, t('m.musicIntro')),
      row,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', 'data-focus': 'music', disabled: busy() || (musicUp && musicUp.state !== 'done' && musicUp.state !== 'refused'), 'aria-describedby': 'music-hint', onclick: () => input.click() }, music ? t('m.musicChange') : t('m.musicPick')),
        h('p', { class: 'hint', id: 'music-hint' }, t('m.musicHint'))),
      input);
  }

  async function uploadMusic(file) {
    musicUp = { name: file.name, state: 'uploading', pct: 0 };
    renderMusic();
    const paint = () => {
      const bar = $('#music-prog');
      const st = $('#music-status');
      if (bar) bar.value = Math.round(musicUp.pct * 100);
      if (st) st.textContent = uploadStatus(musicUp);
    };
    const r = await uploadOne(id, file, (p) => { musicUp.pct = p; paint(); }, () => { musicUp.state = 'checking'; paint(); });
    if (!alive) return;
    if (r.ok) {
      musicUp.state = 'done';
      const a = r.items[0];
      if (a.kind === 'audio') music = a;
      else {
        tiles.push({ key: `u${++tileSeq}`, asset: a, name: a.filename, state: 'done', pct: 1 });
        renderPhotos();
      }
      announce(t('m.uploadDone', { ok: 1 }));
    } else {
      musicUp.state = 'refused';
      musicUp.reason = r.reason;
    }
    renderMusic();
  }

  // -------- make: run, progress, cancel
  function etaText() {
    if (!job || job.pct >= 100) return '';
    if (job.pct >= 97) return t('m.etaSoon');
    const { first, last } = job;
    if (!first || !last || last.t - first.t < 4000 || last.pct - first.pct < 2) return t('m.etaUnknown');
    const rate = (last.pct - first.pct) / (last.t - first.t); // percent per ms
    const left = (100 - job.pct) / rate / 1000; // seconds
    if (left < 60) return t('m.eta', { time: t('time.sec') });
    const min = Math.ceil(left / 60);
    return t('m.eta', { time: plural(min, 'time.min1', 'time.min') });
  }
  function detailText() {
    const m = /^(\d+) of (\d+) steps done$/.exec(job?.detail ?? '');
    return m ? t('m.steps', { done: m[1], total: m[2] }) : '';
  }

  function renderMake() {
    const photosN = photoTiles().length;
    const kids = [h('h2', { id: 'make-h' }, t('m.make')), h('p', { class: 'muted' }, t('m.makeIntro'))];
    if (busy()) {
      kids.push(
        h('div', { class: 'progress', id: 'progress', tabindex: '-1', role: 'group', 'aria-labelledby': 'progress-label' },
          h('p', { class: 'visually-hidden', id: 'progress-label' }, t('m.progressLabel')),
          h('p', { class: 'stage', id: 'stage' }, t(stageKey(job.stage))),
          h('progress', { id: 'job-bar', max: '100', value: String(Math.round(job.pct)), 'aria-labelledby': 'stage' }),
          h('p', { class: 'progress-line' },
            h('span', { id: 'pct' }, t('m.percent', { pct: Math.round(job.pct) })),
            h('span', { id: 'eta' }, etaText())),
          h('p', { class: 'muted small', id: 'detail' }, detailText() || '\u00a0')),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-danger', id: 'cancel', 'data-focus': 'cancel', disabled: job.canceling, onclick: cancel }, job.canceling ? t('m.canceling') : t('m.cancel'))));
    } else {
      const can = photosN >= 2 && uploading === 0;
      kids.push(h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-primary', id: 'run', 'data-focus': 'run', disabled: !can, 'aria-describedby': photosN < 2 ? 'run-hint' : null, onclick: run }, project.video ? t('m.runAgain') : t('m.run')),
        photosN < 2 ? h('p', { class: 'hint', id: 'run-hint' }, t('m.needTwo')) : ''));
    }
    if (outcome)
      kids.push(h('div', { class: `notice notice-${outcome.kind}`, id: 'outcome', tabindex: '-1' },
        h('p', null, t(outcome.key)),
        outcome.reason ? h('p', { lang: 'en' }, outcome.reason) : '',
        outcome.next ? h('p', null, t(outcome.next)) : ''));
    replace(sec.make, ...kids);
  }

  function paintJob() {
    if (!$('#progress')) return renderMake();
    $('#stage').textContent = t(stageKey(job.stage));
    $('#job-bar').value = Math.round(job.pct);
    $('#pct').textContent = t('m.percent', { pct: Math.round(job.pct) });
    $('#eta').textContent = etaText();
    $('#detail').textContent = detailText() || '\u00a0';
  }

  function speakProgress() {
    const step = Math.floor(job.pct / 20) * 20;
    const stage = t(stageKey(job.stage));
    if (step !== lastSpokenPct || stage !== job.spokenStage) {
      lastSpokenPct = step;
      job.spokenStage = stage;
      announce(`${stage}. ${t('m.percent', { pct: Math.round(job.pct) })}`);
    }
  }

  function watch(j) {
    stream?.close();
    job = { id: j.id, type: j.type, status: j.status, stage: j.runtime?.stage ?? 'queued', pct: j.runtime?.progress_percent ?? 0, detail: j.runtime?.detail_message, first: null, last: null, canceling: Boolean(j.runtime?.cancel_requested) };
    lastSpokenPct = -1;
    renderAll();
    const es = new EventSource(`/api/v1/jobs/${encodeURIComponent(j.id)}/events`);
    stream = es;
    es.addEventListener('runtime', (e) => {
      if (!alive || stream !== es) return;
      const rt = JSON.parse(e.data);
      job.status = rt.status;
      job.stage = rt.stage;
      job.detail = rt.detail_message;
      job.canceling = job.canceling || rt.cancel_requested;
      if (rt.progress_percent !== job.pct || !job.first) {
        job.last = { t: performance.now(), pct: rt.progress_percent };
        job.first ??= job.last;
      }
      job.pct = rt.progress_percent;
      if (TERMINAL.has(rt.status)) {
        es.close();
        stream = null;
        finished();
      } else {
        paintJob();
        speakProgress();
      }
    });
    es.onerror = async () => {
      if (stream !== es || !alive) return;
      if (es.readyState === EventSource.CLOSED) {
        // The stream could not be reopened: ask once, then listen again.
        let now = null;
        try {
          now = await api('GET', `/jobs/${job.id}`);
          if (TERMINAL.has(now.status)) {
            job.status = now.status;
            return finished();
          }
        } catch { /* try the stream again below */ }
        setTimeout(() => alive && job && stream === es && watch(now ?? { id: job.id, type: job.type, status: job.status, runtime: { stage: job.stage, progress_percent: job.pct } }), 2000);
      }
    };
  }

  async function finished() {
    const j = await api('GET', `/jobs/${job.id}`).catch(() => null);
    const type = job.type;
    const status = job.status;
    await refreshProject();
    if (!alive) return;
    if (status === 'succeeded' && type === 'transition') {
      outcome = { kind: 'info', key: 'm.doneTransition' };
      job = null;
      renderAll();
      announce(t('m.doneTransition'));
      return startJob('POST', '/jobs/render', { project_id: id });
    }
    if (status === 'succeeded') outcome = { kind: 'done', key: type === 'render' ? 'm.doneRender' : 'm.done' };
    else if (status === 'canceled') outcome = { kind: 'canceled', key: 'm.canceled' };
    else outcome = { kind: 'failed', key: 'm.failed', reason: j?.error?.message ?? '', next: 'm.failedNext' };
    job = null;
    renderAll();
    announce(t(outcome.key));
    if (status === 'succeeded' && project.video) $('#video-h')?.focus();
    else $('#outcome')?.focus();
  }

  async function startJob(method, path, body) {
    outcome = outcome?.kind === 'info' ? outcome : null;
    sec.err.replaceChildren();
    try {
      const j = await api(method, path, body);
      watch(j);
      $('#cancel')?.focus();
      refreshProject();
    } catch (e) {
      showError(sec.err, e);
      if (e.code === 'project_busy' && e.details?.active_job_id) {
        const j = await api('GET', `/jobs/${e.details.active_job_id}`).catch(() => null);
        if (j) watch(j);
      }
    }
  }
  const run = () => startJob('POST', `/projects/${id}/run`);

  async function cancel() {
    if (!job) return;
    job.canceling = true;
    renderMake();
    $('#progress')?.focus();
    try {
      await api('POST', `/jobs/${job.id}/cancel`);
      announce(t('m.canceling'));
    } catch (e) {
      if (e.code !== 'job_finished') showError(sec.err, e);
    }
  }

  // -------- video
  let shownVideo = null;
  function renderVideo() {
    const v = project.video;
    sec.video.hidden = !v;
    if (!v) return void (shownVideo = null);
    const photos = photoTiles();
    const key = `${v.job_id}|${lang}|${photos.map((x) => x.asset.id).join(',')}`;
    if (shownVideo === key) return syncVideoButtons();
    shownVideo = key;
    const q = `?v=${encodeURIComponent(v.job_id)}`;
    const pairSelect = h('select', { id: 'pair', disabled: busy() || photos.length < 2 },
      photos.slice(0, -1).map((_, i) => h('option', { value: String(i) }, t('m.pairOption', { a: i + 1, b: i + 2 }))));
    const about = h('div', { id: 'about' });
    replace(sec.video,
      h('h2', { id: 'video-h', tabindex: '-1' }, t('m.video')),
      h('div', { class: 'player' },
        h('video', { id: 'player', controls: true, preload: 'metadata', playsinline: true, poster: `/api/v1/projects/${id}/poster${q}`, src: `/api/v1/projects/${id}/video${q}`, 'aria-label': t('m.videoLabel', { title: project.title }) })),
      h('div', { class: 'actions' },
        h('a', { class: 'btn btn-primary', id: 'download', href: `/api/v1/projects/${id}/video${q}`, download: `${project.title.replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'memorial'}.mp4` }, t('m.download')),
        h('span', { class: 'muted small' }, t('m.downloadSize', { size: fmtSize(v.size_bytes ?? 0) }))),
      h('h3', null, t('m.adjust')),
      h('p', { class: 'muted' }, t('m.adjustIntro')),
      h('div', { class: 'adjust' },
        h('div', { class: 'field' }, h('label', { for: 'pair' }, t('m.pair')), pairSelect),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn', id: 'regen', 'data-focus': 'regen', disabled: busy() || photos.length < 2, onclick: () => {
            // The photos as they are now: they may have been moved or removed since this was drawn.
            const now = photoTiles();
            const i = Number(pairSelect.value);
            if (!now[i + 1]) return;
            startJob('POST', '/jobs/transition', { project_id: id, from_asset_id: now[i].asset.id, to_asset_id: now[i + 1].asset.id, duration_seconds: project.settings.transition_seconds, style: project.settings.transition_style });
          } }, t('m.regen')),
          h('button', { type: 'button', class: 'btn', id: 'rerender', 'data-focus': 'rerender', disabled: busy(), onclick: () => startJob('POST', '/jobs/render', { project_id: id }) }, t('m.rerender')))),
      about);
    // How each transition was made (from the pipeline's result), when the job tells.
    (async () => {
      const render = await api('GET', `/jobs/${v.job_id}`);
      const made = render.parent_job_id
        ? await api('GET', `/jobs/${render.parent_job_id}`)
        : (await api('GET', `/jobs?project_id=${encodeURIComponent(id)}&type=pipeline&status=succeeded&limit=1`)).items[0];
      return made;
    })().then((j) => {
      const tr = j?.result?.transitions;
      if (!Array.isArray(tr) || !tr.length || !about.isConnected) return;
      about.replaceChildren(h('details', { class: 'about' },
        h('summary', null, t('m.about')),
        h('ul', null, tr.map((x, i) => h('li', null, t('m.aboutRow', { n: i + 1, provider: x.provider ?? '—' }), x.fallback_reason ? [' — ', t('m.aboutFallback'), ' ', h('span', { lang: 'en' }, x.fallback_reason)] : '')))));
    }).catch(() => {});
  }

  function syncVideoButtons() {
    for (const sel of ['#pair', '#regen', '#rerender']) {
      const el = $(sel, sec.video);
      if (el) el.disabled = busy() || (sel !== '#rerender' && photoTiles().length < 2);
    }
  }

  /** With a video, it comes first (with the panel that remakes it); before that, the photos lead. */
  let order = '';
  function arrange() {
    const list = project.video ? [sec.head, sec.err, sec.video, sec.make, sec.photos, sec.music] : [sec.head, sec.err, sec.photos, sec.music, sec.make, sec.video];
    const key = project.video ? 'video' : 'photos';
    if (key === order) return;
    order = key;
    const focused = document.activeElement;
    main().replaceChildren(...list);
    if (focused && focused !== document.body && main().contains(focused)) focused.focus();
  }

  function renderAll() {
    arrange();
    renderHead();
    renderPhotos();
    renderMusic();
    renderMake();
    renderVideo();
  }

  async function refreshProject() {
    try {
      project = await api('GET', `/projects/${id}`);
      if (alive) renderHead();
    } catch { /* keep what we have */ }
  }

  (async () => {
    try {
      const [p, assets] = await Promise.all([api('GET', `/projects/${id}`), api('GET', `/projects/${id}/assets`)]);
      if (!alive) return;
      project = p;
      tiles = assets.items.filter((a) => a.kind === 'photo').map((a) => ({ key: `a${a.id}`, asset: a, name: a.filename, state: 'done', pct: 1 }));
      const audio = assets.items.filter((a) => a.kind === 'audio');
      music = audio.sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0] ?? null;
      renderAll();
      focusHeading();
      if (p.active_job_id) {
        const j = await api('GET', `/jobs/${p.active_job_id}`);
        if (alive && !TERMINAL.has(j.status)) watch(j);
      }
    } catch (e) {
      if (!alive) return;
      main().replaceChildren(h('h1', { tabindex: '-1' }, t('app.name')), sec.err);
      showError(sec.err, e);
      focusHeading();
    }
  })();

  return {
    stop: () => {
      alive = false;
      stream?.close();
      stream = null;
    },
    relabel: () => {
      if (!project) return;
      shownVideo = null;
      const t0 = $('#player')?.currentTime ?? 0;
      renderAll();
      const p = $('#player');
      if (p && t0) p.currentTime = t0;
      if (job) paintJob();
    },
  };
}

// ------------------------------------------------------------------ start
$('#lang').addEventListener('click', () => {
  lang = lang === 'en' ? 'ko' : 'en';
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* fine: this visit only */ }
  navigated = false;
  shell();
  if (view?.relabel) {
    const next = view.relabel();
    if (next) view = next;
  } else route();
  $('#lang').focus();
  announce(t('app.name'));
});
window.addEventListener('hashchange', () => {
  navigated = true;
  route();
});
route();
