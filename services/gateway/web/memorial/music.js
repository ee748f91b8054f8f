// Music: one optional audio file under the whole video (the newest one uploaded is used).
import { Name } from '../common.js';
import { uploadOne } from '../lib/api.js';
import { fmtDuration } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { announce } from '../lib/page.js';
import { html, useRef, useState } from '../lib/ui.js';

/** What a file being sent says: how far it got, then that the server is checking it. */
export const uploadStatus = (u) => (u.state === 'checking' ? t('m.checking') : t('m.uploading', { pct: Math.round(u.pct * 100) }));

/**
 * The music and its upload. onPhoto(asset) takes a file that turned out to be a photo (the server
 * decides by the bytes). Returns { music, setMusic, upload, sending } (sending: the upload's state).
 */
export function useMusic(projectId, initial, onPhoto) {
  const [music, setMusic] = useState(initial);
  const [sending, setSending] = useState(null); // { name, state: uploading|checking|done|refused, pct, reason }
  const latest = useRef(onPhoto);
  latest.current = onPhoto;

  const upload = async (file) => {
    const patch = (p) => setSending((u) => ({ ...u, ...p }));
    setSending({ name: file.name, state: 'uploading', pct: 0 });
    const r = await uploadOne(
      projectId,
      file,
      (pct) => patch({ pct }),
      () => patch({ state: 'checking' }),
    );
    if (!r.ok) return patch({ state: 'refused', reason: r.reason });
    patch({ state: 'done' });
    const a = r.items[0];
    if (a.kind === 'audio') setMusic(a);
    else latest.current(a);
    announce(t('m.uploadDone', { ok: 1 }));
  };
  return { music, setMusic, upload, sending };
}

/** "♪ name · 2:50", the name kept in its own script (so the message is split around it). */
function MusicName({ music }) {
  const [before, after] = t('m.musicLen', { name: '\u0001', duration: fmtDuration(music.duration_seconds) }).split('\u0001');
  return html`<p class="music-name"><span aria-hidden="true" class="note">♪ </span>${before || null}<${Name} text=${music.filename} />${after || null}</p>`;
}

function MusicRow({ music, sending }) {
  if (!sending || sending.state === 'done')
    return html`<div class="music-row">${music ? html`<${MusicName} music=${music} />` : html`<p class="muted">${t('m.musicNone')}</p>`}<p class="tile-status"></p></div>`;
  return html`<div class="music-row">
    <p class="music-name"><${Name} text=${sending.name} /></p>
    ${
      sending.state === 'refused'
        ? html`<div class="notice notice-error" role="alert">
          <p><strong>${t('m.refused')}</strong> <span lang="en">${sending.reason}</span></p>
          <p>${t('m.refusedWhat')}</p>
        </div>`
        : html`<progress class="bar-inline" id="music-prog" max="100" value=${Math.round(sending.pct * 100)} aria-label=${sending.name}></progress>
        <p class="tile-status" id="music-status">${uploadStatus(sending)}</p>`
    }
  </div>`;
}

export function MusicPanel({ music: { music, sending, upload }, busy }) {
  const input = useRef(null);
  const inFlight = sending && sending.state !== 'done' && sending.state !== 'refused';
  const picked = (e) => {
    const f = e.currentTarget.files[0];
    e.currentTarget.value = '';
    if (f) upload(f);
  };
  return html`<section class="panel" aria-labelledby="music-h">
    <h2 id="music-h">${t('m.music')}</h2>
    <p class="muted">${t('m.musicIntro')}</p>
    <${MusicRow} music=${music} sending=${sending} />
    <div class="actions">
      <button type="button" class="btn" disabled=${busy || inFlight} aria-describedby="music-hint" onClick=${() => input.current.click()}>${music ? t('m.musicChange') : t('m.musicPick')}</button>
      <p class="hint" id="music-hint">${t('m.musicHint')}</p>
    </div>
    <input ref=${input} type="file" id="music-input" accept="audio/*,.mp3,.m4a,.aac,.wav,.flac,.ogg,.oga" hidden aria-label=${t('m.musicPick')} onChange=${picked} />
  </section>`;
}
