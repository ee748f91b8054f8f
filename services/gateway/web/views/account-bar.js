// The header's account part: who is signed in, and signing out. Drawn into index.html's #account.
import { api } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { announce } from '../lib/page.js';
import { flash, setAccount, useAccount } from '../lib/session.js';
import { html, useState } from '../lib/ui.js';
import { Problem } from './auth-words.js';

/** Asks the server who this is (GET /me); a 401 there sends the family to sign in (api.js). */
export async function loadAccount() {
  const r = await api('GET', '/me');
  setAccount(r.account);
  return r.account;
}

export function AccountBar() {
  const account = useAccount();
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  if (!account) return null;

  const signOut = async () => {
    setProblem(null);
    setBusy(true);
    try {
      await api('POST', '/auth/sign-out');
      flash.signedOut = true;
      setAccount(null);
      location.hash = '#/sign-in';
      announce(t('auth.signedOut'));
    } catch (e) {
      setProblem(e); // still signed in: the cookie is only gone once the server says so
    }
    setBusy(false);
  };
  return html`<div class="account">
    <span class="account-email"><span class="visually-hidden">${t('auth.signedInAs')} </span><span dir="ltr" id="account-email">${account.email}</span></span>
    <button type="button" class="btn btn-quiet" id="sign-out" disabled=${busy} onClick=${signOut}>${t('auth.signOut')}</button>
    ${problem ? html`<div class="account-problem"><${Problem} error=${problem} onClose=${() => setProblem(null)} /></div>` : ''}
  </div>`;
}
