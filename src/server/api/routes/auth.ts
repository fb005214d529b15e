import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import { tokenRows } from '../../../auth/api-tokens.ts';
import { checkCredentials } from '../../../auth/sessions.ts';
import { SignInLimited, SignInLimiter } from '../../../auth/sign-in-limiter.ts';
import { sameSecret, tokenHash } from '../../../auth/tokens.ts';
import { userRow } from '../../../auth/users.ts';
import { actorOf, principalOf, SESSION_COOKIE } from '../access.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { afterCursor, listQuerySchema, orderByKeys, pageSchema, sortKeys, toPage } from '../pagination.ts';
import type { ZodApp } from '../zod-app.ts';
import { ssoRoutes } from './sso.ts';

/**
 * Sign-in and roles (mounted under /api/v1): browser sessions (cookie `dw_session` +
 * `x-csrf-token`), the own password, users (admins) and API tokens (each user their own,
 * admins all). Passwords are checked here on the read connection; every write is a command.
 */

const roleSchema = z.enum(['admin', 'viewer']);
const sessionUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: roleSchema,
  mustChangePassword: z.boolean().describe('The password is a one-time one: change it (POST /auth/password)'),
});
const userSchema = sessionUserSchema
  .extend({
    disabled: z.boolean(),
    sso: z.boolean().describe('Linked to an Entra ID account'),
    createdAt: z.string(),
    lastSignInAt: z.string().nullable(),
  })
  .describe('User');
const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe('First characters of the token, to tell tokens apart'),
    userId: z.string(),
    username: z.string(),
    role: roleSchema.describe('Never above the role of its user'),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .describe('API token (without its secret)');
const passwordSchema = z.string().min(1).max(1024);
const idParams = z.object({ id: z.string().min(1).max(200) });

function cookieIsSecure(deps: ApiDeps, request: FastifyRequest): boolean {
  return deps.config.auth.secureCookie ?? request.protocol === 'https';
}

/** The session cookie of a sign-in (password or Microsoft): HttpOnly, SameSite=Strict. */
function setSessionCookie(
  deps: ApiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: { token: string; expiresAt: string },
): void {
  reply.setCookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: cookieIsSecure(deps, request),
    expires: new Date(session.expiresAt),
  });
}

function sessionCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies?.[SESSION_COOKIE];
  return value || undefined;
}

export async function authRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const limiter = new SignInLimiter();
  const tags = ['auth'];

  app.post(
    '/auth/sign-in',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in with a username and password; sets the session cookie',
        body: z.object({ username: z.string().min(1).max(200), password: passwordSchema }),
        response: { 200: z.object({ user: sessionUserSchema, csrfToken: z.string() }) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await limiter
        .attempt(username, request.ip, () => checkCredentials(deps.db, username, password))
        .catch((err) => {
          if (!(err instanceof SignInLimited)) throw err;
          reply.header('retry-after', String(err.retryAfterSeconds));
          throw new ApiError(429, 'rate_limited', err.message);
        });
      if (!user) throw new ApiError(401, 'invalid_credentials', 'username or password is wrong');
      const session = await deps.commands
        .run(
          'auth.openSession',
          { userAgent: request.headers['user-agent'] ?? null, ip: request.ip },
          { userId: user.id, username: user.username, role: user.role },
        )
        .catch((err: { code?: string }) => {
          // Disabled or removed between the check and now: like a wrong password.
          if (err.code === 'invalid_credentials')
            throw new ApiError(401, 'invalid_credentials', 'username or password is wrong');
          throw err;
        });
      setSessionCookie(deps, request, reply, session);
      return { user, csrfToken: session.csrfToken };
    },
  );

  app.post(
    '/auth/sign-out',
    {
      config: { access: 'public' },
      schema: { tags, summary: 'End the browser session and clear its cookie' },
    },
    async (request, reply) => {
      const token = sessionCookie(request);
      const principal = request.principal;
      if (token && principal?.via === 'session') {
        // Public so that a stale cookie can always be cleared, but a live session still
        // needs its CSRF token: no other site may sign people out.
        const sent = request.headers['x-csrf-token'];
        if (typeof sent !== 'string' || !principal.csrfToken || !sameSecret(sent, principal.csrfToken))
          throw new ApiError(403, 'csrf', 'x-csrf-token header missing or wrong');
        await deps.commands.run('auth.closeSession', { token }, actorOf(request));
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/session',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary:
          'Who is signed in, the CSRF token for unsafe requests, and whether single sign-on is offered',
        response: {
          200: z.object({
            user: sessionUserSchema.nullable(),
            csrfToken: z.string().nullable().describe('Send as x-csrf-token on POST, PUT, PATCH and DELETE'),
            sso: z.object({ enabled: z.boolean() }),
          }),
        },
      },
    },
    async (request) => {
      const sso = { enabled: deps.config.auth.sso.enabled };
      const principal = request.principal;
      if (!principal) return { user: null, csrfToken: null, sso };
      const row = await deps.db
        .selectFrom('app_users')
        .selectAll()
        .where('id', '=', principal.userId)
        .executeTakeFirst();
      if (!row) return { user: null, csrfToken: null, sso };
      const { id, username, mustChangePassword } = userRow(row);
      return {
        user: { id, username, role: principal.role, mustChangePassword },
        csrfToken: principal.csrfToken ?? null,
        sso,
      };
    },
  );

  app.post(
    '/auth/password',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Change your own password (ends your other sessions)',
        body: z.object({ current: passwordSchema, next: passwordSchema.describe('At least 12 characters') }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { current, next } = request.body;
      // The same throttle as sign-in: a stolen session must not guess the password.
      const ok = await limiter
        .attempt(principal.username, request.ip, () => checkCredentials(deps.db, principal.username, current))
        .catch((err) => {
          if (!(err instanceof SignInLimited)) throw err;
          reply.header('retry-after', String(err.retryAfterSeconds));
          throw new ApiError(429, 'rate_limited', err.message);
        });
      if (!ok) throw new ApiError(400, 'wrong_password', 'current: not your current password');
      const token = principal.via === 'session' ? sessionCookie(request) : undefined;
      await deps.commands.run(
        'auth.changePassword',
        { current, next, ...(token ? { keepSession: tokenHash(token) } : {}) },
        actorOf(request),
      );
      return reply.code(204).send();
    },
  );

  await ssoRoutes(app, deps, setSessionCookie);
  await userRoutes(app, deps);
  await tokenRoutes(app, deps);
}

