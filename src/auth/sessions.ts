import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { verifyPassword } from './passwords.ts';
import type { Role } from './principals.ts';
import { newToken, tokenHash } from './tokens.ts';

/**
 * Browser sessions: checking a username and password, opening a session (the cookie's token
 * and its CSRF token, kept as hashes / plain CSRF), closing it. Checking reads only; opening
 * and closing write (on `serve` they run as commands on the main thread).
 */

export interface SignedInUser {
  id: string;
  username: string;
  role: Role;
  mustChangePassword: boolean;
}

/**
 * A hash with the same cost as real ones: unknown users, disabled users and users without
 * a password are checked against it, so their answer takes as long as a wrong password's.
 */
const DUMMY_HASH = 'scrypt$131072$8$1$6Wm0Xl1c1cBfWkpmw2kq9w==$y7aLJ0m3w6m3v7GhB9uQ5HkU1yAX8cGZq3o9X0Yl8mQ=';

/** The user a username and password belong to; null for anything else (same time either way). */
export async function checkCredentials(
  db: Kysely<Database>,
  username: string,
  password: string,
): Promise<SignedInUser | null> {
  const row = await db
    .selectFrom('app_users')
    .select(['id', 'username', 'role', 'password_hash', 'disabled', 'must_change_password'])
    .where('username', '=', username.trim().toLowerCase())
    .executeTakeFirst();
  const usable = row && !row.disabled && row.password_hash;
  const ok = await verifyPassword(password, usable ? (row.password_hash as string) : DUMMY_HASH);
  if (!ok || !usable) return null;
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    mustChangePassword: row.must_change_password === 1,
  };
}

export interface OpenedSession {
  /** The cookie's value (shown to the browser only). */
  token: string;
  csrfToken: string;
  expiresAt: string;
}

/**
 * Opens a session for a user (refused when the user is gone or disabled): records it, stamps
 * the user's last sign-in, and drops expired sessions while at it.
 */
export async function openSession(
  db: Kysely<Database>,
  input: { userId: string; lifetimeMs: number; userAgent?: string | null; ip?: string | null },
  now = new Date(),
): Promise<OpenedSession | null> {
  const token = newToken('dws');
  const csrfToken = newToken('csrf');
  const expiresAt = new Date(now.getTime() + input.lifetimeMs).toISOString();
  const opened = await db.transaction().execute(async (trx) => {
    const user = await trx
      .selectFrom('app_users')
      .select(['id', 'disabled'])
      .where('id', '=', input.userId)
      .executeTakeFirst();
    if (!user || user.disabled) return false;
    await trx.deleteFrom('app_sessions').where('expires_at', '<=', now.toISOString()).execute();
    await trx
      .insertInto('app_sessions')
      .values({
        token_hash: tokenHash(token),
        user_id: input.userId,
        csrf_token: csrfToken,
        created_at: now.toISOString(),
        expires_at: expiresAt,
        user_agent: input.userAgent?.slice(0, 300) ?? null,
        ip: input.ip ?? null,
      })
      .execute();
    await trx
      .updateTable('app_users')
      .set({ last_sign_in_at: now.toISOString() })
      .where('id', '=', input.userId)
      .execute();
    return true;
  });
  return opened ? { token, csrfToken, expiresAt } : null;
}

/** Closes the session of a cookie token (nothing when it is unknown). */
export async function closeSession(db: Kysely<Database>, token: string): Promise<boolean> {
  const result = await db
    .deleteFrom('app_sessions')
    .where('token_hash', '=', tokenHash(token))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Closes every session of a user, but the one whose token hash is `keep` (after a password change). */
export async function closeSessionsOf(db: Kysely<Database>, userId: string, keep?: string): Promise<number> {
  let q = db.deleteFrom('app_sessions').where('user_id', '=', userId);
  if (keep) q = q.where('token_hash', '<>', keep);
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows);
}
