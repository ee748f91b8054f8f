// The contributor's page of a contribute link: the loved one's name and dates, the contributor's name
// ("Your name", kept in this browser for next time), photos to add, and "My uploads": only the photos
// added with this link, each with its review state and a way to take it back.
import { Name } from '../common.js';
import { getLang, plural, t } from '../lib/i18n.js';
import { linkApi, uploadWithLink } from '../lib/link-api.js';
import { announce, focusSoon, setTitle } from '../lib/page.js';
import { html, useEffect, useRef, useState } from '../lib/ui.js';
import { SharedHead } from './watch.js';

const NAME_KEY = 'mt.contributorName';
const savedName = () => {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
};
const saveName = (name) => {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    /* this visit only */
  }
};

/** One of my uploads: its thumbnail, name, whether the family has approved it yet, and Remove. */
function MyUpload({ asset, onRemove, busy }) {
  const pending = asset.review === 'pending';
  return html`<li class="tile tile-done" id=${`mine-${asset.id}`}>
    <div class="thumb">${asset.thumbnail_url ? html`<img src=${asset.thumbnail_url} alt="" width="160" height="160" />` : html`<span class="thumb-empty" aria-hidden="true"></span>`}</div>
    <p class="tile-name" title=${asset.filename}><${Name} text=${asset.filename} /></p>
    ${asset.caption ? html`<p class="tile-caption-text" dir="auto">${asset.caption}</p>` : ''}
    <p class="tile-status">${pending ? t('share.pending') : t('share.approved')}</p>
    <div class="tile-actions">
      <button type="button" class="btn btn-quiet btn-small" disabled=${busy} aria-label=${t('m.removeLabel', { name: asset.filename })} onClick=${() => onRemove(asset)}>${t('m.remove')}</button>
    </div>
  </li>`;
}

/** Files on their way: name, progress, and the server's reason when one is refused. */
function Sending({ items }) {
  if (!items.length) return null;
  return html`<ul class="sending" aria-label=${t('share.sending')}>
    ${items.map(
      (x) => html`<li key=${x.id}>
        <${Name} text=${x.name} />
        ${x.state === 'refused' ? html`<span class="field-error" lang="en"> ${x.reason}</span>` : html`<progress max="100" value=${Math.round(x.pct * 100)} aria-label=${x.name}></progress>`}
      </li>`,
    )}
  </ul>`;
}

function useMyUploads(link, setError) {
  const [mine, setMine] = useState(null);
  const refresh = () =>
    linkApi(link, 'GET', '/shared/assets')
      .then((r) => setMine(r.items))
      .catch(setError);
  useEffect(() => {
    refresh();
  }, []);
  const remove = async (asset) => {
    if (!confirm(t('m.removeConfirm', { name: asset.filename }))) return;
    try {
      await linkApi(link, 'DELETE', `/shared/assets/${encodeURIComponent(asset.id)}`);
      setMine((m) => m.filter((a) => a.id !== asset.id));
      announce(t('m.removed', { name: asset.filename }));
      focusSoon('#mine-h');
    } catch (e) {
      setError(e);
    }
  };
  return { mine, setMine, remove };
}

export function ContributeView({ link, shared }) {
  const { project } = shared;
  const [name, setName] = useState(savedName);
  const [nameMissing, setNameMissing] = useState(false);
  const [caption, setCaption] = useState('');
  const [sending, setSending] = useState([]);
  const [error, setError] = useState(null);
  const uploads = useMyUploads(link, setError);
  const input = useRef(null);
  const seq = useRef(0);
  useEffect(() => setTitle(t('share.contributeTitle'), project.title), [project.title, getLang()]);

  const choose = () => {
    if (!name.trim()) {
      setNameMissing(true);
      return focusSoon('#contributor-name');
    }
    setNameMissing(false);
    saveName(name.trim());
    input.current.click();
  };
  const send = async (files) => {
    const items = files.map((f) => ({ id: ++seq.current, file: f, name: f.name, pct: 0, state: 'uploading' }));
    setSending((s) => [...s, ...items]);
    const update = (item, p) => setSending((s) => s.map((x) => (x.id === item.id ? { ...x, ...p } : x)));
    let ok = 0;
    for (const item of items) {
      const r = await uploadWithLink(link, item.file, name.trim(), (pct) => update(item, { pct }), caption);
      if (!r.ok) {
        update(item, { state: 'refused', reason: r.reason });
        continue;
      }
      ok++;
      setSending((s) => s.filter((x) => x.id !== item.id));
      uploads.setMine((m) => [...(m ?? []), ...r.items]);
    }
    if (ok) announce(plural(ok, 'share.added1', 'share.added'));
  };
  const mine = uploads.mine;
  return html`<${SharedHead} project=${project} />
    <section class="panel" aria-labelledby="add-h">
      <h2 id="add-h">${t('share.addTitle')}</h2>
      <p>${project.subject_name ? t('share.contributeIntroNamed', { name: project.subject_name }) : t('share.contributeIntro')}</p>
      <div class="field">
        <label for="contributor-name">${t('share.yourName')}</label>
        <input id="contributor-name" type="text" autocomplete="name" maxlength="100" required value=${name}
          aria-invalid=${nameMissing ? 'true' : null} aria-describedby=${nameMissing ? 'contributor-name-error contributor-name-hint' : 'contributor-name-hint'}
          onInput=${(e) => setName(e.currentTarget.value)} />
        <p class="hint" id="contributor-name-hint">${t('share.yourNameHint')}</p>
        ${nameMissing ? html`<p class="field-error" id="contributor-name-error" role="alert">${t('share.nameNeeded')}</p>` : ''}
      </div>
      <div class="field">
        <label for="contributor-caption">${t('cap.contributeLabel')}</label>
        <input id="contributor-caption" type="text" maxlength="200" dir="auto" value=${caption} aria-describedby="contributor-caption-hint"
          onInput=${(e) => setCaption(e.currentTarget.value)} />
        <p class="hint" id="contributor-caption-hint">${t('cap.contributeHint')}</p>
      </div>
      <div class="actions">
        <button type="button" class="btn btn-primary" id="contribute-pick" onClick=${choose}>${t('m.pick')}</button>
        <span class="hint">${t('share.photosOnly')}</span>
      </div>
      <input ref=${input} type="file" id="contribute-input" multiple accept="image/*,.heic,.heif,.tif,.tiff" hidden aria-label=${t('m.pick')}
        onChange=${(e) => {
          const chosen = [...e.currentTarget.files];
          e.currentTarget.value = '';
          if (chosen.length) send(chosen);
        }} />
      <${Sending} items=${sending} />
      ${error ? html`<p class="notice notice-error" role="alert">${error.code === 'network' ? t('err.network') : html`<span lang="en">${error.message}</span>`}</p>` : ''}
    </section>
    <section class="panel" aria-labelledby="mine-h">
      <h2 id="mine-h" tabindex="-1">${t('share.mine')}</h2>
      ${
        mine === null
          ? html`<p class="muted">${t('loading')}</p>`
          : mine.length
            ? html`<ol class="grid" id="my-uploads">${mine.map((a) => html`<${MyUpload} key=${a.id} asset=${a} onRemove=${uploads.remove} />`)}</ol>`
            : html`<p class="empty">${t('share.mineEmpty')}</p>`
      }
    </section>`;
}
