// Dates, sizes and durations in the reader's own way of writing them.
import { getLang, plural } from './i18n.js';

/** "1941" or "1941-03-02" as the reader writes dates. */
export function fmtLifeDate(v) {
  if (!v) return '';
  const m = /^(\d{4})(?:-(\d{2})-(\d{2}))?$/.exec(v);
  if (!m) return v;
  const d = new Date(Date.UTC(+m[1], m[2] ? +m[2] - 1 : 0, m[3] ? +m[3] : 1));
  const opts = m[2] ? { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' } : { year: 'numeric', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(getLang(), opts).format(d);
}

export const fmtDate = (iso) => new Intl.DateTimeFormat(getLang(), { dateStyle: 'long' }).format(new Date(iso));

export function fmtSize(bytes) {
  const mb = bytes / 1048576;
  return mb >= 1 ? `${new Intl.NumberFormat(getLang(), { maximumFractionDigits: 1 }).format(mb)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function fmtDuration(sec) {
  const s = Math.round(sec ?? 0);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A wait in words, rounded up to whole minutes ("about 15 minutes" reads better than "872 seconds"). */
export const fmtWait = (seconds) => plural(Math.max(1, Math.ceil((seconds || 60) / 60)), 'time.min1', 'time.min');
