// The photo grid's state: one tile per photo and per file on its way (in the order the family sees),
// with the actions on them: add files (one upload per file, one at a time), move, drop, remove, approve
// (a relative's photo), dismiss.
import { api, uploadOne } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { announce, focusSoon } from '../lib/page.js';
import { useEffect, useReducer, useRef } from '../lib/ui.js';

// A tile: { key, asset?, file?, name, state: queued|uploading|checking|done|refused, pct, reason?, url? }
// (url: an object URL of the family's own file, shown only until the server's thumbnail is there).
const IN_FLIGHT = new Set(['queued', 'uploading', 'checking']);
let tileSeq = 0;
const assetTile = (a) => ({ key: `a${a.id}`, asset: a, name: a.filename, state: 'done', pct: 1 });

/**
 * projectId; initial: the photo assets in order; hooks: { onAudioFile(file), onAudioAsset(asset),
 * refreshProject(), setError(e) } for what belongs to the rest of the page.
 * The tiles live in a ref (the upload loop outlives renders) and each change draws again.
 */
export function usePhotoTiles(projectId, initial, hooks) {
  const tiles = useRef(null);
  tiles.current ??= initial.map(assetTile);
  const [, draw] = useReducer((n) => n + 1, 0);
  const latest = useRef(hooks);
  latest.current = hooks;
  const alive = useRef(true);
  const queue = useRef(Promise.resolve());
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  const set = (next) => {
    tiles.current = next;
    draw();
  };
  const patch = (tile, p) => set(tiles.current.map((x) => (x.key === tile.key ? Object.assign(tile, p) : x)));
  const photos = () => tiles.current.filter((x) => x.state === 'done');

  async function uploadAll(fresh) {
    let ok = 0;
    let bad = 0;
    for (const tile of fresh) {
      if (!alive.current) return;
      patch(tile, { state: 'uploading' });
      const r = await uploadOne(
        projectId,
        tile.file,
        (pct) => patch(tile, { pct }),
        () => patch(tile, { state: 'checking' }),
      );
      if (!r.ok) {
        bad++;
        if (tile.url) URL.revokeObjectURL(tile.url);
        patch(tile, { state: 'refused', reason: r.reason, url: null });
        continue;
      }
      ok++;
      const a = r.items[0];
      if (a.kind === 'audio') {
        set(tiles.current.filter((x) => x !== tile));
        latest.current.onAudioAsset(a);
        continue;
      }
      // The server's thumbnail from now on (what a reload shows); the local copy only if there is none.
      if (a.thumbnail_url && tile.url) URL.revokeObjectURL(tile.url);
      patch(tile, { state: 'done', asset: a, file: null, url: a.thumbnail_url ? null : tile.url });
    }
    announce(bad ? t('m.uploadSummary', { ok, bad }) : t('m.uploadDone', { ok }));
    await latest.current.refreshProject();
  }

  function addFiles(files) {
    const audio = files.filter((f) => f.type.startsWith('audio/'));
    const chosen = files.filter((f) => !f.type.startsWith('audio/'));
    if (audio.length) latest.current.onAudioFile(audio[audio.length - 1]);
    const fresh = chosen.map((f) => ({
      key: `u${++tileSeq}`,
      file: f,
      name: f.name,
      state: 'queued',
      pct: 0,
      url: f.type.startsWith('image/') ? URL.createObjectURL(f) : null,
    }));
    if (!fresh.length) return;
    set([...tiles.current, ...fresh]);
    // One request per file, one at a time: order kept, and a refused file never stops the rest.
    queue.current = queue.current.then(() => uploadAll(fresh));
  }

  /** A photo that came in another way (music picked that was a photo after all). */
  const addAsset = (a) => set([...tiles.current, assetTile(a)]);

  async function saveOrder(before) {
    try {
      await api('PUT', `/projects/${encodeURIComponent(projectId)}/assets/order`, { asset_ids: photos().map((x) => x.asset.id) });
      return true;
    } catch (e) {
      set(before);
      latest.current.setError(e);
      return false;
    }
  }

  async function move(tile, delta, dir) {
    const list = photos();
    const from = list.indexOf(tile);
    const to = from + delta;
    if (to < 0 || to >= list.length) return;
    const before = tiles.current;
    const next = [...before];
    const [a, b] = [next.indexOf(tile), next.indexOf(list[to])];
    [next[a], next[b]] = [next[b], next[a]];
    set(next);
    // Keep focus on the moved photo: same button, or the other arrow when this one ran out.
    focusSoon(`[data-focus="${dir}-${tile.key}"]`, `[data-focus="${dir === 'up' ? 'down' : 'up'}-${tile.key}"]`);
    if (await saveOrder(before)) announce(t('m.moved', { name: tile.name, n: to + 1, total: list.length }));
  }

  async function dropOn(srcKey, targetKey, after) {
    const before = tiles.current;
    const src = before.find((x) => x.key === srcKey);
    if (src?.state !== 'done') return;
    const next = before.filter((x) => x !== src);
    const ti = next.findIndex((x) => x.key === targetKey);
    next.splice(after ? ti + 1 : ti, 0, src);
    set(next);
    if (await saveOrder(before)) announce(t('m.moved', { name: src.name, n: photos().indexOf(src) + 1, total: photos().length }));
  }

  async function remove(tile) {
    if (!confirm(t('m.removeConfirm', { name: tile.name }))) return;
    try {
      await api('DELETE', `/projects/${encodeURIComponent(projectId)}/assets/${encodeURIComponent(tile.asset.id)}`);
    } catch (e) {
      return latest.current.setError(e);
    }
    const i = photos().indexOf(tile);
    set(tiles.current.filter((x) => x !== tile));
    const rest = photos();
    const focusTile = rest[Math.min(i, rest.length - 1)];
    focusSoon(focusTile ? `[data-focus="rm-${focusTile.key}"]` : '#photos-h', '#photos-h');
    announce(t('m.removed', { name: tile.name }));
    await latest.current.refreshProject();
  }

  /** A photo a relative added through a moderated link: from now on it is used in the video. */
  async function approve(tile) {
    try {
      const a = await api('POST', `/projects/${encodeURIComponent(projectId)}/assets/${encodeURIComponent(tile.asset.id)}/approve`);
      patch(tile, { asset: a });
      announce(t('rel.approved', { name: tile.name }));
      focusSoon(`[data-focus="rel-${tile.key}"]`, '#relatives-h');
    } catch (e) {
      latest.current.setError(e);
    }
  }

  /** A photo's caption (shown over it in the video): saved when it changed; empty clears it. Returns whether it was saved. */
  async function setCaption(tile, text) {
    const next = text.trim();
    if (next === (tile.asset.caption ?? '')) return true;
    try {
      const a = await api('PATCH', `/projects/${encodeURIComponent(projectId)}/assets/${encodeURIComponent(tile.asset.id)}`, { caption: next || null });
      patch(tile, { asset: a });
      announce(next ? t('cap.saved', { name: tile.name }) : t('cap.cleared', { name: tile.name }));
      return true;
    } catch (e) {
      latest.current.setError(e);
      return false;
    }
  }

  function dismiss(tile) {
    const i = tiles.current.indexOf(tile);
    const next = tiles.current.filter((x) => x !== tile);
    set(next);
    // The tile that took its place, else the first tile with a usable button, else the heading.
    focusSoon(next[i] ? `#tile-${next[i].key} button:not(:disabled)` : '#photo-grid button:not(:disabled)', '#photo-grid button:not(:disabled)', '#photos-h');
  }

  const list = tiles.current;
  return {
    tiles: list,
    photos: list.filter((x) => x.state === 'done').map((x) => x.asset),
    uploading: list.filter((x) => IN_FLIGHT.has(x.state)).length,
    addFiles,
    addAsset,
    move,
    dropOn,
    remove,
    approve,
    setCaption,
    dismiss,
  };
}
