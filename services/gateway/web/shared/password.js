// A link with a password: the holder types it once; it travels in the Mt-Link-Password header.
import { t } from '../lib/i18n.js';
import { setTitle } from '../lib/page.js';
import { html, useEffect, useState } from '../lib/ui.js';

export function PasswordPrompt({ wrong, busy, onSubmit }) {
  const [value, setValue] = useState('');
  useEffect(() => setTitle(t('share.pwTitle')), []);
  useEffect(() => {
    if (wrong) document.getElementById('link-password')?.focus();
  }, [wrong, busy]);
  const submit = (e) => {
    e.preventDefault();
    if (value) onSubmit(value);
  };
  return html`<section class="panel share-password" aria-labelledby="share-h">
    <h1 id="share-h" tabindex="-1">${t('share.pwTitle')}</h1>
    <p>${t('share.pwIntro')}</p>
    <form class="form" onSubmit=${submit} novalidate>
      <div class="field">
        <label for="link-password">${t('share.pwLabel')}</label>
        <input id="link-password" type="password" autocomplete="current-password" required value=${value}
          aria-invalid=${wrong ? 'true' : null} aria-describedby=${wrong ? 'link-password-error' : null}
          onInput=${(e) => setValue(e.currentTarget.value)} />
        ${wrong ? html`<p class="field-error" id="link-password-error" role="alert">${t('share.pwWrong')}</p>` : ''}
      </div>
      <div class="actions"><button type="submit" class="btn btn-primary" disabled=${busy || !value}>${t('share.pwSubmit')}</button></div>
    </form>
  </section>`;
}
