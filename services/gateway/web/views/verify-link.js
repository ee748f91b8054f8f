// #/verify?email=…&code=…: the one-click link in the sign-in mail. It posts the code at once and goes
// on signed in; when the code no longer works it says why and offers a new one.
import { api } from '../lib/api.js';
import { getLang, t } from '../lib/i18n.js';
import { announce, setTitle, useHeadingFocus } from '../lib/page.js';
import { signedIn } from '../lib/session.js';
import { html, useEffect, useState } from '../lib/ui.js';
import { Problem } from './auth-words.js';

export function VerifyLinkView({ email, code, next }) {
  const [problem, setProblem] = useState(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => setTitle(problem ? t('auth.linkFailed') : t('auth.linkTitle')), [problem, getLang()]);
  useEffect(() => {
    if (!email || !/^\d{6}$/.test(code ?? '')) return setProblem({ code: 'incomplete' });
    let alive = true;
    api('POST', '/auth/verify', { email, code }).then(
      (r) => {
        announce(t('auth.signedIn', { email: r.account.email }));
        // Replacing the address also takes the code out of the history.
        signedIn(r.account, next);
      },
      (e) => alive && setProblem(e),
    );
    return () => {
      alive = false;
    };
  }, [attempt]);
  useHeadingFocus(Boolean(problem));

  if (!problem) return html`<h1 tabindex="-1">${t('auth.linkTitle')}</h1><p class="muted">${t('loading')}</p>`;
  // Only a lost connection is worth another go with the same code; a refused code is used up.
  const retry = problem.code === 'network';
  const again = () => {
    setProblem(null);
    setAttempt((n) => n + 1);
  };
  return html`
    <div class="page-head"><div><h1 tabindex="-1">${t('auth.linkFailed')}</h1></div></div>
    <${Problem} error=${problem} />
    <div class="actions">
      ${retry ? html`<button type="button" class="btn btn-primary" onClick=${again}>${t('auth.retry')}</button>` : ''}
      <a class=${retry ? 'btn' : 'btn btn-primary'} id="new-code" href=${`#/sign-in${email ? `?email=${encodeURIComponent(email)}` : ''}`}>${t('auth.newCode')}</a>
    </div>`;
}
