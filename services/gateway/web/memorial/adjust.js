// Adjusting the video: make one transition again (one server-side remake job, which renders the video
// again too), or put the video together again; and how each transition was made.
import { api } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { html, useEffect, useState } from '../lib/ui.js';

/** The succeeded pipeline that made the transitions of the video's render (a remake makes only one). */
async function madeBy(project) {
  const render = await api('GET', `/jobs/${encodeURIComponent(project.video.job_id)}`);
  if (render.parent_job_id) {
    const parent = await api('GET', `/jobs/${encodeURIComponent(render.parent_job_id)}`);
    if (!parent.params?.remake) return parent;
  }
  const runs = await api('GET', `/jobs?project_id=${encodeURIComponent(project.id)}&type=pipeline&status=succeeded&limit=10`);
  return runs.items.find((j) => !j.params?.remake && Array.isArray(j.result?.transitions)) ?? null;
}

/** "How the transitions were made": each transition's provider, and why a fallback was used. */
function About({ project }) {
  const [transitions, setTransitions] = useState(null);
  useEffect(() => {
    let alive = true;
    madeBy(project)
      .then((j) => alive && setTransitions(Array.isArray(j?.result?.transitions) && j.result.transitions.length ? j.result.transitions : null))
      .catch(() => {});
    return () => {
      alive = false;
    };
  }, [project.video.job_id]);
  if (!transitions) return html`<div id="about"></div>`;
  return html`<div id="about"><details class="about">
    <summary>${t('m.about')}</summary>
    <ul>${transitions.map((x, i) => html`<li>${t('m.aboutRow', { n: i + 1, provider: x.provider ?? '—' })}${x.fallback_reason ? html` — ${t('m.aboutFallback')} <span lang="en">${x.fallback_reason}</span>` : ''}</li>`)}</ul>
  </details></div>`;
}

export function AdjustPanel({ project, photos, jobs }) {
  const [pair, setPair] = useState(0); // the transition from photos[pair] to photos[pair + 1]
  const chosen = Math.min(pair, Math.max(0, photos.length - 2));
  const id = encodeURIComponent(project.id);
  const remake = () => {
    const [from, to] = [photos[chosen], photos[chosen + 1]];
    if (!to) return;
    jobs.start('POST', `/projects/${id}/remake`, { from_asset_id: from.id, to_asset_id: to.id, style: project.settings.transition_style });
  };
  const few = photos.length < 2;
  return html`
    <h3>${t('m.adjust')}</h3>
    <p class="muted">${t('m.adjustIntro')}</p>
    <div class="adjust">
      <div class="field">
        <label for="pair">${t('m.pair')}</label>
        <select id="pair" disabled=${jobs.busy || few} value=${String(chosen)} onChange=${(e) => setPair(Number(e.currentTarget.value))}>
          ${photos.slice(0, -1).map((_, i) => html`<option key=${i} value=${String(i)}>${t('m.pairOption', { a: i + 1, b: i + 2 })}</option>`)}
        </select>
      </div>
      <div class="actions">
        <button type="button" class="btn" id="regen" disabled=${jobs.busy || few} onClick=${remake}>${t('m.regen')}</button>
        <button type="button" class="btn" id="rerender" disabled=${jobs.busy} onClick=${() => jobs.start('POST', '/jobs/render', { project_id: project.id })}>${t('m.rerender')}</button>
      </div>
    </div>
    <${About} project=${project} />`;
}
