// Small parts shared by the views: names in their own script, life years, status badges, error notices.
import { fmtLifeDate } from './lib/format.js';
import { scriptLang, t } from './lib/i18n.js';
import { html } from './lib/ui.js';

/** A name or title, marked with the language of its script so it is spoken and drawn right. */
export const Name = ({ text, cls }) => html`<span class=${cls} lang=${text ? scriptLang(text) : null} dir="auto">${text ?? ''}</span>`;

/** "born – died", each date kept on one line; nothing when neither is known. */
export function Years({ born, died }) {
  if (!born && !died) return null;
  // The two control characters are placeholders no translation contains: the text is cut where the dates go.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: splitting on those placeholders is the point
  const [before, mid, after] = t('m.years', { born: '\u0001', died: '\u0002' }).split(/[\u0001\u0002]/);
  return html`<span class="years">${before}<span class="date">${fmtLifeDate(born) || '?'}</span>${mid}${died ? html`<span class="date">${fmtLifeDate(died)}</span>` : ''}${after}</span>`;
}

/** "Name · 1910 – 1981", either part alone, or null when neither is known (callers wrap it). */
export function nameAndYears(project, nameCls) {
  const years = Years(project);
  if (!project.subject_name && !years) return null;
  return html`${project.subject_name ? html`<${Name} text=${project.subject_name} cls=${nameCls} />` : ''}${project.subject_name && years ? ' · ' : ''}${years}`;
}

const STATUS_CLASS = { draft: 'badge', running: 'badge badge-running', completed: 'badge badge-done', failed: 'badge badge-warn', canceled: 'badge' };
export const StatusBadge = ({ status }) => html`<span class=${STATUS_CLASS[status] ?? 'badge'}>${t(`status.${status}`)}</span>`;

/** What went wrong, in words, and what to do next. Server messages are English (marked so). */
function errorWords(e) {
  if (e.code === 'network') return t('err.network');
  if (e.code === 'not_found') return html`${t('err.notFound')} <a href="#/">${t('nav.home')}</a>`;
  if (e.code === 'project_busy') return t('err.busy');
  return html`<span lang="en">${e.message}</span> ${t('err.tryAgain')}`;
}

/** An error box with a close button; nothing when there is no error. */
export function ErrorNotice({ error, onClose }) {
  if (!error) return null;
  return html`<div class="notice notice-error" role="alert">
    <p>${errorWords(error)}</p>
    <button type="button" class="btn btn-quiet" onClick=${onClose}>${t('err.close')}</button>
  </div>`;
}