async function userRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const tags = ['users'];
  app.get(
    '/users',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Users',
        querystring: listQuerySchema.extend({
          q: z.string().max(200).optional().describe('Part of the username'),
          role: roleSchema.optional(),
        }),
        response: { 200: pageSchema(userSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, sort, q, role } = request.query;
      const { keys } = sortKeys(
        sort,
        { username: sql.ref('username'), createdAt: sql.ref('created_at') },
        'username',
        [sql.ref('id')],
      );
      let query = deps.db.selectFrom('app_users').selectAll();
      if (q) {
        const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
        query = query.where(sql<boolean>`username like ${pattern} escape '\\'`);
      }
      if (role) query = query.where('role', '=', role);
      if (cursor) query = query.where(afterCursor(keys, cursor));
      const rows = await query
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute();
      const sortName = (sort ?? 'username').replace(/^-/, '');
      const page = toPage(rows, limit, (r) => [sortName === 'createdAt' ? r.created_at : r.username, r.id]);
      return { items: page.items.map(userRow), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/users',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Add a user (without a password: a one-time password is generated and shown once)',
        body: z.object({
          username: z.string().min(1).max(64).describe('1–64 of a-z 0-9 . _ @ - (lower-cased)'),
          password: passwordSchema.optional().describe('At least 12 characters; omit to generate one'),
          role: roleSchema,
          mustChangePassword: z.boolean().optional(),
        }),
        response: {
          201: z.object({
            user: userSchema,
            oneTimePassword: z.string().optional().describe('Generated password, shown this once'),
          }),
        },
      },
    },
    async (request, reply) => {
      const created = await deps.commands.run('auth.createUser', request.body, actorOf(request));
      return reply.code(201).send(created);
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          'Change a user: role, disabled, or reset the password (the last admin stays an enabled admin)',
        params: idParams,
        body: z
          .object({
            role: roleSchema.optional(),
            disabled: z.boolean().optional().describe('A disabled user cannot sign in; their sessions end'),
            password: passwordSchema.optional().describe('A new password, to be changed at next sign-in'),
            mustChangePassword: z.boolean().optional(),
          })
          .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
        response: { 200: userSchema },
      },
    },
    async (request) =>
      deps.commands.run('auth.updateUser', { id: request.params.id, ...request.body }, actorOf(request)),
  );

  app.delete(
    '/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Remove a user with their sessions and tokens (never the last admin)',
        params: idParams,
      },
    },
    async (request, reply) => {
      await deps.commands.run('auth.deleteUser', { id: request.params.id }, actorOf(request));
      return reply.code(204).send();
    },
  );
}

async function tokenRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const tags = ['tokens'];
  app.get(
    '/tokens',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'API tokens (never their secrets): your own, or for admins everyone’s',
        querystring: listQuerySchema.extend({
          userId: z.string().max(200).optional().describe('Admins: only this user’s tokens'),
        }),
        response: { 200: pageSchema(tokenSchema) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { limit, cursor, sort, userId } = request.query;
      const { keys } = sortKeys(
        sort,
        { createdAt: sql.ref('t.created_at'), name: sql.ref('t.name') },
        '-createdAt',
        [sql.ref('t.id')],
      );
      let query = tokenRows(deps.db);
      if (principal.role !== 'admin') query = query.where('t.user_id', '=', principal.userId);
      else if (userId) query = query.where('t.user_id', '=', userId);
      if (cursor) query = query.where(afterCursor(keys, cursor));
      const rows = await query
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute();
      const byName = (sort ?? '').replace(/^-/, '') === 'name';
      return toPage(rows, limit, (r) => [byName ? r.name : r.createdAt, r.id]);
    },
  );

  app.post(
    '/tokens',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Create an API token; its secret is in this answer only',
        body: z.object({
          name: z.string().min(1).max(100).describe('What the token is for'),
          role: roleSchema.optional().describe('Default: your role; never above it'),
          expiresAt: z.iso.datetime().nullish().describe('When it stops working; default never'),
          userId: z.string().max(200).optional().describe('Admins: a token for another user'),
        }),
        response: {
          201: tokenSchema.extend({
            token: z.string().describe('Authorization: Bearer <token>; shown this once'),
          }),
        },
      },
    },
    async (request, reply) => {
      const issued = await deps.commands.run('auth.createToken', request.body, actorOf(request));
      return reply.code(201).send(issued);
    },
  );

  app.delete(
    '/tokens/:id',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: 'Revoke an API token (your own; admins any)', params: idParams },
    },
    async (request, reply) => {
      await deps.commands.run('auth.revokeToken', { id: request.params.id }, actorOf(request));
      return reply.code(204).send();
    },
  );
}
