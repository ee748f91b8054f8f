import { z } from 'zod';

// Webhooks for integrators (API.md "Webhooks (integrators)"): an account subscribes a URL to events of
// its own memorials; deliveries follow Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature headers; HMAC-SHA256 with the secret shown once at creation).

export const WebhookEventType = z.enum(['job.succeeded', 'job.failed', 'job.canceled', 'asset.contributed']);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** Where deliveries go: an http(s) URL (nothing else is ever fetched). */
const WebhookUrl = z
  .string()
  .trim()
  .max(2000)
  .pipe(z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }));

export const CreateWebhookRequest = z
  .object({
    url: WebhookUrl,
    events: z
      .array(WebhookEventType)
      .min(1)
      .max(WebhookEventType.options.length)
      .refine((e) => new Set(e).size === e.length, 'each event once'),
  })
  .meta({ id: 'CreateWebhookRequest' });
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequest>;

/** A webhook as listed: never its secret. */
export const Webhook = z.object({ id: z.string(), url: z.string(), events: z.array(WebhookEventType), created_at: z.string() }).meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof Webhook>;

export const WebhookList = z.object({ items: z.array(Webhook) }).meta({ id: 'WebhookList' });
export type WebhookList = z.infer<typeof WebhookList>;

/** The new webhook with its signing secret (`whsec_…`, Standard Webhooks format), shown here once. */
export const CreatedWebhook = Webhook.extend({
  secret: z.string().meta({ description: 'The signing secret (whsec_…); shown only in this answer. Verify deliveries with a Standard Webhooks library.' }),
}).meta({ id: 'CreatedWebhook' });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;

/** `data` of job.succeeded / job.failed / job.canceled: a top-level job of one of the account's memorials. */
export const JobWebhookData = z.object({
  id: z.string(),
  type: z.string(),
  status: z.enum(['succeeded', 'failed', 'canceled']),
  project_id: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** What was made, for a pipeline or a render: the video's path, length and size. */
  result: z.object({ video_url: z.string().optional(), duration_seconds: z.number().optional(), size_bytes: z.number().optional() }).nullable(),
  finished_at: z.string(),
});
export type JobWebhookData = z.infer<typeof JobWebhookData>;

/** The body of every delivery. */
export const WebhookPayload = z.object({ type: WebhookEventType, timestamp: z.string(), data: z.record(z.string(), z.unknown()) });
export type WebhookPayload = z.infer<typeof WebhookPayload>;
