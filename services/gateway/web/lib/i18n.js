// The page's language: chosen once from what the reader saved or their browser's languages, switched
// with the header button. Every word comes from messages.js.
import { LANGS, MESSAGES } from '../messages.js';

const LANG_KEY = 'mt.lang';

function pickLang() {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && LANGS.includes(saved)) return saved;
  } catch {
    /* storage blocked: fall through */
  }
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}
let lang = pickLang();

export const getLang = () => lang;

/** Switches the language and remembers it for the next visit (where storage is allowed). */
export function setLang(next) {
  lang = next;
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* fine: this visit only */
  }
}

/** A message in the current language, `{name}` filled from vars. */
export function t(key, vars = {}) {
  const s = MESSAGES[lang][key] ?? MESSAGES.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? `{${k}}`);
}
export const plural = (n, one, many) => (n === 1 ? t(one) : t(many, { n }));

/** The script a name is written in, so it is spoken and drawn right (lang attribute). */
export function scriptLang(text) {
  if (/[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/.test(text)) return 'ko';
  if (/[\u3040-\u30ff]/.test(text)) return 'ja';
  if (/[\u4e00-\u9fff]/.test(text)) return lang === 'ko' ? 'ko' : 'zh';
  if (/^[\p{Script=Latin}\p{N}\p{P}\p{Zs}]+$/u.test(text)) return 'en';
  return null;
}
