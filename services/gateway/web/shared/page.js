// A share link's page, #/s/<key>: no account and no sign-in. It asks what the link shows (GET /shared
// with the key in the Mt-Link-Key header) and opens the contributor's page or the viewer's page; a link
// with a password asks for it first. An unknown, revoked or expired link is told kindly.

import { t } from '../lib/i18n.js';
import { linkApi } from '../lib/link-api.js';
import { setTitle, useHeadingFocus } from '../lib/page.js';
import { html, useEffect, useState } from '../lib/ui.js';
import { ContributeView } from './contribute.js';
import { PasswordPrompt } from './password.js';
import { WatchView } from './watch.js';

/** Why the link does not open, in words, and what the holder can do. */
function LinkProblem({ error, onRetry }) {
  const gone = error.code === 'not_found';
  useEffect(() => setTitle(t(gone ? 'share.goneTitle' : 'share.problemTitle')), [gone]);
  if (gone)
    return html`<section class="panel share-gone" aria-labelledby="share-h">
      <h1 id="share-h" tabindex="-1">${t('share.goneTitle')}</h1>
      <p>${t('share.goneBody')}</p>
      <p class="muted">${t('share.goneAsk')}</p>
    </section>`;
  const words = error.code === 'network' ? t('err.network') : error.code === 'rate_limited' ? t('share.tooMany') : t('err.tryAgain');
  return html`<section class="panel" aria-labelledby="share-h">
    <h1 id="share-h" tabindex="-1">${t('share.problemTitle')}</h1>
    <p role="alert">${words}</p>
    <button type="button" class="btn btn-primary" onClick=${onRetry}>${t('auth.retry')}</button>
  </section>`;
}

/** key: the link's key, read from the address after the # (it never reaches the server's logs). */
export function SharedLinkView({ linkKey }) {
  const [link, setLink] = useState({ key: linkKey, password: null });
  const [state, setState] = useState({ loading: true }); // { loading } | { shared } | { error } | { needsPassword, wrong }
  const load = async (withLink = link) => {
    setState((s) => ({ ...s, loading: true }));
    try {
      const shared = await linkApi(withLink, 'GET', '/shared');
      setLink(withLink);
      setState({ shared });
    } catch (e) {
      if (e.code === 'password_required') setState({ needsPassword: true, wrong: Boolean(withLink.password) });
      else setState({ error: e });
    }
  };
  useEffect(() => {
    load();
  }, [linkKey]);
  useHeadingFocus(!state.loading);

  if (state.needsPassword)
    return html`<${PasswordPrompt} wrong=${state.wrong} busy=${state.loading} onSubmit=${(password) => load({ key: linkKey, password })} />`;
  if (state.error) return html`<${LinkProblem} error=${state.error} onRetry=${() => load()} />`;
  if (!state.shared) return html`<p class="muted">${t('loading')}</p>`;
  if (state.shared.kind === 'contribute') return html`<${ContributeView} link=${link} shared=${state.shared} />`;
  return html`<${WatchView} shared=${state.shared} />`;
}
