import { createRoute, z } from '@hono/zod-openapi';
import { CreatedWebhook, CreateWebhookRequest, WebhookList } from '@mt/contracts';
import type { Context } from 'hono';
import type { WebhookRow } from '../db/index.js';
import { ApiError, notFound } from '../http-errors.js';
import { WebhookSecrets } from '../webhooks/secrets.js';
import type { RouteDeps } from './deps.js';
import type { GatewayEnv } from './openapi.js';
import { body, errors, json, newRoutes } from './openapi.js';

const tags = ['webhooks'];
const WebhookParam = z.object({ webhook_id: z.string().max(64) });

const accountOf = (c: Context<GatewayEnv>): string => {
  if (!c.var.principal) throw new ApiError('unauthenticated', 'Sign in first.');
  return c.var.principal.accountId;
};

const dto = (w: WebhookRow) => ({ id: w.id, url: w.url, events: w.events, created_at: new Date(w.created_at).toISOString() });

/**
 * The caller's webhooks (API.md "Webhooks (integrators)"): create (the signing secret shown once),
 * list (never the secret), delete. `secrets` encrypts the secret at rest; without it (a gateway built
 * without an auth secret) these answer 503.
 */
export function webhookRoutes(d: RouteDeps, secrets: WebhookSecrets | null) {
  const api = newRoutes();
  const cipher = () => {
    if (!secrets) throw new ApiError('dependency_unavailable', 'Webhooks are not available on this gateway.');
    return secrets;
  };

  api.openapi(
    createRoute({
      method: 'get',
      path: '/webhooks',
      tags,
      operationId: 'listWebhooks',
      summary: "List the account's webhooks (without their secrets)",
      responses: { 200: json(WebhookList, 'The webhooks, newest first'), ...errors(401) },
    }),
    async (c) => c.json({ items: (await d.repos.webhooks.list(accountOf(c))).map(dto) }, 200),
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks',
      tags,
      operationId: 'createWebhook',
      summary: "Subscribe a URL to events of the account's memorials (the signing secret is shown once)",
      description:
        'Deliveries follow Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 with the secret) headers, ' +
        'a JSON body `{ type, timestamp, data }`, at least once (retried with backoff until a 2xx answer; the same `webhook-id` on every attempt).',
      request: { body: body(CreateWebhookRequest) },
      responses: { 201: json(CreatedWebhook, 'The webhook; `secret` is not shown again'), ...errors(401, 422, 503) },
    }),
    async (c) => {
      const accountId = accountOf(c);
      const { url, events } = c.req.valid('json');
      const id = d.repos.webhooks.newId();
      const secret = WebhookSecrets.generate();
      const row = await d.repos.webhooks.create({ id, accountId, url, events, secretEncrypted: cipher().encrypt(secret, id) });
      return c.json({ ...dto(row), secret }, 201);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/webhooks/{webhook_id}',
      tags,
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook (its pending deliveries are dropped)',
      request: { params: WebhookParam },
      responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
    }),
    async (c) => {
      const { webhook_id } = c.req.valid('param');
      if (!(await d.repos.webhooks.delete(accountOf(c), webhook_id))) throw notFound('Webhook', webhook_id);
      return c.body(null, 204);
    },
  );
  return api;
}
