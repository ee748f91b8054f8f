// Words shared by the sign-in views: what went wrong (the server's messages are in English only, so
// the page says it in the reader's language), the address a code went to, and an error box.
import { fmtWait } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { html } from '../lib/ui.js';

/** A wrong or used code, too many tries (with the wait in words), no network, or the server's words. */
export function authProblem(e) {
  if (e.code === 'network') return t('err.network');
  if (e.code === 'rate_limited') return t('auth.tooMany', { time: fmtWait(e.details?.retry_after_seconds) });
  if (e.code === 'unauthenticated') return t('auth.errCode');
  if (e.code === 'incomplete') return t('auth.linkIncomplete');
  return html`<span lang="en">${e.message}</span> ${t('err.tryAgain')}`;
}

/** A message with the email address set apart (bold, always left to right) where {email} stands. */
export function withEmail(key, email) {
  const [before, after] = t(key, { email: '\u0001' }).split('\u0001');
  return html`${before}<strong class="email" dir="ltr">${email}</strong>${after}`;
}

/** An error box (announced at once) with a close button; nothing when there is no problem. */
export function Problem({ error, onClose }) {
  if (!error) return null;
  return html`<div class="notice notice-error" role="alert" id="auth-problem">
    <p>${authProblem(error)}</p>
    ${onClose ? html`<button type="button" class="btn btn-quiet" onClick=${onClose}>${t('err.close')}</button>` : ''}
  </div>`;
}

/** A labelled input with its hint and its error line (described by both). */
export function Field({ id, label, hint, error, ...attrs }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : ''}
    <input id=${id} aria-invalid=${error ? 'true' : null} aria-describedby=${`${hint ? `${id}-hint ` : ''}${id}-error`} ...${attrs} />
    <p class="field-error" id=${`${id}-error`} hidden=${!error}>${error ?? ''}</p>
  </div>`;
}
