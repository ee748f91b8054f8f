// The photos: a drop zone and a button to add them, and the grid in the video's order. A photo moves
// by dragging or with its arrow buttons; each tile shows the server's thumbnail of the photo.
import { Name } from '../common.js';
import { t } from '../lib/i18n.js';
import { html, useState } from '../lib/ui.js';
import { uploadStatus } from './music.js';

/**
 * The photo itself (the server's thumbnail, or the family's own file while it uploads), or a
 * placeholder. The same img element takes the new address, so the picture does not blink on the switch.
 */
function Thumb({ src }) {
  const [broken, setBroken] = useState(null); // the address that failed to load
  if (!src || broken === src) return html`<span class="thumb-empty" aria-hidden="true"></span>`;
  return html`<img src=${src} alt="" decoding="async" width="160" height="160" onError=${() => setBroken(src)} />`;
}

function statusText(tile, pos) {
  if (tile.state === 'queued') return t('m.waiting');
  if (tile.state === 'uploading' || tile.state === 'checking') return uploadStatus(tile);
  if (tile.state === 'refused') return t('m.refused');
  if (tile.asset?.review === 'pending') return t('rel.pending');
  return t('m.photoN', { n: pos + 1 });
}

function TileActions({ tile, pos, count, locked, busy, photos }) {
  const name = tile.name;
  if (tile.state === 'refused')
    return html`<button type="button" class="btn btn-quiet btn-small" aria-label=${t('m.dismissLabel', { name })} onClick=${() => photos.dismiss(tile)}>${t('m.dismiss')}</button>`;
  if (tile.state !== 'done') return null;
  return html`
    <button type="button" class="icon-btn" data-focus=${`up-${tile.key}`} aria-label=${t('m.moveUpLabel', { name })} title=${t('m.moveUp')} disabled=${pos === 0 || locked} onClick=${() => photos.move(tile, -1, 'up')}><span aria-hidden="true">←</span></button>
    <button type="button" class="icon-btn" data-focus=${`down-${tile.key}`} aria-label=${t('m.moveDownLabel', { name })} title=${t('m.moveDown')} disabled=${pos === count - 1 || locked} onClick=${() => photos.move(tile, 1, 'down')}><span aria-hidden="true">→</span></button>
    <button type="button" class="btn btn-quiet btn-small" data-focus=${`rm-${tile.key}`} aria-label=${t('m.removeLabel', { name })} disabled=${busy} onClick=${() => photos.remove(tile)}>${t('m.remove')}</button>`;
}

/**
 * The photo's caption, edited in place: saved on Enter or when the field is left (Escape puts the
 * saved one back). dir=auto: Arabic or Hebrew is typed right to left. Its own state while typing;
 * `onEditing` stops the tile from dragging meanwhile, so text can be selected with the mouse.
 */
function CaptionField({ tile, photos, onEditing }) {
  const saved = tile.asset?.caption ?? '';
  const [text, setText] = useState(saved);
  const [state, setState] = useState(null); // null | 'saving' | 'error'
  const id = `caption-${tile.key}`;
  const save = async () => {
    if (text.trim() === saved) return setText(saved);
    setState('saving');
    const ok = await photos.setCaption(tile, text);
    setState(ok ? null : 'error');
  };
  return html`<div class="tile-caption">
    <label class="visually-hidden" for=${id}>${t('cap.label', { name: tile.name })}</label>
    <input id=${id} type="text" maxlength="200" dir="auto" placeholder=${t('cap.placeholder')} value=${text} enterkeyhint="done"
      aria-invalid=${state === 'error' ? 'true' : null} aria-busy=${state === 'saving' ? 'true' : null}
      onInput=${(e) => setText(e.currentTarget.value)}
      onFocus=${() => onEditing(true)}
      onBlur=${() => {
        onEditing(false);
        save();
      }}
      onKeyDown=${(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          save();
        } else if (e.key === 'Escape') {
          setText(saved);
          setState(null);
        }
      }} />
  </div>`;
}

/** Which half of a tile the pointer is over: dropping there puts the photo before or after it. */
const afterHalf = (e) => {
  const r = e.currentTarget.getBoundingClientRect();
  return e.clientX > r.left + r.width / 2;
};

/**
 * One tile; pos is its place among the photos (-1 while not a photo yet), count how many photos there
 * are; drag: { key (being dragged), over: { key, after } (where it would land), set(next) }.
 */
