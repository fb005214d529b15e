import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { AppUsersTable } from '../store/tables/auth.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { AuthError, type Role } from './principals.ts';
import { closeSessionsOf } from './sessions.ts';

/**
 * Local users beyond creation (principals.ts createUser): role, disabling, passwords and
 * removal. There is always at least one enabled admin: demoting, disabling or removing the
 * last one is refused.
 */

export const MIN_PASSWORD_LENGTH = 12;

export interface UserRow {
  id: string;
  username: string;
  role: Role;
  mustChangePassword: boolean;
  disabled: boolean;
  sso: boolean;
  createdAt: string;
  lastSignInAt: string | null;
}

type Db = Kysely<Database>;

export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new AuthError('weak_password', `password: at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > 1024) throw new AuthError('weak_password', 'password: at most 1024 characters');
}

export async function userById(db: Db, id: string): Promise<UserRow> {
  const row = await db.selectFrom('app_users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AuthError('not_found', `user ${id} not found`);
  return userRow(row);
}

export async function userByName(db: Db, username: string): Promise<UserRow> {
  const name = username.trim().toLowerCase();
  const row = await db.selectFrom('app_users').selectAll().where('username', '=', name).executeTakeFirst();
  if (!row) throw new AuthError('not_found', `user "${name}" not found`);
  return userRow(row);
}

export function userRow(row: Selectable<AppUsersTable>): UserRow {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    mustChangePassword: row.must_change_password === 1,
    disabled: row.disabled === 1,
    sso: row.external_id !== null,
    createdAt: row.created_at,
    lastSignInAt: row.last_sign_in_at,
  };
}

/** Every user, by username (the CLI's list; the API pages through the table itself). */
export async function listUsers(db: Db): Promise<UserRow[]> {
  const rows = await db.selectFrom('app_users').selectAll().orderBy('username').execute();
  return rows.map(userRow);
}

/** Refuses when `userId` is the only enabled admin. */
async function refuseLastAdmin(db: Db, userId: string, what: string): Promise<void> {
  const others = await db
    .selectFrom('app_users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled', '=', 0)
    .where('id', '<>', userId)
    .executeTakeFirstOrThrow();
  if (Number(others.n) === 0)
    throw new AuthError('last_admin', `cannot ${what} the last admin: make another user admin first`);
}

/**
 * Changes a user's role, enabled state or password (an admin's reset: the user must change
 * it at next sign-in unless `mustChangePassword` says otherwise). Disabling or resetting the
 * password ends the user's sessions.
 */
export async function updateUser(
  db: Kysely<Database>,
  id: string,
  change: { role?: Role; disabled?: boolean; password?: string; mustChangePassword?: boolean },
): Promise<UserRow> {
  if (change.password !== undefined) checkNewPassword(change.password);
  const hash = change.password === undefined ? undefined : await hashPassword(change.password);
  return db.transaction().execute(async (trx) => {
    const user = await userById(trx, id);
    const isActiveAdmin = user.role === 'admin' && !user.disabled;
    if (isActiveAdmin && change.role === 'viewer') await refuseLastAdmin(trx, id, 'demote');
    if (isActiveAdmin && change.disabled === true) await refuseLastAdmin(trx, id, 'disable');
    const set: Partial<{
      role: Role;
      disabled: number;
      password_hash: string;
      must_change_password: number;
    }> = {};
    if (change.role) set.role = change.role;
    if (change.disabled !== undefined) set.disabled = change.disabled ? 1 : 0;
    if (hash) set.password_hash = hash;
    if (change.mustChangePassword !== undefined || hash)
      set.must_change_password = (change.mustChangePassword ?? true) ? 1 : 0;
    if (Object.keys(set).length > 0)
      await trx.updateTable('app_users').set(set).where('id', '=', id).execute();
    if (change.disabled === true || hash) await closeSessionsOf(trx, id);
    return userById(trx, id);
  });
}

/** Removes a user with their sessions and API tokens. */
export async function deleteUser(db: Kysely<Database>, id: string): Promise<UserRow> {
  return db.transaction().execute(async (trx) => {
    const user = await userById(trx, id);
    if (user.role === 'admin' && !user.disabled) await refuseLastAdmin(trx, id, 'remove');
    await trx.deleteFrom('app_sessions').where('user_id', '=', id).execute();
    await trx.deleteFrom('api_tokens').where('user_id', '=', id).execute();
    await trx.deleteFrom('app_users').where('id', '=', id).execute();
    return user;
  });
}

/**
 * A user changes their own password: the current one must match. Clears "must change" and
 * ends the user's other sessions (`keepSession`: the token hash of the one in use).
 */
export async function changeOwnPassword(
  db: Kysely<Database>,
  input: { userId: string; current: string; next: string; keepSession?: string },
): Promise<void> {
  checkNewPassword(input.next);
  const row = await db
    .selectFrom('app_users')
    .select(['password_hash'])
    .where('id', '=', input.userId)
    .executeTakeFirst();
  if (!row) throw new AuthError('not_found', `user ${input.userId} not found`);
  if (!row.password_hash || !(await verifyPassword(input.current, row.password_hash)))
    throw new AuthError('wrong_password', 'current: not your current password');
  if (input.next === input.current)
    throw new AuthError('weak_password', 'next: must differ from the current password');
  const hash = await hashPassword(input.next);
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('app_users')
      .set({ password_hash: hash, must_change_password: 0 })
      .where('id', '=', input.userId)
      .execute();
    await closeSessionsOf(trx, input.userId, input.keepSession);
  });
}
