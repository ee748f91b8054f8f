// Calls made with a share link (#/s/<key>): the key goes in the Mt-Link-Key header, never in an address
// the server sees (it lives after the #), with Mt-Link-Password once the holder has typed it. No session
// is needed or used here, and a 401 never sends anyone to sign in: it asks for the link's password.
import { ApiError } from './api.js';
import { t } from './i18n.js';

/** The link's credential: { key, password? }. */
const headersFor = (link, extra = {}) => ({
  accept: 'application/json',
  'mt-link-key': link.key,
  ...(link.password ? { 'mt-link-password': link.password } : {}),
  ...extra,
});

async function errorOf(r) {
  const data = await r.json().catch(() => null);
  const details = { ...data?.error?.details };
  const retryAfter = Number(r.headers.get('retry-after'));
  if (r.status === 429 && details.retry_after_seconds === undefined && retryAfter > 0) details.retry_after_seconds = retryAfter;
  return new ApiError(data?.error?.code ?? `http_${r.status}`, data?.error?.message ?? t('err.tryAgain'), details);
}

export async function linkApi(link, method, path) {
  let r;
  try {
    // credentials: 'omit': a family member's own session must not stand in for the link.
    r = await fetch(`/api/v1${path}`, { method, headers: headersFor(link), credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch {
    throw new ApiError('network', t('err.network'));
  }
  if (r.status === 204) return null;
  if (r.ok) return r.json();
  throw await errorOf(r);
}

/** One photo with the contributor's name (and a caption, if given), in one request (upload progress from XHR). */
export function uploadWithLink(link, file, contributorName, onProgress, caption = '') {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/shared/assets');
    xhr.responseType = 'json';
    for (const [k, v] of Object.entries(headersFor(link))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      const b = xhr.response;
      if (xhr.status === 201) resolve({ ok: true, items: b.items });
      else resolve({ ok: false, code: b?.error?.code, reason: b?.error?.details?.reason ?? b?.error?.message ?? t('err.tryAgain') });
    };
    xhr.onerror = () => resolve({ ok: false, code: 'network', reason: t('err.network') });
    const form = new FormData();
    form.append('contributor_name', contributorName);
    if (caption.trim()) form.append('caption', caption.trim());
    form.append('files', file, file.name);
    xhr.send(form);
  });
}
