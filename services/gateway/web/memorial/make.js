// "Make the video": the run and preview buttons (or the progress and a stop button while a job runs),
// how it ended, and the latest draft preview's player.
import { t } from '../lib/i18n.js';
import { html } from '../lib/ui.js';
import { Progress } from './progress.js';

function Outcome({ outcome }) {
  if (!outcome) return null;
  return html`<div class=${`notice notice-${outcome.kind}`} id="outcome" tabindex="-1">
    <p>${t(outcome.key)}</p>
    ${outcome.reason ? html`<p lang="en">${outcome.reason}</p>` : ''}
    ${outcome.next ? html`<p>${t(outcome.next)}</p>` : ''}
  </div>`;
}

/** The latest draft preview (854×480): a player, so the family can check the order before the full video. */
function DraftPreview({ project }) {
  const d = project.preview;
  if (!d) return null;
  const src = `/api/v1/projects/${encodeURIComponent(project.id)}/preview?v=${encodeURIComponent(d.job_id)}`;
  return html`<div class="draft-preview">
    <h3 id="preview-h" tabindex="-1">${t('m.previewTitle')}</h3>
    <div class="player">
      <video id="preview-player" controls preload="metadata" playsinline src=${src} aria-label=${t('m.previewLabel', { title: project.title })}></video>
    </div>
  </div>`;
}

/** photoCount: photos uploaded; uploading: files still on their way (a run waits for them). */
export function MakePanel({ project, photoCount, uploading, jobs }) {
  const { job, busy, outcome } = jobs;
  const canRun = photoCount >= 2 && uploading === 0;
  return html`<section class="panel" aria-labelledby="make-h">
    <h2 id="make-h">${t('m.make')}</h2>
    <p class="muted">${t('m.makeIntro')}</p>
    ${
      busy
        ? html`<${Progress} job=${job} />
        <div class="actions">
          <button type="button" class="btn btn-danger" id="cancel" disabled=${job.canceling} onClick=${jobs.cancel}>${job.canceling ? t('m.canceling') : t('m.cancel')}</button>
        </div>`
        : html`<div class="actions">
          <button type="button" class="btn btn-primary" id="run" disabled=${!canRun} aria-describedby=${photoCount < 2 ? 'run-hint' : null}
            onClick=${() => jobs.start('POST', `/projects/${encodeURIComponent(project.id)}/run`)}>${project.video ? t('m.runAgain') : t('m.run')}</button>
          <button type="button" class="btn" id="preview" disabled=${!canRun} aria-describedby=${photoCount < 2 ? 'run-hint' : 'preview-hint'}
            onClick=${() => jobs.start('POST', `/projects/${encodeURIComponent(project.id)}/preview`)}>${t('m.preview')}</button>
          ${photoCount < 2 ? html`<p class="hint" id="run-hint">${t('m.needTwo')}</p>` : html`<p class="hint" id="preview-hint">${t('m.previewHint')}</p>`}
        </div>`
    }
    <${Outcome} outcome=${outcome} />
    <${DraftPreview} project=${project} />
  </section>`;
}
