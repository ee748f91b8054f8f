// The memorial's heading: back to the list, the title, the name and years, the settings and the status.
import { Name, nameAndYears, StatusBadge } from '../common.js';
import { t } from '../lib/i18n.js';
import { html } from '../lib/ui.js';

export function MemorialHead({ project }) {
  const st = project.settings;
  const style = { auto: t('create.styleAuto'), generative: t('create.styleGenerative'), classic: t('create.styleClassic') }[st.transition_style];
  const sub = nameAndYears(project, 'subject');
  return html`<div class="page-head">
    <div>
      <p class="crumb"><a href="#/">← ${t('nav.home')}</a></p>
      <h1 tabindex="-1"><${Name} text=${project.title} /></h1>
      ${sub ? html`<p class="lead">${sub}</p>` : ''}
      <p class="muted small">${t('m.settings', { seconds: st.transition_seconds, resolution: st.resolution, style })}</p>
    </div>
    <div><${StatusBadge} status=${project.status} /></div>
  </div>`;
}
