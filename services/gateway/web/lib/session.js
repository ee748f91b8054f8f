// Who is signed in (for the header and the views) and where to go back to after signing in. The
// session itself is an HttpOnly cookie the page never sees: the account comes from GET /api/v1/me.
import { useEffect, useState } from './ui.js';

/** undefined: not asked yet; null: signed out; else { id, email, name }. */
let account;
const listeners = new Set();

export const getAccount = () => account;

export function setAccount(next) {
  account = next;
  for (const l of listeners) l(account);
}

/** The signed-in account, drawn again whenever it changes. */
export function useAccount() {
  const [a, set] = useState(account);
  useEffect(() => {
    listeners.add(set);
    set(account);
    return () => void listeners.delete(set);
  }, []);
  return a;
}

/** The address after the #, e.g. "/m/abc" or "/sign-in?next=%2F". */
export const currentHash = () => location.hash.replace(/^#/, '') || '/';

/** The routes that work without a session. */
export const isAuthRoute = (hash) => /^\/(sign-in|verify)(\?|$)/.test(hash);

/** A place to go back to: only one of the page's own views, never the sign-in views themselves. */
export function safeNext(next) {
  if (typeof next !== 'string' || !/^\/[\w\-/?=&%.]*$/.test(next) || isAuthRoute(next)) return '/';
  return next;
}

/**
 * Sends the family to sign in, remembering where they were. The address is replaced, not added, so
 * Back does not lead to a page that would only send them here again.
 */
export function sendToSignIn() {
  const here = currentHash();
  setAccount(null);
  if (isAuthRoute(here)) return;
  location.replace(`#/sign-in${here === '/' ? '' : `?next=${encodeURIComponent(here)}`}`);
}

/** Signed in: remember the account and go on to where the family was going (replacing the sign-in address). */
export function signedIn(a, next) {
  setAccount(a);
  location.replace(`#${safeNext(next)}`);
}

/** Said once by the next sign-in view: the family just signed out (rather than being sent there). */
export const flash = { signedOut: false };
