import { OpenAPIHono } from '@hono/zod-openapi';
import { type Bus, config, type Logger, type Storage } from '@mt/platform';
import { bodyLimit } from 'hono/body-limit';
import { type AccessPolicy, accessMiddleware, memberAccess } from './access.js';
import { asyncApiDocument } from './asyncapi.js';
import { type Accounts, accountsUnavailable } from './auth/accounts.js';
import { principalUnlessOpen, requireCredential } from './auth/authenticate.js';
import { type Authenticate, anonymous } from './auth/principal.js';
import type { Repositories } from './db/index.js';
import { mountDocs } from './docs.js';
import { errorResponse, onError } from './http-errors.js';
import { inputGuard } from './input-guard.js';
import { JobCommands } from './job-commands.js';
import { JobRequests } from './job-requests.js';
import { metrics } from './metrics.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { assetRoutes } from './routes/assets.js';
import { authRoutes } from './routes/auth.js';
import type { RouteDeps } from './routes/deps.js';
import { jobRoutes } from './routes/jobs.js';
import { linkRoutes } from './routes/links.js';
import { type GatewayEnv, validationHook } from './routes/openapi.js';
import { organiserRoutes } from './routes/organisers.js';
import { projectRoutes } from './routes/projects.js';
import { type LinkSettings, linkSettings, mediaRoutes, sharedRoutes } from './routes/shared.js';
import { systemRoutes } from './routes/system.js';
import { webhookRoutes } from './routes/webhooks.js';
import { mountWeb } from './web.js';
import type { WebhookSecrets } from './webhooks/secrets.js';

export interface GatewayDeps {
  repos: Repositories;
  storage: Storage;
  /** The bus once connected (the API answers before NATS is there; creating jobs waits for it). */
  bus: () => Bus | null;
  log: Logger;
  /** Which of Postgres, NATS and storage are unreachable, by name. */
  ready: () => Promise<Record<string, string>>;
  /** A transaction wrote to the outbox: publish now (the relay's kick). */
  committed: () => void;
  storeThumbnail: RouteDeps['storeThumbnail'];
  ensureThumbnail: RouteDeps['ensureThumbnail'];
  /** Who is asking (session cookie or API key); nobody when not given. */
  authenticate?: Authenticate;
  /** Accounts, sign-in and API keys (auth/accounts.ts); their routes answer 503 when not given. */
  accounts?: Accounts;
  /** Who may do what; members of a memorial (memberAccess) unless a test gives another policy. */
  access?: AccessPolicy;
  /** Encrypts webhook signing secrets at rest; the webhook routes answer 503 when not given. */
  webhookSecrets?: WebhookSecrets;
  /** Share links (routes/shared.ts): `secret` signs media URLs (the auth secret; random when not given). */
  links?: Partial<LinkSettings> & { secret?: string; mediaTtlSeconds?: number };
}

const JSON_LIMIT = 1024 * 1024;

/** The gateway's HTTP app: middleware, one error handler, and the route modules mounted. */
export function createGateway(d: GatewayDeps) {
  const app = new OpenAPIHono<GatewayEnv>({ defaultHook: validationHook });
  app.onError(onError(d.log));
  app.notFound((c) => errorResponse(c, 'not_found', `No such path: ${c.req.method} ${c.req.path}`));
  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    metrics.httpDuration.observe(
      { method: c.req.method, route: c.req.routePath ?? 'unmatched', status: String(c.res.status) },
      (performance.now() - t0) / 1000,
    );
  });
  // JSON bodies are small; uploads stream past this limit on their own path.
  app.use('/api/v1/*', async (c, next) => {
    if (c.req.method === 'POST' && /\/assets$/.test(c.req.path)) return next();
    return bodyLimit({ maxSize: JSON_LIMIT, onError: (cc) => errorResponse(cc, 'payload_too_large', 'The request body is larger than 1 MB.') })(c, next);
  });
  app.use('/api/v1/*', inputGuard());
  app.use('/api/v1/*', principalUnlessOpen(d.authenticate ?? anonymous));
  // Every /api/v1 path but signing in and capability links needs a session or an API key: 401 here.
  app.use('/api/v1/*', requireCredential());
  app.use('/api/v1/*', accessMiddleware(d.access ?? memberAccess, d.repos));

  const deps: RouteDeps = {
    repos: d.repos,
    storage: d.storage,
    bus: d.bus,
    log: d.log,
    jobs: new JobCommands(d.repos, d.bus, d.committed),
    requests: new JobRequests(d.repos),
    storeThumbnail: d.storeThumbnail,
    ensureThumbnail: d.ensureThumbnail,
    accounts: d.accounts ?? accountsUnavailable,
    links: linkSettings(d.links),
  };
  app.route('/api/v1', authRoutes(deps));
  app.route('/api/v1', apiKeyRoutes(deps));
  app.route('/api/v1', projectRoutes(deps));
  app.route('/api/v1', organiserRoutes(deps));
  app.route('/api/v1', assetRoutes(deps));
  app.route('/api/v1', jobRoutes(deps));
  app.route('/api/v1', linkRoutes(deps));
  app.route('/api/v1', sharedRoutes(deps));
  app.route('/', mediaRoutes(deps));
  app.route('/api/v1', webhookRoutes(deps, d.webhookSecrets ?? null));
  app.route('/', systemRoutes(d.ready));
  const documentConfig: Parameters<typeof app.getOpenAPI31Document>[0] = {
    openapi: '3.1.0',
    // 3.1 allows an SPDX-style `identifier`, which the generator's 3.0-era type does not know.
    info: {
      title: 'MemorialTube API',
      version: '1.2.0',
      description: 'Photos in, a memorial video out.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' } as { name: string },
    },
    servers: [{ url: '/', description: 'This gateway' }],
    // A session cookie or an API key (schemes declared by routes/auth.ts); sign-in operations say `security: []`.
    security: [{ bearer: [] }, { session: [] }],
  };
  // Built once, on first request: building it per request cost ~0.1 MB of heap each (the soak bench).
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/openapi.json', (c) => {
    document ??= app.getOpenAPI31Document(documentConfig);
    return c.json(document);
  });
  // The bus contract (AsyncAPI 3) for subscribers inside the operator's trust; open like /openapi.json.
  let asyncapi: ReturnType<typeof asyncApiDocument> | undefined;
  app.get('/asyncapi.json', (c) => {
    asyncapi ??= asyncApiDocument(config.namespace);
    return c.json(asyncapi);
  });
  mountDocs(app);
  mountWeb(app);
  return app;
}
