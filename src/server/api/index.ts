import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { VERSION } from '../../version.ts';
import { installAccessControl, recordRouteAccess } from './access.ts';
import type { ApiDeps } from './deps.ts';
import { createMetrics, metricsRoutes } from './metrics.ts';
import { activityRoutes } from './routes/activity.ts';
import { alertsRoutes } from './routes/alerts.ts';
import { authRoutes } from './routes/auth.ts';
import { eventsRoutes } from './routes/events.ts';
import { integrationsRoutes } from './routes/integrations.ts';
import { inventoryRoutes } from './routes/inventory.ts';
import { overviewRoutes } from './routes/overview.ts';
import { queryRoutes } from './routes/query.ts';
import { remediationRoutes } from './routes/remediation.ts';
import { rulesRoutes } from './routes/rules.ts';
import { storageRoutes } from './routes/storage.ts';
import { TokenUseRecorder } from './token-use.ts';
import type { ZodApp } from './zod-app.ts';

export const API_PREFIX = '/api/v1';

/**
 * The Content-Security-Policy of every answer: fits the Vite-built web app (its scripts and
 * styles are files of the same origin; React sets inline style attributes) and the API
 * reference at /docs; no framing, no plugins, no inline scripts.
 */
const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  // The demo and local installs are plain http: upgrading their requests would break them.
  upgradeInsecureRequests: null,
};

/**
 * The REST API on an app: zod schemas for validation and the OpenAPI document
 * (`/openapi.json`, browsable at `/docs`), the session cookie, the access hook, then the
 * routes of each area under /api/v1 (one file per area in ./routes/).
 */
export async function registerApi(root: FastifyInstance, deps: ApiDeps): Promise<void> {
  root.setValidatorCompiler(validatorCompiler);
  root.setSerializerCompiler(serializerCompiler);
  // The documentation is public like the document it shows.
  root.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/'))
      route.config = { ...(route.config as object), access: 'public' };
  });
  recordRouteAccess(root);
  // Before the access hook, so refusals carry the headers too.
  await root.register(helmet, { contentSecurityPolicy: { directives: CSP } });
  await root.register(cookie);
  const tokenUse = new TokenUseRecorder(deps.commands, deps.logger);
  installAccessControl(root, deps.db, deps.now, (principal, at) => tokenUse.used(principal, at));
  await root.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'drivewarden API',
        version: VERSION,
        description: 'OneDrive inventory and security monitor',
      },
      components: {
        securitySchemes: {
          token: { type: 'http', scheme: 'bearer', description: 'API token (drivewarden tokens create)' },
          session: { type: 'apiKey', in: 'cookie', name: 'dw_session' },
        },
      },
      security: [{ token: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await root.register(swaggerUi, { routePrefix: '/docs' });
  metricsRoutes(root, deps.db, deps.metrics ?? createMetrics(deps.db));
  root.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    root.swagger(),
  );

  const app = root.withTypeProvider() as unknown as ZodApp;
  await app.register(
    async (api) => {
      const z = api as unknown as ZodApp;
      await authRoutes(z, deps);
      await overviewRoutes(z, deps);
      await inventoryRoutes(z, deps);
      await storageRoutes(z, deps);
      await rulesRoutes(z, deps);
      await queryRoutes(z, deps);
      await integrationsRoutes(z, deps);
      await activityRoutes(z, deps);
      await alertsRoutes(z, deps);
      await remediationRoutes(z, deps);
      await eventsRoutes(z, deps);
    },
    { prefix: API_PREFIX },
  );
}
