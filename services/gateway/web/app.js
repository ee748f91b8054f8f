// MemorialTube for families: ES modules and Preact (with htm), no build step. It talks only to the
// public REST API (/api/v1) and the job event stream, signed in by the session cookie the server
// sets (HttpOnly: the page never reads it). All words come from messages.js.
import { ErrorNotice } from './common.js';
import { getLang, setLang, t } from './lib/i18n.js';
import { announce, nav } from './lib/page.js';
import { currentHash, getAccount, sendToSignIn, useAccount } from './lib/session.js';
import { html, render, useEffect, useState } from './lib/ui.js';
import { MemorialView } from './memorial/view.js';
import { SharedLinkView } from './shared/page.js';
import { AccountBar, loadAccount } from './views/account-bar.js';
import { CreateView } from './views/create.js';
import { ListView } from './views/list.js';
import { SignInView } from './views/sign-in.js';
import { VerifyLinkView } from './views/verify-link.js';

/** The parts of the page outside the views (in index.html), in the current language. */
function shell() {
  const lang = getLang();
  const $ = (id) => document.getElementById(id);
  document.documentElement.lang = lang;
  document.title = t('app.name');
  $('skip').textContent = t('skip');
  $('home').textContent = t('app.name');
  const sw = $('lang');
  sw.textContent = t('lang.switch');
  sw.setAttribute('lang', lang === 'en' ? 'ko' : 'en');
  // The language's own name is the button's name (read in that language); the hint is a description.
  sw.setAttribute('title', t('lang.switchLabel'));
  $('lang-hint').textContent = t('lang.switchLabel');
  $('tagline').textContent = t('app.tagline');
}

/** The signed-in views: #/ my memorials, #/new the form, #/m/<id> one memorial. */
function MemorialsRoutes({ path }) {
  const m = /^\/m\/([\w-]{1,64})$/.exec(path);
  if (path === '/new') return html`<${CreateView} key="new" />`;
  if (m) return html`<${MemorialView} key=${`m/${m[1]}`} id=${m[1]} />`;
  return html`<${ListView} key="list" />`;
}

/**
 * The view for the address. #/sign-in, #/verify (the mail's link) and #/s/<key> (a share link) work
 * signed out; every other view
 * waits until GET /me has said who this is, and a 401 there (or from any later call) sends the family
 * to sign in and back here afterwards.
 */
function App() {
  const [hash, setHash] = useState(currentHash);
  const account = useAccount();
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    const moved = () => {
      nav.moved = true;
      setHash(currentHash());
    };
    window.addEventListener('hashchange', moved);
    return () => window.removeEventListener('hashchange', moved);
  }, []);
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const check = () => {
    setProblem(null);
    loadAccount().catch((e) => e.code !== 'unauthenticated' && setProblem(e));
  };
  const shareKey = /^\/s\/([\w-]{16,200})$/.exec(path)?.[1];
  useEffect(() => {
    if (shareKey) return; // a share link's page needs no account
    // The link signs in by itself; asking /me alongside could answer "nobody" after it has.
    if (getAccount() === undefined && path !== '/verify') check();
    else if (getAccount() === null && path !== '/verify' && path !== '/sign-in') sendToSignIn();
  }, [path]);

  if (shareKey) return html`<${SharedLinkView} key=${`s/${shareKey}`} linkKey=${shareKey} />`;
  if (path === '/verify') return html`<${VerifyLinkView} key="verify" email=${params.get('email')} code=${params.get('code')} next=${params.get('next')} />`;
  if (path === '/sign-in') return html`<${SignInView} key="sign-in" next=${params.get('next')} presetEmail=${params.get('email')} />`;
  if (problem)
    return html`<h1 tabindex="-1">${t('app.name')}</h1>
      <div class="errors"><${ErrorNotice} error=${problem} onClose=${() => setProblem(null)} /></div>
      <button type="button" class="btn btn-primary" onClick=${check}>${t('auth.retry')}</button>`;
  if (!account) return html`<p class="muted">${t('loading')}</p>`;
  return html`<${MemorialsRoutes} path=${path} />`;
}

const main = document.getElementById('main');
// Drawing again with a new language keeps every view's state: what was typed, the video's place.
const accountSlot = document.getElementById('account');
const draw = () => {
  render(html`<${App} lang=${getLang()} />`, main);
  render(html`<${AccountBar} lang=${getLang()} />`, accountSlot);
};

document.getElementById('lang').addEventListener('click', () => {
  setLang(getLang() === 'en' ? 'ko' : 'en');
  nav.moved = false;
  shell();
  draw();
  document.getElementById('lang').focus();
  announce(t('app.name'));
});

shell();
main.replaceChildren();
draw();
