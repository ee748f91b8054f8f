// A running job in plain words: the stage, a bar, the percent, the time left and the step count.
import { plural, t } from '../lib/i18n.js';
import { html } from '../lib/ui.js';
import { stageKey } from '../messages.js';

/** "About 3 minutes left", from the pace between the first and the latest progress seen. */
export function etaText(job) {
  if (!job || job.pct >= 100) return '';
  if (job.pct >= 97) return t('m.etaSoon');
  const { first, last } = job;
  if (!first || !last || last.t - first.t < 4000 || last.pct - first.pct < 2) return t('m.etaUnknown');
  const rate = (last.pct - first.pct) / (last.t - first.t); // percent per ms
  const left = (100 - job.pct) / rate / 1000; // seconds
  if (left < 60) return t('m.eta', { time: t('time.sec') });
  return t('m.eta', { time: plural(Math.ceil(left / 60), 'time.min1', 'time.min') });
}

/** The worker's "3 of 7 steps done", in the reader's language; other details are not shown. */
function detailText(job) {
  const m = /^(\d+) of (\d+) steps done$/.exec(job?.detail ?? '');
  return m ? t('m.steps', { done: m[1], total: m[2] }) : '';
}

export function Progress({ job }) {
  const pct = Math.round(job.pct);
  return html`<div class="progress" id="progress" tabindex="-1" role="group" aria-labelledby="progress-label">
    <p class="visually-hidden" id="progress-label">${t('m.progressLabel')}</p>
    <p class="stage" id="stage">${t(stageKey(job.stage))}</p>
    <progress id="job-bar" max="100" value=${pct} aria-labelledby="stage"></progress>
    <p class="progress-line"><span id="pct">${t('m.percent', { pct })}</span><span id="eta">${etaText(job)}</span></p>
    <p class="muted small" id="detail">${detailText(job) || '\u00a0'}</p>
  </div>`;
}
