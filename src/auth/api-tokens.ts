import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { AuthError, createApiToken, type Role } from './principals.ts';

/**
 * API tokens for automation: issued for a user with a role no higher than the user's, the
 * secret shown once (only its SHA-256 is kept), listed without it, revoked by id.
 */

export interface TokenRow {
  id: string;
  name: string;
  /** The token's first characters (`dw_abcde`), to tell tokens apart. */
  prefix: string;
  userId: string;
  username: string;
  role: Role;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface IssuedToken extends TokenRow {
  /** The secret itself: shown this once, never stored. */
  token: string;
}

/** Selects token rows with their user's name (callers add where/order/limit). */
export function tokenRows(db: Kysely<Database>) {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('app_users as u', 'u.id', 't.user_id')
    .select([
      't.id',
      't.name',
      't.prefix',
      't.user_id as userId',
      'u.username',
      't.role',
      't.created_at as createdAt',
      't.expires_at as expiresAt',
      't.last_used_at as lastUsedAt',
    ]);
}

/**
 * Issues a token for a user, with a role no higher than the user's nor `maxRole` (the role
 * of whoever asks: a viewer-scoped token of an admin cannot mint an admin token).
 */
export async function issueToken(
  db: Kysely<Database>,
  input: { userId: string; name: string; role?: Role; expiresAt?: Date | null; maxRole?: Role },
  now = new Date(),
): Promise<IssuedToken> {
  const name = input.name.trim();
  if (!name || name.length > 100) throw new AuthError('invalid_input', 'name: 1–100 characters');
  if (input.expiresAt && input.expiresAt.getTime() <= now.getTime())
    throw new AuthError('invalid_input', 'expiresAt: must be in the future');
  const user = await db
    .selectFrom('app_users')
    .select(['id', 'role', 'disabled'])
    .where('id', '=', input.userId)
    .executeTakeFirst();
  if (!user) throw new AuthError('not_found', `user ${input.userId} not found`);
  const cap: Role = user.role === 'admin' && (input.maxRole ?? 'admin') === 'admin' ? 'admin' : 'viewer';
  const wanted = input.role ?? cap;
  if (wanted === 'admin' && cap !== 'admin')
    throw new AuthError('forbidden', 'role: an admin token needs an admin user, asked for by an admin');
  const { id, token } = await createApiToken(
    db,
    { userId: user.id, name, role: wanted, expiresAt: input.expiresAt ?? null },
    now,
  );
  const row = await tokenRows(db).where('t.id', '=', id).executeTakeFirstOrThrow();
  return { ...row, token };
}

/** Revokes a token; `ownerId` limits it to that user's tokens (a viewer manages only their own). */
export async function revokeToken(db: Kysely<Database>, id: string, ownerId?: string): Promise<TokenRow> {
  let q = tokenRows(db).where('t.id', '=', id);
  if (ownerId) q = q.where('t.user_id', '=', ownerId);
  const row = await q.executeTakeFirst();
  if (!row) throw new AuthError('not_found', `token ${id} not found`);
  await db.deleteFrom('api_tokens').where('id', '=', id).execute();
  return row;
}
