// The list of memorials: a card each, with the cover photo, newest first, 20 at a time.
import { ErrorNotice, Name, nameAndYears, StatusBadge } from '../common.js';
import { api } from '../lib/api.js';
import { fmtDate } from '../lib/format.js';
import { getLang, plural, t } from '../lib/i18n.js';
import { setTitle, useHeadingFocus } from '../lib/page.js';
import { html, useEffect, useRef, useState } from '../lib/ui.js';

/** The first photo's thumbnail, or a quiet placeholder before there are photos (or if it fails). */
function Cover({ url }) {
  const [broken, setBroken] = useState(null); // the address that failed to load
  if (!url || broken === url) return html`<span class="cover cover-empty" aria-hidden="true"></span>`;
  return html`<img class="cover" src=${url} alt="" width="96" height="96" decoding="async" onError=${() => setBroken(url)} />`;
}

function Card({ p }) {
  const sub = nameAndYears(p);
  return html`<li class="card">
    <${Cover} url=${p.cover_url} />
    <div class="card-body">
      <a class="card-link" href=${`#/m/${p.id}`}>
        <span class="card-title"><${Name} text=${p.title} /></span>
        ${sub ? html`<span class="card-sub">${sub}</span>` : ''}
      </a>
      <span class="card-meta">
        <${StatusBadge} status=${p.status} />
        <span>${plural(p.photo_count, 'list.photos1', 'list.photos')}</span>
        <span>${t('list.created', { date: fmtDate(p.created_at) })}</span>
      </span>
    </div>
  </li>`;
}

export function ListView() {
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [loading, setLoading] = useState(true);
  const [loaded, setLoaded] = useState(false); // the first page came (so "no memorials yet" is true)
  const [error, setError] = useState(null);
  const alive = useRef(true);

  const load = async (cursor) => {
    try {
      const r = await api('GET', `/projects?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (!alive.current) return;
      setItems((before) => [...before, ...r.items]);
      setNext(r.next_cursor);
      setLoaded(true);
    } catch (e) {
      if (alive.current) setError(e);
    }
    if (alive.current) setLoading(false);
  };
  useEffect(() => {
    load();
    return () => {
      alive.current = false;
    };
  }, []);
  useEffect(() => setTitle(t('list.title')), [getLang()]);
  useHeadingFocus(true);

  return html`
    <div class="page-head">
      <div><h1 tabindex="-1">${t('list.title')}</h1><p class="lead">${t('list.intro')}</p></div>
      <a class="btn btn-primary" href="#/new">${t('list.create')}</a>
    </div>
    <div><${ErrorNotice} error=${error} onClose=${() => setError(null)} /></div>
    ${loading ? html`<p class="muted" id="list-loading">${t('loading')}</p>` : ''}
    <p class="empty" hidden=${!loaded || items.length > 0}>${t('list.empty')}</p>
    <ul class="cards" role="list">${items.map((p) => html`<${Card} key=${p.id} p=${p} />`)}</ul>
    <div class="more">${next ? html`<button type="button" class="btn" onClick=${() => load(next)}>${t('list.more')}</button>` : ''}</div>`;
}
