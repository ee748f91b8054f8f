// Page-wide chores: the document title, the screen-reader announcer, and where the keyboard focus goes.
import { t } from './i18n.js';
import { useEffect } from './ui.js';

export function setTitle(...parts) {
  document.title = [...parts, t('app.name')].filter(Boolean).join(' — ');
}

let lastAnnounce = '';
/** Says something to screen readers (polite), without repeating itself. */
export function announce(text) {
  if (!text || text === lastAnnounce) return;
  lastAnnounce = text;
  const el = document.getElementById('live');
  el.textContent = '';
  setTimeout(() => (el.textContent = text), 50);
}

/**
 * Focuses the first element matching one of the selectors once the page has been drawn again (Preact
 * draws in a microtask; a timeout runs after it), skipping disabled ones.
 */
export function focusSoon(...selectors) {
  setTimeout(() => {
    for (const sel of selectors) {
      const el = document.querySelector(sel);
      if (el && !el.disabled) return el.focus();
    }
  }, 0);
}

/** Whether the reader moved here from another view (then the new heading takes the focus). */
export const nav = { moved: false };

/** Focuses the view's heading once it is ready, after a navigation, so screen readers start there. */
export function useHeadingFocus(ready) {
  useEffect(() => {
    if (ready && nav.moved) document.querySelector('#main h1')?.focus();
  }, [ready]);
}
