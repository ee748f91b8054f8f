// The finished video: the player (poster, metadata only up front), the download link and its size.
import { fmtSize } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { html } from '../lib/ui.js';
import { AdjustPanel } from './adjust.js';

/** A file name the family's computer accepts, from the memorial's title. */
const fileName = (title) => `${title.replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'memorial'}.mp4`;

/** photos: the photo assets in order; jobs: the useJob state (the adjust panel starts jobs). */
export function VideoPanel({ project, photos, jobs }) {
  const v = project.video;
  const base = `/api/v1/projects/${encodeURIComponent(project.id)}`;
  // The job id in the address makes a new render a new file for the browser's cache.
  const q = `?v=${encodeURIComponent(v.job_id)}`;
  return html`<section class="panel" aria-labelledby="video-h">
    <h2 id="video-h" tabindex="-1">${t('m.video')}</h2>
    <div class="player">
      <video id="player" controls preload="metadata" playsinline poster=${`${base}/poster${q}`} src=${`${base}/video${q}`} aria-label=${t('m.videoLabel', { title: project.title })}></video>
    </div>
    <div class="actions">
      <a class="btn btn-primary" id="download" href=${`${base}/video${q}`} download=${fileName(project.title)}>${t('m.download')}</a>
      <span class="muted small">${t('m.downloadSize', { size: fmtSize(v.size_bytes ?? 0) })}</span>
    </div>
    <${AdjustPanel} project=${project} photos=${photos} jobs=${jobs} />
  </section>`;
}
