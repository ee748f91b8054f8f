// The memorial's one running job (a run, a draft preview, a remake or a render): start it, follow its progress over the
// event stream, stop it, and say how it ended. Outcomes are message keys, so a language switch re-words them.
import { api, followJob, TERMINAL } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { announce, focusSoon } from '../lib/page.js';
import { useEffect, useRef, useState } from '../lib/ui.js';
import { stageKey } from '../messages.js';

/** A job as the page shows it; first/last are the first and latest progress seen (for the time left). */
function jobState(j) {
  return {
    id: j.id,
    type: j.type,
    remake: Boolean(j.params?.remake),
    draft: Boolean(j.params?.draft),
    status: j.status,
    stage: j.runtime?.stage ?? 'queued',
    pct: j.runtime?.progress_percent ?? 0,
    detail: j.runtime?.detail_message,
    first: null,
    last: null,
    canceling: Boolean(j.runtime?.cancel_requested),
  };
}

function advance(job, rt) {
  const next = {
    ...job,
    status: rt.status,
    stage: rt.stage,
    detail: rt.detail_message,
    canceling: job.canceling || rt.cancel_requested,
    pct: rt.progress_percent,
  };
  if (rt.progress_percent !== job.pct || !job.first) {
    next.last = { t: performance.now(), pct: rt.progress_percent };
    next.first = job.first ?? next.last;
  }
  return next;
}

function outcomeOf(job, status, finished) {
  if (status === 'succeeded') return { kind: 'done', key: job.draft ? 'm.donePreview' : job.type === 'render' || job.remake ? 'm.doneRender' : 'm.done' };
  if (status === 'canceled') return { kind: 'canceled', key: 'm.canceled' };
  return { kind: 'failed', key: 'm.failed', reason: finished?.error?.message ?? '', next: 'm.failedNext' };
}

/**
 * refreshProject() reloads the memorial and returns it; setError shows a request's error.
 * Returns { job, busy, outcome, start(method, path, body), watch(job), cancel() }.
 */
export function useJob({ refreshProject, setError }) {
  const [job, setJob] = useState(null);
  const [outcome, setOutcome] = useState(null);
  const stop = useRef(null);
  const alive = useRef(true);
  const spoken = useRef({ step: -1, stage: '' });
  useEffect(
    () => () => {
      alive.current = false;
      stop.current?.();
    },
    [],
  );

  /** Progress for screen readers: at each new stage and every 20 %, not at every update. */
  const speak = (rt) => {
    const step = Math.floor(rt.progress_percent / 20) * 20;
    const stage = t(stageKey(rt.stage));
    if (step === spoken.current.step && stage === spoken.current.stage) return;
    spoken.current = { step, stage };
    announce(`${stage}. ${t('m.percent', { pct: Math.round(rt.progress_percent) })}`);
  };

  const finish = async (started, status) => {
    const finished = await api('GET', `/jobs/${started.id}`).catch(() => null);
    const project = await refreshProject();
    if (!alive.current) return;
    const next = outcomeOf(started, status, finished);
    setJob(null);
    setOutcome(next);
    announce(t(next.key));
    focusSoon(status === 'succeeded' && started.draft && project?.preview ? '#preview-h' : status === 'succeeded' && project?.video ? '#video-h' : '#outcome');
  };

  const watch = (j) => {
    stop.current?.();
    const started = jobState(j);
    spoken.current = { step: -1, stage: '' };
    setJob(started);
    stop.current = followJob(j.id, {
      onRuntime: (rt) => {
        if (!alive.current) return;
        setJob((cur) => (cur?.id === j.id ? advance(cur, rt) : cur));
        speak(rt);
      },
      onEnd: (status) => alive.current && finish(started, status),
    });
  };

  const start = async (method, path, body) => {
    setOutcome(null);
    setError(null);
    try {
      watch(await api(method, path, body));
      focusSoon('#cancel');
      refreshProject();
    } catch (e) {
      setError(e);
      if (e.code === 'project_busy' && e.details?.active_job_id) {
        const j = await api('GET', `/jobs/${encodeURIComponent(e.details.active_job_id)}`).catch(() => null);
        if (j && alive.current && !TERMINAL.has(j.status)) watch(j);
      }
    }
  };

  const cancel = async () => {
    if (!job) return;
    setJob((cur) => cur && { ...cur, canceling: true });
    focusSoon('#progress');
    try {
      await api('POST', `/jobs/${encodeURIComponent(job.id)}/cancel`);
      announce(t('m.canceling'));
    } catch (e) {
      if (e.code !== 'job_finished') setError(e);
    }
  };

  return { job, busy: Boolean(job && !TERMINAL.has(job.status)), outcome, start, watch, cancel };
}
