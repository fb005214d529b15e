import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { CommandActor } from '../../app/commands/types.ts';
import { type Principal, principalOfApiToken, principalOfSession } from '../../auth/principals.ts';
import { sameSecret } from '../../auth/tokens.ts';
import type { Database } from '../../store/schema.ts';
import { ApiError } from './errors.ts';

/**
 * Who may call a route. Every route declares it in its options, `config: { access: 'viewer' }`;
 * a route that declares nothing is admin-only (fail closed).
 * - `public`: anyone (Graph's webhook receiver, health, the OpenAPI document, sign-in, the
 *   owners' review page which carries its own signed token, the web app's static files);
 * - `viewer`: any signed-in user or API token (read-only routes);
 * - `admin`: admins only (everything that changes something).
 */
export type Access = 'public' | 'viewer' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The caller, once the access hook resolved one (undefined on public routes without credentials). */
    principal?: Principal;
  }
}

export const SESSION_COOKIE = 'dw_session';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/**
 * What a session whose password must be changed may still do beside the public routes
 * (reading the session, signing out): change the password. Everything else answers 403
 * `password_change_required`.
 */
export const PASSWORD_CHANGE_ROUTES = new Set(['POST /api/v1/auth/password']);

/** The route's declared access (admin when none was declared). */
export function accessOf(request: FastifyRequest): Access {
  return request.routeOptions.config?.access ?? 'admin';
}

async function resolvePrincipal(
  db: Kysely<Database>,
  request: FastifyRequest,
  now: Date,
): Promise<Principal | null> {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(dw_[A-Za-z0-9_-]{20,100})$/i.exec(header);
    if (!m) throw new ApiError(401, 'unauthorized', 'authorization: expected "Bearer dw_…" (an API token)');
    const principal = await principalOfApiToken(db, m[1], now);
    if (!principal) throw new ApiError(401, 'unauthorized', 'API token unknown, expired or revoked');
    return principal;
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (cookie) return principalOfSession(db, cookie, now);
  return null;
}

/**
 * The hook that enforces `access` on every request: resolves the principal from an API token
 * (`Authorization: Bearer dw_…`) or the session cookie, refuses anonymous callers (401) and
 * viewers on admin routes (403), sessions that must change their one-time password on all
 * but the password change (403 `password_change_required`), and requires `x-csrf-token` on unsafe requests made with a
 * session cookie (tokens are not sent by browsers on their own, so they need none).
 * Needs @fastify/cookie registered first.
 */
export function installAccessControl(
  app: FastifyInstance,
  db: Kysely<Database>,
  now = () => new Date(),
  onTokenUsed?: (principal: Principal, at: Date) => void,
): void {
  app.addHook('onRequest', async (request) => {
    const access = accessOf(request);
    if (access === 'public') {
      // Public routes still learn who is signed in (sign-out, session), never refuse for it.
      request.principal = (await resolvePrincipal(db, request, now()).catch(() => null)) ?? undefined;
      return;
    }
    const principal = await resolvePrincipal(db, request, now());
    if (!principal) throw new ApiError(401, 'unauthorized', 'sign in first (session cookie or API token)');
    if (
      principal.mustChangePassword &&
      !PASSWORD_CHANGE_ROUTES.has(`${request.method} ${request.routeOptions.url}`)
    )
      throw new ApiError(
        403,
        'password_change_required',
        'your password is a one-time password: change it first (POST /api/v1/auth/password)',
      );
    if (access === 'admin' && principal.role !== 'admin')
      throw new ApiError(
        403,
        'forbidden',
        `${request.method} ${request.routeOptions.url} needs the admin role`,
      );
    if (principal.via === 'session' && UNSAFE.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !principal.csrfToken || !sameSecret(sent, principal.csrfToken))
        throw new ApiError(
          403,
          'csrf',
          'x-csrf-token header missing or wrong (take it from GET /api/v1/auth/session)',
        );
    }
    request.principal = principal;
    if (principal.via === 'token') onTokenUsed?.(principal, now());
  });
}

/** The principal of a route that is not public (set by the access hook). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'unauthorized', 'sign in first');
  return request.principal;
}

/** The command actor of a request (who is recorded in trails). */
export function actorOf(request: FastifyRequest): CommandActor {
  const { userId, username, role } = principalOf(request);
  return { userId, username, role };
}

/** One route of a server with the access it declared. */
export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

const routeTables = new WeakMap<FastifyInstance, RouteAccess[]>();

/**
 * Records the declared access of every route registered from now on (the access hook is
 * installed before any route), for audits: `routeAccessTable(app)` lists them all, which is
 * how a test proves that every route refuses whom it should.
 */
export function recordRouteAccess(app: FastifyInstance): void {
  const table: RouteAccess[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = (route.config as { access?: Access } | undefined)?.access ?? 'admin';
    for (const method of methods) table.push({ method: method.toUpperCase(), url: route.url, access });
  });
}

/** The routes `recordRouteAccess` saw on this app (empty when it was not installed). */
export function routeAccessTable(app: FastifyInstance): RouteAccess[] {
  return [...(routeTables.get(app) ?? [])];
}
