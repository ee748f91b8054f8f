// The public REST API (/api/v1) and the job event stream; nothing else is called. The session cookie
// goes with every request by itself (same origin); an answer of 401 sends the family to sign in.
import { t } from './i18n.js';
import { sendToSignIn } from './session.js';

export class ApiError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export async function api(method, path, body) {
  let r;
  try {
    r = await fetch(`/api/v1${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('network', t('err.network'));
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (r.ok) return data;
  // Signing in answers 401 for a wrong code: that view says so itself. Anywhere else the session is gone.
  if (r.status === 401 && !path.startsWith('/auth/')) sendToSignIn();
  const details = { ...data?.error?.details };
  const retryAfter = Number(r.headers.get('retry-after'));
  if (r.status === 429 && details.retry_after_seconds === undefined && retryAfter > 0) details.retry_after_seconds = retryAfter;
  throw new ApiError(data?.error?.code ?? `http_${r.status}`, data?.error?.message ?? t('err.tryAgain'), details);
}

/** One file in one request, so one refused file never stops the others. Upload progress from XHR. */
export function uploadOne(projectId, file, onProgress, onSent) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/projects/${encodeURIComponent(projectId)}/assets`);
    xhr.responseType = 'json';
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.upload.onload = () => onSent();
    xhr.onload = () => {
      const b = xhr.response;
      if (xhr.status === 201) resolve({ ok: true, items: b.items });
      else if (xhr.status === 401) {
        sendToSignIn();
        resolve({ ok: false, reason: t('auth.ended') });
      } else resolve({ ok: false, reason: b?.error?.details?.reason ?? b?.error?.message ?? t('err.tryAgain') });
    };
    xhr.onerror = () => resolve({ ok: false, reason: t('err.network') });
    const form = new FormData();
    form.append('files', file, file.name);
    xhr.send(form);
  });
}

/**
 * Follows one job over its event stream until it ends: onRuntime for each update, onEnd(status) once.
 * When the stream cannot be reopened by the browser, asks for the job once and listens again.
 * Returns a function that stops following.
 */
export function followJob(jobId, { onRuntime, onEnd }) {
  let es = null;
  let stopped = false;
  const stop = () => {
    stopped = true;
    es?.close();
  };
  const end = (status) => {
    stop();
    onEnd(status);
  };
  const open = () => {
    const source = new EventSource(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`);
    es = source;
    source.addEventListener('runtime', (e) => {
      if (stopped || es !== source) return;
      const rt = JSON.parse(e.data);
      if (TERMINAL.has(rt.status)) end(rt.status);
      else onRuntime(rt);
    });
    source.onerror = async () => {
      if (stopped || es !== source || source.readyState !== EventSource.CLOSED) return;
      try {
        const now = await api('GET', `/jobs/${encodeURIComponent(jobId)}`);
        if (TERMINAL.has(now.status)) return end(now.status);
      } catch {
        /* listen again below */
      }
      setTimeout(() => !stopped && es === source && open(), 2000);
    };
  };
  open();
  return stop;
}