function Tile({ tile, pos, count, locked, busy, photos, drag }) {
  const done = tile.state === 'done';
  const inFlight = tile.state === 'uploading' || tile.state === 'queued' || tile.state === 'checking';
  const [editing, setEditing] = useState(false);
  const canDrag = done && !locked && !editing;
  const over = drag.over?.key === tile.key ? (drag.over.after ? ' drop-after' : ' drop-before') : '';
  const isTarget = () => Boolean(drag.key && drag.key !== tile.key);
  const handlers = canDrag
    ? {
        onDragStart: (e) => {
          e.dataTransfer.effectAllowed = 'move';
          e.dataTransfer.setData('text/plain', tile.key);
          drag.set({ key: tile.key, over: null });
        },
        onDragEnd: () => drag.set({ key: null, over: null }),
        onDragOver: (e) => {
          if (!isTarget()) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = 'move';
          const after = afterHalf(e);
          if (drag.over?.key !== tile.key || drag.over.after !== after) drag.set({ key: drag.key, over: { key: tile.key, after } });
        },
        onDragLeave: () => drag.over?.key === tile.key && drag.set({ key: drag.key, over: null }),
        onDrop: (e) => {
          if (!isTarget()) return;
          e.preventDefault();
          e.stopPropagation();
          const src = drag.key;
          drag.set({ key: null, over: null });
          photos.dropOn(src, tile.key, afterHalf(e));
        },
      }
    : {};
  return html`<li class=${`tile tile-${tile.state}${drag.key === tile.key ? ' dragging' : ''}${over}`} id=${`tile-${tile.key}`} data-key=${tile.key}
      draggable=${canDrag ? 'true' : null} aria-label=${done ? t('m.photoOf', { n: pos + 1, total: count, name: tile.name }) : null} ...${handlers}>
    <div class="thumb">
      <${Thumb} src=${tile.asset?.thumbnail_url ?? tile.url} />
      ${done ? html`<span class="pos" aria-hidden="true">${pos + 1}</span>` : ''}
      ${inFlight ? html`<progress class="bar" id=${`prog-${tile.key}`} max="100" value=${tile.state === 'checking' ? 100 : Math.round(tile.pct * 100)} aria-label=${tile.name}></progress>` : ''}
      ${
        tile.state === 'refused'
          ? html`<div class="refusal" tabindex="0" role="group" aria-label=${`${t('m.refused')}: ${tile.name}`}><p lang="en">${tile.reason}</p><p>${t('m.refusedWhat')}</p></div>`
          : ''
      }
    </div>
    <p class="tile-name" title=${tile.name}><${Name} text=${tile.name} /></p>
    ${tile.asset?.contributor_name ? html`<p class="tile-from">${t('rel.addedBy')} <${Name} text=${tile.asset.contributor_name} /></p>` : ''}
    ${done ? html`<${CaptionField} tile=${tile} photos=${photos} onEditing=${setEditing} />` : ''}
    <p class="tile-status" id=${`status-${tile.key}`}>${statusText(tile, pos)}</p>
    <div class="tile-actions"><${TileActions} tile=${tile} pos=${pos} count=${count} locked=${locked} busy=${busy} photos=${photos} /></div>
  </li>`;
}

/** Where files are dropped or chosen; photos cannot be added while a job runs. */
function DropZone({ busy, uploading, addFiles, dragging }) {
  const [over, setOver] = useState(false);
  const files = (e) => !dragging && e.dataTransfer?.types?.includes('Files');
  const enter = (e) => {
    if (!files(e)) return;
    e.preventDefault();
    setOver(true);
  };
  let input;
  return html`<div class=${`dropzone${over ? ' over' : ''}`} id="dropzone" onDragEnter=${enter} onDragOver=${enter} onDragLeave=${() => setOver(false)}
      onDrop=${(e) => {
        if (dragging) return;
        e.preventDefault();
        setOver(false);
        if (!busy) addFiles([...(e.dataTransfer?.files ?? [])]);
      }}>
    <p class="drop-title">${t('m.drop')}</p>
    <p class="muted">${t('m.dropOr')}</p>
    <button type="button" class="btn" disabled=${busy} onClick=${() => input.click()}>${t('m.pick')}</button>
    <p class="hint" id="drop-hint">${uploading > 0 ? t('m.busyReorder') : t('m.dropHint')}</p>
    <input ref=${(el) => (input = el)} type="file" id="photo-input" multiple accept="image/*,.heic,.heif,.tif,.tiff" hidden aria-label=${t('m.pick')}
      onChange=${(e) => {
        const chosen = [...e.currentTarget.files];
        e.currentTarget.value = '';
        if (chosen.length) addFiles(chosen);
      }} />
  </div>`;
}

/** photos: the usePhotoTiles state; busy: a job runs (nothing may change then). */
export function PhotosPanel({ photos, busy }) {
  const [drag, setDrag] = useState({ key: null, over: null });
  const dragState = { ...drag, set: setDrag };
  const locked = busy || photos.uploading > 0;
  const count = photos.photos.length;
  let pos = 0; // the tiles keep the photos' order, so a running count is each photo's place
  return html`<section class="panel" aria-labelledby="photos-h">
    <h2 id="photos-h" tabindex="-1">${t('m.photos')}</h2>
    <p class="muted" id="photos-intro">${t('m.photosIntro')}</p>
    <${DropZone} busy=${busy} uploading=${photos.uploading} addFiles=${photos.addFiles} dragging=${Boolean(drag.key)} />
    ${
      photos.tiles.length
        ? html`<ol class="grid" id="photo-grid" aria-describedby="photos-intro">
          ${photos.tiles.map((x) => html`<${Tile} key=${x.key} tile=${x} pos=${x.state === 'done' ? pos++ : -1} count=${count} locked=${locked} busy=${busy} photos=${photos} drag=${dragState} />`)}
        </ol>`
        : html`<p class="empty">${t('m.noPhotos')}</p>`
    }
  </section>`;
}
