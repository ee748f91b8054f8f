import type { JobWebhookData, WebhookEventType } from '@mt/contracts';
import { enqueueWebhookEvent, type JobView } from '../db/index.js';
import type { AppliedListener } from '../projector.js';

/** The video's path, length and size of a pipeline or render result; null for other jobs. */
function resultSummary(job: JobView): JobWebhookData['result'] {
  const r = job.result as Record<string, unknown> | null;
  if (job.status !== 'succeeded' || !r || !job.project_id || (job.type !== 'pipeline' && job.type !== 'render')) return null;
  return {
    video_url: `/api/v1/projects/${job.project_id}/video`,
    ...(typeof r.duration_seconds === 'number' ? { duration_seconds: r.duration_seconds } : {}),
    ...(typeof r.size_bytes === 'number' ? { size_bytes: r.size_bytes } : {}),
  };
}

/**
 * A projector listener: when a top-level job (a run, a remake, a render, a test job) ends, the
 * account's webhooks subscribed to `job.<status>` get a delivery, written in the event's transaction.
 * Only the job's own account (its memorial's owner) hears of it. Steps inside a pipeline stay quiet.
 */
export const webhooksOnJobFinished: AppliedListener = async ({ job, event, finished }, em) => {
  if (!finished || job.parent_job_id || !job.account_id) return;
  if (job.status !== 'succeeded' && job.status !== 'failed' && job.status !== 'canceled') return;
  const data: JobWebhookData = {
    id: job.id,
    type: job.type,
    status: job.status,
    project_id: job.project_id ?? null,
    error: job.error ? { code: job.error.code, message: job.error.message } : null,
    result: resultSummary(job),
    finished_at: new Date(event.at).toISOString(),
  };
  await enqueueWebhookEvent(em, job.account_id, `job.${job.status}` as WebhookEventType, data, new Date(event.at));
};
