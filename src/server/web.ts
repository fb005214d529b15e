import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api/errors.ts';
import { API_PREFIX } from './api/index.ts';

/**
 * The page's policy: only this origin's scripts, styles, images and API; no framing. The app
 * has no inline script or style (Vite bundles everything into /assets).
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Hashed build output never changes under its name: cache it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function listFiles(root: string): Set<string> {
  const files = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.add(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return files;
}

/** An unknown API path: 404 like any unknown route, or 401 to anonymous callers (who learn nothing). */
/** Every route of the web app is public: the pages hold no data, the API checks access. */
const PUBLIC_ROUTE = { config: { access: 'public' as const }, schema: { hide: true } };

const noRoute = (request: FastifyRequest, path: string) =>
  path.startsWith(API_PREFIX) && !request.principal
    ? new ApiError(401, 'unauthorized', 'sign in first (session cookie or API token)')
    : new ApiError(404, 'not_found', `no route ${request.method} ${path}`);

/**
 * The web app at `/`: the files of the build (web/dist) as public routes, and index.html for
 * every other GET that is not under /api (the app's own router shows the page), so deep links
 * and reloads work. Unknown /api paths and missing asset files stay JSON 404s. Without a build,
 * `/` says how to make one.
 */
export async function webRoutes(app: FastifyInstance, options: { webDir: string }): Promise<void> {
  const { webDir } = options;
  const built = existsSync(join(webDir, 'index.html'));
  await app.register(async (scope) => {
    if (!built) {
      const missing = async (request: FastifyRequest, reply: FastifyReply) => {
        const path = request.url.split('?')[0];
        if (path.startsWith(`${API_PREFIX}/`) || path === API_PREFIX) throw noRoute(request, path);
        return reply
          .code(503)
          .header('cache-control', 'no-store')
          .type('text/plain; charset=utf-8')
          .send(
            `drivewarden's web app is not built (no ${join(webDir, 'index.html')}).\n` +
              'Run `npm run build:web` (npm ci runs it for you), then reload this page.\n' +
              `The REST API is available under ${API_PREFIX} (reference at /docs).\n`,
          );
      };
      scope.get('/', PUBLIC_ROUTE, missing);
      scope.get('/*', PUBLIC_ROUTE, missing);
      return;
    }

    const files = listFiles(webDir);
    await scope.register(fastifyStatic, {
      root: webDir,
      serve: false,
      cacheControl: false,
      dotfiles: 'deny',
    });
    const sendIndex = (reply: FastifyReply) =>
      reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', WEB_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'same-origin')
        .sendFile('index.html');
    const serve = async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0];
      if (path.startsWith(`${API_PREFIX}/`) || path === API_PREFIX) throw noRoute(request, path);
      let rel: string;
      try {
        rel = decodeURIComponent(path).replace(/^\/+/, '');
      } catch {
        throw new ApiError(400, 'invalid_request', 'path: malformed percent-encoding');
      }
      if (rel === '' || rel === 'index.html') return sendIndex(reply);
      if (files.has(rel))
        return reply
          .header('cache-control', rel.startsWith('assets/') ? IMMUTABLE : 'public, max-age=3600')
          .header('x-content-type-options', 'nosniff')
          .sendFile(rel);
      // A file that is not there (an old hashed asset): a 404, never the page in its place.
      if (rel.startsWith('assets/') || /\.[A-Za-z0-9]{1,8}$/.test(rel)) throw noRoute(request, path);
      return sendIndex(reply);
    };
    scope.get('/', PUBLIC_ROUTE, serve);
    scope.get('/*', PUBLIC_ROUTE, serve);
  });
}
