import { createRoute, z } from '@hono/zod-openapi';
import { ApiKeyList, CreateApiKeyRequest, CreatedApiKey } from '@mt/contracts';
import type { Context } from 'hono';
import { ApiError } from '../http-errors.js';
import type { RouteDeps } from './deps.js';
import type { GatewayEnv } from './openapi.js';
import { errors, json, newRoutes } from './openapi.js';

const tags = ['api-keys'];
const KeyParam = z.object({ key_id: z.string().max(64) });

const accountOf = (c: Context<GatewayEnv>): string => {
  if (!c.var.principal) throw new ApiError('unauthenticated', 'Sign in first.');
  return c.var.principal.accountId;
};

/** The caller's own API keys: list (never the key), create (the key shown once), revoke. */
export function apiKeyRoutes(d: RouteDeps) {
  const api = newRoutes();

  api.openapi(
    createRoute({
      method: 'get',
      path: '/api-keys',
      tags,
      operationId: 'listApiKeys',
      summary: "List the account's API keys (without the keys)",
      responses: { 200: json(ApiKeyList, 'The keys, newest first'), ...errors(401) },
    }),
    async (c) => c.json({ items: await d.accounts.listKeys(accountOf(c)) }, 200),
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/api-keys',
      tags,
      operationId: 'createApiKey',
      summary: 'Make an API key (shown once)',
      request: { body: { required: false, content: { 'application/json': { schema: CreateApiKeyRequest } } } },
      responses: { 201: json(CreatedApiKey, 'The new key; `key` is not shown again'), ...errors(401, 422) },
    }),
    async (c) => {
      const accountId = accountOf(c);
      // The body is optional: no body (or no content type) makes an unnamed key.
      const name = c.req.header('content-type')?.includes('json') ? c.req.valid('json').name : undefined;
      return c.json(await d.accounts.createKey(accountId, name), 201);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/api-keys/{key_id}',
      tags,
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key at once',
      request: { params: KeyParam },
      responses: { 204: { description: 'Revoked' }, ...errors(401, 404) },
    }),
    async (c) => {
      await d.accounts.revokeKey(accountOf(c), c.req.valid('param').key_id);
      return c.body(null, 204);
    },
  );
  return api;
}
