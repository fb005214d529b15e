import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { hashPassword } from './passwords.ts';
import { newToken, tokenHash } from './tokens.ts';

export type Role = 'admin' | 'viewer';

/** Who makes a request: a signed-in user (session) or an API token's owner. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  via: 'session' | 'token';
  /** Sessions only: the synchronizer token unsafe requests must echo in `x-csrf-token`. */
  csrfToken?: string;
  /** Sessions only: the user's password is a one-time one; nothing but changing it is allowed. */
  mustChangePassword?: boolean;
  /** API tokens only: the token's id (its last use is recorded). */
  tokenId?: string;
}

/** The user, role and CSRF token of a session cookie's token; null when unknown, expired or disabled. */
export async function principalOfSession(
  db: Kysely<Database>,
  token: string,
  now: Date,
): Promise<Principal | null> {
  const row = await db
    .selectFrom('app_sessions as s')
    .innerJoin('app_users as u', 'u.id', 's.user_id')
    .select([
      'u.id',
      'u.username',
      'u.role',
      'u.disabled',
      'u.must_change_password',
      's.csrf_token',
      's.expires_at',
    ])
    .where('s.token_hash', '=', tokenHash(token))
    .executeTakeFirst();
  if (!row || row.disabled || new Date(row.expires_at).getTime() <= now.getTime()) return null;
  return {
    userId: row.id,
    username: row.username,
    role: row.role,
    via: 'session',
    csrfToken: row.csrf_token,
    mustChangePassword: Number(row.must_change_password) === 1,
  };
}

/** The principal of an API token (`dw_…`); null when unknown, expired or its user disabled. */
export async function principalOfApiToken(
  db: Kysely<Database>,
  token: string,
  now: Date,
): Promise<Principal | null> {
  const row = await db
    .selectFrom('api_tokens as t')
    .innerJoin('app_users as u', 'u.id', 't.user_id')
    .select([
      't.id as token_id',
      'u.id',
      'u.username',
      'u.role as user_role',
      'u.disabled',
      't.role',
      't.expires_at',
    ])
    .where('t.token_hash', '=', tokenHash(token))
    .executeTakeFirst();
  if (!row || row.disabled) return null;
  if (row.expires_at && new Date(row.expires_at).getTime() <= now.getTime()) return null;
  // A token never acts above its user's current role.
  const role: Role = row.role === 'admin' && row.user_role === 'admin' ? 'admin' : 'viewer';
  return { userId: row.id, username: row.username, role, via: 'token', tokenId: row.token_id };
}

export class AuthError extends Error {
  constructor(
    readonly code:
      | 'invalid_username'
      | 'user_exists'
      | 'weak_password'
      | 'not_found'
      | 'last_admin'
      | 'wrong_password'
      | 'forbidden'
      | 'invalid_input',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

/** A new local user (username lower-cased). Passwords: at least 12 characters. */
export async function createUser(
  db: Kysely<Database>,
  input: { username: string; password: string | null; role: Role; mustChangePassword?: boolean },
  now = new Date(),
): Promise<{ id: string; username: string; role: Role }> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME.test(username))
    throw new AuthError('invalid_username', `username "${input.username}": 1–64 of a-z 0-9 . _ @ -`);
  if (input.password !== null && input.password.length < 12)
    throw new AuthError('weak_password', 'password: at least 12 characters');
  const taken = await db
    .selectFrom('app_users')
    .select('id')
    .where('username', '=', username)
    .executeTakeFirst();
  if (taken) throw new AuthError('user_exists', `user "${username}" exists`);
  const id = randomUUID();
  await db
    .insertInto('app_users')
    .values({
      id,
      username,
      password_hash: input.password === null ? null : await hashPassword(input.password),
      role: input.role,
      external_id: null,
      created_at: now.toISOString(),
      must_change_password: input.mustChangePassword ? 1 : 0,
      disabled: 0,
      last_sign_in_at: null,
    })
    .execute();
  return { id, username, role: input.role };
}

/** A new API token for a user; the token itself is returned once and never stored. */
export async function createApiToken(
  db: Kysely<Database>,
  input: { userId: string; name: string; role: Role; expiresAt?: Date | null },
  now = new Date(),
): Promise<{ id: string; token: string; prefix: string }> {
  const token = newToken('dw');
  const id = randomUUID();
  const prefix = token.slice(0, 8);
  await db
    .insertInto('api_tokens')
    .values({
      id,
      name: input.name,
      token_hash: tokenHash(token),
      prefix,
      user_id: input.userId,
      role: input.role,
      created_at: now.toISOString(),
      expires_at: input.expiresAt ? input.expiresAt.toISOString() : null,
      last_used_at: null,
    })
    .execute();
  return { id, token, prefix };
}
