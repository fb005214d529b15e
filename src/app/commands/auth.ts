import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { issueToken, revokeToken } from '../../auth/api-tokens.ts';
import { AuthError, createUser } from '../../auth/principals.ts';
import { closeSession, openSession } from '../../auth/sessions.ts';
import { completeSso, linkSsoUser, SsoError, startSso } from '../../auth/sso.ts';
import { changeOwnPassword, deleteUser, updateUser, userById } from '../../auth/users.ts';
import { type CommandContext, CommandError, defineCommand } from './types.ts';

/**
 * Commands of the auth area (server/api/routes/auth.ts): sessions, own password, users and
 * API tokens. Thin wrappers over src/auth/; AuthError becomes a CommandError.
 */

const STATUS: Record<AuthError['code'], 400 | 403 | 404 | 409 | 422> = {
  invalid_username: 400,
  invalid_input: 400,
  weak_password: 400,
  wrong_password: 403,
  user_exists: 409,
  last_admin: 409,
  not_found: 404,
  forbidden: 403,
};

async function authCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AuthError) throw new CommandError(err.code, err.message, STATUS[err.code]);
    throw err;
  }
}

const SSO_STATUS: Record<SsoError['code'], 400 | 403 | 404 | 409 | 429 | 502> = {
  sso_disabled: 404,
  sso_busy: 429,
  invalid_state: 400,
  sso_refused: 403,
  tenant_not_allowed: 403,
  no_role: 403,
  username_taken: 409,
  account_disabled: 403,
  sso_unavailable: 502,
};

async function ssoCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SsoError) throw new CommandError(err.code, err.message, SSO_STATUS[err.code]);
    throw err;
  }
}

const db = (ctx: CommandContext) => ctx.app.store.db;
const roleSchema = z.enum(['admin', 'viewer']);

export const authCommands = {
  /** Opens a session for the actor (the route checked the password). */
  'auth.openSession': defineCommand({
    role: 'viewer',
    input: z.object({ userAgent: z.string().nullish(), ip: z.string().nullish() }),
    async run(ctx, input) {
      const opened = await openSession(db(ctx), {
        userId: ctx.actor.userId,
        lifetimeMs: ctx.app.config.auth.sessionHours * 3_600_000,
        userAgent: input.userAgent,
        ip: input.ip,
      });
      if (!opened) throw new CommandError('invalid_credentials', 'user unknown or disabled', 403);
      return opened;
    },
  }),
  /**
   * Sign-in with Microsoft, first leg: a single-use state and the authorize URL. Anyone may
   * start one (the route is public); `binding` goes to the browser's cookie only.
   */
  'auth.ssoStart': defineCommand({
    role: 'viewer',
    input: z.object({ redirectUri: z.string().url() }),
    async run(ctx, input) {
      return ssoCall(() => startSso(db(ctx), ctx.app.config.auth.sso, input));
    },
  }),
  /**
   * Microsoft's answer: the state used up, the code redeemed, the ID token validated, the
   * linked (or new) user's role set from its claims, and a session opened for them, the same
   * kind as a password sign-in's. Runs for whoever brings the answer back: the state bound to
   * their browser is the credential.
   */
  'auth.ssoComplete': defineCommand({
    role: 'viewer',
    input: z.object({
      binding: z.string().min(20).max(100),
      callbackUrl: z.string().url().max(8000),
      userAgent: z.string().nullish(),
      ip: z.string().nullish(),
    }),
    async run(ctx, input) {
      return ssoCall(async () => {
        const identity = await completeSso(db(ctx), ctx.app.config.auth.sso, input);
        const user = await linkSsoUser(db(ctx), identity);
        const opened = await openSession(db(ctx), {
          userId: user.id,
          lifetimeMs: ctx.app.config.auth.sessionHours * 3_600_000,
          userAgent: input.userAgent,
          ip: input.ip,
        });
        if (!opened) throw new SsoError('account_disabled', `${user.username} is disabled in drivewarden`);
        return { ...opened, user };
      });
    },
  }),
  /** An API token was used (the server thread sends this at most once a minute per token). */
  'auth.tokenUsed': defineCommand({
    role: 'viewer',
    input: z.object({ id: z.string().min(1).max(200), at: z.iso.datetime() }),
    async run(ctx, input) {
      const result = await db(ctx)
        .updateTable('api_tokens')
        .set({ last_used_at: input.at })
        .where('id', '=', input.id)
        .where('user_id', '=', ctx.actor.userId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', input.at)]))
        .executeTakeFirst();
      return { recorded: Number(result.numUpdatedRows) > 0 };
    },
  }),
  'auth.closeSession': defineCommand({
    role: 'viewer',
    input: z.object({ token: z.string().min(1) }),
    async run(ctx, input) {
      return { closed: await closeSession(db(ctx), input.token) };
    },
  }),
  'auth.changePassword': defineCommand({
    role: 'viewer',
    input: z.object({ current: z.string(), next: z.string(), keepSession: z.string().optional() }),
    async run(ctx, input) {
      await authCall(() => changeOwnPassword(db(ctx), { userId: ctx.actor.userId, ...input }));
      return { changed: true };
    },
  }),
  /** A new user; without a password, a one-time password is generated and returned once. */
  'auth.createUser': defineCommand({
    role: 'admin',
    input: z.object({
      username: z.string(),
      password: z.string().optional(),
      role: roleSchema,
      mustChangePassword: z.boolean().optional(),
    }),
    async run(ctx, input) {
      const generated = input.password ? undefined : randomBytes(18).toString('base64url');
      const created = await authCall(() =>
        createUser(db(ctx), {
          username: input.username,
          password: input.password ?? (generated as string),
          role: input.role,
          mustChangePassword: generated ? true : (input.mustChangePassword ?? false),
        }),
      );
      const user = await userById(db(ctx), created.id);
      return { user, ...(generated ? { oneTimePassword: generated } : {}) };
    },
  }),
  'auth.updateUser': defineCommand({
    role: 'admin',
    input: z.object({
      id: z.string(),
      role: roleSchema.optional(),
      disabled: z.boolean().optional(),
      password: z.string().optional(),
      mustChangePassword: z.boolean().optional(),
    }),
    async run(ctx, { id, ...change }) {
      return authCall(() => updateUser(db(ctx), id, change));
    },
  }),
  'auth.deleteUser': defineCommand({
    role: 'admin',
    input: z.object({ id: z.string() }),
    async run(ctx, input) {
      return authCall(() => deleteUser(db(ctx), input.id));
    },
  }),
  /** A token for the actor, or (admins) for another user. */
  'auth.createToken': defineCommand({
    role: 'viewer',
    input: z.object({
      name: z.string(),
      role: roleSchema.optional(),
      expiresAt: z.string().datetime().nullish(),
      userId: z.string().optional(),
    }),
    async run(ctx, input) {
      const userId = input.userId ?? ctx.actor.userId;
      if (userId !== ctx.actor.userId && ctx.actor.role !== 'admin')
        throw new CommandError('forbidden', 'userId: only admins create tokens for other users', 403);
      return authCall(() =>
        issueToken(db(ctx), {
          userId,
          name: input.name,
          role: input.role,
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
          maxRole: ctx.actor.role,
        }),
      );
    },
  }),
  /** Revokes a token: admins any, viewers their own. */
  'auth.revokeToken': defineCommand({
    role: 'viewer',
    input: z.object({ id: z.string() }),
    async run(ctx, input) {
      const owner = ctx.actor.role === 'admin' ? undefined : ctx.actor.userId;
      return authCall(() => revokeToken(db(ctx), input.id, owner));
    },
  }),
};
