// "Added by relatives": the photos that came through contribute links, each with the name its
// contributor gave. Those waiting for approval (a moderated link) can be approved, which puts them in
// the next video, or removed. The grid above shows them too, in their place in the order.
import { Name } from '../common.js';
import { t } from '../lib/i18n.js';
import { html } from '../lib/ui.js';

function RelativeTile({ tile, photos, busy }) {
  const a = tile.asset;
  const pending = a.review === 'pending';
  return html`<li class=${`tile tile-done${pending ? ' tile-pending' : ''}`} id=${`rel-${tile.key}`}>
    <div class="thumb">${a.thumbnail_url ? html`<img src=${a.thumbnail_url} alt="" width="160" height="160" />` : html`<span class="thumb-empty" aria-hidden="true"></span>`}</div>
    <p class="tile-name" title=${tile.name}><${Name} text=${tile.name} /></p>
    <p class="tile-from">${t('rel.addedBy')} <${Name} text=${a.contributor_name} /></p>
    <p class="tile-status">${pending ? t('rel.pending') : t('rel.inVideo')}</p>
    <div class="tile-actions">
      ${pending ? html`<button type="button" class="btn btn-small" data-focus=${`rel-${tile.key}`} aria-label=${t('rel.approveLabel', { name: tile.name, who: a.contributor_name })} disabled=${busy} onClick=${() => photos.approve(tile)}>${t('rel.approve')}</button>` : ''}
      <button type="button" class="btn btn-quiet btn-small" aria-label=${t('m.removeLabel', { name: tile.name })} disabled=${busy} onClick=${() => photos.remove(tile)}>${t('m.remove')}</button>
    </div>
  </li>`;
}

/** photos: the usePhotoTiles state; nothing is shown until a relative has added a photo. */
export function RelativesPanel({ photos, busy }) {
  const tiles = photos.tiles.filter((x) => x.state === 'done' && x.asset?.contributor_name);
  if (!tiles.length) return null;
  const waiting = tiles.filter((x) => x.asset.review === 'pending').length;
  return html`<section class="panel" aria-labelledby="relatives-h">
    <h2 id="relatives-h" tabindex="-1">${t('rel.title')}</h2>
    <p class="muted">${waiting ? t('rel.waiting', { n: waiting }) : t('rel.allApproved')}</p>
    <ol class="grid" id="relatives-grid">${tiles.map((x) => html`<${RelativeTile} key=${x.key} tile=${x} photos=${photos} busy=${busy} />`)}</ol>
  </section>`;
}
