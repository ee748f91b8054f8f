// MemorialTube for families: ES modules and Preact (with htm), no build step. It talks only to the
// public REST API (/api/v1) and the job event stream. All words come from messages.js.
import { getLang, setLang, t } from './lib/i18n.js';
import { announce, nav } from './lib/page.js';
import { html, render, useEffect, useState } from './lib/ui.js';
import { MemorialView } from './memorial/view.js';
import { CreateView } from './views/create.js';
import { ListView } from './views/list.js';

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

const currentHash = () => location.hash.replace(/^#/, '') || '/';

/** The view for the address: #/ the list, #/new the form, #/m/<id> one memorial. */
function App() {
  const [hash, setHash] = useState(currentHash);
  useEffect(() => {
    const moved = () => {
      nav.moved = true;
      setHash(currentHash());
    };
    window.addEventListener('hashchange', moved);
    return () => window.removeEventListener('hashchange', moved);
  }, []);
  const m = /^\/m\/([\w-]{1,64})$/.exec(hash);
  if (hash === '/new') return html`<${CreateView} key="new" />`;
  if (m) return html`<${MemorialView} key=${`m/${m[1]}`} id=${m[1]} />`;
  return html`<${ListView} key="list" />`;
}

const main = document.getElementById('main');
// Drawing again with a new language keeps every view's state: what was typed, the video's place.
const draw = () => render(html`<${App} lang=${getLang()} />`, main);

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
